/* onnx_attr.c — reading a node's attributes, and the compile-time values of operands. */
#include <string.h>

#include "onnx_fe.h"

const Onnx__AttributeProto *onnx_attr(const OnnxNode *n, const char *name) {
  for (size_t i = 0; i < n->p->n_attribute; i++) {
    const Onnx__AttributeProto *a = n->p->attribute[i];
    if (a->name && !strcmp(a->name, name)) return a;
  }
  return NULL;
}

int64_t onnx_attr_int(const OnnxNode *n, const char *name, int64_t def) {
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  return a && a->has_i ? a->i : def;
}

double onnx_attr_float(const OnnxNode *n, const char *name, double def) {
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  if (!a) return def;
  if (a->has_f) return a->f;
  if (a->has_i) return (double)a->i;
  return def;
}

int onnx_attr_ints(const OnnxNode *n, const char *name, int64_t *out, int max) {
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  if (!a) return -1;
  for (size_t i = 0; i < a->n_ints && (int)i < max; i++) out[i] = a->ints[i];
  return (int)a->n_ints;
}

int onnx_attr_floats(const OnnxNode *n, const char *name, double *out, int max) {
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  if (!a) return -1;
  for (size_t i = 0; i < a->n_floats && (int)i < max; i++) out[i] = a->floats[i];
  return (int)a->n_floats;
}

const char *onnx_attr_str(OnnxCtx *c, const OnnxNode *n, const char *name, const char *def) {
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  if (!a || !a->has_s) return def;
  char *s = arena_alloc(c->g->arena, a->s.len + 1);
  memcpy(s, a->s.data, a->s.len);
  return s;
}

bool onnx_is_const(OnnxCtx *c, int id) {
  return id >= 0 && (c->g->nodes[id]->op == OP_CONST || c->g->nodes[id]->op == OP_PARAM);
}

int onnx_const_doubles(OnnxCtx *c, int id, double *out, int max) {
  if (!onnx_is_const(c, id)) return -1;
  const Node *v = c->g->nodes[id];
  int64_t n = shape_numel(&v->shape);
  for (int64_t i = 0; i < n && i < max; i++) out[i] = dtype_load(v->dtype, v->data, i);
  return (int)n;
}

int onnx_const_ints(OnnxCtx *c, int id, int64_t *out, int max) {
  if (!onnx_is_const(c, id)) return -1;
  const Node *v = c->g->nodes[id];
  int64_t n = shape_numel(&v->shape);
  for (int64_t i = 0; i < n && i < max; i++)
    out[i] = v->dtype == DT_I64 ? ((const int64_t *)v->data)[i] : (int64_t)dtype_load(v->dtype, v->data, i);
  return (int)n;
}

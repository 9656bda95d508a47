/* onnx_attr.c — reading a node's attributes, and the compile-time values of operands. */
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "onnx_fe.h"

#define MAX_ATTRS 64 /* bits of OnnxNode.read */

const Onnx__AttributeProto *onnx_attr(OnnxNode *n, const char *name) {
  for (size_t i = 0; i < n->p->n_attribute; i++) {
    const Onnx__AttributeProto *a = n->p->attribute[i];
    if (a->name && !strcmp(a->name, name)) {
      if (i < MAX_ATTRS) n->read |= (uint64_t)1 << i;
      return a;
    }
  }
  return NULL;
}

void onnx_attr_ignore(OnnxNode *n, const char *name) { (void)onnx_attr(n, name); }

static bool read_before(const OnnxNode *n, size_t i) {
  for (size_t j = 0; j < i; j++) {
    const char *a = n->p->attribute[j]->name, *b = n->p->attribute[i]->name;
    if (a && b && !strcmp(a, b) && (n->read >> j & 1)) return true;
  }
  return false;
}

int onnx_attr_check(OnnxCtx *c, const OnnxNode *n) {
  if (n->p->n_attribute > MAX_ATTRS)
    return onnx_fail(c, n, "%zu attributes, more than %d", n->p->n_attribute, MAX_ATTRS);
  for (size_t i = 0; i < n->p->n_attribute; i++) {
    const char *name = n->p->attribute[i]->name ? n->p->attribute[i]->name : "";
    if (n->read >> i & 1) continue;
    if (*name && read_before(n, i)) return onnx_fail(c, n, "attribute '%.100s' is given twice", name);
    return onnx_fail(c, n, "attribute '%.100s' is not supported by dlc's %s builder (it would be ignored)",
                     name, n->p->op_type);
  }
  return 0;
}

const char *onnx_attr_type_name(int type) {
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value(&onnx__attribute_proto__attribute_type__descriptor, type);
  return v ? v->name : "UNKNOWN";
}

/* The attribute if it has type `want` (or `also`), else NULL; one of another type is
 * recorded for the loader to report.  UNDEFINED (an old writer) passes. */
static const Onnx__AttributeProto *typed(OnnxNode *n, const char *name, int want, int also) {
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  int t = a ? (int)a->type : 0;
  if (!a || t == want || t == also || t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) return a;
  if (!n->bad_attr) n->bad_attr = a, n->bad_attr_want = want;
  return NULL;
}

int64_t onnx_attr_int(OnnxNode *n, const char *name, int64_t def) {
  const Onnx__AttributeProto *a = typed(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, -1);
  return a && a->has_i ? a->i : def;
}

double onnx_attr_float(OnnxNode *n, const char *name, double def) {
  const Onnx__AttributeProto *a =
      typed(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  if (!a) return def;
  if (a->has_f) return a->f;
  if (a->has_i) return (double)a->i;
  return def;
}

int onnx_attr_ints(OnnxNode *n, const char *name, int64_t *out, int max) {
  const Onnx__AttributeProto *a = typed(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, -1);
  if (!a) return -1;
  for (size_t i = 0; i < a->n_ints && (int)i < max; i++) out[i] = a->ints[i];
  return (int)a->n_ints;
}

int onnx_attr_floats(OnnxNode *n, const char *name, double *out, int max) {
  const Onnx__AttributeProto *a = typed(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS, -1);
  if (!a) return -1;
  for (size_t i = 0; i < a->n_floats && (int)i < max; i++) out[i] = a->floats[i];
  return (int)a->n_floats;
}

const char *onnx_attr_str(OnnxCtx *c, OnnxNode *n, const char *name, const char *def) {
  const Onnx__AttributeProto *a = typed(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, -1);
  if (!a || !a->has_s) return def;
  char *s = arena_alloc(c->g->arena, a->s.len + 1);
  if (a->s.len) memcpy(s, a->s.data, a->s.len); /* an empty string's data may be NULL */
  s[a->s.len] = 0;
  return s;
}

const char *onnx_bytes_str(OnnxCtx *c, const ProtobufCBinaryData *b) {
  if (b->len && memchr(b->data, 0, b->len)) return NULL;
  char *s = arena_alloc(c->g->arena, b->len + 1);
  if (b->len) memcpy(s, b->data, b->len);
  s[b->len] = 0;
  return s;
}

int onnx_attr_strs(OnnxCtx *c, OnnxNode *n, const char *name, const char ***out) {
  const Onnx__AttributeProto *a = typed(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS, -1);
  *out = NULL;
  if (!a) return -1;
  *out = arena_alloc(c->g->arena, sizeof(char *) * (a->n_strings + 1));
  for (size_t i = 0; i < a->n_strings; i++)
    if (!((*out)[i] = onnx_bytes_str(c, &a->strings[i])))
      return onnx_fail(c, n, "attribute '%s': string %zu holds a NUL byte, which a str value cannot", name, i), -2;
  return (int)a->n_strings;
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

/* A value read as an integer: NaN and what lies beyond int64 (a u64 over 2^63, a
 * float of 1e30) clamp to its ends, which every use of the integer then refuses as out
 * of range, rather than converting out of range (undefined). */
static int64_t clamp_i64(double x) {
  if (x != x || x < -9223372036854775808.0) return INT64_MIN;
  if (x >= 9223372036854775808.0) return INT64_MAX;
  return (int64_t)x;
}

int onnx_const_ints(OnnxCtx *c, int id, int64_t *out, int max) {
  if (!onnx_is_const(c, id)) return -1;
  const Node *v = c->g->nodes[id];
  int64_t n = shape_numel(&v->shape);
  for (int64_t i = 0; i < n && i < max; i++)
    out[i] = v->dtype == DT_I64 ? ((const int64_t *)v->data)[i] : clamp_i64(dtype_load(v->dtype, v->data, i));
  return (int)n;
}

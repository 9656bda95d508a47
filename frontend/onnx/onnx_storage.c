/* onnx_storage.c — ONNX operators on float16, bfloat16 and the one-byte types (the
 * float8 types, float4e2m1, int4, uint4, int2, uint2).
 *
 * These are storage dtypes in the IR: only cast reads or gives them.  An ONNX
 * operator on such values is built as its f32 form: before the builder, each such
 * operand is cast to f32 (exactly: all widen without loss); after it, each f32
 * result is rounded back to the operator's type, as ONNX's reference rounds every
 * result to its dtype.  The builders themselves know nothing of the storage dtypes. */
#include <string.h>

#include "onnx_fe.h"

/* Operators that take f16 and bf16 operands as they are: control flow, whose bodies'
 * operators widen and round for themselves (a Scan's state is rounded at every step),
 * the sequence operators, which move values without computing, BitCast, which reads
 * their bits, and Gradient, whose inputs stand for tensors of the graph as they are. */
static bool keeps_storage(const OnnxNode *n) {
  const char *op = n->p->op_type;
  return !strcmp(op, "If") || !strcmp(op, "BitCast") || !strcmp(op, "Gradient") || !strcmp(op, "Loop") || !strcmp(op, "Scan") || !strncmp(op, "Sequence", 8) ||
         !strcmp(op, "SplitToSequence") || !strcmp(op, "ConcatFromSequence") || !strncmp(op, "Optional", 8);
}

int onnx_storage_wide(OnnxCtx *c, int x) {
  return x >= 0 && dtype_is_storage(c->g->nodes[x]->dtype) ? ir_cast(c->g, x, DT_F32) : x;
}

int onnx_storage_narrow(OnnxCtx *c, int y, DType t) {
  return y >= 0 && dtype_is_storage(t) && c->g->nodes[y]->dtype != t ? ir_cast(c->g, y, t) : y;
}

/* Operators whose result type comes from an attribute or another operand, not from
 * the operand they share a type with: they are told f32 and give what they are told. */
static bool own_result_type(const OnnxNode *n) {
  const char *op = n->p->op_type;
  if (!strcmp(op, "Cast") || !strcmp(op, "CastLike")) return true;
  bool dtype_attr = !strcmp(op, "EyeLike") || !strcmp(op, "RandomNormalLike") ||
                    !strcmp(op, "RandomUniformLike") || !strcmp(op, "Bernoulli");
  for (size_t i = 0; dtype_attr && i < n->p->n_attribute; i++)
    if (n->p->attribute[i]->name && !strcmp(n->p->attribute[i]->name, "dtype")) return true;
  return false;
}

/* An f16 or bf16 constant small enough to be an operand's compile-time value (a pad
 * value, a clip bound, scales) is widened now; larger ones (weights) stay in their
 * dtype and are widened where they are read. */
#define STORAGE_FOLD_MAX 64

static int widen(OnnxCtx *c, OnnxNode *n, int id) {
  const Node *x = c->g->nodes[id];
  int w = ir_cast(c->g, id, DT_F32), d = onnx_dyn_find(c, id);
  if (w < 0) return onnx_fail_ir(c, n);
  /* a value of data-dependent length stays one: the builders that read it (the
   * reductions, Slice, Squeeze, ...) find its length on what they are handed */
  if (d >= 0) onnx_dyn_mark(c, w, c->dyn_count[d], c->dyn_axis[d]);
  DlcErr e;
  if (x->op == OP_CONST && shape_numel(&x->shape) <= STORAGE_FOLD_MAX && ir_fold_node(c->g, w, &e) < 0)
    return onnx_fail(c, n, "%s", e.msg);
  return w;
}

/* The operand whose type the results take: the first float operand, except where the
 * schema says otherwise (OneHot's values).  The one-byte types (float8, int4, ...) are
 * quantized data: an operator that also reads a wider float (DequantizeLinear's scale)
 * gives that one's type; one that reads only them (Identity, Reshape) gives theirs. */
static int typed_operand(OnnxCtx *c, const OnnxNode *n) {
  if (!strcmp(n->p->op_type, "OneHot")) return 2;
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] >= 0 && dtype_is_float(c->g->nodes[n->in[i]]->dtype) && !dtype_is_narrow(c->g->nodes[n->in[i]]->dtype))
      return i;
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] >= 0 && dtype_is_narrow(c->g->nodes[n->in[i]]->dtype)) return i;
  return -1;
}

int onnx_storage_in(OnnxCtx *c, OnnxNode *n, DType *back) {
  *back = DT_F32;
  for (int i = 0; i < n->nin; i++) n->narrow[i] = DT_COUNT;
  if (keeps_storage(n)) return 0;
  int typed = typed_operand(c, n);
  if (typed >= 0 && typed < n->nin && n->in[typed] >= 0 && dtype_is_storage(c->g->nodes[n->in[typed]]->dtype) &&
      !own_result_type(n))
    *back = c->g->nodes[n->in[typed]]->dtype;
  /* CastLike's second operand gives only its dtype */
  int nin = !strcmp(n->p->op_type, "CastLike") ? 1 : n->nin;
  for (int i = 0; i < n->nin; i++) n->narrow[i] = DT_COUNT;
  for (int i = 0; i < nin; i++) {
    if (n->in[i] < 0) continue;
    DType t = c->g->nodes[n->in[i]]->dtype;
    if (dtype_is_storage(t)) n->narrow[i] = t;
    if (dtype_is_storage(t) && (n->in[i] = widen(c, n, n->in[i])) < 0) return -1;
  }
  return 0;
}

int onnx_storage_out(OnnxCtx *c, OnnxNode *n, DType back) {
  if (back == DT_F32) return 0;
  for (int i = 0; i < n->nout; i++) {
    if (n->out[i] < 0 || (i < 64 && (n->own_dtype >> i & 1))) continue;
    const Node *y = c->g->nodes[n->out[i]];
    if (y->dtype != DT_F32) continue;
    /* a result that is a widened operand (Identity, a no-op Reshape) is that operand */
    int d = onnx_dyn_find(c, n->out[i]); /* a padded result (Unique's): the rounded one is padded alike */
    if (y->op == OP_CAST && c->g->nodes[y->in[0]]->dtype == back) n->out[i] = y->in[0];
    else if ((n->out[i] = ir_cast(c->g, n->out[i], back)) < 0) return onnx_fail_ir(c, n);
    if (d >= 0) onnx_dyn_mark(c, n->out[i], c->dyn_count[d], c->dyn_axis[d]);
  }
  return 0;
}

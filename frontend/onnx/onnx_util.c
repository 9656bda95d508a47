/* onnx_util.c — small builders the operator files share. */
#include "onnx_fe.h"

int onnx_scalar_like(OnnxCtx *c, int like, double v) {
  DType t = c->g->nodes[like]->dtype;
  if (dtype_is_int(t)) /* a float attribute meeting an integer tensor may not fit: saturate */
    v = v != v ? 0 : v < dtype_lowest(t) ? dtype_lowest(t) : v > dtype_highest(t) ? dtype_highest(t) : v;
  return ir_scalar(c->g, t, v);
}

int onnx_axis(OnnxCtx *c, const OnnxNode *n, int64_t axis, int rank, int64_t *out) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= (rank ? rank : 1))
    return onnx_fail(c, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
  *out = a;
  return 0;
}

/* onnx_ops_bitcast.c — BitCast: the same bits read as another type of the same width,
 * every pair dlc holds (integers, bool to a byte, f32, f64, and the storage dtypes f16,
 * bf16, the float8 types, f4e2m1, i4, u4, i2, u2), through the core op bitcast.  The
 * operand is taken as it is, not widened to f32 (onnx_storage.c keeps it): its bits
 * are what is read. */
#include "onnx_fe.h"

int onnx_BitCast(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  DType from = dtype_of(c, x), to;
  if (!onnx_attr(n, "to")) return onnx_fail(c, n, "needs the attribute 'to'");
  int64_t code = onnx_attr_int(n, "to", 0);
  if (code < INT32_MIN || code > INT32_MAX || onnx_dtype((int32_t)code, &to))
    return onnx_fail(c, n, "attribute 'to': %s is not supported",
                     code < INT32_MIN || code > INT32_MAX ? "an unknown type" : onnx_dtype_name((int32_t)code));
  if (dtype_bits(from) != dtype_bits(to))
    return onnx_fail(c, n, "attribute 'to': %s (%d bits) and the input's %s (%d bits) differ in width", dtype_name(to),
                     dtype_bits(to), dtype_name(from), dtype_bits(from));
  if (to == DT_BOOL && from != DT_BOOL)
    return onnx_fail(c, n, "BitCast from %s to bool is not supported (a byte other than 0 or 1 is no bool)",
                     dtype_name(from));
  Attr a = attr_dtype(A_TO, to);
  ONNX_TRY(c, n, n->out[0] = from == to ? x : ir_add(c->g, OP_BITCAST, &x, 1, &a, 1));
  return 0;
}

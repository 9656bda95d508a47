/* onnx_ops_bitcast.c — BitCast between integer types of one width (and bool to a byte):
 * the same bits read as another type, which for two's complement integers is the cast
 * that wraps modulo 2^bits (dlc's integer cast).  A float's bits cannot be reached
 * through value arithmetic (a NaN's payload, -0), so BitCast to or from a float type
 * needs a bit-reinterpreting core op that dlc does not have: it is refused. */
#include "onnx_fe.h"

int onnx_BitCast(OnnxCtx *c, OnnxNode *n) {
  if (n->nin < 1 || n->in[0] < 0) return onnx_fail(c, n, "needs 1 input");
  int x = n->in[0];
  DType from = c->g->nodes[x]->dtype, to;
  const Onnx__AttributeProto *a = onnx_attr(n, "to");
  if (!a) return onnx_fail(c, n, "needs the attribute 'to'");
  int64_t code = onnx_attr_int(n, "to", 0);
  if (onnx_dtype((int32_t)code, &to)) return onnx_fail(c, n, "to %s is not supported", onnx_dtype_name((int32_t)code));
  if (n->narrow[0] != DT_COUNT || dtype_is_storage(to)) /* the loader widened a storage operand to f32 */
    return onnx_fail(c, n, "BitCast from %s to %s is not supported (a storage dtype's bits)",
                     dtype_name(n->narrow[0] != DT_COUNT ? n->narrow[0] : from), dtype_name(to));
  if (dtype_size(from) != dtype_size(to))
    return onnx_fail(c, n, "%s and %s differ in width", dtype_name(from), dtype_name(to));
  if (dtype_is_float(from) || dtype_is_float(to))
    return onnx_fail(c, n, "BitCast from %s to %s (a float's bits) is not supported", dtype_name(from), dtype_name(to));
  if (to == DT_BOOL && from != DT_BOOL)
    return onnx_fail(c, n, "BitCast from %s to bool is not supported (a byte other than 0 or 1 is no bool)", dtype_name(from));
  ONNX_TRY(c, n, n->out[0] = from == to ? x : ir_cast(c->g, x, to));
  return 0;
}

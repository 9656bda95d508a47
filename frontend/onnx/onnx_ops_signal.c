/* onnx_ops_signal.c — the window functions (HannWindow, HammingWindow, BlackmanWindow):
 * constants of a size known at compile time, computed in double as onnx's reference
 * does and stored in output_datatype. */
#include <math.h>
#include <stdlib.h>

#include "onnx_fe.h"

static const double PI = 3.14159265358979323846;

typedef enum { WIN_HANN, WIN_HAMMING, WIN_BLACKMAN } Window;

#define WINDOW_MAX (1 << 24) /* elements */

static double window_at(Window w, double i, double d) {
  switch (w) {
  case WIN_HANN: return sin(i * PI / d) * sin(i * PI / d);
  case WIN_HAMMING: return 25.0 / 46.0 - cos(i * PI * 2 / d) * (1 - 25.0 / 46.0);
  case WIN_BLACKMAN: return 0.42 - 0.5 * cos(i * PI * 2 / d) + 0.08 * cos(i * PI * 4 / d);
  }
  return 0;
}

/* periodic (the default): the denominator is size; symmetric: size - 1. */
static int window(OnnxCtx *c, OnnxNode *n, Window w) {
  if (n->nin < 1 || n->in[0] < 0) return onnx_fail(c, n, "needs 1 input");
  int64_t size;
  if (onnx_const_ints(c, n->in[0], &size, 1) != 1)
    return onnx_fail(c, n, "size must be a constant known at compile time, one value");
  if (size < 0 || size > WINDOW_MAX) return onnx_fail(c, n, "size %lld is not in 0..%d", (long long)size, WINDOW_MAX);
  int64_t odt = onnx_attr_int(n, "output_datatype", 1);
  DType t;
  if (onnx_dtype((int32_t)odt, &t)) return onnx_fail(c, n, "output_datatype %s is not supported", onnx_dtype_name((int32_t)odt));
  double d = (double)size - (onnx_attr_int(n, "periodic", 1) ? 0 : 1);
  void *data = arena_alloc(c->g->arena, (size_t)(size ? size : 1) * dtype_size(t));
  for (int64_t i = 0; i < size; i++) dtype_store(t, data, i, window_at(w, (double)i, d));
  ONNX_TRY(c, n, n->out[0] = ir_const(c->g, NULL, t, shape_make(1, &size), data));
  return 0;
}

int onnx_HannWindow(OnnxCtx *c, OnnxNode *n) { return window(c, n, WIN_HANN); }
int onnx_HammingWindow(OnnxCtx *c, OnnxNode *n) { return window(c, n, WIN_HAMMING); }
int onnx_BlackmanWindow(OnnxCtx *c, OnnxNode *n) { return window(c, n, WIN_BLACKMAN); }

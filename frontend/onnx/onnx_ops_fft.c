/* onnx_ops_fft.c — DFT, STFT and MelWeightMatrix.
 *
 * A DFT of static size is a matrix product: the signal along its axis, real and
 * imaginary parts interleaved ([.., L, c] seen as [.., L*c], c 1 or 2), times a constant
 * table of twiddles [L*c, K*2] (or [L*c, K] for the real result of an inverse onesided
 * transform) gives the spectrum [.., K, 2].  Truncation and zero padding to dft_length
 * only change which rows the table has.  The tables are weights: one larger than the
 * weight budget (--max-weight-bytes) is an error. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"



static const double PI = 3.14159265358979323846;

/* One integer input that must be known at compile time. */
static int const_int(OnnxCtx *c, OnnxNode *n, int i, const char *what, int64_t *v) {
  if (onnx_const_ints(c, n->in[i], v, 1) != 1)
    return onnx_fail(c, n, "%s must be a constant known at compile time, one value", what);
  return 0;
}

static int const_float(OnnxCtx *c, OnnxNode *n, int i, const char *what, double *v) {
  if (onnx_const_doubles(c, n->in[i], v, 1) != 1)
    return onnx_fail(c, n, "%s must be a constant known at compile time, one value", what);
  return 0;
}

/* A transform of n points along the second-to-last axis of [.., L, c]. */
typedef struct Dft {
  int64_t n;    /* dft_length */
  int64_t len;  /* the signal's rows the table reads: min(L, what the transform uses) */
  int c;        /* 1: real input, 2: complex */
  int64_t bins; /* output rows K */
  bool inverse, onesided;
} Dft;

/* cos and sin of 2 pi j k / n, with j k reduced modulo n first (exact twiddles). */
static void twiddle(int64_t j, int64_t k, int64_t n, double *co, double *si) {
  double a = 2 * PI * (double)((j % n) * (k % n) % n) / (double)n;
  *co = cos(a), *si = sin(a);
}

/* Row (j, part) and column (k, part) of the table [len*c, bins*outc]. */
static void table_fill(const Dft *d, DType t, void *w) {
  int outc = d->inverse && d->onesided ? 1 : 2;
  int64_t cols = d->bins * outc;
  for (int64_t j = 0; j < d->len; j++)
    for (int64_t k = 0; k < d->bins; k++) {
      double co, si, s = 1;
      twiddle(j, k, d->n, &co, &si);
      if (d->inverse && d->onesided) {
        /* irfft: row j is frequency j, column k time k; the half spectrum counted twice
         * except for the frequencies 0 and n/2; the imaginary parts of those drop out */
        s = (j == 0 || 2 * j == d->n ? 1.0 : 2.0) / (double)d->n;
        if (j == 0 || 2 * j == d->n) si = 0;
        dtype_store(t, w, (j * d->c) * cols + k, co * s);
        if (d->c == 2) dtype_store(t, w, (j * d->c + 1) * cols + k, -si * s);
        continue;
      }
      if (d->inverse) si = -si, s = 1 / (double)d->n;
      /* (re + i im)(cos - i sin) = (re cos + im sin) + i (im cos - re sin) */
      dtype_store(t, w, (j * d->c) * cols + 2 * k, co * s);
      dtype_store(t, w, (j * d->c) * cols + 2 * k + 1, -si * s);
      if (d->c == 2) {
        dtype_store(t, w, (j * d->c + 1) * cols + 2 * k, si * s);
        dtype_store(t, w, (j * d->c + 1) * cols + 2 * k + 1, co * s);
      }
    }
}

/* x [.., L, c] (the transform's axis second to last) -> [.., bins, 2 or 1]. */
static int dft_rows(OnnxCtx *c, OnnxNode *n, int x, Dft *d) {
  Shape s = *shape_of(c, x);
  int r = s.rank;
  int64_t L = s.d[r - 2];
  if (L > d->len) { /* truncate */
    int64_t st[IR_MAX_RANK] = {0}, en[IR_MAX_RANK], sp[IR_MAX_RANK];
    for (int i = 0; i < r; i++) en[i] = s.d[i], sp[i] = 1;
    en[r - 2] = d->len;
    Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
    ONNX_TRY(c, n, x = ir_add(c->g, OP_SLICE, &x, 1, a, 3));
  } else
    d->len = L;
  int outc = d->inverse && d->onesided ? 1 : 2;
  DType t = dtype_of(c, x);
  double rows = (double)(d->len * d->c), cols = (double)d->bins * outc, bytes = rows * cols * dtype_size(t);
  if (ir_limit_bytes("the DFT's twiddle table", (double)c->g->weight_bytes + bytes, ir_limits.weight_bytes,
                     "--max-weight-bytes", &c->g->err))
    return onnx_fail_ir(c, n);
  void *w = arena_alloc(c->g->arena, (size_t)bytes);
  table_fill(d, t, w);
  int64_t td[2] = {d->len * d->c, d->bins * outc}, flat[IR_MAX_RANK];
  memcpy(flat, s.d, sizeof flat);
  flat[r - 2] = d->len * d->c;
  int tab, y;
  ONNX_TRY(c, n, tab = ir_const(c->g, NULL, t, shape_make(2, td), w));
  ONNX_TRY(c, n, y = ir_reshape(c->g, x, flat, r - 1));
  ONNX_TRY(c, n, y = ir_matmul(c->g, y, tab, false, false));
  flat[r - 2] = d->bins, flat[r - 1] = outc;
  ONNX_TRY(c, n, y = ir_reshape(c->g, y, flat, r));
  return y;
}

/* The rows a transform of n points reads and the rows it gives. */
static void dft_plan(Dft *d, int cdim) {
  d->c = cdim;
  if (d->inverse && d->onesided) d->len = d->n / 2 + 1, d->bins = d->n;
  else d->len = d->n, d->bins = d->onesided ? d->n / 2 + 1 : d->n;
}

/* Swaps axis a with the second-to-last axis (its own inverse). */
static int swap_axis(OnnxCtx *c, OnnxNode *n, int x, int64_t a) {
  int r = shape_of(c, x)->rank;
  if (a == r - 2) return x;
  int64_t perm[IR_MAX_RANK];
  for (int i = 0; i < r; i++) perm[i] = i;
  perm[a] = r - 2, perm[r - 2] = a;
  int y;
  ONNX_TRY(c, n, y = ir_transpose(c->g, x, perm));
  return y;
}

/* Opset 17: axis an attribute (default 1); opset 20: an input (default -2).  dft_length
 * (input 1) defaults to the axis's length, or 2 (L - 1) for an inverse onesided one. */
int onnx_DFT(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  const Shape xs = *shape_of(c, x);
  int r = xs.rank;
  if (!dtype_is_float(dtype_of(c, x))) return onnx_fail(c, n, "input must be floating-point");
  if (r < 2 || (xs.d[r - 1] != 1 && xs.d[r - 1] != 2))
    return onnx_fail(c, n, "input must be [.., 1] (real) or [.., 2] (complex)");
  int64_t axis = c->opset >= 20 ? -2 : onnx_attr_int(n, "axis", 1);
  if (c->opset >= 20 && has_in(n, 2) && const_int(c, n, 2, "axis", &axis)) return -1;
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r - 2) return onnx_fail(c, n, "axis is out of range for rank %d (the last axis holds the parts)", r);
  Dft d = {.inverse = onnx_attr_int(n, "inverse", 0) != 0, .onesided = onnx_attr_int(n, "onesided", 0) != 0};
  if (d.onesided && xs.d[r - 1] != (d.inverse ? 2 : 1))
    return onnx_fail(c, n, "onesided needs a %s input ([.., %d])", d.inverse ? "complex" : "real", d.inverse ? 2 : 1);
  int64_t L = xs.d[axis];
  d.n = d.inverse && d.onesided ? 2 * (L - 1) : L;
  if (has_in(n, 1) && const_int(c, n, 1, "dft_length", &d.n)) return -1;
  if (d.n < 1) return onnx_fail(c, n, "dft_length %lld is not positive", (long long)d.n);
  dft_plan(&d, (int)xs.d[r - 1]);
  int y = dft_rows(c, n, swap_axis(c, n, x, axis), &d);
  if (y < 0) return -1;
  return (n->out[0] = swap_axis(c, n, y, axis)) < 0 ? -1 : 0;
}

/* signal [N, L, c]; frame_step; window [W] (optional); frame_length (optional).  Frames
 * f*step .. f*step+W-1 for f < 1 + (L - W) / step, each times the window, transformed
 * (onesided by default): [N, frames, bins, 2]. */
int onnx_STFT(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0], win = has_in(n, 2) ? n->in[2] : -1;
  const Shape xs = *shape_of(c, x);
  if (!dtype_is_float(dtype_of(c, x))) return onnx_fail(c, n, "signal must be floating-point");
  if (xs.rank != 3 || (xs.d[2] != 1 && xs.d[2] != 2)) return onnx_fail(c, n, "signal must be [N, L, 1] or [N, L, 2]");
  int64_t step, flen = -1, L = xs.d[1];
  if (const_int(c, n, 1, "frame_step", &step)) return -1;
  if (has_in(n, 3) && const_int(c, n, 3, "frame_length", &flen)) return -1;
  if (win >= 0) {
    const Shape *ws = shape_of(c, win);
    if (ws->rank != 1 || (flen >= 0 && ws->d[0] != flen))
      return onnx_fail(c, n, "window must be a vector of frame_length values");
    if (dtype_of(c, win) != dtype_of(c, x)) return onnx_fail(c, n, "window must have the signal's type");
    flen = ws->d[0];
  }
  if (flen < 0) flen = L;
  if (step < 1 || flen < 1 || flen > L)
    return onnx_fail(c, n, "frame_step %lld and frame_length %lld do not fit a signal of %lld", (long long)step,
                     (long long)flen, (long long)L);
  int64_t frames = 1 + (L - flen) / step, fd[2] = {frames, flen};
  if (ir_limit_bytes("STFT's frame indices", (double)c->g->weight_bytes + (double)frames * (double)flen * 8,
                     ir_limits.weight_bytes, "--max-weight-bytes", &c->g->err))
    return onnx_fail_ir(c, n);
  int64_t *idx = arena_alloc(c->g->arena, (size_t)(frames * flen) * sizeof *idx);
  for (int64_t f = 0; f < frames; f++)
    for (int64_t j = 0; j < flen; j++) idx[f * flen + j] = f * step + j;
  int ids, y;
  ONNX_TRY(c, n, ids = ir_const(c->g, NULL, DT_I64, shape_make(2, fd), idx));
  int in[2] = {x, ids};
  Attr a = attr_int(A_AXIS, 1);
  ONNX_TRY(c, n, y = ir_add(c->g, OP_GATHER, in, 2, &a, 1)); /* [N, frames, flen, c] */
  if (win >= 0) {
    int64_t wd[2] = {flen, 1};
    int w;
    ONNX_TRY(c, n, w = ir_reshape(c->g, win, wd, 2));
    ONNX_TRY(c, n, y = ir_binary(c->g, OP_MUL, y, w));
  }
  Dft d = {.n = flen, .onesided = onnx_attr_int(n, "onesided", 1) != 0};
  if (d.onesided && xs.d[2] != 1) return onnx_fail(c, n, "onesided needs a real signal ([N, L, 1])");
  dft_plan(&d, (int)xs.d[2]);
  return (n->out[0] = dft_rows(c, n, y, &d)) < 0 ? -1 : 0;
}

/* ---- MelWeightMatrix ------------------------------------------------------------- */

#define MEL_MAX (1 << 24) /* elements */

static double hz_to_mel(double hz) { return 2595 * log1p(hz / 700) / log(10); }
static double mel_to_hz(double mel) { return 700 * expm1(mel / 2595 * log(10)); }

/* [dft_length/2 + 1, num_mel_bins] of triangles between num_mel_bins + 2 points evenly
 * spaced in mel, each point at spectrogram bin floor((dft_length + 1) * hz / rate) —
 * computed as ONNX's reference does. */
int onnx_MelWeightMatrix(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 5)) return -1;
  int64_t mels, len, rate;
  double lo, hi;
  if (const_int(c, n, 0, "num_mel_bins", &mels) || const_int(c, n, 1, "dft_length", &len) ||
      const_int(c, n, 2, "sample_rate", &rate) || const_float(c, n, 3, "lower_edge_hertz", &lo) ||
      const_float(c, n, 4, "upper_edge_hertz", &hi))
    return -1;
  if (mels < 1 || len < 1 || rate < 1 || !(lo >= 0 && lo < hi))
    return onnx_fail(c, n, "needs num_mel_bins, dft_length, sample_rate > 0 and 0 <= lower_edge_hertz < upper_edge_hertz");
  int64_t bins = len / 2 + 1;
  if ((double)bins * (double)mels > MEL_MAX) return onnx_fail(c, n, "the matrix would have over %d elements", MEL_MAX);
  DType t;
  int64_t odt = onnx_attr_int(n, "output_datatype", 1);
  if (onnx_dtype((int32_t)odt, &t)) return onnx_fail(c, n, "output_datatype %s is not supported", onnx_dtype_name((int32_t)odt));
  int64_t *pt = arena_alloc(c->g->arena, (size_t)(mels + 2) * sizeof *pt);
  double ml = hz_to_mel(lo), step = (hz_to_mel(hi) - ml) / (double)(mels + 2);
  for (int64_t i = 0; i < mels + 2; i++) {
    pt[i] = (int64_t)floor((double)(len + 1) * mel_to_hz((double)i * step + ml) / (double)rate);
    if (pt[i] < 0 || pt[i] >= bins)
      return onnx_fail(c, n, "upper_edge_hertz maps past the last spectrogram bin (sample_rate / 2)");
  }
  double *m = arena_alloc(c->g->arena, (size_t)(bins * mels) * sizeof *m);
  memset(m, 0, (size_t)(bins * mels) * sizeof *m);
  for (int64_t i = 0; i < mels; i++) {
    int64_t l = pt[i], ctr = pt[i + 1], h = pt[i + 2];
    if (ctr == l) m[ctr * mels + i] = 1;
    else
      for (int64_t j = l; j <= ctr; j++) m[j * mels + i] = (double)(j - l) / (double)(ctr - l);
    for (int64_t j = ctr; j < h; j++) m[j * mels + i] = (double)(h - j) / (double)(h - ctr);
  }
  void *data = arena_alloc(c->g->arena, (size_t)(bins * mels) * dtype_size(t));
  for (int64_t i = 0; i < bins * mels; i++) dtype_store(t, data, i, m[i]);
  int64_t od[2] = {bins, mels};
  ONNX_TRY(c, n, n->out[0] = ir_const(c->g, NULL, t, shape_make(2, od), data));
  return 0;
}

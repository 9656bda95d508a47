/* conv_dw.c — depthwise convolutions (one input channel per group: MobileNet,
 * ShuffleNet, EfficientNet), in 1 or 2 spatial dimensions.
 *
 * Each output channel reads a single input channel, so conv.c's product would be a
 * few terms deep: all gathering, no reuse.  Here each channel of x is first copied
 * into the kernel's scratch with its padding around it (zeros), as a plane of exactly
 * the rows and columns the taps read; then every output is one chain of multiply-adds
 * over the taps in order, written out with the weights in locals and no bounds to
 * test, so the loop over an output row vectorises (contiguous with stride 1).  The
 * sums go through the store (bias, activation, ..: the epilogue).  Threads share the
 * channels, each with its own slot of scratch. */
#include <inttypes.h>

#include "conv.h"

#define DW_UNROLL 64 /* taps written out one by one; more go through a loop */

/* The padded plane: rows and columns of x that the taps read, padding included. */
static int64_t span(const Win *w, int d) { return (w->out[d] - 1) * w->stride[d] + (w->k[d] - 1) * w->dil[d] + 1; }

static int64_t plane_elems(const Conv *c) {
  const Win *w = &c->w;
  return (w->nsp == 2 ? span(w, 0) : 1) * span(w, w->nsp - 1);
}

bool conv_dw_wanted(const Conv *c) {
  return c->cg == 1 && c->groups > 1 && c->w.nsp <= 2 && c->depth > 0 &&
         plane_elems(c) * dtype_size(c->n->dtype) <= CONV_ROW_MAX_BYTES;
}

bool conv_dw_par(const Conv *c, int64_t batch) {
  return cgen_par_worth(2.0 * (double)batch * (double)(c->groups * c->og) * (double)c->q * (double)c->depth) &&
         batch * c->groups * c->og > 1;
}

int64_t conv_dw_scratch(const Conv *c, int64_t batch) {
  return (conv_dw_par(c, batch) ? CGEN_SLOTS : 1) * plane_elems(c) * dtype_size(c->n->dtype);
}

/* P[r][col] = x[r - pad0][col - pad1], zero outside x. */
static void pad_plane(CEmit *ce, const Conv *c, int depth) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  int64_t hp = w->nsp == 2 ? span(w, 0) : 1, wp = span(w, L), in = w->in[L], pl = w->pad[L];
  int64_t a = pl < wp ? pl : wp, b = pl + in < wp ? pl + in : wp;
  cgen_line(ce, depth, "for (int64_t r = 0; r < %" PRId64 "; r++) {", hp);
  cgen_line(ce, depth + 1, "%s *restrict pr = P + r * %" PRId64 ";", c->t, wp);
  if (w->nsp == 2) {
    cgen_line(ce, depth + 1, "const int64_t ih = r - %" PRId64 ";", w->pad[0]);
    cgen_line(ce, depth + 1, "if (ih < 0 || ih >= %" PRId64 ") {", w->in[0]);
    cgen_line(ce, depth + 2, "for (int64_t j = 0; j < %" PRId64 "; j++) pr[j] = 0;", wp);
    cgen_line(ce, depth + 2, "continue;");
    cgen_line(ce, depth + 1, "}");
  } else cgen_line(ce, depth + 1, "const int64_t ih = 0;");
  if (a > 0) cgen_line(ce, depth + 1, "for (int64_t j = 0; j < %" PRId64 "; j++) pr[j] = 0;", a);
  if (b > a) /* a memcpy: gcc 12.2 -O3 miscompiles the loop (conv.c, run_copy) */
    cgen_line(ce, depth + 1, "memcpy(pr + %" PRId64 ", X + ih * %" PRId64 " + %" PRId64 ", %" PRId64 " * sizeof(%s));", a,
              in, a - pl, b - a, c->t);
  if (wp > b) cgen_line(ce, depth + 1, "for (int64_t j = %" PRId64 "; j < %" PRId64 "; j++) pr[j] = 0;", b, wp);
  cgen_line(ce, depth, "}");
}

/* acc over the taps of output (oh, ow), in order. */
static void taps(CEmit *ce, const Conv *c, int depth) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  int64_t kh = w->nsp == 2 ? w->k[0] : 1, kw = w->k[L], wp = span(w, L);
  int64_t sh = w->nsp == 2 ? w->stride[0] : 0, dh = w->nsp == 2 ? w->dil[0] : 0;
  const char *fma = c->n->dtype == DT_F32 ? "DLC_FMAF" : "DLC_FMA";
  if (kh * kw > DW_UNROLL) {
    cgen_line(ce, depth, "for (int64_t t0 = 0; t0 < %" PRId64 "; t0++)", kh);
    cgen_line(ce, depth + 1, "for (int64_t t1 = 0; t1 < %" PRId64 "; t1++)", kw);
    cgen_line(ce, depth + 2, "acc = %s(Wo[t0 * %" PRId64 " + t1], P[(oh * %" PRId64 " + t0 * %" PRId64 ") * %" PRId64 " + ow * %" PRId64 " + t1 * %" PRId64 "], acc);",
              fma, kw, sh, dh, wp, w->stride[L], w->dil[L]);
    return;
  }
  for (int64_t i = 0; i < kh; i++)
    for (int64_t j = 0; j < kw; j++)
      cgen_line(ce, depth, "acc = %s(w%" PRId64 ", P[(oh * %" PRId64 " + %" PRId64 ") * %" PRId64 " + ow * %" PRId64 " + %" PRId64 "], acc);",
                fma, i * kw + j, sh, i * dh, wp, w->stride[L], j * w->dil[L]);
}

int conv_dw_emit(CEmit *ce, const Conv *c, const char *x, const char *wt, int64_t batch, int64_t channels) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  int64_t wo = w->out[L], ho = w->nsp == 2 ? w->out[0] : 1, nout = c->groups * c->og, slot = plane_elems(c);
  bool par = conv_dw_par(c, batch);
  char col[64];
  if (par) cgen_par_for_slots(ce, 1);
  cgen_line(ce, 1, "for (int64_t bo = 0; bo < %" PRId64 "; bo++) {", batch * nout);
  cgen_line(ce, 2, "const int64_t b0 = bo / %" PRId64 ", o = bo %% %" PRId64 ";", nout, nout);
  cgen_line(ce, 2, "const %s *restrict X = %s + (b0 * %" PRId64 " + o / %" PRId64 ") * %" PRId64 ";", c->t, x,
            channels, c->og, w->in_plane);
  cgen_line(ce, 2, "const %s *restrict Wo = %s + o * %" PRId64 ";", c->t, wt, c->depth);
  char at[64] = "";
  if (par) snprintf(at, sizeof at, " + DLC_SLOT() * %" PRId64, slot);
  cgen_line(ce, 2, "%s *restrict P = (%s *)ws%s; /* the channel, padded: [%" PRId64 "][%" PRId64 "] */", c->t, c->t,
            at, w->nsp == 2 ? span(w, 0) : 1, span(w, L));
  pad_plane(ce, c, 2);
  if (c->depth <= DW_UNROLL)
    for (int64_t i = 0; i < c->depth; i++) cgen_line(ce, 2, "const %s w%" PRId64 " = Wo[%" PRId64 "];", c->t, i, i);
  cgen_line(ce, 2, "for (int64_t oh = 0; oh < %" PRId64 "; oh++)", ho);
  cgen_line(ce, 3, "for (int64_t ow = 0; ow < %" PRId64 "; ow++) {", wo);
  cgen_line(ce, 4, "%s acc = 0;", c->t);
  taps(ce, c, 4);
  snprintf(col, sizeof col, "oh * %" PRId64 " + ow", wo);
  epi_store(ce, c->ep, 4, "acc", "o", col);
  cgen_line(ce, 3, "}");
  cgen_line(ce, 1, "}");
  return 0;
}

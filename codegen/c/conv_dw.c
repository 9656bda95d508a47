/* conv_dw.c — depthwise convolutions (one input channel per group: MobileNet,
 * ShuffleNet, EfficientNet), in 1 or 2 spatial dimensions.
 *
 * Each output channel reads a single input channel, so conv.c's product would be a
 * few terms deep: all gathering, no reuse.  Here each channel of x is first copied
 * into the kernel's scratch with its padding around it (zeros), as the rows and
 * columns the taps read; with a stride s > 1 along the last dimension and an x that
 * fits the caches (DW_PHASES_BYTES) the columns go into s phase planes (column j of
 * phase p is padded column j * s + p), so that every tap reads a contiguous run of one
 * plane whatever the stride; else the taps read one plane with the stride.  Then every output is
 * one chain of multiply-adds over the taps in order, written out with the weights in
 * locals and no bounds to test.  An output row is computed over a whole number of
 * DW_ROUND columns (the plane has the columns for it, zeros past x) into a buffer of
 * a block of the channel's output rows (DW_BLOCK outputs, in L1), row after row, each
 * row's extra columns overwritten by the next: so the row loop vectorises with no
 * scalar tail (MobileNet's 14- and 7-wide rows).  Then the block's outputs go through
 * the store (bias, activation, ..: the epilogue) as one contiguous loop.  Rows that are
 * a whole number of DW_ROUND columns or at least DW_DIRECT wide (112, 56, 28) store
 * each sum as it is made: a separate pass of stores was slower there (112 and 56 at
 * batch 1, 28 at batch 32, where the outputs go to memory).  Threads share the
 * channels, each with its own slot of scratch. */
#include <inttypes.h>

#include "conv.h"

#define DW_UNROLL 64 /* taps written out one by one; more go through a loop */
#define DW_ROUND 8   /* an output row's columns are computed in multiples of this */
#define DW_BLOCK 2048 /* outputs per block of rows (at least one row): 8 KiB of f32 */
#define DW_DIRECT 16  /* rows at least this wide store each sum as it is made */
/* Stride phases only when x is at most this large (in the caches): at batch 32, x from
 * memory, MobileNetV2's stride-2 layers were 10-60% slower with them than reading one
 * plane with the stride. */
#define DW_PHASES_BYTES (8 << 20)

/* The padded input's rows and columns that the taps read, padding included. */
static int64_t span(const Win *w, int d) { return (w->out[d] - 1) * w->stride[d] + (w->k[d] - 1) * w->dil[d] + 1; }

/* The layout of the scratch: `phases` planes of [rows][cols], then the outputs. */
typedef struct DwPlan {
  int64_t rows, cols, phases; /* phase p, row r, column j: padded (r, j * phases + p) */
  int64_t cs;                 /* an output column's step along a plane's row (stride / phases) */
  int64_t wo, wr, ho;         /* output columns, the columns computed per row, rows */
  int64_t rb;                 /* output rows per block */
  int64_t plane;              /* elements of one phase plane */
  int64_t out;                /* elements of the output buffer (0: each sum stored as made) */
} DwPlan;

static DwPlan dw_plan(const Conv *c) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  DwPlan p = {.rows = w->nsp == 2 ? span(w, 0) : 1, .wo = w->out[L], .ho = w->nsp == 2 ? w->out[0] : 1};
  double in_bytes = (double)c->n->shape.d[0] * (double)(c->groups * c->cg * w->in_plane) * (double)dtype_size(c->n->dtype);
  p.phases = in_bytes <= DW_PHASES_BYTES ? w->stride[L] : 1;
  p.cs = w->stride[L] / p.phases;
  p.wr = conv_round_up(p.wo, DW_ROUND);
  p.cols = (p.wr - 1) * p.cs + (w->k[L] - 1) * w->dil[L] / p.phases + 1; /* the last tap of the last column computed */
  p.plane = p.rows * p.cols;
  p.rb = p.wo && DW_BLOCK / p.wo > 1 ? DW_BLOCK / p.wo : 1;
  if (p.rb > p.ho) p.rb = p.ho;
  p.out = p.wr == p.wo || p.wo >= DW_DIRECT ? 0 : p.rb * p.wo + (p.wr - p.wo);
  return p;
}

static int64_t slot_elems(const Conv *c) {
  DwPlan p = dw_plan(c);
  return p.phases * p.plane + p.out;
}

bool conv_dw_wanted(const Conv *c) {
  return c->cg == 1 && c->groups > 1 && c->w.nsp >= 1 && c->w.nsp <= 2 && c->depth > 0 &&
         slot_elems(c) * dtype_size(c->n->dtype) <= CONV_ROW_MAX_BYTES;
}

bool conv_dw_par(const Conv *c, int64_t batch) {
  return cgen_par_worth(2.0 * (double)batch * (double)(c->groups * c->og) * (double)c->q * (double)c->depth) &&
         batch * c->groups * c->og > 1;
}

int64_t conv_dw_scratch(const Conv *c, int64_t batch) {
  return (conv_dw_par(c, batch) ? CGEN_SLOTS : 1) * slot_elems(c) * dtype_size(c->n->dtype);
}

/* Phase ph's columns [lo, hi) hold x's columns (j * s + ph - pad); the rest are zeros. */
static void phase_range(const Conv *c, const DwPlan *p, int64_t ph, int64_t *lo, int64_t *hi) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  int64_t s = p->phases, pl = w->pad[L], in = w->in[L];
  int64_t a = pl - ph > 0 ? (pl - ph + s - 1) / s : 0, b = in + pl - ph > 0 ? (in + pl - ph + s - 1) / s : 0;
  *lo = a < p->cols ? a : p->cols;
  *hi = b < *lo ? *lo : b < p->cols ? b : p->cols;
}

/* P[ph][r][j] = x[r - pad0][j * s + ph - pad1], zero outside x. */
static void pad_planes(CEmit *ce, const Conv *c, const DwPlan *p, int depth) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  int64_t s = p->phases, in = w->in[L], pl = w->pad[L];
  cgen_line(ce, depth, "for (int64_t r = 0; r < %" PRId64 "; r++) {", p->rows);
  if (w->nsp == 2) {
    cgen_line(ce, depth + 1, "const int64_t ih = r - %" PRId64 ";", w->pad[0]);
    cgen_line(ce, depth + 1, "if (ih < 0 || ih >= %" PRId64 ") {", w->in[0]);
    cgen_line(ce, depth + 2, "for (int64_t ph = 0; ph < %" PRId64 "; ph++)", s);
    cgen_line(ce, depth + 3, "for (int64_t j = 0; j < %" PRId64 "; j++) P[ph * %" PRId64 " + r * %" PRId64 " + j] = 0;",
              p->cols, p->plane, p->cols);
    cgen_line(ce, depth + 2, "continue;");
    cgen_line(ce, depth + 1, "}");
  } else cgen_line(ce, depth + 1, "const int64_t ih = 0;");
  cgen_line(ce, depth + 1, "const %s *restrict xr = X + ih * %" PRId64 ";", c->t, in);
  for (int64_t ph = 0; ph < s; ph++) {
    int64_t lo, hi;
    phase_range(c, p, ph, &lo, &hi);
    cgen_line(ce, depth + 1, "{");
    cgen_line(ce, depth + 2, "%s *restrict pr = P + %" PRId64 " + r * %" PRId64 ";", c->t, ph * p->plane, p->cols);
    if (lo > 0) cgen_line(ce, depth + 2, "for (int64_t j = 0; j < %" PRId64 "; j++) pr[j] = 0;", lo);
    if (hi > lo && s == 1) /* a memcpy: gcc 12.2 -O3 miscompiles the loop (conv.c, run_copy) */
      cgen_line(ce, depth + 2, "memcpy(pr + %" PRId64 ", xr + %" PRId64 ", %" PRId64 " * sizeof(%s));", lo, lo - pl,
                hi - lo, c->t);
    else if (hi > lo)
      cgen_line(ce, depth + 2, "for (int64_t j = %" PRId64 "; j < %" PRId64 "; j++) pr[j] = xr[j * %" PRId64 " + %" PRId64 "];",
                lo, hi, s, ph - pl);
    if (p->cols > hi) cgen_line(ce, depth + 2, "for (int64_t j = %" PRId64 "; j < %" PRId64 "; j++) pr[j] = 0;", hi, p->cols);
    cgen_line(ce, depth + 1, "}");
  }
  cgen_line(ce, depth, "}");
}

/* acc over the taps of output (oh, ow), in order: tap (t0, t1) reads phase
 * (t1 * dil) % phases, column ow * cs + (t1 * dil) / phases, row oh * sh + t0 * dh. */
static void taps(CEmit *ce, const Conv *c, const DwPlan *p, int depth) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  int64_t kh = w->nsp == 2 ? w->k[0] : 1, kw = w->k[L], s = p->phases, dl = w->dil[L];
  int64_t sh = w->nsp == 2 ? w->stride[0] : 0, dh = w->nsp == 2 ? w->dil[0] : 0;
  const char *fma = c->n->dtype == DT_F32 ? "DLC_FMAF" : "DLC_FMA";
  if (kh * kw > DW_UNROLL) {
    cgen_line(ce, depth, "for (int64_t t0 = 0; t0 < %" PRId64 "; t0++)", kh);
    cgen_line(ce, depth + 1, "for (int64_t t1 = 0; t1 < %" PRId64 "; t1++)", kw);
    cgen_line(ce, depth + 2,
              "acc = %s(Wo[t0 * %" PRId64 " + t1], P[t1 * %" PRId64 " %% %" PRId64 " * %" PRId64 " + (oh * %" PRId64 " + t0 * %" PRId64 ") * %" PRId64 " + ow * %" PRId64 " + t1 * %" PRId64 " / %" PRId64 "], acc);",
              fma, kw, dl, s, p->plane, sh, dh, p->cols, p->cs, dl, s);
    return;
  }
  for (int64_t i = 0; i < kh; i++)
    for (int64_t j = 0; j < kw; j++)
      cgen_line(ce, depth, "acc = %s(w%" PRId64 ", P[%" PRId64 " + (oh * %" PRId64 " + %" PRId64 ") * %" PRId64 " + ow * %" PRId64 " + %" PRId64 "], acc);",
                fma, i * kw + j, j * dl % s * p->plane, sh, i * dh, p->cols, p->cs, j * dl / s);
}

int conv_dw_emit(CEmit *ce, const Conv *c, const char *x, const char *wt, int64_t batch, int64_t channels) {
  const Win *w = &c->w;
  DwPlan p = dw_plan(c);
  int64_t nout = c->groups * c->og, slot = slot_elems(c);
  bool par = conv_dw_par(c, batch);
  if (par) cgen_par_for_slots(ce, 1);
  cgen_line(ce, 1, "for (int64_t bo = 0; bo < %" PRId64 "; bo++) {", batch * nout);
  cgen_line(ce, 2, "const int64_t b0 = bo / %" PRId64 ", o = bo %% %" PRId64 ";", nout, nout);
  cgen_line(ce, 2, "const %s *restrict X = %s + (b0 * %" PRId64 " + o / %" PRId64 ") * %" PRId64 ";", c->t, x,
            channels, c->og, w->in_plane);
  cgen_line(ce, 2, "const %s *restrict Wo = %s + o * %" PRId64 ";", c->t, wt, c->depth);
  char at[64] = "";
  if (par) snprintf(at, sizeof at, " + DLC_SLOT() * %" PRId64, slot);
  cgen_line(ce, 2, "%s *restrict P = (%s *)ws%s; /* the channel, padded: [%" PRId64 "][%" PRId64 "][%" PRId64 "] */",
            c->t, c->t, at, p.phases, p.rows, p.cols);
  if (p.out)
    cgen_line(ce, 2, "%s *restrict T = P + %" PRId64 "; /* a block of its outputs: [%" PRId64 "][%" PRId64 "], then %" PRId64 " more */",
            c->t, p.phases * p.plane, p.rb, p.wo, p.wr - p.wo);
  pad_planes(ce, c, &p, 2);
  if (c->depth <= DW_UNROLL)
    for (int64_t i = 0; i < c->depth; i++) cgen_line(ce, 2, "const %s w%" PRId64 " = Wo[%" PRId64 "];", c->t, i, i);
  char v[64], col[64];
  if (!p.out) { /* each sum goes to the store as it is made */
    cgen_line(ce, 2, "for (int64_t oh = 0; oh < %" PRId64 "; oh++)", p.ho);
    cgen_line(ce, 3, "for (int64_t ow = 0; ow < %" PRId64 "; ow++) {", p.wo);
    cgen_line(ce, 4, "%s acc = 0;", c->t);
    taps(ce, c, &p, 4);
    snprintf(col, sizeof col, "oh * %" PRId64 " + ow", p.wo);
    epi_store(ce, c->ep, 4, "acc", "o", col);
    cgen_line(ce, 3, "}");
    cgen_line(ce, 1, "}");
    return 0;
  }
  cgen_line(ce, 2, "for (int64_t oh0 = 0; oh0 < %" PRId64 "; oh0 += %" PRId64 ") {", p.ho, p.rb);
  if (p.ho % p.rb)
    cgen_line(ce, 3, "const int64_t oh1 = oh0 + %" PRId64 " < %" PRId64 " ? oh0 + %" PRId64 " : %" PRId64 ";", p.rb, p.ho,
              p.rb, p.ho);
  else cgen_line(ce, 3, "const int64_t oh1 = oh0 + %" PRId64 ";", p.rb);
  cgen_line(ce, 3, "for (int64_t oh = oh0; oh < oh1; oh++)");
  cgen_line(ce, 4, "for (int64_t ow = 0; ow < %" PRId64 "; ow++) {", p.wr);
  cgen_line(ce, 5, "%s acc = 0;", c->t);
  taps(ce, c, &p, 5);
  cgen_line(ce, 5, "T[(oh - oh0) * %" PRId64 " + ow] = acc;", p.wo);
  cgen_line(ce, 4, "}");
  cgen_line(ce, 3, "for (int64_t q = oh0 * %" PRId64 "; q < oh1 * %" PRId64 "; q++) {", p.wo, p.wo);
  snprintf(v, sizeof v, "T[q - oh0 * %" PRId64 "]", p.wo);
  epi_store(ce, c->ep, 4, v, "o", "q");
  cgen_line(ce, 3, "}");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 1, "}");
  return 0;
}

/* tile.c — the register tile of matmul and conv (see tile.h).
 *
 * For f32 on a target with intrinsics (target.c) the sums are named vector variables,
 * c<row>_<vector>, MR x NR / VW of them: per k, the panel's vectors are loaded once and
 * each row's broadcast A(i, k) is multiplied into its vectors with DLC_VFMA; at the end
 * the sums go to a small array and through the store, one loop per row.
 *
 * Otherwise (generic, f64) the accumulators are MR separate local arrays of NR sums, one per row, and the loop
 * over the panel's columns is innermost and written once per row: gcc and clang both
 * turn each row into NR / vector-width registers that stay live across the k loop and
 * multiply-add a broadcast A(i, k) into them.  A two-dimensional array of sums, or a
 * loop over rows inside the k loop, is what either compiler sometimes keeps in
 * memory instead; the generator unrolls the rows itself so neither has to. */
#include <inttypes.h>
#include <string.h>

#include "conv.h"
#include "tile.h"


static const char *const fma_macros[] = {
    "",
    "/* One rounding per multiply-add where the target has a fused instruction (C99's",
    " * FP_FAST_FMA*), else a multiply and an add: fixed for one build, so deterministic. */",
    "#ifndef DLC_FMAF",
    "#ifdef FP_FAST_FMAF",
    "#define DLC_FMAF(a, b, c) fmaf(a, b, c)",
    "#else",
    "#define DLC_FMAF(a, b, c) ((a) * (b) + (c))",
    "#endif",
    "#ifdef FP_FAST_FMA",
    "#define DLC_FMA(a, b, c) fma(a, b, c)",
    "#else",
    "#define DLC_FMA(a, b, c) ((a) * (b) + (c))",
    "#endif",
    "#endif",
};

static void vtile_functions(CEmit *ce);

void tile_prelude(CEmit *ce) {
  cgen_lines(ce, fma_macros, sizeof fma_macros / sizeof fma_macros[0]);
  if (cgen_tile_vector(ce, DT_F32) && cgen_tile_nr(ce, DT_F32) % ce->cpu->vw == 0) {
    vtile_functions(ce);
    conv_wino_helpers(ce);
  }
}

/* "e * s", "e" when s is 1, nothing when s is 0; appended with " + " when not first. */
static void term(char *buf, size_t n, const char *e, int64_t s) {
  size_t k = strlen(buf);
  if (s == 0) return;
  const char *plus = k ? " + " : "";
  if (s == 1) snprintf(buf + k, n - k, "%s%s", plus, e);
  else snprintf(buf + k, n - k, "%s(%s) * %" PRId64, plus, e, s);
}

/* A(row0 + r, tk) */
static void a_at(const Tile *t, int r, char *buf, size_t n) {
  char row[160], idx[400] = "";
  snprintf(row, sizeof row, r ? "%s + %d" : "%s", t->row0, r);
  term(idx, sizeof idx, row, t->a_rs);
  term(idx, sizeof idx, "tk", t->a_cs);
  snprintf(buf, n, "%s[%s]", t->a, idx[0] ? idx : "0");
}

/* Sums c<r * np + p>: row r of the tile, panel p of its panels. */
static int panels_of(const Tile *t) { return t->np ? t->np : 1; }

static void zero_sums(CEmit *ce, const Tile *t, int d) {
  cgen_printf(ce, "%*sfor (tj = 0; tj < %d; tj++) {", 2 * d, "", t->nr);
  for (int s = 0; s < t->mr * panels_of(t); s++) cgen_printf(ce, " c%d[tj] = 0;", s);
  cgen_printf(ce, " }\n");
}

static void k_loop(CEmit *ce, const Tile *t, int d) {
  const char *fma = !strcmp(t->t, "float") ? "DLC_FMAF" : "DLC_FMA";
  int np = panels_of(t);
  char a[600];
  cgen_line(ce, d, "for (tk = 0; tk < %" PRId64 "; tk++) {", t->depth);
  for (int p = 0; p < np; p++)
    cgen_line(ce, d + 1, "const %s *restrict pk%d = %s + %" PRId64 " + tk * %" PRId64 ";", t->t, p, t->panel,
              p * t->pnext, t->pstride ? t->pstride : t->nr);
  for (int r = 0; r < t->mr; r++) {
    a_at(t, r, a, sizeof a);
    cgen_line(ce, d + 1, "const %s x%d = %s;", t->t, r, a);
  }
  cgen_line(ce, d + 1, "for (tj = 0; tj < %d; tj++) {", t->nr);
  for (int r = 0; r < t->mr; r++)
    for (int p = 0; p < np; p++)
      cgen_line(ce, d + 2, "c%d[tj] = %s(x%d, pk%d[tj], c%d[tj]);", r * np + p, fma, r, p, r * np + p);
  cgen_line(ce, d + 1, "}");
  cgen_line(ce, d, "}");
}

/* Sum s's column tj is the C expression `sum` with s in place of %d. */
static void store(CEmit *ce, const Tile *t, const Epi *ep, const char *sum, int d) {
  char v[32], row[160], col[200];
  int np = panels_of(t);
  cgen_line(ce, d, "for (tj = 0; tj < %d; tj++) {", t->nstore);
  for (int r = 0; r < t->mr; r++)
    for (int p = 0; p < np; p++) {
      snprintf(v, sizeof v, sum, r * np + p);
      snprintf(row, sizeof row, r ? "%s + %d" : "%s", t->row0, r);
      snprintf(col, sizeof col, p ? "%s + %d + tj" : "%s + tj", t->col0, p * t->nr);
      epi_store(ce, ep, d + 1, v, t->swap ? col : row, t->swap ? row : col);
    }
  cgen_line(ce, d, "}");
}

/* ---- with the target's vector intrinsics (target.c) ---- */

/* The vector tile's k loop is a function of its own, one per tile shape (BLIS's
 * micro-kernel), written once per file before the first tiled kernel: rows by panels
 * side by side, with the depth and the strides as arguments.  Inlined into each kernel,
 * gcc 12 allocated its registers together with the tail's loops and kept the panel's
 * vectors on the stack instead (a store and two reloads per k), which halved the
 * speed of products with a short tail (a bias, a residual add).  The shapes written:
 * every row count up to MR over one panel, and MR / rows panels side by side for the
 * few rows after the last full tile (matmul.c, conv_grad.c), each for the target's NR
 * columns and, in a file where a weight gradient takes them, for a narrow panel of one
 * vector (suffix 'n': conv_grad_weight's few output channels, which would leave most
 * of a full panel's columns zero); another
 * shape (none today) is written inline. */
static bool vtile_has(const CEmit *ce, int mr, int np, int nr) {
  int mfull = cgen_tile_mr(ce, DT_F32);
  if (!nr || (nr != ce->vtile_nr[0] && nr != ce->vtile_nr[1])) return false;
  return mr >= 1 && mr <= mfull && (np == 1 || (mr < mfull && np == mfull / mr && np > 1));
}

/* The function's name: dlc_tile<mr>x<np>, with a trailing 'n' for the narrow panel. */
static const char *vtile_suffix(const CEmit *ce, int nr) { return nr == cgen_tile_nr(ce, DT_F32) ? "" : "n"; }

/* Sums c<s>_<v>: vector v of row-and-panel s (as the plain tile's c<s>). */
static void vzero_sums(CEmit *ce, int n, int nv, int d) {
  cgen_printf(ce, "%*sDLC_VF", 2 * d, "");
  for (int s = 0; s < n * nv; s++) cgen_printf(ce, "%s c%d_%d = DLC_VZERO()", s ? "," : "", s / nv, s % nv);
  cgen_printf(ce, ";\n");
}

/* Per k: the panels' vectors (loaded where used when one row reads them), then per row
 * a broadcast of A(i, k) multiplied into each of its sums.  Row r of A is a<r>[tk * acs],
 * panel p's row k at pk<p>. */
static void vk_body(CEmit *ce, int mr, int np, int nv, int vw, int d) {
  bool inline_loads = mr == 1;
  char pv[64];
  for (int p = 0; p < np; p++) {
    cgen_line(ce, d, "const float *restrict pk%d = p + %d * pn + tk * ps;", p, p);
    if (inline_loads) continue;
    cgen_printf(ce, "%*sconst DLC_VF", 2 * d, "");
    for (int v = 0; v < nv; v++) cgen_printf(ce, "%s p%d_%d = DLC_VLOAD(pk%d + %d)", v ? "," : "", p, v, p, v * vw);
    cgen_printf(ce, ";\n");
  }
  for (int r = 0; r < mr; r++) {
    cgen_printf(ce, "%*s{ const DLC_VF x = DLC_VSET1(a%d[tk * acs]);", 2 * d, "", r);
    for (int p = 0; p < np; p++)
      for (int v = 0; v < nv; v++) {
        int s = r * np + p;
        if (inline_loads) snprintf(pv, sizeof pv, "DLC_VLOAD(pk%d + %d)", p, v * vw);
        else snprintf(pv, sizeof pv, "p%d_%d", p, v);
        cgen_printf(ce, " c%d_%d = DLC_VFMA(x, %s, c%d_%d);", s, v, pv, s, v);
      }
    cgen_printf(ce, " }\n");
  }
}

/* static void dlc_tile<mr>x<np>(kc, a, ars, acs, p, ps, pn, cs): cs[r * np + q][j] =
 * sum over k < kc of a[r * ars + k * acs] * p[q * pn + k * ps + j], j < NR. */
static void vtile_function(CEmit *ce, int mr, int np, int nr) {
  int vw = ce->cpu->vw, nv = nr / vw;
  cgen_printf(ce, "\nDLC_KERNEL __attribute__((noinline, unused)) static void dlc_tile%dx%d%s(\n", mr, np,
              vtile_suffix(ce, nr));
  cgen_line(ce, 2, "int64_t kc, const float *restrict a, int64_t ars, int64_t acs, const float *restrict p,");
  cgen_line(ce, 2, "int64_t ps, int64_t pn, float *restrict cs /* [%d][%d] */) {", mr * np, nr);
  for (int r = 0; r < mr; r++) cgen_line(ce, 1, "const float *restrict a%d = a + %d * ars;", r, r);
  if (mr == 1) cgen_line(ce, 1, "(void)ars;");
  if (np == 1) cgen_line(ce, 1, "(void)pn;");
  vzero_sums(ce, mr * np, nv, 1);
  cgen_line(ce, 1, "for (int64_t tk = 0; tk < kc; tk++) {");
  vk_body(ce, mr, np, nv, vw, 2);
  cgen_line(ce, 1, "}");
  for (int s = 0; s < mr * np; s++) {
    cgen_printf(ce, "  ");
    for (int v = 0; v < nv; v++) cgen_printf(ce, "%sDLC_VSTORE(cs + %d, c%d_%d);", v ? " " : "", s * nr + v * vw, s, v);
    cgen_printf(ce, "\n");
  }
  cgen_printf(ce, "}\n");
}

static void vtile_functions(CEmit *ce) {
  int mfull = cgen_tile_mr(ce, DT_F32);
  ce->vtile_nr[0] = cgen_tile_nr(ce, DT_F32);
  ce->vtile_nr[1] = conv_grad_narrow_used(ce) ? cgen_tile_nr_narrow(ce, DT_F32) : 0;
  for (int w = 0; w < 2 && ce->vtile_nr[w]; w++)
    for (int mr = 1; mr <= mfull; mr++) {
      vtile_function(ce, mr, 1, ce->vtile_nr[w]);
      if (vtile_has(ce, mr, mfull / mr, ce->vtile_nr[w]) && mfull / mr > 1) vtile_function(ce, mr, mfull / mr, ce->vtile_nr[w]);
    }
}

/* A's first row of the tile, as a pointer expression (of its panel, when packed). */
static void a_row0(const Tile *t, char *buf, size_t n) {
  if (t->a_pack) snprintf(buf, n, "%s + (%s) * %" PRId64, t->a, t->row0, t->depth);
  else if (t->a_rs == 0) snprintf(buf, n, "%s", t->a);
  else if (t->a_rs == 1) snprintf(buf, n, "%s + (%s)", t->a, t->row0);
  else snprintf(buf, n, "%s + (%s) * %" PRId64, t->a, t->row0, t->a_rs);
}

/* The sums go to a small array, then element by element through the store. */
static void vstore(CEmit *ce, const Tile *t, const Epi *ep, int d) {
  char v[32], row[160], col[200];
  int np = panels_of(t);
  /* A loop per row: each one small enough for the compiler to vectorise the tail.  Not
   * unrolled: gcc 12 peels a loop of up to 16 iterations completely (AVX2's 16-column
   * panels) before it vectorises, and the straight-line copies then stayed scalar (a
   * ReLU6 tail: MobileNetV2's small-depth 1x1 convolutions ran 1.6x slower than with
   * AVX-512's 32 columns).  clang reads the same pragma. */
  for (int r = 0; r < t->mr; r++)
    for (int p = 0; p < np; p++) {
      cgen_line(ce, d, "_Pragma(\"GCC unroll 1\") for (tj = 0; tj < %d; tj++) {", t->nstore);
      snprintf(v, sizeof v, "cs[%d][tj]", r * np + p);
      snprintf(row, sizeof row, r ? "%s + %d" : "%s", t->row0, r);
      snprintf(col, sizeof col, p ? "%s + %d + tj" : "%s + tj", t->col0, p * t->nr);
      epi_store(ce, ep, d + 1, v, t->swap ? col : row, t->swap ? row : col);
      cgen_line(ce, d, "}");
    }
}

static void tile_emit_vector(CEmit *ce, const Tile *t, const Epi *ep, int d) {
  int vw = ce->cpu->vw, nv = t->nr / vw, np = panels_of(t), n = t->mr * np;
  char a[480];
  int64_t ars = t->a_pack ? 1 : t->a_rs, acs = t->a_pack ? t->a_pack : t->a_cs;
  a_row0(t, a, sizeof a);
  cgen_line(ce, d, "{");
  cgen_line(ce, d + 1, "int64_t tj;");
  cgen_line(ce, d + 1, "float cs[%d][%d];", n, t->nr);
  if (vtile_has(ce, t->mr, np, t->nr)) {
    cgen_line(ce, d + 1, "dlc_tile%dx%d%s(%" PRId64 ", %s, %" PRId64 ", %" PRId64 ", %s, %" PRId64 ", %" PRId64 ", cs[0]);",
              t->mr, np, vtile_suffix(ce, t->nr), t->depth, a, ars, acs, t->panel, t->pstride ? t->pstride : t->nr,
              t->pnext);
  } else {
    cgen_line(ce, d + 1, "{");
    for (int r = 0; r < t->mr; r++)
      cgen_line(ce, d + 2, "const float *restrict a%d = %s + %" PRId64 ";", r, a, r * ars);
    cgen_line(ce, d + 2, "const float *restrict p = %s;", t->panel);
    cgen_line(ce, d + 2, "const int64_t acs = %" PRId64 ", ps = %" PRId64 ", pn = %" PRId64 ";", acs,
              t->pstride ? t->pstride : t->nr, t->pnext);
    cgen_line(ce, d + 2, "(void)pn;");
    vzero_sums(ce, n, nv, d + 2);
    cgen_line(ce, d + 2, "for (int64_t tk = 0; tk < %" PRId64 "; tk++) {", t->depth);
    vk_body(ce, t->mr, np, nv, vw, d + 3);
    cgen_line(ce, d + 2, "}");
    for (int s = 0; s < n; s++) {
      cgen_printf(ce, "%*s", 2 * (d + 2), "");
      for (int v = 0; v < nv; v++) cgen_printf(ce, "%sDLC_VSTORE(cs[%d] + %d, c%d_%d);", v ? " " : "", s, v * vw, s, v);
      cgen_printf(ce, "\n");
    }
    cgen_line(ce, d + 1, "}");
  }
  vstore(ce, t, ep, d + 1);
  cgen_line(ce, d, "}");
}

DType tile_dtype(const Tile *t) { return strcmp(t->t, "float") ? DT_F64 : DT_F32; }

void tile_emit(CEmit *ce, const Tile *t, const Epi *ep, int d) {
  if (tile_dtype(t) == DT_F32 && cgen_tile_vector(ce, DT_F32) && t->nr % ce->cpu->vw == 0) {
    tile_emit_vector(ce, t, ep, d);
    return;
  }
  DLC_ASSERT(!t->a_pack);
  cgen_line(ce, d, "{");
  cgen_printf(ce, "%*s%s", 2 * (d + 1), "", t->t);
  for (int s = 0; s < t->mr * panels_of(t); s++) cgen_printf(ce, "%s c%d[%d]", s ? "," : "", s, t->nr);
  cgen_printf(ce, ";\n");
  cgen_line(ce, d + 1, "int64_t tj, tk;");
  zero_sums(ce, t, d + 1);
  k_loop(ce, t, d + 1);
  store(ce, t, ep, "c%d[tj]", d + 1);
  cgen_line(ce, d, "}");
}

/* The same rows over panels jp = from .. to - 1 (expressions), each row tile running
 * over all of them before the next: an output row is then written in one run of
 * (to - from) * NR columns instead of NR at a time, and the panels are read again
 * from the caches by each row tile (conv.c, panel chunks). */
void tile_rows_panels(CEmit *ce, const Tile *proto, const Rows *r, const Epi *ep, int d, const char *from,
                      const char *to) {
  Tile t = *proto;
  int mr = cgen_tile_mr(ce, tile_dtype(proto));
  t.mr = mr, t.row0 = "i0";
  cgen_line(ce, d, "for (int64_t i0 = %s; i0 < %s; i0 += %d)", r->begin, r->end, mr);
  cgen_line(ce, d + 1, "for (int64_t jp = %s; jp < %s; jp++)", from, to);
  tile_emit(ce, &t, ep, d + 2);
  if (!r->rem_at) return;
  t.mr = (int)r->rem, t.row0 = r->rem_at;
  cgen_line(ce, d, "for (int64_t jp = %s; jp < %s; jp++)", from, to);
  tile_emit(ce, &t, ep, d + 1);
}

void tile_rows(CEmit *ce, const Tile *proto, const Rows *r, const Epi *ep, int d) {
  Tile t = *proto;
  int mr = cgen_tile_mr(ce, tile_dtype(proto));
  t.mr = mr, t.row0 = "i0";
  cgen_line(ce, d, "for (int64_t i0 = %s; i0 < %s; i0 += %d)", r->begin, r->end, mr);
  tile_emit(ce, &t, ep, d + 1);
  if (!r->rem_at) return;
  t.mr = (int)r->rem, t.row0 = r->rem_at;
  tile_emit(ce, &t, ep, d);
}

/* tile.c — the register tile of matmul and conv (see tile.h).
 *
 * The accumulators are MR separate local arrays of NR sums, one per row, and the loop
 * over the panel's columns is innermost and written once per row: gcc and clang both
 * turn each row into NR / vector-width registers that stay live across the k loop and
 * multiply-add a broadcast A(i, k) into them.  A two-dimensional array of sums, or a
 * loop over rows inside the k loop, is what either compiler sometimes keeps in
 * memory instead; the generator unrolls the rows itself so neither has to. */
#include <inttypes.h>
#include <string.h>

#include "tile.h"

int tile_nr(DType t) { return 64 / dtype_size(t); }

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

void tile_prelude(CEmit *ce) {
  cgen_lines(ce, fma_macros, sizeof fma_macros / sizeof fma_macros[0]);
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

static void store(CEmit *ce, const Tile *t, const Epi *ep, int d) {
  char v[32], row[160], col[200];
  int np = panels_of(t);
  cgen_line(ce, d, "for (tj = 0; tj < %d; tj++) {", t->nstore);
  for (int r = 0; r < t->mr; r++)
    for (int p = 0; p < np; p++) {
      snprintf(v, sizeof v, "c%d[tj]", r * np + p);
      snprintf(row, sizeof row, r ? "%s + %d" : "%s", t->row0, r);
      snprintf(col, sizeof col, p ? "%s + %d + tj" : "%s + tj", t->col0, p * t->nr);
      epi_store(ce, ep, d + 1, v, row, col);
    }
  cgen_line(ce, d, "}");
}

void tile_emit(CEmit *ce, const Tile *t, const Epi *ep, int d) {
  cgen_line(ce, d, "{");
  cgen_printf(ce, "%*s%s", 2 * (d + 1), "", t->t);
  for (int s = 0; s < t->mr * panels_of(t); s++) cgen_printf(ce, "%s c%d[%d]", s ? "," : "", s, t->nr);
  cgen_printf(ce, ";\n");
  cgen_line(ce, d + 1, "int64_t tj, tk;");
  zero_sums(ce, t, d + 1);
  k_loop(ce, t, d + 1);
  store(ce, t, ep, d + 1);
  cgen_line(ce, d, "}");
}

void tile_rows(CEmit *ce, const Tile *proto, const Rows *r, const Epi *ep, int d) {
  Tile t = *proto;
  t.mr = TILE_MR, t.row0 = "i0";
  cgen_line(ce, d, "for (int64_t i0 = %s; i0 < %s; i0 += %d)", r->begin, r->end, TILE_MR);
  tile_emit(ce, &t, ep, d + 1);
  if (!r->rem_at) return;
  t.mr = (int)r->rem, t.row0 = r->rem_at;
  tile_emit(ce, &t, ep, d);
}

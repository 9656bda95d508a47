/* matmul_int.c — matmul_int: [.., M, K] x [.., K, N] of u8 or i8 into exact i32 sums,
 * the integer product that quantized models (MatMulInteger, QLinearMatMul, ...) are
 * built on.
 *
 * The same blocking as the float product (matmul.c), with kernels of its own since the
 * data differ: B in panels of NR columns, K in groups of G values per column, so that
 * one vector load holds G values of NR columns ([K / G][NR][G], zero-padded), baked in
 * when B is a weight embedded in the code, else packed into the kernel's scratch once
 * per call; A in blocks of MC rows, each tile of MR rows packed as [K / G][MR] words of
 * G values, zero-padded, so a tile broadcasts one 32-bit word per row and step.  The
 * register tile (dlc_qtile, written once per file) by the target (cgen_int8_isa):
 *
 *   VNNI     vpdpbusd: u8 x s8, sums of 4 into 32 bits; G 4, 8 rows x 32 columns.  It
 *            takes unsigned A and signed B, so an i8 A is read as a + 128 (its top bit
 *            flipped) and a u8 B as b - 128, and the sum is corrected exactly:
 *              sum a b = sum a'b' + 128 [B u8] rowsum(a') - 128 [A i8] colsum(b')
 *                        - 128 * 128 [A i8][B u8] K
 *            (colsum with the panels, rowsum while A is packed, only for a u8 B).
 *   MADD512, MADD256   vpmaddwd on values widened to 16 bits: sums of 2 products into
 *            32 bits, exact (not vpmaddubsw, which saturates); G 2, 8 x 32 (AVX-512BW)
 *            or 6 x 16 (AVX2).
 *   PLAIN    C loops over 32-bit values; G 1, 4 x 8.
 *
 * Sums wrap modulo 2^32 (unsigned arithmetic, no undefined behaviour); every sum that
 * fits in 32 bits, i.e. K up to 65793 for the worst operands, is exact. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tile.h"

typedef struct QIsa {
  CgenInt8 kind;
  int g, mr, nr;   /* values per group, tile rows, tile (and panel) columns */
  DType bt;        /* panel element type */
  const char *bct; /* its C type */
} QIsa;

static QIsa q_isa(const CEmit *ce) {
  CgenInt8 k = cgen_int8_isa(ce);
  switch (k) {
  case INT8_VNNI: return (QIsa){k, 4, 8, 32, DT_I8, "int8_t"};
  case INT8_MADD512: return (QIsa){k, 2, 8, 32, DT_I16, "int16_t"};
  case INT8_MADD256: return (QIsa){k, 2, 6, 16, DT_I16, "int16_t"};
  case INT8_PLAIN: break;
  }
  return (QIsa){INT8_PLAIN, 1, 4, 8, DT_I32, "int32_t"};
}

static int q_mc(const QIsa *q) { return 8 * q->mr; } /* rows of A per packed block */

/* The product's dimensions. */
typedef struct QDims {
  int64_t m, k, n, kg, np;
  bool a_s8, b_u8;
  int64_t bmats; /* matrices of B */
} QDims;

static QDims q_dims(const CEmit *ce, const QIsa *q, const Node *n) {
  const Node *a = cgen_in(ce, n, 0), *b = cgen_in(ce, n, 1);
  const Shape *as = &a->shape, *bs = &b->shape;
  QDims d = {.m = as->d[as->rank - 2], .k = as->d[as->rank - 1], .n = bs->d[bs->rank - 1],
             .a_s8 = a->dtype == DT_I8, .b_u8 = b->dtype == DT_U8};
  d.kg = (d.k + q->g - 1) / q->g, d.np = (d.n + q->nr - 1) / q->nr;
  d.bmats = d.k > 0 && d.n > 0 ? shape_numel(bs) / (d.k * d.n) : 0;
  return d;
}

static int64_t q_panel_count(const QIsa *q, const QDims *d) { return d->np * d->kg * q->nr * q->g; }
static int64_t q_panel_bytes(const QIsa *q, const QDims *d) {
  return (q_panel_count(q, d) * dtype_size(q->bt) + 63) / 64 * 64;
}
static int64_t q_fix_bytes(const QIsa *q, const QDims *d) {
  return q->kind == INT8_VNNI ? (d->np * q->nr * 4 + 63) / 64 * 64 : 0;
}
/* One thread's A block: the packed tiles and, for VNNI, the rows' sums. */
static int64_t q_slot_bytes(const QIsa *q, const QDims *d) {
  return ((int64_t)q_mc(q) * d->kg * 4 + (int64_t)q_mc(q) * 4 + 63) / 64 * 64;
}

static bool q_baked(const CEmit *ce, const Node *n, const QDims *d) {
  return pack_b_constant(ce, n) && d->k > 0 && shape_numel(&n->shape) > 0;
}

static bool q_par(const QIsa *q, const QDims *d) {
  return cgen_par_worth(2.0 * (double)d->m * (double)d->k * (double)d->n) && d->m > q_mc(q);
}

int64_t matmul_int_scratch(const CEmit *ce, const Node *n) {
  QIsa q = q_isa(ce);
  QDims d = q_dims(ce, &q, n);
  if (!shape_numel(&n->shape) || !d.k) return 0;
  int64_t b = q_baked(ce, n, &d) ? 0 : q_panel_bytes(&q, &d) + q_fix_bytes(&q, &d);
  return b + (q_par(&q, &d) ? CGEN_SLOTS : 1) * q_slot_bytes(&q, &d);
}

/* ---- packing B: the same layout at compile time (baked) and in the code ---- */

/* Panel element (p, q, j, e) of B's matrix src (bytes, [K][N]); fix[col] for VNNI. */
static void q_fill(const QIsa *q, const QDims *d, const unsigned char *src, void *dst, int32_t *fix) {
  int64_t at = 0;
  for (int64_t p = 0; p < d->np; p++)
    for (int64_t g = 0; g < d->kg; g++)
      for (int j = 0; j < q->nr; j++)
        for (int e = 0; e < q->g; e++, at++) {
          int64_t col = p * q->nr + j, kk = g * q->g + e, v = 0;
          if (col < d->n && kk < d->k) {
            unsigned char u = src[kk * d->n + col];
            v = d->b_u8 ? (int64_t)u : (int64_t)(int8_t)u;
            if (q->kind == INT8_VNNI && d->b_u8) v -= 128;
          }
          if (q->bt == DT_I8) ((int8_t *)dst)[at] = (int8_t)v;
          else if (q->bt == DT_I16) ((int16_t *)dst)[at] = (int16_t)v;
          else ((int32_t *)dst)[at] = (int32_t)v;
        }
  if (q->kind != INT8_VNNI) return;
  for (int64_t col = 0; col < d->np * q->nr; col++) {
    int64_t s = 0;
    for (int64_t kk = 0; col < d->n && kk < d->k; kk++) {
      unsigned char u = src[kk * d->n + col];
      s += d->b_u8 ? (int64_t)u - 128 : (int64_t)(int8_t)u;
    }
    int64_t f = -128 * (int64_t)d->a_s8 * s - 16384 * (int64_t)(d->a_s8 && d->b_u8) * d->k;
    fix[col] = (int32_t)(uint32_t)(uint64_t)f; /* modulo 2^32, as the sums */
  }
}

static void q_names(const Node *n, char *pk, char *fx, size_t size) {
  snprintf(pk, size, "dlc_qpk%d", n->id);
  snprintf(fx, size, "dlc_qfx%d", n->id);
}

static int q_bake(CEmit *ce, const Node *n) {
  QIsa q = q_isa(ce);
  QDims d = q_dims(ce, &q, n);
  const Node *b = cgen_in(ce, n, 1);
  int64_t per = q_panel_count(&q, &d), nfix = d.np * q.nr;
  void *buf = dlc_try_malloc((size_t)(d.bmats * per) * (size_t)dtype_size(q.bt) + 1);
  int32_t *fix = dlc_try_malloc(sizeof(int32_t) * (size_t)(d.bmats * nfix) + 4);
  if (!buf || !fix) {
    free(buf), free(fix);
    return dlc_errf(ce->e, "cgen: out of memory for the packed B of %%%d", n->id);
  }
  for (int64_t m = 0; m < d.bmats; m++)
    q_fill(&q, &d, (const unsigned char *)b->data + m * d.k * d.n, (char *)buf + m * per * dtype_size(q.bt),
           fix + m * nfix);
  char pk[32], fx[32], comment[160];
  q_names(n, pk, fx, sizeof pk);
  snprintf(comment, sizeof comment, "%%%d's B in panels: [%" PRId64 "][%" PRId64 "][%" PRId64 "][%d][%d]", n->id,
           d.bmats, d.np, d.kg, q.nr, q.g);
  int r = cgen_c_data(ce, pk, q.bt, buf, d.bmats * per, comment);
  if (!r && q.kind == INT8_VNNI) {
    snprintf(comment, sizeof comment, "%%%d's column corrections: [%" PRId64 "][%" PRId64 "]", n->id, d.bmats, nfix);
    r = cgen_c_data(ce, fx, DT_I32, fix, d.bmats * nfix, comment);
  }
  free(buf), free(fix);
  return r;
}

/* ---- the helpers, once per file ---- */

static void tile_vnni(CEmit *ce, const QIsa *q) {
  cgen_printf(ce, "DLC_KERNEL static void dlc_qtile(const uint32_t *restrict a, int64_t kg, "
                  "const int8_t *restrict p, int32_t *restrict y) {\n");
  for (int r = 0; r < q->mr; r++)
    cgen_line(ce, 1, "__m512i c%d_0 = _mm512_setzero_si512(), c%d_1 = _mm512_setzero_si512();", r, r);
  cgen_line(ce, 1, "for (int64_t g = 0; g < kg; g++, a += %d, p += %d) {", q->mr, q->nr * q->g);
  cgen_line(ce, 2, "const __m512i b0 = _mm512_loadu_si512((const void *)p), "
                   "b1 = _mm512_loadu_si512((const void *)(p + 64));");
  cgen_line(ce, 2, "__m512i x;");
  for (int r = 0; r < q->mr; r++)
    cgen_line(ce, 2, "x = _mm512_set1_epi32((int)a[%d]); c%d_0 = _mm512_dpbusd_epi32(c%d_0, x, b0); "
                     "c%d_1 = _mm512_dpbusd_epi32(c%d_1, x, b1);", r, r, r, r, r);
  cgen_line(ce, 1, "}");
  for (int r = 0; r < q->mr; r++)
    cgen_line(ce, 1, "_mm512_storeu_si512((void *)(y + %d), c%d_0); _mm512_storeu_si512((void *)(y + %d), c%d_1);",
              r * q->nr, r, r * q->nr + 16, r);
  cgen_printf(ce, "}\n");
}

static void tile_madd(CEmit *ce, const QIsa *q) {
  bool z = q->kind == INT8_MADD512;
  const char *v = z ? "__m512i" : "__m256i", *pre = z ? "_mm512" : "_mm256";
  int lanes = z ? 16 : 8;
  cgen_printf(ce, "DLC_KERNEL static void dlc_qtile(const uint32_t *restrict a, int64_t kg, "
                  "const int16_t *restrict p, int32_t *restrict y) {\n");
  for (int r = 0; r < q->mr; r++)
    cgen_line(ce, 1, "%s c%d_0 = %s_setzero_si%d(), c%d_1 = %s_setzero_si%d();", v, r, pre, z ? 512 : 256, r, pre,
              z ? 512 : 256);
  cgen_line(ce, 1, "for (int64_t g = 0; g < kg; g++, a += %d, p += %d) {", q->mr, q->nr * q->g);
  if (z)
    cgen_line(ce, 2, "const __m512i b0 = _mm512_loadu_si512((const void *)p), "
                     "b1 = _mm512_loadu_si512((const void *)(p + 32));");
  else
    cgen_line(ce, 2, "const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)p), "
                     "b1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 16));");
  cgen_line(ce, 2, "%s x;", v);
  for (int r = 0; r < q->mr; r++)
    cgen_line(ce, 2, "x = %s_set1_epi32((int)a[%d]); c%d_0 = %s_add_epi32(c%d_0, %s_madd_epi16(x, b0)); "
                     "c%d_1 = %s_add_epi32(c%d_1, %s_madd_epi16(x, b1));",
              pre, r, r, pre, r, pre, r, pre, r, pre);
  cgen_line(ce, 1, "}");
  for (int r = 0; r < q->mr; r++) {
    if (z)
      cgen_line(ce, 1, "_mm512_storeu_si512((void *)(y + %d), c%d_0); _mm512_storeu_si512((void *)(y + %d), c%d_1);",
                r * q->nr, r, r * q->nr + lanes, r);
    else
      cgen_line(ce, 1, "_mm256_storeu_si256((__m256i *)(void *)(y + %d), c%d_0); "
                       "_mm256_storeu_si256((__m256i *)(void *)(y + %d), c%d_1);",
                r * q->nr, r, r * q->nr + lanes, r);
  }
  cgen_printf(ce, "}\n");
}

static void tile_plain(CEmit *ce, const QIsa *q) {
  cgen_printf(ce, "DLC_KERNEL static void dlc_qtile(const uint32_t *restrict a, int64_t kg, "
                  "const int32_t *restrict p, int32_t *restrict y) {\n");
  cgen_line(ce, 1, "uint32_t c[%d][%d];", q->mr, q->nr);
  cgen_line(ce, 1, "for (int r = 0; r < %d; r++)", q->mr);
  cgen_line(ce, 2, "for (int j = 0; j < %d; j++) c[r][j] = 0;", q->nr);
  cgen_line(ce, 1, "for (int64_t g = 0; g < kg; g++, a += %d, p += %d)", q->mr, q->nr);
  cgen_line(ce, 2, "for (int r = 0; r < %d; r++) {", q->mr);
  cgen_line(ce, 3, "const int32_t x = (int32_t)a[r];");
  cgen_line(ce, 3, "for (int j = 0; j < %d; j++) c[r][j] += (uint32_t)(x * p[j]);", q->nr);
  cgen_line(ce, 2, "}");
  cgen_line(ce, 1, "for (int r = 0; r < %d; r++)", q->mr);
  cgen_line(ce, 2, "for (int j = 0; j < %d; j++) y[r * %d + j] = (int32_t)c[r][j];", q->nr, q->nr);
  cgen_printf(ce, "}\n");
}

/* dlc_qpack_b: B's matrix b ([K][N] bytes; i8 or u8) into panels and, for VNNI, the
 * column corrections; the code's twin of q_fill.  One pass over b row by row (its
 * columns' sums kept in fix meanwhile), so that the reads run along b's rows. */
static void pack_b_helper(CEmit *ce, const QIsa *q) {
  bool vnni = q->kind == INT8_VNNI;
  cgen_printf(ce, "DLC_KERNEL static void dlc_qpack_b(const uint8_t *restrict b, int64_t k, int64_t n, int b_u8, "
                  "int a_s8, %s *restrict dst, int32_t *restrict fix) {\n", q->bct);
  cgen_line(ce, 1, "const int64_t kg = (k + %d) / %d, np = (n + %d) / %d;", q->g - 1, q->g, q->nr - 1, q->nr);
  cgen_line(ce, 1, "memset(dst, 0, sizeof *dst * (size_t)(np * kg * %d));", q->nr * q->g);
  if (vnni) {
    cgen_line(ce, 1, "uint32_t *restrict sum = (uint32_t *)(void *)fix;");
    cgen_line(ce, 1, "for (int64_t c = 0; c < np * %d; c++) sum[c] = 0;", q->nr);
  }
  cgen_line(ce, 1, "for (int64_t kk = 0; kk < k; kk++) {");
  cgen_line(ce, 2, "const uint8_t *restrict s = b + kk * n;");
  cgen_line(ce, 2, "for (int64_t p = 0; p < np; p++) {");
  cgen_line(ce, 3, "%s *restrict d = dst + (p * kg + kk / %d) * %d + kk %% %d;", q->bct, q->g, q->nr * q->g, q->g);
  cgen_line(ce, 3, "const int64_t c0 = p * %d, cols = n - c0 < %d ? n - c0 : %d;", q->nr, q->nr, q->nr);
  cgen_line(ce, 3, "for (int64_t j = 0; j < cols; j++) {");
  cgen_line(ce, 4, "const int32_t v = b_u8 ? (int32_t)s[c0 + j]%s : (int32_t)(int8_t)s[c0 + j];", vnni ? " - 128" : "");
  cgen_line(ce, 4, "d[j * %d] = (%s)v;", q->g, q->bct);
  if (vnni) cgen_line(ce, 4, "sum[c0 + j] += (uint32_t)v;");
  cgen_line(ce, 3, "}");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 1, "}");
  if (vnni) {
    cgen_line(ce, 1, "for (int64_t c = 0; c < np * %d; c++)", q->nr);
    cgen_line(ce, 2, "fix[c] = (int32_t)(0u - (a_s8 ? 128u * sum[c] : 0u) - (a_s8 && b_u8 ? 16384u * (uint32_t)k : 0u));");
  } else {
    cgen_line(ce, 1, "(void)a_s8, (void)fix;");
  }
  cgen_printf(ce, "}\n");
}

/* dlc_qblock: rows [0, rows) (at most MC) of A ([rows][K] bytes) times the panels,
 * into y ([rows][N]); ws holds the packed tiles and the rows' sums. */
static void block_helper(CEmit *ce, const QIsa *q) {
  bool vnni = q->kind == INT8_VNNI;
  int mr = q->mr, nr = q->nr, g = q->g;
  cgen_printf(ce, "DLC_KERNEL static void dlc_qblock(const uint8_t *restrict a, int64_t rows, int64_t k, int a_s8, "
                  "int b_u8, const %s *restrict bp, const int32_t *restrict fix, int64_t n, int32_t *restrict y, "
                  "uint32_t *restrict ws) {\n", q->bct);
  cgen_line(ce, 1, "const int64_t kg = (k + %d) / %d, tiles = (rows + %d) / %d, np = (n + %d) / %d;", g - 1, g,
            mr - 1, mr, nr - 1, nr);
  cgen_line(ce, 1, "uint32_t *restrict rs = ws + tiles * kg * %d; /* the rows' sums of a' (B u8) */", mr);
  cgen_line(ce, 1, "for (int64_t t = 0; t < tiles; t++)");
  cgen_line(ce, 2, "for (int64_t r = 0; r < %d; r++) {", mr);
  cgen_line(ce, 3, "const int64_t i = t * %d + r;", mr);
  cgen_line(ce, 3, "uint32_t *restrict w = ws + t * kg * %d + r;", mr);
  cgen_line(ce, 3, "const uint8_t *restrict row = a + i * k;");
  cgen_line(ce, 3, "uint32_t s = 0;");
  cgen_line(ce, 3, "if (i >= rows) {");
  cgen_line(ce, 4, "for (int64_t q = 0; q < kg; q++) w[q * %d] = 0;", mr);
  cgen_line(ce, 4, "rs[i] = 0;");
  cgen_line(ce, 4, "continue;");
  cgen_line(ce, 3, "}");
  if (vnni) { /* four bytes a word, top bits flipped for an i8 A */
    cgen_line(ce, 3, "const uint32_t flip = a_s8 ? 0x80808080u : 0u;");
    cgen_line(ce, 3, "int64_t q = 0;");
    cgen_line(ce, 3, "for (; q < k / 4; q++) {");
    cgen_line(ce, 4, "const uint32_t v = ((uint32_t)row[4 * q] | (uint32_t)row[4 * q + 1] << 8 | "
                     "(uint32_t)row[4 * q + 2] << 16 | (uint32_t)row[4 * q + 3] << 24) ^ flip;");
    cgen_line(ce, 4, "w[q * %d] = v;", mr);
    cgen_line(ce, 4, "if (b_u8) s += (v & 0xffu) + (v >> 8 & 0xffu) + (v >> 16 & 0xffu) + (v >> 24);");
    cgen_line(ce, 3, "}");
    cgen_line(ce, 3, "if (q < kg) {");
    cgen_line(ce, 4, "uint32_t v = 0;");
    cgen_line(ce, 4, "for (int64_t e = 0; 4 * q + e < k; e++) {");
    cgen_line(ce, 5, "const uint32_t x = row[4 * q + e] ^ (flip & 0xffu);");
    cgen_line(ce, 5, "v |= x << (8 * e), s += x;");
    cgen_line(ce, 4, "}");
    cgen_line(ce, 4, "w[q * %d] = v;", mr);
    cgen_line(ce, 3, "}");
  } else if (g == 2) { /* two 16-bit values a word */
    cgen_line(ce, 3, "for (int64_t q = 0; q < kg; q++) {");
    cgen_line(ce, 4, "const int32_t x0 = a_s8 ? (int8_t)row[2 * q] : (int32_t)row[2 * q];");
    cgen_line(ce, 4, "const int32_t x1 = 2 * q + 1 >= k ? 0 : a_s8 ? (int8_t)row[2 * q + 1] : (int32_t)row[2 * q + 1];");
    cgen_line(ce, 4, "w[q * %d] = ((uint32_t)x0 & 0xffffu) | ((uint32_t)x1 & 0xffffu) << 16;", mr);
    cgen_line(ce, 3, "}");
  } else {
    cgen_line(ce, 3, "for (int64_t q = 0; q < k; q++) w[q * %d] = (uint32_t)(a_s8 ? (int8_t)row[q] : (int32_t)row[q]);",
              mr);
  }
  cgen_line(ce, 3, "rs[i] = 128u * s;");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 1, "for (int64_t p = 0; p < np; p++) {");
  cgen_line(ce, 2, "const int64_t cols = n - p * %d < %d ? n - p * %d : %d;", nr, nr, nr, nr);
  cgen_line(ce, 2, "for (int64_t t = 0; t < tiles; t++) {");
  cgen_line(ce, 3, "int32_t acc[%d];", mr * nr);
  cgen_line(ce, 3, "const int64_t nrow = rows - t * %d < %d ? rows - t * %d : %d;", mr, mr, mr, mr);
  cgen_line(ce, 3, "dlc_qtile(ws + t * kg * %d, kg, bp + p * kg * %d, acc);", mr, nr * g);
  cgen_line(ce, 3, "for (int64_t r = 0; r < nrow; r++)");
  cgen_line(ce, 4, "for (int64_t j = 0; j < cols; j++)");
  if (vnni)
    cgen_line(ce, 5, "y[(t * %d + r) * n + p * %d + j] = (int32_t)((uint32_t)acc[r * %d + j] + (uint32_t)fix[p * %d + j] "
                     "+ (b_u8 ? rs[t * %d + r] : 0u));", mr, nr, nr, nr, mr);
  else
    cgen_line(ce, 5, "y[(t * %d + r) * n + p * %d + j] = acc[r * %d + j];", mr, nr, nr);
  cgen_line(ce, 2, "}");
  cgen_line(ce, 1, "}");
  if (!vnni) cgen_line(ce, 1, "(void)fix, (void)b_u8, (void)rs;");
  cgen_printf(ce, "}\n");
}

static bool has_q(const CEmit *ce, const Kernel *k) {
  for (int j = 0; j < k->n; j++)
    if (ce->g->nodes[k->nodes[j]]->op == OP_MATMUL_INT) return true;
  return false;
}

/* Whether some matmul_int of the graph packs its B while it runs. */
static bool any_runtime_b(const CEmit *ce) {
  QIsa q = q_isa(ce);
  for (int t = 0; t < ce->s->nk; t++)
    for (int j = 0; j < ce->s->k[t].n; j++) {
      const Node *n = ce->g->nodes[ce->s->k[t].nodes[j]];
      if (n->op != OP_MATMUL_INT) continue;
      QDims d = q_dims(ce, &q, n);
      if (shape_numel(&n->shape) && d.k && !q_baked(ce, n, &d)) return true;
    }
  return false;
}

static void helpers(CEmit *ce) {
  QIsa q = q_isa(ce);
  cgen_printf(ce, "\n/* The int8 products' tile, packing and blocks (matmul_int.c): %d x %d tiles, %d values a "
                  "group. */\n", q.mr, q.nr, q.g);
  if (q.kind == INT8_VNNI) tile_vnni(ce, &q);
  else if (q.kind == INT8_PLAIN) tile_plain(ce, &q);
  else tile_madd(ce, &q);
  if (any_runtime_b(ce)) pack_b_helper(ce, &q);
  block_helper(ce, &q);
}

int matmul_int_before(CEmit *ce, const Kernel *k) {
  if (ce->device || !has_q(ce, k)) return 0;
  bool first = true;
  for (const Kernel *t = ce->s->k; t < k && first; t++) first = !has_q(ce, t);
  if (first) helpers(ce);
  QIsa q = q_isa(ce);
  for (int j = 0; j < k->n; j++) {
    const Node *n = ce->g->nodes[k->nodes[j]];
    if (n->op != OP_MATMUL_INT) continue;
    QDims d = q_dims(ce, &q, n);
    if (q_baked(ce, n, &d) && q_bake(ce, n)) return -1;
  }
  return 0;
}

/* ---- the kernel ---- */

int cgen_matmul_int(CEmit *ce, const Node *n) {
  QIsa q = q_isa(ce);
  QDims d = q_dims(ce, &q, n);
  cgen_line(ce, 1, "(void)a0, (void)a1;");
  if (!shape_numel(&n->shape)) return 0;
  if (!d.k) {
    cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = 0;", shape_numel(&n->shape));
    return 0;
  }
  bool baked = q_baked(ce, n, &d), par = q_par(&q, &d);
  int64_t panel = q_panel_count(&q, &d), nfix = d.np * q.nr, pbytes = q_panel_bytes(&q, &d);
  int64_t slot = q_slot_bytes(&q, &d), bbytes = baked ? 0 : pbytes + q_fix_bytes(&q, &d);
  const Node *a = cgen_in(ce, n, 0), *b = cgen_in(ce, n, 1);
  Shape ab = shape_make(a->shape.rank - 2, a->shape.d), bb = shape_make(b->shape.rank - 2, b->shape.d);
  Shape yb = shape_make(n->shape.rank - 2, n->shape.d);
  int64_t ast[IR_MAX_RANK], bst[IR_MAX_RANK], yst[IR_MAX_RANK];
  cgen_bcast_strides(&ab, &yb, ast);
  cgen_bcast_strides(&bb, &yb, bst);
  cgen_bcast_strides(&yb, &yb, yst);
  for (int i = 0; i < yb.rank; i++) ast[i] *= d.m * d.k, bst[i] *= 1, yst[i] *= d.m * d.n;
  char pk[32], fx[32];
  q_names(n, pk, fx, sizeof pk);
  if (!baked) {
    cgen_line(ce, 1, "%s *restrict bp = (%s *)(void *)ws; /* B in panels: [%" PRId64 "][%" PRId64 "][%d][%d] */", q.bct,
              q.bct, d.np, d.kg, q.nr, q.g);
    cgen_line(ce, 1, "int32_t *restrict fix = (int32_t *)(void *)(ws + %" PRId64 ");", pbytes);
  }
  int depth = cgen_loops_open(ce, &yb, "b", 1);
  CgenIndex ai, bi, yi;
  cgen_index_init(&ai, 0), cgen_index_add(&ai, "b", ast, yb.rank);
  cgen_index_init(&bi, 0), cgen_index_add(&bi, "b", bst, yb.rank);
  cgen_index_init(&yi, 0), cgen_index_add(&yi, "b", yst, yb.rank);
  cgen_line(ce, depth, "const uint8_t *A = (const uint8_t *)a0 + %s;", cgen_index_str(&ai));
  cgen_line(ce, depth, "int32_t *Y = y + %s;", cgen_index_str(&yi));
  if (baked) {
    cgen_line(ce, depth, "const int64_t mat = %s;", cgen_index_str(&bi));
    cgen_line(ce, depth, "const %s *B = %s + mat * %" PRId64 ";", q.bct, pk, panel);
    if (q.kind == INT8_VNNI) cgen_line(ce, depth, "const int32_t *F = %s + mat * %" PRId64 ";", fx, nfix);
    else cgen_line(ce, depth, "const int32_t *F = 0;");
  } else {
    cgen_line(ce, depth, "dlc_qpack_b((const uint8_t *)a1 + (%s) * %" PRId64 ", %" PRId64 ", %" PRId64 ", %d, %d, bp, fix);",
              cgen_index_str(&bi), d.k * d.n, d.k, d.n, d.b_u8, d.a_s8);
    cgen_line(ce, depth, "const %s *B = bp;", q.bct);
    cgen_line(ce, depth, "const int32_t *F = fix;");
  }
  int mc = q_mc(&q);
  if (par) cgen_par_for_slots(ce, depth);
  cgen_line(ce, depth, "for (int64_t ic = 0; ic < %" PRId64 "; ic += %d)", d.m, mc);
  cgen_line(ce, depth + 1, "dlc_qblock(A + ic * %" PRId64 ", %" PRId64 " - ic < %d ? %" PRId64 " - ic : %d, %" PRId64
                           ", %d, %d, B, F, %" PRId64 ", Y + ic * %" PRId64 ", (uint32_t *)(void *)(ws + %" PRId64
                           " + %s * %" PRId64 "));",
            d.k, d.m, mc, d.m, mc, d.k, d.a_s8, d.b_u8, d.n, d.n, bbytes, par ? "DLC_SLOT()" : "0", slot);
  cgen_loops_close(ce, yb.rank, 1);
  return 0;
}

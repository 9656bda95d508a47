/* dynamic.c — the ops whose results depend on the data, padded to a bound known at
 * compile time (the count is a node of its own): nonzero and unique (ir/ops.def).
 *
 * unique sorts the indices of x's slices along the axis by a stable bottom-up merge
 * sort in the kernel's scratch (5 x dim int64: the order, the merge buffer, each group's
 * first index and count, each slice's group), then writes the part it computes. */
#include <inttypes.h>

#include "cgen_c.h"

int cgen_nonzero(CEmit *ce, const Node *n) {
  const Node *x = cgen_in(ce, n, 0);
  int64_t m = shape_numel(&x->shape);
  int r = x->shape.rank;
  cgen_line(ce, 1, "int64_t count = 0;");
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = 0;", (int64_t)r * m);
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) {", m);
  cgen_line(ce, 2, "if (!a0[i]) continue;");
  cgen_line(ce, 2, "int64_t rest = i;");
  for (int d = r - 1; d >= 0; d--) {
    cgen_line(ce, 2, "y[%" PRId64 " + count] = rest %% %" PRId64 ";", (int64_t)d * m, x->shape.d[d]);
    if (d) cgen_line(ce, 2, "rest /= %" PRId64 ";", x->shape.d[d]);
  }
  cgen_line(ce, 2, "count++;");
  cgen_line(ce, 1, "}");
  return 0;
}

int64_t cgen_unique_scratch(const CEmit *ce, const Node *n) {
  const Node *x = cgen_in(ce, n, 0);
  return 5 * x->shape.d[node_int(n, A_AXIS)] * (int64_t)sizeof(int64_t);
}

/* c = the order of slices A and B (expressions), lexicographically. */
static void compare(CEmit *ce, int depth, const char *t, const char *a, const char *b, int64_t outer, int64_t dim,
                    int64_t inner) {
  cgen_line(ce, depth, "c = 0;");
  cgen_line(ce, depth, "for (int64_t o = 0; o < %" PRId64 " && !c; o++)", outer);
  cgen_line(ce, depth + 1, "for (int64_t q = 0; q < %" PRId64 " && !c; q++) {", inner);
  cgen_line(ce, depth + 2, "const %s va = a0[(o * %" PRId64 " + %s) * %" PRId64 " + q];", t, dim, a, inner);
  cgen_line(ce, depth + 2, "const %s vb = a0[(o * %" PRId64 " + %s) * %" PRId64 " + q];", t, dim, b, inner);
  cgen_line(ce, depth + 2, "c = va < vb ? -1 : va > vb ? 1 : 0;");
  cgen_line(ce, depth + 1, "}");
}

/* Emits a stable bottom-up merge sort of the int64 indices IDX[0..LEN) with TMP[0..LEN)
 * as the buffer; before() emits code that sets `int before_` when index R must precede L. */
typedef void (*BeforeFn)(CEmit *ce, int depth, const char *l, const char *r, const void *ctx);
static void merge_sort(CEmit *ce, int depth, const char *idx, const char *tmp, const char *len, BeforeFn before,
                       const void *ctx) {
  cgen_line(ce, depth, "for (int64_t w = 1; w < %s; w *= 2) { /* stable merge sort */", len);
  cgen_line(ce, depth + 1, "for (int64_t lo = 0; lo < %s; lo += 2 * w) {", len);
  cgen_line(ce, depth + 2, "int64_t mid = lo + w < %s ? lo + w : %s, hi = lo + 2 * w < %s ? lo + 2 * w : %s;", len, len,
            len, len);
  cgen_line(ce, depth + 2, "int64_t i = lo, k = mid, o2 = lo;");
  cgen_line(ce, depth + 2, "while (i < mid && k < hi) {");
  cgen_line(ce, depth + 3, "int before_;");
  char l[64], r[64];
  snprintf(l, sizeof l, "%s[i]", idx);
  snprintf(r, sizeof r, "%s[k]", idx);
  before(ce, depth + 3, l, r, ctx);
  cgen_line(ce, depth + 3, "%s[o2++] = before_ ? %s[k++] : %s[i++];", tmp, idx, idx);
  cgen_line(ce, depth + 2, "}");
  cgen_line(ce, depth + 2, "while (i < mid) %s[o2++] = %s[i++];", tmp, idx);
  cgen_line(ce, depth + 2, "while (k < hi) %s[o2++] = %s[k++];", tmp, idx);
  cgen_line(ce, depth + 1, "}");
  cgen_line(ce, depth + 1, "for (int64_t j = 0; j < %s; j++) %s[j] = %s[j];", len, idx, tmp);
  cgen_line(ce, depth, "}");
}

typedef struct {
  const char *t;
  int64_t outer, dim, inner;
} SliceOrder;

static void slice_before(CEmit *ce, int depth, const char *l, const char *r, const void *ctx) {
  const SliceOrder *so = ctx;
  compare(ce, depth, so->t, r, l, so->outer, so->dim, so->inner);
  cgen_line(ce, depth, "before_ = c < 0;");
}

static void score_before(CEmit *ce, int depth, const char *l, const char *r, const void *ctx) {
  (void)ctx;
  cgen_line(ce, depth, "before_ = sc[%s] > sc[%s];", r, l);
}

int cgen_unique(CEmit *ce, const Node *n) {
  const Node *x = cgen_in(ce, n, 0);
  int ax = (int)node_int(n, A_AXIS);
  int64_t part = node_int(n, A_PART), dim = x->shape.d[ax], outer = 1, inner = 1;
  for (int d = 0; d < ax; d++) outer *= x->shape.d[d];
  for (int d = ax + 1; d < x->shape.rank; d++) inner *= x->shape.d[d];
  const char *t = cgen_ctype(x), *yt = cgen_ctype(n);
  cgen_line(ce, 1, "int64_t *idx = (int64_t *)(void *)ws, *tmp = idx + %" PRId64 ";", dim);
  cgen_line(ce, 1, "int64_t *first = (int64_t *)(void *)ws + %" PRId64 ", *count = first + %" PRId64 ", *group = count + %" PRId64 ";",
            2 * dim, dim, dim);
  cgen_line(ce, 1, "int c;");
  cgen_line(ce, 1, "int64_t ng = 0;");
  cgen_line(ce, 1, "for (int64_t j = 0; j < %" PRId64 "; j++) idx[j] = j;", dim);
  char len[32];
  snprintf(len, sizeof len, "%" PRId64, dim);
  SliceOrder so = {t, outer, dim, inner};
  merge_sort(ce, 1, "idx", "tmp", len, slice_before, &so);
  cgen_line(ce, 1, "for (int64_t p = 0; p < %" PRId64 "; p++) {", dim);
  cgen_line(ce, 2, "c = 1;");
  cgen_line(ce, 2, "if (p) {");
  compare(ce, 3, t, "idx[p - 1]", "idx[p]", outer, dim, inner);
  cgen_line(ce, 2, "}");
  cgen_line(ce, 2, "if (c) first[ng] = idx[p], count[ng] = 0, ng++;");
  cgen_line(ce, 2, "count[ng - 1]++;");
  cgen_line(ce, 2, "group[idx[p]] = ng - 1;");
  cgen_line(ce, 1, "}");
  /* the position of each group: sorted order, else the order of first appearance */
  cgen_line(ce, 1, "int64_t *pos = tmp;");
  if (node_int(n, A_SORTED)) cgen_line(ce, 1, "for (int64_t g = 0; g < ng; g++) pos[g] = g;");
  else {
    cgen_line(ce, 1, "int64_t next = 0;");
    cgen_line(ce, 1, "for (int64_t g = 0; g < ng; g++) pos[g] = -1;");
    cgen_line(ce, 1, "for (int64_t j = 0; j < %" PRId64 "; j++)", dim);
    cgen_line(ce, 2, "if (pos[group[j]] < 0) pos[group[j]] = next++;");
  }
  int64_t total = shape_numel(&n->shape);
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = 0;", total);
  if (part == 0) {
    cgen_line(ce, 1, "for (int64_t g = 0; g < ng; g++)");
    cgen_line(ce, 2, "for (int64_t o = 0; o < %" PRId64 "; o++)", outer);
    cgen_line(ce, 3, "for (int64_t q = 0; q < %" PRId64 "; q++)", inner);
    cgen_line(ce, 4, "y[(o * %" PRId64 " + pos[g]) * %" PRId64 " + q] = a0[(o * %" PRId64 " + first[g]) * %" PRId64 " + q];",
              dim, inner, dim, inner);
  } else if (part == 1 || part == 3) {
    cgen_line(ce, 1, "for (int64_t g = 0; g < ng; g++) y[pos[g]] = (%s)%s[g];", yt, part == 1 ? "first" : "count");
  } else if (part == 2) {
    cgen_line(ce, 1, "for (int64_t j = 0; j < %" PRId64 "; j++) y[j] = (%s)pos[group[j]];", dim, yt);
  } else {
    cgen_line(ce, 1, "y[0] = (%s)ng;", yt);
  }
  return 0;
}

int64_t cgen_nms_scratch(const CEmit *ce, const Node *n) {
  return 3 * cgen_in(ce, n, 0)->shape.d[1] * (int64_t)sizeof(int64_t);
}

/* The corners of box P (a pointer expression) into x0 x1 y0 y1 with prefix pre. */
static void corners(CEmit *ce, int depth, const char *t, const char *pre, const char *p, int center) {
  if (!center) {
    cgen_line(ce, depth, "const %s %sx0 = %s[1] < %s[3] ? %s[1] : %s[3], %sx1 = %s[1] < %s[3] ? %s[3] : %s[1];", t, pre, p, p, p, p, pre, p, p, p, p);
    cgen_line(ce, depth, "const %s %sy0 = %s[0] < %s[2] ? %s[0] : %s[2], %sy1 = %s[0] < %s[2] ? %s[2] : %s[0];", t, pre, p, p, p, p, pre, p, p, p, p);
  } else {
    cgen_line(ce, depth, "const %s %sx0 = %s[0] - %s[2] / 2, %sx1 = %s[0] + %s[2] / 2;", t, pre, p, p, pre, p, p);
    cgen_line(ce, depth, "const %s %sy0 = %s[1] - %s[3] / 2, %sy1 = %s[1] + %s[3] / 2;", t, pre, p, p, pre, p, p);
  }
}

int cgen_nms(CEmit *ce, const Node *n) {
  const Node *bn = cgen_in(ce, n, 0), *sn = cgen_in(ce, n, 1);
  int64_t nb = bn->shape.d[0], nbox = bn->shape.d[1], nc = sn->shape.d[1], most = node_int(n, A_MAX_OUT);
  int center = (int)node_int(n, A_CENTER);
  bool part = node_int(n, A_PART) != 0;
  const char *t = cgen_ctype(bn);
  cgen_line(ce, 1, "int64_t *order = (int64_t *)(void *)ws, *tmp = order + %" PRId64 ", *kept = tmp + %" PRId64 ";", nbox, nbox);
  cgen_line(ce, 1, "const %s iou = a2[0], sthr = a3[0];", t);
  cgen_line(ce, 1, "int64_t rows = 0;");
  if (!part) cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = 0;", shape_numel(&n->shape));
  cgen_line(ce, 1, "for (int64_t b = 0; b < %" PRId64 "; b++)", nb);
  cgen_line(ce, 1, "for (int64_t c = 0; c < %" PRId64 "; c++) {", nc);
  cgen_line(ce, 2, "const %s *sc = a1 + (b * %" PRId64 " + c) * %" PRId64 ";", t, nc, nbox);
  cgen_line(ce, 2, "int64_t m = 0, nk = 0;");
  cgen_line(ce, 2, "for (int64_t i = 0; i < %" PRId64 "; i++)", nbox);
  cgen_line(ce, 3, "if (sc[i] > sthr) order[m++] = i;");
  merge_sort(ce, 2, "order", "tmp", "m", score_before, NULL); /* highest score first */
  cgen_line(ce, 2, "for (int64_t i = 0; i < m && nk < %" PRId64 "; i++) {", most);
  cgen_line(ce, 3, "const %s *p = a0 + (b * %" PRId64 " + order[i]) * 4;", t, nbox);
  corners(ce, 3, t, "a", "p", center);
  cgen_line(ce, 3, "int keep = 1;");
  cgen_line(ce, 3, "for (int64_t k = 0; k < nk && keep; k++) {");
  cgen_line(ce, 4, "const %s *q = a0 + (b * %" PRId64 " + kept[k]) * 4;", t, nbox);
  corners(ce, 4, t, "b", "q", center);
  cgen_line(ce, 4, "const %s ix0 = ax0 > bx0 ? ax0 : bx0, ix1 = ax1 < bx1 ? ax1 : bx1;", t);
  cgen_line(ce, 4, "const %s iy0 = ay0 > by0 ? ay0 : by0, iy1 = ay1 < by1 ? ay1 : by1;", t);
  cgen_line(ce, 4, "if (ix1 <= ix0 || iy1 <= iy0) continue;");
  cgen_line(ce, 4, "const %s inter = (ix1 - ix0) * (iy1 - iy0), area_a = (ax1 - ax0) * (ay1 - ay0);", t);
  cgen_line(ce, 4, "const %s area_b = (bx1 - bx0) * (by1 - by0), uni = area_a + area_b - inter;", t);
  cgen_line(ce, 4, "if (inter <= 0 || area_a <= 0 || area_b <= 0 || uni <= 0) continue;");
  cgen_line(ce, 4, "keep = !(inter / uni > iou);");
  cgen_line(ce, 3, "}");
  cgen_line(ce, 3, "if (!keep) continue;");
  cgen_line(ce, 3, "kept[nk++] = order[i];");
  if (!part) cgen_line(ce, 3, "y[rows * 3] = b, y[rows * 3 + 1] = c, y[rows * 3 + 2] = order[i];");
  cgen_line(ce, 3, "rows++;");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 1, "}");
  if (part) cgen_line(ce, 1, "y[0] = rows;");
  else cgen_line(ce, 1, "(void)rows;");
  return 0;
}

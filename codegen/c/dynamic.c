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
  cgen_line(ce, 1, "int c, sorted_in_tmp = 0;");
  cgen_line(ce, 1, "int64_t ng = 0;");
  cgen_line(ce, 1, "for (int64_t j = 0; j < %" PRId64 "; j++) idx[j] = j;", dim);
  cgen_line(ce, 1, "for (int64_t w = 1; w < %" PRId64 "; w *= 2) { /* stable merge sort */", dim);
  cgen_line(ce, 2, "int64_t *src = sorted_in_tmp ? tmp : idx, *dst = sorted_in_tmp ? idx : tmp;");
  cgen_line(ce, 2, "for (int64_t lo = 0; lo < %" PRId64 "; lo += 2 * w) {", dim);
  cgen_line(ce, 3, "int64_t mid = lo + w < %" PRId64 " ? lo + w : %" PRId64 ";", dim, dim);
  cgen_line(ce, 3, "int64_t hi = lo + 2 * w < %" PRId64 " ? lo + 2 * w : %" PRId64 ";", dim, dim);
  cgen_line(ce, 3, "int64_t i = lo, k = mid, o2 = lo;");
  cgen_line(ce, 3, "while (i < mid && k < hi) {");
  compare(ce, 4, t, "src[k]", "src[i]", outer, dim, inner);
  cgen_line(ce, 4, "dst[o2++] = c < 0 ? src[k++] : src[i++];");
  cgen_line(ce, 3, "}");
  cgen_line(ce, 3, "while (i < mid) dst[o2++] = src[i++];");
  cgen_line(ce, 3, "while (k < hi) dst[o2++] = src[k++];");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 2, "sorted_in_tmp = !sorted_in_tmp;");
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "if (sorted_in_tmp) for (int64_t j = 0; j < %" PRId64 "; j++) idx[j] = tmp[j];", dim);
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
  cgen_line(ce, 1, "int64_t *pos = tmp, next = 0;");
  if (node_int(n, A_SORTED)) cgen_line(ce, 1, "for (int64_t g = 0; g < ng; g++) pos[g] = g;");
  else {
    cgen_line(ce, 1, "for (int64_t g = 0; g < ng; g++) pos[g] = -1;");
    cgen_line(ce, 1, "for (int64_t j = 0; j < %" PRId64 "; j++)", dim);
    cgen_line(ce, 2, "if (pos[group[j]] < 0) pos[group[j]] = next++;");
  }
  cgen_line(ce, 1, "(void)next;");
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

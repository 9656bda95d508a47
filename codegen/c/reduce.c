/* reduce.c — reductions over a set of axes, and argmax/argmin along one axis.
 *
 * Each result element folds its elements in row-major order, as the interpreter
 * does.  Floats accumulate in double (the interpreter's precision, and free where the
 * loop is bound by memory); integers in int64_t.  A float sum whose innermost reduced
 * axis is x's innermost and long (a convolution's bias gradient, over batch and
 * positions) keeps CGEN_SUM_LANES partial sums, element j of that axis in lane j % CGEN_SUM_LANES,
 * added in a fixed tree at the end: one chain of dependent adds would bound it by their
 * latency, where independent lanes vectorise. */
#include <inttypes.h>
#include <string.h>

#include "cgen_c.h"

/* x's dims split into kept ones (the result's, in order) and reduced ones, each with
 * the strides they walk x with. */
typedef struct Split {
  Shape kept, red;
  int64_t kept_st[IR_MAX_RANK], red_st[IR_MAX_RANK];
} Split;

static Split split(const Shape *x, const bool *reduced) {
  Split s = {0};
  int64_t st[IR_MAX_RANK];
  shape_strides(x, st);
  for (int d = 0; d < x->rank; d++) {
    Shape *to = reduced[d] ? &s.red : &s.kept;
    int64_t *to_st = reduced[d] ? s.red_st : s.kept_st;
    to_st[to->rank] = st[d];
    to->d[to->rank++] = x->d[d];
  }
  return s;
}

static const char *acc_type(DType t) { return dtype_is_float(t) ? "double" : "int64_t"; }

/* The identity named before ';' in the cexpr column, as a literal. */
void cgen_reduce_identity(const Node *n, char *buf, size_t size) {
  const char *c = ir_ops[n->op].cexpr;
  size_t len = strcspn(c, ";");
  double v = len == 6 && !strncmp(c, "LOWEST", 6)    ? dtype_lowest(n->dtype)
             : len == 7 && !strncmp(c, "HIGHEST", 7) ? dtype_highest(n->dtype)
                                                     : (double)(c[0] - '0');
  DLC_ASSERT(len != 1 || c[0] == '0' || c[0] == '1');
  cgen_literal(dtype_is_float(n->dtype) ? DT_F64 : n->dtype, v, buf, size);
}

/* The combine after ';' with %0 the accumulator and %1 the element. */
void cgen_reduce_combine(const Node *n, const char *x, char *buf, size_t size) {
  const char *c = strchr(ir_ops[n->op].cexpr, ';');
  DLC_ASSERT(c);
  size_t k = 0;
  for (c++; *c && k + 1 < size; c++) {
    const char *ins = NULL;
    if (c[0] == '%' && c[1] == '0') ins = "acc";
    else if (c[0] == '%' && c[1] == '1') ins = x;
    if (!ins) {
      buf[k++] = *c;
      continue;
    }
    DLC_ASSERT(k + strlen(ins) + 1 < size);
    memcpy(buf + k, ins, strlen(ins));
    k += strlen(ins);
    c++;
  }
  buf[k] = 0;
}


static bool lanes_pay(const Node *n, const Split *s) {
  int last = s->red.rank - 1;
  return n->op == OP_REDUCE_SUM && dtype_is_float(n->dtype) && last >= 0 && s->red_st[last] == 1 &&
         s->red.d[last] >= 4 * CGEN_SUM_LANES;
}

/* Reduced dims that run on in x (stride = the next one's stride x its size) as one. */
static Split merge_reduced(Split s) {
  int k = 0;
  for (int d = 0; d < s.red.rank; d++) {
    if (k && s.red_st[k - 1] == s.red_st[d] * s.red.d[d]) {
      s.red.d[k - 1] *= s.red.d[d], s.red_st[k - 1] = s.red_st[d];
      continue;
    }
    s.red.d[k] = s.red.d[d], s.red_st[k++] = s.red_st[d];
  }
  s.red.rank = k;
  return s;
}

/* The reduced loops but the last, then the last in runs of CGEN_SUM_LANES into part[]. */
static void sum_lanes(CEmit *ce, const Split *s, const char *elem, int depth) {
  int last = s->red.rank - 1;
  int64_t len = s->red.d[last], full = len - len % CGEN_SUM_LANES;
  Shape outer = shape_make(last, s->red.d);
  cgen_line(ce, depth, "double part[%d] = {0};", CGEN_SUM_LANES);
  int inner = cgen_loops_open(ce, &outer, "r", depth);
  cgen_line(ce, inner, "for (int64_t rl = 0; rl < %" PRId64 "; rl += %d)", full, CGEN_SUM_LANES);
  cgen_line(ce, inner + 1, "for (int64_t l = 0; l < %d; l++) {", CGEN_SUM_LANES);
  cgen_line(ce, inner + 2, "const int64_t r%d = rl + l;", last);
  cgen_line(ce, inner + 2, "part[l] += %s;", elem);
  cgen_line(ce, inner + 1, "}");
  if (full < len) {
    cgen_line(ce, inner, "for (int64_t r%d = %" PRId64 "; r%d < %" PRId64 "; r%d++) part[r%d - %" PRId64 "] += %s;",
              last, full, last, len, last, last, full, elem);
  }
  cgen_loops_close(ce, outer.rank, depth);
  cgen_sum_lanes_total(ce, depth);
}

/* part[lo..lo+n) as a balanced tree of additions into buf. */
static void lane_tree(int lo, int n, char *buf, size_t size) {
  size_t at = strlen(buf);
  if (n == 1) {
    snprintf(buf + at, size - at, "part[%d]", lo);
    return;
  }
  snprintf(buf + at, size - at, "(");
  lane_tree(lo, n / 2, buf, size);
  at = strlen(buf);
  snprintf(buf + at, size - at, " + ");
  lane_tree(lo + n / 2, n - n / 2, buf, size);
  at = strlen(buf);
  snprintf(buf + at, size - at, ")");
}

void cgen_sum_lanes_total(CEmit *ce, int depth) {
  char buf[32 * CGEN_SUM_LANES] = "";
  lane_tree(0, CGEN_SUM_LANES, buf, sizeof buf);
  cgen_line(ce, depth, "acc = %s;", buf);
}

int cgen_reduce(CEmit *ce, const Node *n) {
  const Shape *x = &cgen_in(ce, n, 0)->shape;
  bool reduced[IR_MAX_RANK] = {0};
  int na;
  const int64_t *ax = node_ints(n, A_AXES, &na);
  for (int i = 0; i < na; i++) reduced[ax[i]] = true;
  Split s = split(x, reduced), merged = merge_reduced(s);
  bool lanes = lanes_pay(n, &merged);
  if (lanes) s = merged;
  int64_t yst[IR_MAX_RANK];
  shape_strides(&s.kept, yst);
  CgenIndex xi, yi;
  cgen_index_init(&xi, 0);
  cgen_index_add(&xi, "i", s.kept_st, s.kept.rank);
  cgen_index_add(&xi, "r", s.red_st, s.red.rank);
  cgen_index_init(&yi, 0);
  cgen_index_add(&yi, "i", yst, s.kept.rank);
  char id[64], elem[CGEN_EXPR_MAX + 8], comb[3 * CGEN_EXPR_MAX];
  cgen_reduce_identity(n, id, sizeof id);
  snprintf(elem, sizeof elem, "a0[%s]", cgen_index_str(&xi));
  cgen_reduce_combine(n, elem, comb, sizeof comb);
  /* threads share the kept elements, each folding its own: never one sum split */
  bool par = cgen_par_elems(shape_numel(x), CGEN_PAR_COPY);
  int depth = cgen_loops_open_par(ce, &s.kept, "i", 1, par);
  cgen_line(ce, depth, "%s acc = %s;", acc_type(n->dtype), id);
  if (lanes) {
    sum_lanes(ce, &s, elem, depth);
  } else {
    int inner = cgen_loops_open(ce, &s.red, "r", depth);
    cgen_line(ce, inner, "acc = %s;", comb);
    cgen_loops_close(ce, s.red.rank, depth);
  }
  cgen_line(ce, depth, "y[%s] = (%s)acc;", cgen_index_str(&yi), cgen_ctype(n));
  cgen_loops_close(ce, s.kept.rank, 1);
  return 0;
}

/* The first index of the extreme: a strict comparison, so ties and NaNs after the
 * first element never move it. */
int cgen_arg(CEmit *ce, const Node *n) {
  const Node *a = cgen_in(ce, n, 0);
  int axis = (int)node_int(n, A_AXIS);
  bool reduced[IR_MAX_RANK] = {0};
  reduced[axis] = true;
  Split s = split(&a->shape, reduced);
  int64_t yst[IR_MAX_RANK];
  shape_strides(&s.kept, yst);
  CgenIndex xi, yi;
  cgen_index_init(&xi, 0);
  cgen_index_add(&xi, "i", s.kept_st, s.kept.rank);
  cgen_index_init(&yi, 0);
  cgen_index_add(&yi, "i", yst, s.kept.rank);
  const char *base = cgen_index_str(&xi);
  int depth = cgen_loops_open_par(ce, &s.kept, "i", 1, cgen_par_elems(shape_numel(&a->shape), CGEN_PAR_COPY));
  cgen_line(ce, depth, "const %s *row = a0 + %s;", cgen_ctype(a), base);
  cgen_line(ce, depth, "int64_t best = 0;");
  cgen_line(ce, depth, "for (int64_t r = 1; r < %" PRId64 "; r++)", s.red.d[0]);
  cgen_line(ce, depth + 1, "if (row[r * %" PRId64 "] %s row[best * %" PRId64 "]) best = r;",
            s.red_st[0], n->op == OP_ARGMAX ? ">" : "<", s.red_st[0]);
  cgen_line(ce, depth, "y[%s] = best;", cgen_index_str(&yi));
  cgen_loops_close(ce, s.kept.rank, 1);
  return 0;
}

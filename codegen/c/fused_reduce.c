/* fused_reduce.c — KERNEL_REDUCE: a reduction whose loop computes its operand's
 * elements on the fly from the elementwise nodes that feed it (a prologue), so the
 * operand is never stored.
 *
 * Needs: the REDUCE contract of passes.h.  The loops walk the operand's shape with one
 * variable per dimension, x<d> for dimension d: kept dimensions outside, reduced ones
 * inside, so each result element folds its elements in row-major order as the
 * interpreter does.  Floats accumulate in double, integers in int64_t.
 *
 * A float sum whose last reduced dimension is x's last (a global average pool's rows)
 * keeps CGEN_SUM_LANES partial sums, element j of that dimension in lane j % CGEN_SUM_LANES,
 * added in a fixed tree at the end: one chain of dependent adds would bound it by
 * their latency, where independent lanes vectorise (as reduce.c does unfused). */
#include <inttypes.h>
#include <string.h>

#include "cgen_c.h"

/* The loops of the dimensions with reduced[d] == want; par_dim (one of them, or -1)
 * is shared among threads. */
static void open_dims(CEmit *ce, const Shape *x, const bool *reduced, bool want, int par_dim, int *depth) {
  for (int d = 0; d < x->rank; d++)
    if (reduced[d] == want) {
      if (d == par_dim) cgen_par_for(ce, *depth);
      cgen_line(ce, (*depth)++, "for (int64_t x%d = 0; x%d < %" PRId64 "; x%d++) {", d, d, x->d[d], d);
    }
}

/* The kept dimension whose loop threads share (cgen_par_dim of the kept ones), or -1
 * when the reduction is too small to pay for them. */
static int par_dim(const Kernel *k, const Shape *x, const bool *reduced) {
  Shape kept = {0};
  int at[IR_MAX_RANK];
  if (!cgen_par_elems(shape_numel(x), CGEN_PAR_COPY + 4.0 * k->n)) return -1;
  for (int d = 0; d < x->rank; d++)
    if (!reduced[d]) at[kept.rank] = d, kept.d[kept.rank++] = x->d[d];
  int p = cgen_par_dim(&kept);
  return p < 0 ? -1 : at[p];
}

static void close_dims(CEmit *ce, int count, int *depth) {
  while (count--) cgen_line(ce, --*depth, "}");
}

/* y's index: the kept dimensions, row-major in their order. */
static void result_index(const Shape *x, const bool *reduced, char *buf, size_t size) {
  int64_t st = 1, strides[IR_MAX_RANK] = {0};
  for (int d = x->rank - 1; d >= 0; d--)
    if (!reduced[d]) strides[d] = st, st *= x->d[d];
  CgenIndex ix;
  cgen_index_init(&ix, 0);
  cgen_index_add(&ix, "x", strides, x->rank);
  snprintf(buf, size, "%s", cgen_index_str(&ix));
}

static bool lanes_pay(const Node *red, const Shape *x, const bool *reduced) {
  int64_t count = 1;
  for (int d = 0; d < x->rank; d++)
    if (reduced[d]) count *= x->d[d];
  return red->op == OP_REDUCE_SUM && dtype_is_float(red->dtype) && x->rank > 0 && reduced[x->rank - 1] &&
         x->d[x->rank - 1] > 1 && count >= 4 * CGEN_SUM_LANES;
}

/* The prologue's values and one element into lane `lane` (an expression). */
static void lane_add(CEmit *ce, const Kernel *k, const Node *red, const CgenSpace *sp, const char *lane, int depth) {
  char elem[CGEN_EXPR_MAX + 32];
  for (int j = 0; j + 1 < k->n; j++)
    if (!cgen_is_view(ce, k, k->nodes[j])) cgen_fused_value(ce, k, ce->g->nodes[k->nodes[j]], sp, depth);
  cgen_fused_operand(ce, k, red, 0, sp, elem, sizeof elem);
  cgen_line(ce, depth, "part[%s] += %s;", lane, elem);
}

/* The reduced loops but x's last dimension, then that one in runs of CGEN_SUM_LANES. */
static void sum_lanes(CEmit *ce, const Kernel *k, const Node *red, const Shape *x, const bool *reduced,
                      const CgenSpace *sp, int *depth) {
  int last = x->rank - 1, outer = *depth;
  int64_t len = x->d[last], full = len - len % CGEN_SUM_LANES;
  bool up_to[IR_MAX_RANK];
  for (int d = 0; d < x->rank; d++) up_to[d] = reduced[d] && d != last;
  cgen_line(ce, *depth, "double part[%d] = {0};", CGEN_SUM_LANES);
  open_dims(ce, x, up_to, true, -1, depth);
  if (full) {
    cgen_line(ce, *depth, "for (int64_t rl = 0; rl < %" PRId64 "; rl += %d)", full, CGEN_SUM_LANES);
    cgen_line(ce, *depth + 1, "for (int64_t l = 0; l < %d; l++) {", CGEN_SUM_LANES);
    cgen_line(ce, *depth + 2, "const int64_t x%d = rl + l;", last);
    lane_add(ce, k, red, sp, "l", *depth + 2);
    cgen_line(ce, *depth + 1, "}");
  }
  if (full < len) {
    char lane[48];
    snprintf(lane, sizeof lane, "x%d - %" PRId64, last, full);
    cgen_line(ce, *depth, "for (int64_t x%d = %" PRId64 "; x%d < %" PRId64 "; x%d++) {", last, full, last, len, last);
    lane_add(ce, k, red, sp, lane, *depth + 1);
    cgen_line(ce, *depth, "}");
  }
  while (*depth > outer) cgen_line(ce, --*depth, "}");
  cgen_sum_lanes_total(ce, *depth);
}

int cgen_fused_reduce(CEmit *ce, const Kernel *k) {
  const Node *red = ce->g->nodes[k->nodes[k->n - 1]];
  const Shape *x = &cgen_in(ce, red, 0)->shape;
  bool reduced[IR_MAX_RANK] = {0};
  int na, depth = 1, nred = 0;
  const int64_t *ax = node_ints(red, A_AXES, &na);
  for (int i = 0; i < na; i++) reduced[ax[i]] = true;
  for (int d = 0; d < x->rank; d++) nred += reduced[d];
  char id[64], elem[CGEN_EXPR_MAX + 32], comb[3 * CGEN_EXPR_MAX], yi[CGEN_EXPR_MAX];
  CgenSpace sp = {.shape = x, .var = "x"};
  cgen_fused_acc_identity(red, id, sizeof id);
  open_dims(ce, x, reduced, false, par_dim(k, x, reduced), &depth);
  cgen_line(ce, depth, "%s acc = %s;", cgen_fused_acc_type(red->dtype), id);
  if (lanes_pay(red, x, reduced)) {
    sum_lanes(ce, k, red, x, reduced, &sp, &depth);
    result_index(x, reduced, yi, sizeof yi);
    cgen_line(ce, depth, "y[%s] = (%s)acc;", yi, cgen_ctype(red));
    close_dims(ce, x->rank - nred, &depth);
    return 0;
  }
  open_dims(ce, x, reduced, true, -1, &depth);
  for (int j = 0; j + 1 < k->n; j++)
    if (!cgen_is_view(ce, k, k->nodes[j])) cgen_fused_value(ce, k, ce->g->nodes[k->nodes[j]], &sp, depth);
  cgen_fused_operand(ce, k, red, 0, &sp, elem, sizeof elem);
  cgen_fused_acc_combine(red, elem, comb, sizeof comb);
  cgen_line(ce, depth, "acc = %s;", comb);
  close_dims(ce, nred, &depth);
  result_index(x, reduced, yi, sizeof yi);
  cgen_line(ce, depth, "y[%s] = (%s)acc;", yi, cgen_ctype(red));
  close_dims(ce, x->rank - nred, &depth);
  return 0;
}

/* ---- accumulators ---- */

const char *cgen_fused_acc_type(DType t) { return dtype_is_float(t) ? "double" : "int64_t"; }

/* The identity named before ';' in the cexpr column, as a literal of the accumulator. */
void cgen_fused_acc_identity(const Node *red, char *buf, size_t size) {
  const char *c = ir_ops[red->op].cexpr;
  size_t len = strcspn(c, ";");
  double v = len == 6 && !strncmp(c, "LOWEST", 6)    ? dtype_lowest(red->dtype)
             : len == 7 && !strncmp(c, "HIGHEST", 7) ? dtype_highest(red->dtype)
                                                     : (double)(c[0] - '0');
  DLC_ASSERT(len != 1 || c[0] == '0' || c[0] == '1');
  cgen_literal(dtype_is_float(red->dtype) ? DT_F64 : red->dtype, v, buf, size);
}

/* The combine after ';' with %0 the accumulator `acc` and %1 the element x. */
void cgen_fused_acc_combine(const Node *red, const char *x, char *buf, size_t size) {
  const char *c = strchr(ir_ops[red->op].cexpr, ';');
  size_t k = 0;
  DLC_ASSERT(c);
  for (c++; *c; c++) {
    const char *ins = c[0] == '%' && c[1] == '0' ? "acc" : c[0] == '%' && c[1] == '1' ? x : NULL;
    size_t len = ins ? strlen(ins) : 1;
    DLC_ASSERT(k + len + 1 < size);
    memcpy(buf + k, ins ? ins : c, len);
    k += len;
    c += ins != NULL;
  }
  buf[k] = 0;
}

/* row.c — KERNEL_ROW: a row-wise pattern (softmax, log-softmax, layernorm,
 * cross-entropy) as one kernel with one block per row.
 *
 * The row domain (passes.h) is vec = [P.., C] and sc = [P.., 1].  Per-row scalars live
 * in registers, the same in every thread of the block; row vectors are never stored:
 * each pass over the row recomputes the ones it needs at its columns.  In node order:
 *
 *   a per-row scalar (elementwise)   every thread computes it;
 *   a reduction of the last axis     one pass: each thread folds columns threadIdx.x,
 *                                    +blockDim.x, ...; the block combines the folds in
 *                                    shared memory and every thread reads the result;
 *   a row vector                     computed where a later pass needs it;
 *   the last node                    a row vector: one more pass that stores it; a
 *                                    per-row scalar or reduction: thread 0 stores it.
 *
 * Floats accumulate in double and integers in int64_t, as everywhere else.  A kernel
 * that does not fit this (kernels.c then runs its nodes one by one) is declined before
 * anything is written. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cuda.h"

typedef struct Row {
  const int *ids;
  int n;
  Shape vec, sc;
  int64_t cols;
  int block;
  int *scalars; /* per-row values computed so far: registers v<id> */
  int nscalars;
  int *pass;    /* the row vectors of the current pass */
  bool *need;   /* per node id, scratch for vectors_for */
} Row;

static bool is_reduce(const Node *x) { return !strcmp(ir_ops[x->op].impl, "reduce"); }

static bool listed(const int *ids, int n, int id) {
  for (int i = 0; i < n; i++)
    if (ids[i] == id) return true;
  return false;
}

static bool fits(CuEmit *ce, const Row *r, const Node *x, bool last) {
  if (cuda_is_view(ce, x->id)) return true;
  if (!is_reduce(x))
    return op_is_elementwise(x->op) && (shape_eq(&x->shape, &r->vec) || shape_eq(&x->shape, &r->sc));
  int na;
  const int64_t *ax = node_ints(x, A_AXES, &na);
  return na == 1 && ax[0] == r->vec.rank - 1 && shape_eq(&cgen_in(&ce->c, x, 0)->shape, &r->vec) &&
         (last || node_int(x, A_KEEPDIMS));
}

/* The domain from the first reduction; false when a node does not fit it. */
static bool domain(CuEmit *ce, Row *r) {
  int red = -1;
  for (int j = 0; j < r->n && red < 0; j++)
    if (is_reduce(ce->c.g->nodes[r->ids[j]])) red = r->ids[j];
  if (red < 0) return false;
  r->vec = cgen_in(&ce->c, ce->c.g->nodes[red], 0)->shape;
  r->sc = r->vec;
  r->sc.d[r->sc.rank - 1] = 1;
  r->cols = r->vec.d[r->vec.rank - 1];
  for (int j = 0; j < r->n; j++)
    if (!fits(ce, r, ce->c.g->nodes[r->ids[j]], j == r->n - 1)) return false;
  r->block = 32;
  while (r->block < CUDA_BLOCK && r->block < r->cols) r->block *= 2;
  return true;
}

/* The row vectors (node order) that the value `target` needs at one column, with
 * target itself when it is one. */
static int vectors_for(CuEmit *ce, Row *r, int target) {
  memset(r->need, 0, (size_t)ce->c.g->n);
  r->need[target] = true;
  for (int j = r->n - 1; j >= 0; j--) {
    const Node *x = ce->c.g->nodes[r->ids[j]];
    if (!r->need[x->id] || cuda_is_view(ce, x->id) || listed(r->scalars, r->nscalars, x->id)) continue;
    for (int i = 0; i < x->nin; i++) r->need[x->in[i]] = true;
  }
  int n = 0;
  for (int j = 0; j < r->n; j++) {
    int id = r->ids[j];
    if (r->need[id] && !cuda_is_view(ce, id) && !listed(r->scalars, r->nscalars, id) &&
        !is_reduce(ce->c.g->nodes[id]))
      r->pass[n++] = id;
  }
  return n;
}

/* for (j over the row's columns) { at = the element; the vectors value needs; }
 * left open; regs gets the chain, so the caller can name value after it. */
static int column_pass(CuEmit *ce, Row *r, int value, CuRegs *regs, int depth) {
  *regs = (CuRegs){r->pass, vectors_for(ce, r, value), r->scalars, r->nscalars};
  cgen_line(&ce->c, depth, "for (%s j = threadIdx.x; j < %" PRId64 "; j += %d) {", ce->it, r->cols, r->block);
  cgen_line(&ce->c, depth + 1, "const %s at = row * %" PRId64 " + j;", ce->it, r->cols);
  cuda_chain(ce, regs, &r->vec, "at", "s", depth + 1);
  return depth + 1;
}

static const char *acc_type(const Node *x) { return dtype_is_float(x->dtype) ? "double" : "int64_t"; }

static void reduction(CuEmit *ce, Row *r, const Node *x, int depth) {
  char id[64], val[CGEN_EXPR_MAX], comb[3 * CGEN_EXPR_MAX], other[64];
  const char *acc = acc_type(x);
  CuRegs regs;
  cgen_reduce_identity(x, id, sizeof id);
  cgen_line(&ce->c, depth, "%s v%d;", cgen_ctype(x), x->id);
  cgen_line(&ce->c, depth, "{");
  cgen_line(&ce->c, depth + 1, "%s acc = %s;", acc, id);
  int inner = column_pass(ce, r, x->in[0], &regs, depth + 1);
  cuda_operand(ce, x->in[0], &regs, &r->vec, "at", "s", val, sizeof val);
  cgen_reduce_combine(x, val, comb, sizeof comb);
  cgen_line(&ce->c, inner, "acc = %s;", comb);
  cgen_line(&ce->c, depth + 1, "}");
  cgen_line(&ce->c, depth + 1, "sh_%s[threadIdx.x] = acc;", acc);
  cgen_line(&ce->c, depth + 1, "__syncthreads();");
  cgen_line(&ce->c, depth + 1, "for (int half = %d; half > 0; half /= 2) {", r->block / 2);
  snprintf(other, sizeof other, "sh_%s[threadIdx.x + half]", acc);
  cgen_reduce_combine(x, other, comb, sizeof comb);
  cgen_line(&ce->c, depth + 2, "if (threadIdx.x < half) sh_%s[threadIdx.x] = acc = %s;", acc, comb);
  cgen_line(&ce->c, depth + 2, "__syncthreads();");
  cgen_line(&ce->c, depth + 1, "}");
  cgen_line(&ce->c, depth + 1, "v%d = (%s)sh_%s[0];", x->id, cgen_ctype(x), acc);
  cgen_line(&ce->c, depth + 1, "__syncthreads(); /* before sh is used again */");
  cgen_line(&ce->c, depth, "}");
  r->scalars[r->nscalars++] = x->id;
}

/* A per-row scalar, in every thread: the chain of one node over sc at this row. */
static void scalar(CuEmit *ce, Row *r, const Node *x, int depth) {
  char var[32];
  snprintf(var, sizeof var, "c%d_", x->id);
  CuRegs regs = {&x->id, 1, r->scalars, r->nscalars};
  cuda_chain(ce, &regs, &r->sc, "row", var, depth);
  r->scalars[r->nscalars++] = x->id;
}

static void store_last(CuEmit *ce, Row *r, const Node *last, int depth) {
  if (listed(r->scalars, r->nscalars, last->id)) {
    cgen_line(&ce->c, depth, "if (threadIdx.x == 0) buf%d[row] = v%d;", last->id, last->id);
    return;
  }
  CuRegs regs;
  int inner = column_pass(ce, r, last->id, &regs, depth);
  cgen_line(&ce->c, inner, "buf%d[at] = v%d;", last->id, last->id);
  cgen_line(&ce->c, depth, "}");
}

static void shared_arrays(CuEmit *ce, const Row *r) {
  bool dbl = false, i64 = false;
  for (int j = 0; j < r->n; j++) {
    const Node *x = ce->c.g->nodes[r->ids[j]];
    if (!is_reduce(x) || cuda_is_view(ce, x->id)) continue;
    dbl |= dtype_is_float(x->dtype), i64 |= !dtype_is_float(x->dtype);
  }
  if (dbl) cgen_line(&ce->c, 1, "__shared__ double sh_double[%d];", r->block);
  if (i64) cgen_line(&ce->c, 1, "__shared__ int64_t sh_int64_t[%d];", r->block);
}

static void body(CuEmit *ce, Row *r, CuLaunch *l) {
  const Node *last = ce->c.g->nodes[r->ids[r->n - 1]];
  shared_arrays(ce, r);
  int depth = cuda_block_loop(ce, l, "row", shape_numel(&r->sc), r->block, 1);
  for (int j = 0; j < r->n; j++) {
    const Node *x = ce->c.g->nodes[r->ids[j]];
    if (cuda_is_view(ce, x->id)) continue;
    if (is_reduce(x)) reduction(ce, r, x, depth);
    else if (shape_eq(&x->shape, &r->sc)) scalar(ce, r, x, depth);
  }
  store_last(ce, r, last, depth);
  cgen_line(&ce->c, 1, "}");
}

int cuda_row(CuEmit *ce, const int *ids, int n) {
  Row r = {.ids = ids, .n = n};
  if (!domain(ce, &r)) return 1;
  const Node *last = ce->c.g->nodes[ids[n - 1]];
  if (shape_numel(&last->shape) == 0) return 0;
  r.scalars = dlc_malloc(sizeof(int) * (size_t)n);
  r.pass = dlc_try_malloc(sizeof(int) * (size_t)n);
  r.need = dlc_try_malloc((size_t)ce->c.g->n);
  if (!r.scalars || !r.pass || !r.need) {
    free(r.scalars), free(r.pass), free(r.need);
    return dlc_errf(ce->c.e, "cuda: out of memory");
  }
  CuLaunch *l = cuda_begin(ce, ids, n);
  body(ce, &r, l);
  cgen_printf(&ce->c, "}\n");
  free(r.scalars), free(r.pass), free(r.need);
  return 0;
}

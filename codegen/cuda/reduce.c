/* reduce.c — reductions over a set of axes and argmax/argmin along one, alone or
 * with an elementwise prologue (KERNEL_REDUCE) evaluated in registers as each
 * element is read.
 *
 * Short reductions (or many of them) take one thread per result, folding in the C
 * backend's order; long ones take one block per result: each thread folds a strided
 * share, then the block combines the shares in shared memory.  Floats accumulate in
 * double and integers in int64_t, as in the C backend, with the identity and combine
 * of the cexpr column.  argmax/argmin keep the first extreme: one thread per result. */
#include <inttypes.h>
#include <string.h>

#include "cuda.h"

/* x's dims split into kept ones (the result's) and reduced ones, with x's strides
 * (0 for a dimension of size 1, whose coordinate is never unravelled). */
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
    (reduced[d] ? s.red_st : s.kept_st)[to->rank] = x->d[d] == 1 ? 0 : st[d]; /* never varies */
    to->d[to->rank++] = x->d[d];
  }
  return s;
}

static const char *acc_type(DType t) { return dtype_is_float(t) ? "double" : "int64_t"; }

/* The reduction's operand at flat index `flat` of its shape: a load, or the prologue
 * evaluated there.  Writes the lines; *val gets the expression. */
typedef struct Prologue {
  const int *ids;
  int n;
} Prologue;

static void value_at(CuEmit *ce, const Node *red, const Prologue *pro, const char *flat, int depth,
                     char *val, size_t size) {
  const Node *x = cgen_in(&ce->c, red, 0);
  CuRegs r = {pro->ids, pro->n, NULL, 0};
  if (pro->n) cuda_chain(ce, &r, &x->shape, flat, "s", depth);
  cuda_operand(ce, x->id, &r, &x->shape, flat, "s", val, size);
}

static bool *only_wide(const Shape *s, bool *need) {
  for (int d = 0; d < s->rank; d++) need[d] = s->d[d] > 1;
  return need;
}

/* The flat index in x of kept coordinates i<d> and reduced ones r<d>. */
static void x_index(const Split *s, CgenIndex *ix) {
  cgen_index_init(ix, 0);
  cgen_index_add(ix, "i", s->kept_st, s->kept.rank);
  cgen_index_add(ix, "r", s->red_st, s->red.rank);
}

static void thread_per_result(CuEmit *ce, const Node *n, const Split *s, const Prologue *pro,
                              const CuEpilogue *epi, CuLaunch *l) {
  char id[64], val[CGEN_EXPR_MAX], comb[3 * CGEN_EXPR_MAX];
  bool need[IR_MAX_RANK];
  CgenIndex xi;
  cgen_reduce_identity(n, id, sizeof id);
  int depth = cuda_grid_loop(ce, l, "o", shape_numel(&s->kept), 1);
  cuda_unravel(ce, &s->kept, "o", "i", only_wide(&s->kept, need), depth);
  cgen_line(&ce->c, depth, "%s acc = %s;", acc_type(n->dtype), id);
  int inner = cgen_loops_open(&ce->c, &s->red, "r", depth);
  x_index(s, &xi);
  value_at(ce, n, pro, cgen_index_str(&xi), inner, val, sizeof val);
  cgen_reduce_combine(n, val, comb, sizeof comb);
  cgen_line(&ce->c, inner, "acc = %s;", comb);
  cgen_loops_close(&ce->c, s->red.rank, depth);
  cgen_line(&ce->c, depth, "const %s v%d = (%s)acc;", cgen_ctype(n), n->id, cgen_ctype(n));
  cuda_store(ce, n, epi, "o", depth);
  cgen_line(&ce->c, 1, "}");
}

static int block_size(int64_t r) {
  int b = 32;
  while (b < CUDA_BLOCK && b < r) b *= 2;
  return b;
}

/* Each thread folds r = threadIdx.x, +block, ...; then a tree in shared memory. */
static void block_per_result(CuEmit *ce, const Node *n, const Split *s, const Prologue *pro,
                             const CuEpilogue *epi, CuLaunch *l) {
  char id[64], val[CGEN_EXPR_MAX], comb[3 * CGEN_EXPR_MAX];
  bool need[IR_MAX_RANK];
  CgenIndex xi;
  int64_t r = shape_numel(&s->red);
  int b = block_size(r);
  const char *acc = acc_type(n->dtype);
  cgen_reduce_identity(n, id, sizeof id);
  cgen_line(&ce->c, 1, "__shared__ %s sh[%d];", acc, b);
  int depth = cuda_block_loop(ce, l, "o", shape_numel(&s->kept), b, 1);
  cuda_unravel(ce, &s->kept, "o", "i", only_wide(&s->kept, need), depth);
  cgen_line(&ce->c, depth, "%s acc = %s;", acc, id);
  cgen_line(&ce->c, depth, "for (%s rr = threadIdx.x; rr < %" PRId64 "; rr += %d) {", ce->it, r, b);
  cuda_unravel(ce, &s->red, "rr", "r", only_wide(&s->red, need), depth + 1);
  x_index(s, &xi);
  value_at(ce, n, pro, cgen_index_str(&xi), depth + 1, val, sizeof val);
  cgen_reduce_combine(n, val, comb, sizeof comb);
  cgen_line(&ce->c, depth + 1, "acc = %s;", comb);
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "sh[threadIdx.x] = acc;");
  cgen_line(&ce->c, depth, "__syncthreads();");
  cgen_line(&ce->c, depth, "for (int half = %d; half > 0; half /= 2) {", b / 2);
  cgen_reduce_combine(n, "sh[threadIdx.x + half]", comb, sizeof comb);
  cgen_line(&ce->c, depth + 1, "if (threadIdx.x < half) sh[threadIdx.x] = acc = %s;", comb);
  cgen_line(&ce->c, depth + 1, "__syncthreads();");
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "if (threadIdx.x == 0) {");
  cgen_line(&ce->c, depth + 1, "const %s v%d = (%s)acc;", cgen_ctype(n), n->id, cgen_ctype(n));
  cuda_store(ce, n, epi, "o", depth + 1);
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "__syncthreads(); /* sh is reused by the next result */");
  cgen_line(&ce->c, 1, "}");
}

static void reduce_body(CuEmit *ce, const Node *n, const Prologue *pro, const CuEpilogue *epi, CuLaunch *l) {
  const Shape *x = &cgen_in(&ce->c, n, 0)->shape;
  bool reduced[IR_MAX_RANK] = {0};
  int na;
  const int64_t *ax = node_ints(n, A_AXES, &na);
  for (int i = 0; i < na; i++) reduced[ax[i]] = true;
  Split s = split(x, reduced);
  int64_t r = shape_numel(&s.red), m = shape_numel(&s.kept);
  if (r <= 8 || (r <= 64 && m >= 1024)) thread_per_result(ce, n, &s, pro, epi, l);
  else block_per_result(ce, n, &s, pro, epi, l);
}

/* The first index of the extreme: a strict comparison, as in the C backend. */
static void arg_body(CuEmit *ce, const Node *n, const Prologue *pro, const CuEpilogue *epi, CuLaunch *l) {
  const Node *a = cgen_in(&ce->c, n, 0);
  bool reduced[IR_MAX_RANK] = {0}, need[IR_MAX_RANK];
  reduced[node_int(n, A_AXIS)] = true;
  Split s = split(&a->shape, reduced);
  CgenIndex xi;
  char val[CGEN_EXPR_MAX];
  int depth = cuda_grid_loop(ce, l, "o", shape_numel(&s.kept), 1);
  cuda_unravel(ce, &s.kept, "o", "i", only_wide(&s.kept, need), depth);
  cgen_line(&ce->c, depth, "int64_t best = 0;");
  cgen_line(&ce->c, depth, "%s top = 0;", cgen_ctype(a));
  cgen_line(&ce->c, depth, "for (int64_t r0 = 0; r0 < %" PRId64 "; r0++) {", s.red.d[0]);
  x_index(&s, &xi);
  value_at(ce, n, pro, cgen_index_str(&xi), depth + 1, val, sizeof val);
  cgen_line(&ce->c, depth + 1, "const %s x = %s;", cgen_ctype(a), val);
  cgen_line(&ce->c, depth + 1, "if (r0 == 0 || x %s top) {", n->op == OP_ARGMAX ? ">" : "<");
  cgen_line(&ce->c, depth + 2, "top = x;");
  cgen_line(&ce->c, depth + 2, "best = r0;");
  cgen_line(&ce->c, depth + 1, "}");
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "const int64_t v%d = best;", n->id);
  cuda_store(ce, n, epi, "o", depth);
  cgen_line(&ce->c, 1, "}");
}

int cuda_reduce(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  Prologue none = {NULL, 0};
  reduce_body(ce, n, &none, epi, l);
  return 0;
}

int cuda_arg(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  Prologue none = {NULL, 0};
  arg_body(ce, n, &none, epi, l);
  return 0;
}

int cuda_reduce_fused(CuEmit *ce, const int *ids, int n) {
  const Node *red = ce->c.g->nodes[ids[n - 1]];
  bool is_reduce = !strcmp(ir_ops[red->op].impl, "reduce"), is_arg = !strcmp(ir_ops[red->op].impl, "arg");
  if ((!is_reduce && !is_arg) || n < 2 || red->in[0] != ids[n - 2]) return 1;
  if (shape_numel(&red->shape) == 0) return 0;
  Prologue pro = {ids, n - 1};
  CuLaunch *l = cuda_begin(ce, ids, n);
  if (is_reduce) reduce_body(ce, red, &pro, NULL, l);
  else arg_body(ce, red, &pro, NULL, l);
  cgen_printf(&ce->c, "}\n");
  return 0;
}

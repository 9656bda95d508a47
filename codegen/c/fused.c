/* fused.c — what kernels of several nodes share, and KERNEL_ELEMWISE.
 *
 * Needs: a schedule that keeps the kernel contracts of passes.h and a plan that gives
 * internal nodes no buffer.  Inside a fused kernel every node but a view is a local
 * value v<id>, computed at the loop's current index; a value from outside is read from
 * its buffer a<i> (cgen_kernel_inputs numbers them) at that index broadcast onto the
 * shape the loops walk, and a view reads its operand's buffer through its own shape.
 *
 * KERNEL_ELEMWISE is one loop over the result: flat when every read from outside is
 * the whole index space or a single element, else a loop nest with constant-strided
 * reads, one `for` per run of dimensions that every read walks contiguously (a bias
 * [1,C,1,1] on [N,C,H,W] gives loops N, C, H*W).  Either way the innermost loop is
 * contiguous in y, so the compiler can vectorize it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgen_c.h"

static bool in_kernel(const Kernel *k, int id) {
  for (int j = 0; j < k->n; j++)
    if (k->nodes[j] == id) return true;
  return false;
}

bool cgen_is_view(const CEmit *ce, const Kernel *k, int id) {
  const Node *n = ce->g->nodes[id];
  return k->kind != KERNEL_SINGLE && k->kind != KERNEL_SEQ && n->op == OP_RESHAPE &&
         id != k->nodes[k->n - 1] && in_kernel(k, id) && !in_kernel(k, n->in[0]);
}

int cgen_kernel_inputs(const CEmit *ce, const Kernel *k, int *ids) {
  int m = 0;
  for (int j = 0; j < k->n; j++) {
    const Node *n = ce->g->nodes[k->nodes[j]];
    for (int i = 0; i < n->nin; i++) {
      bool seen = k->kind != KERNEL_SINGLE && in_kernel(k, n->in[i]);
      for (int q = 0; q < m && !seen && k->kind != KERNEL_SINGLE; q++) seen = ids[q] == n->in[i];
      if (!seen) ids[m++] = n->in[i];
    }
  }
  return m;
}

int cgen_kernel_input_index(const CEmit *ce, const Kernel *k, int id) {
  int max = 0;
  for (int j = 0; j < k->n; j++) max += ce->g->nodes[k->nodes[j]]->nin;
  int *ids = dlc_malloc(sizeof(int) * (size_t)(max ? max : 1));
  DLC_ASSERT(ids);
  int m = cgen_kernel_inputs(ce, k, ids), at = -1;
  for (int q = 0; q < m && at < 0; q++)
    if (ids[q] == id) at = q;
  free(ids);
  return at;
}

void cgen_kernel_label(const Graph *g, const Kernel *k, char *buf, size_t n) {
  static const char *const kinds[] = {"single", "elemwise", "epilogue", "reduce", "row", "seq"};
  const Node *last = g->nodes[k->nodes[k->n - 1]];
  snprintf(buf, n, "k%d_%s", last->id, k->kind == KERNEL_SINGLE ? ir_ops[last->op].name : kinds[k->kind]);
}

void cgen_kernel_name(const CEmit *ce, const Kernel *k, char *buf, size_t n) { cgen_kernel_label(ce->g, k, buf, n); }

/* ---- values ---- */

void cgen_space_index(const CgenSpace *sp, const Shape *s, char *buf, size_t size) {
  int64_t numel = shape_numel(s);
  if (sp->flat) {
    snprintf(buf, size, "%s", numel == 1 ? "0" : sp->var);
    return;
  }
  int64_t st[IR_MAX_RANK], merged[IR_MAX_RANK];
  CgenIndex ix;
  cgen_bcast_strides(s, sp->shape, st);
  for (int j = 0; j < sp->nloop; j++) merged[j] = st[sp->last[j]];
  cgen_index_init(&ix, 0);
  if (sp->nloop) cgen_index_add(&ix, sp->var, merged, sp->nloop);
  else cgen_index_add(&ix, sp->var, st, sp->shape->rank);
  snprintf(buf, size, "%s", cgen_index_str(&ix));
}

void cgen_fused_operand(const CEmit *ce, const Kernel *k, const Node *n, int i, const CgenSpace *sp,
                        char *buf, size_t size) {
  const Node *a = cgen_in(ce, n, i);
  bool inside = in_kernel(k, a->id);
  if (inside && !cgen_is_view(ce, k, a->id)) {
    snprintf(buf, size, "v%d", a->id);
    return;
  }
  const Node *src = inside ? cgen_in(ce, a, 0) : a;
  char idx[CGEN_EXPR_MAX];
  cgen_space_index(sp, &a->shape, idx, sizeof idx);
  snprintf(buf, size, "a%d[%s]", cgen_kernel_input_index(ce, k, src->id), idx);
}

void cgen_fused_value(CEmit *ce, const Kernel *k, const Node *n, const CgenSpace *sp, int depth) {
  char opnd[3][CGEN_EXPR_MAX + 32], expr[4 * CGEN_EXPR_MAX];
  const char *ops[3];
  DLC_ASSERT(n->nin <= 3 && op_is_elementwise(n->op));
  for (int i = 0; i < n->nin; i++) {
    cgen_fused_operand(ce, k, n, i, sp, opnd[i], sizeof opnd[i]);
    ops[i] = opnd[i];
  }
  cgen_elem_expr(ce, n, ops, expr, sizeof expr);
  cgen_line(ce, depth, "const %s v%d = %s;", cgen_ctype(n), n->id, expr);
}

static bool outside_read(const CEmit *ce, const Kernel *k, const Node *a) {
  return !in_kernel(k, a->id) || cgen_is_view(ce, k, a->id);
}

/* Every read from outside covers the whole space or one element. */
static bool flat_reads(const CEmit *ce, const Kernel *k, const Shape *space) {
  int64_t numel = shape_numel(space);
  for (int j = 0; j < k->n; j++) {
    const Node *n = ce->g->nodes[k->nodes[j]];
    for (int i = 0; i < n->nin && !cgen_is_view(ce, k, n->id); i++) {
      const Node *a = cgen_in(ce, n, i);
      int64_t c = shape_numel(&a->shape);
      if (outside_read(ce, k, a) && c != numel && c != 1) return false;
    }
  }
  return true;
}

/* Whether every read (and the store) walks dimension d right after dimension p (the
 * previous one longer than 1) contiguously: stride(p) = stride(d) * size(d). */
static bool mergeable(const CEmit *ce, const Kernel *k, const Shape *space, int p, int d) {
  int64_t st[IR_MAX_RANK];
  shape_strides(space, st);
  if (st[p] != st[d] * space->d[d]) return false;
  for (int j = 0; j < k->n; j++) {
    const Node *n = ce->g->nodes[k->nodes[j]];
    for (int i = 0; i < n->nin && !cgen_is_view(ce, k, n->id); i++) {
      const Node *a = cgen_in(ce, n, i);
      if (!outside_read(ce, k, a)) continue;
      cgen_bcast_strides(&a->shape, space, st);
      if (st[p] != st[d] * space->d[d]) return false;
    }
  }
  return true;
}

/* Drops dimensions of size 1 and merges runs that every read walks contiguously, so
 * the innermost loop is as long as the broadcasts allow. */
static void merge_loops(const CEmit *ce, const Kernel *k, CgenSpace *sp) {
  const Shape *s = sp->shape;
  int p = -1;
  for (int d = 0; d < s->rank; d++) {
    if (s->d[d] == 1) continue;
    if (p >= 0 && mergeable(ce, k, s, p, d)) sp->loops.d[sp->nloop - 1] *= s->d[d];
    else sp->loops.d[sp->nloop++] = s->d[d];
    sp->last[sp->nloop - 1] = p = d;
  }
  sp->loops.rank = sp->nloop;
}

int cgen_fused_elemwise(CEmit *ce, const Kernel *k) {
  const Node *y = ce->g->nodes[k->nodes[k->n - 1]];
  CgenSpace sp = {.shape = &y->shape, .var = "i", .flat = flat_reads(ce, k, &y->shape)};
  int depth = 2;
  bool par = cgen_par_elems(shape_numel(&y->shape), CGEN_PAR_COPY + 4.0 * k->n);
  if (!sp.flat) merge_loops(ce, k, &sp);
  if (sp.flat) {
    if (par) cgen_par_for(ce, 1);
    cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) {", shape_numel(&y->shape));
  } else depth = cgen_loops_open_par(ce, &sp.loops, "i", 1, par);
  for (int j = 0; j < k->n; j++)
    if (!cgen_is_view(ce, k, k->nodes[j])) cgen_fused_value(ce, k, ce->g->nodes[k->nodes[j]], &sp, depth);
  char idx[CGEN_EXPR_MAX] = "i";
  if (!sp.flat) cgen_space_index(&sp, &y->shape, idx, sizeof idx);
  cgen_line(ce, depth, "y[%s] = v%d;", idx, y->id);
  if (sp.flat) cgen_line(ce, 1, "}");
  else cgen_loops_close(ce, sp.loops.rank, 1);
  return 0;
}

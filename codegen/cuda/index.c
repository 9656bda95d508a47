/* index.c — how CUDA kernels walk their results: grid-stride loops over flat indices,
 * flat indices unravelled into the dimensions an operand needs, and chains of fused
 * elementwise nodes evaluated in registers at one element.
 *
 * A kernel thread owns result elements, not loop nests: it turns its flat index into
 * only the coordinates some operand reads with a nonzero stride, so an operand of the
 * result's own shape costs no division at all. */
#include <inttypes.h>
#include <string.h>

#include "cuda.h"

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static void set_grid(CuLaunch *l, int64_t blocks, int block) {
  l->grid[0] = blocks < 1 ? 1 : min64(blocks, CUDA_MAX_GRID);
  l->grid[1] = l->grid[2] = 1;
  l->block = block;
}

int cuda_grid_loop(CuEmit *ce, CuLaunch *l, const char *var, int64_t count, int depth) {
  set_grid(l, (count + CUDA_BLOCK - 1) / CUDA_BLOCK, CUDA_BLOCK);
  cgen_line(&ce->c, depth,
            "for (%s %s = (%s)blockIdx.x * blockDim.x + threadIdx.x; %s < %" PRId64
            "; %s += (%s)gridDim.x * blockDim.x) {",
            ce->it, var, ce->it, var, count, var, ce->it);
  return depth + 1;
}

int cuda_block_loop(CuEmit *ce, CuLaunch *l, const char *var, int64_t count, int block, int depth) {
  set_grid(l, count, block);
  cgen_line(&ce->c, depth, "for (%s %s = blockIdx.x; %s < %" PRId64 "; %s += gridDim.x) {", ce->it,
            var, var, count, var);
  return depth + 1;
}

void cuda_unravel(CuEmit *ce, const Shape *s, const char *flat, const char *var, const bool *need,
                  int depth) {
  int64_t st[IR_MAX_RANK];
  shape_strides(s, st);
  for (int d = 0; d < s->rank; d++) {
    if (need && !need[d]) continue;
    char div[40] = "", mod[40] = "";
    if (st[d] != 1) snprintf(div, sizeof div, " / %" PRId64, st[d]);
    if (d > 0) snprintf(mod, sizeof mod, " %% %" PRId64, s->d[d]);
    cgen_line(&ce->c, depth, "const %s %s%d = (%s)%s%s;", ce->it, var, d, flat, div, mod);
  }
}

/* ---- loads and chains ---- */

static bool in_list(const int *ids, int n, int id) {
  for (int i = 0; i < n; i++)
    if (ids && ids[i] == id) return true;
  return false;
}

bool cuda_is_view(const CuEmit *ce, int id) {
  const Node *x = ce->c.g->nodes[id];
  return x->op == OP_RESHAPE && in_list(ce->kids, ce->kn, id) && !in_list(ce->kids, ce->kn, x->in[0]);
}

/* Strides that read node a broadcast to space; whether any is needed at all. */
static bool load_strides(const Node *a, const Shape *space, int64_t *st) {
  if (shape_eq(&a->shape, space) || shape_numel(&a->shape) == 1) return false;
  cgen_bcast_strides(&a->shape, space, st);
  return true;
}

/* buf<buf>[...]: the buffer of node `shape_of`, read broadcast onto space. */
static void load(CuEmit *ce, int buf, int shape_of, const Shape *space, const char *flat, const char *var,
                 char *out, size_t size) {
  const Node *a = ce->c.g->nodes[shape_of];
  int64_t st[IR_MAX_RANK];
  if (!load_strides(a, space, st)) {
    snprintf(out, size, "buf%d[%s]", buf, shape_numel(&a->shape) == 1 ? "0" : flat);
    return;
  }
  CgenIndex ix;
  cgen_index_init(&ix, 0);
  cgen_index_add(&ix, var, st, space->rank);
  snprintf(out, size, "buf%d[%s]", buf, cgen_index_str(&ix));
}

void cuda_operand(CuEmit *ce, int a, const CuRegs *regs, const Shape *space, const char *flat,
                  const char *var, char *buf, size_t size) {
  if (cuda_is_view(ce, a)) load(ce, ce->c.g->nodes[a]->in[0], a, space, flat, var, buf, size);
  else if (regs && (in_list(regs->ids, regs->n, a) || in_list(regs->known, regs->nknown, a)))
    snprintf(buf, size, "v%d", a);
  else load(ce, a, a, space, flat, var, buf, size);
}

/* The coordinates of space that the chain's loads from memory need. */
static void chain_needs(CuEmit *ce, const CuRegs *r, const Shape *space, bool *need) {
  for (int j = 0; j < r->n; j++) {
    const Node *x = ce->c.g->nodes[r->ids[j]];
    if (cuda_is_view(ce, x->id)) continue;
    for (int i = 0; i < x->nin; i++) {
      int64_t st[IR_MAX_RANK];
      int a = x->in[i];
      bool reg = !cuda_is_view(ce, a) && (in_list(r->ids, j, a) || in_list(r->known, r->nknown, a));
      if (reg || !load_strides(ce->c.g->nodes[a], space, st)) continue;
      for (int d = 0; d < space->rank; d++) need[d] |= st[d] != 0;
    }
  }
}

void cuda_chain(CuEmit *ce, const CuRegs *r, const Shape *space, const char *flat, const char *var,
                int depth) {
  bool need[IR_MAX_RANK] = {0};
  chain_needs(ce, r, space, need);
  cuda_unravel(ce, space, flat, var, need, depth);
  for (int j = 0; j < r->n; j++) {
    const Node *x = ce->c.g->nodes[r->ids[j]];
    char opnd[3][CGEN_EXPR_MAX], expr[4 * CGEN_EXPR_MAX];
    const char *ops[3];
    if (cuda_is_view(ce, x->id)) continue; /* read in place where it is used */
    DLC_ASSERT(x->nin <= 3);
    CuRegs before = {r->ids, j, r->known, r->nknown};
    for (int i = 0; i < x->nin; i++) {
      cuda_operand(ce, x->in[i], &before, space, flat, var, opnd[i], sizeof opnd[i]);
      ops[i] = opnd[i];
    }
    cgen_elem_expr(&ce->c, x, ops, expr, sizeof expr);
    cgen_line(&ce->c, depth, "const %s v%d = %s;", cgen_ctype(x), x->id, expr);
  }
}

void cuda_store(CuEmit *ce, const Node *n, const CuEpilogue *epi, const char *flat, int depth) {
  if (!epi || !epi->n) {
    cgen_line(&ce->c, depth, "buf%d[%s] = v%d;", n->id, flat, n->id);
    return;
  }
  CuRegs r = {epi->ids, epi->n, &n->id, 1};
  cuda_chain(ce, &r, &n->shape, flat, "e", depth);
  cgen_line(&ce->c, depth, "buf%d[%s] = v%d;", epi->out, flat, epi->out);
}

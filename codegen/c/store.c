/* store.c — where a tile's sums go: into y, or through the elementwise tail of a
 * KERNEL_EPILOGUE first (bias, activation, residual) while the sum is still in a
 * register.
 *
 * Needs: the kernel contract of passes.h: the tail's nodes have the head's shape, the
 * head's result is used only inside the kernel, and a RESHAPE in the kernel is a view
 * of a buffer from outside.  Outside operands are read with numpy broadcasting onto
 * the head's shape, through constant strides of the loop variables. */
#include <inttypes.h>
#include <string.h>

#include "tile.h"

Epi epi_plain(const Node *head) {
  bool conv = head->op == OP_CONV;
  int r = head->shape.rank;
  return (Epi){.head = head, .res = head, .inputs = head->in, .ninputs = head->nin,
               .nouter = conv ? 1 : r - 2, .ncol = conv ? r - 2 : 1};
}

Epi epi_to(const Node *head, const char *to, int64_t rs, int64_t cs, bool accumulate) {
  return (Epi){.head = head, .res = head, .to = to, .to_rs = rs, .to_cs = cs, .accumulate = accumulate};
}

void epi_input(const Epi *ep, int id, char *buf, size_t n) {
  int i = 0;
  while (i < ep->ninputs && ep->inputs[i] != id) i++;
  DLC_ASSERT(i < ep->ninputs);
  snprintf(buf, n, "a%d", i);
}

/* The outer dims and the row of a product whose batch was folded into its rows
 * (row = outer position * fold_m + i): "row * st_row" when the strides allow, else each
 * coordinate recovered by division. */
static size_t folded_rows(const Epi *ep, const int64_t *st, const int64_t *hst, const char *row,
                          char *s, size_t n) {
  const Shape *h = &ep->head->shape;
  int64_t sm = st[ep->nouter], cols = hst[ep->nouter];
  bool linear = true;
  size_t k = 0;
  for (int d = 0; d < ep->nouter; d++) linear &= st[d] == hst[d] / cols * sm;
  if (linear) return sm ? (size_t)snprintf(s, n, "(%s) * %" PRId64, row, sm) : 0;
  for (int d = 0; d < ep->nouter; d++)
    if (st[d])
      k += (size_t)snprintf(s + k, n - k, "%s(%s) / %" PRId64 " %% %" PRId64 " * %" PRId64, k ? " + " : "",
                            row, hst[d] / cols, h->d[d], st[d]);
  if (sm)
    k += (size_t)snprintf(s + k, n - k, "%s(%s) %% %" PRId64 " * %" PRId64, k ? " + " : "", row, ep->fold_m, sm);
  return k;
}

/* The flat index into a buffer of shape `s` read as if broadcast onto the head's shape,
 * at element (b<d>.., row, col). */
static void bcast_index(const Epi *ep, const Shape *s, const char *row, const char *col, char *buf,
                        size_t n) {
  const Shape *h = &ep->head->shape;
  int64_t st[IR_MAX_RANK], hst[IR_MAX_RANK];
  cgen_bcast_strides(s, h, st);
  shape_strides(h, hst);
  CgenIndex ix;
  cgen_index_init(&ix, 0);
  size_t k = 0;
  if (ep->fold_m) k = folded_rows(ep, st, hst, row, ix.s, sizeof ix.s);
  else cgen_index_add(&ix, "b", st, ep->nouter), k = strlen(ix.s);
  if (st[ep->nouter] && !ep->fold_m)
    k += (size_t)snprintf(ix.s + k, sizeof ix.s - k, "%s(%s) * %" PRId64, k ? " + " : "", row,
                          st[ep->nouter]);
  bool same = true, none = true;
  for (int d = ep->nouter + 1; d < h->rank; d++) same &= st[d] == hst[d], none &= st[d] == 0;
  if (!none && same) k += (size_t)snprintf(ix.s + k, sizeof ix.s - k, "%s%s", k ? " + " : "", col);
  for (int d = ep->nouter + 1; !none && !same && d < h->rank; d++) /* a partial broadcast */
    if (st[d])
      k += (size_t)snprintf(ix.s + k, sizeof ix.s - k, "%s(%s) / %" PRId64 " %% %" PRId64 " * %" PRId64,
                            k ? " + " : "", col, hst[d], h->d[d], st[d]);
  DLC_ASSERT(k + 1 < sizeof ix.s);
  snprintf(buf, n, "%s", cgen_index_str(&ix));
}

static const Node *kernel_node(const CEmit *ce, const Epi *ep, int id) {
  for (int j = 0; j < ep->k->n; j++)
    if (ep->k->nodes[j] == id) return ce->g->nodes[id];
  return NULL;
}

/* Operand i of tail node n: the sum, an earlier tail value, or a read from outside
 * (through a view's shape when the operand is a RESHAPE of the kernel). */
static void operand(const CEmit *ce, const Epi *ep, const Node *n, int i, const char *v,
                    const char *row, const char *col, char *buf, size_t size) {
  int id = n->in[i];
  const Node *in = kernel_node(ce, ep, id);
  if (id == ep->head->id) {
    snprintf(buf, size, "%s", v);
    return;
  }
  if (in && in->op != OP_RESHAPE) {
    snprintf(buf, size, "e%d", id);
    return;
  }
  char name[16], idx[CGEN_EXPR_MAX];
  const Node *src = in ? cgen_in(ce, in, 0) : ce->g->nodes[id];
  epi_input(ep, src->id, name, sizeof name);
  bcast_index(ep, in ? &in->shape : &src->shape, row, col, idx, sizeof idx);
  snprintf(buf, size, "%s[%s]", name, idx);
}

static void tail_node(CEmit *ce, const Epi *ep, const Node *n, int depth, const char *v,
                      const char *row, const char *col) {
  char opnd[3][CGEN_EXPR_MAX + 32], expr[4 * CGEN_EXPR_MAX];
  const char *ops[3];
  DLC_ASSERT(n->nin <= 3 && op_is_elementwise(n->op));
  for (int i = 0; i < n->nin; i++) {
    operand(ce, ep, n, i, v, row, col, opnd[i], sizeof opnd[i]);
    ops[i] = opnd[i];
  }
  cgen_elem_expr(ce, n, ops, expr, sizeof expr);
  cgen_line(ce, depth, "const %s e%d = %s;", cgen_ctype(n), n->id, expr);
}

/* "(e) * s" appended to buf, " + " between terms; nothing for s == 0, "e" for s == 1. */
static void scaled(char *buf, size_t n, const char *e, int64_t s) {
  size_t k = strlen(buf);
  if (!s) return;
  if (s == 1) snprintf(buf + k, n - k, "%s%s", k ? " + " : "", e);
  else snprintf(buf + k, n - k, "%s(%s) * %" PRId64, k ? " + " : "", e, s);
}

void epi_store(CEmit *ce, const Epi *ep, int depth, const char *v, const char *row, const char *col) {
  char idx[CGEN_EXPR_MAX];
  if (ep->to) {
    idx[0] = 0;
    scaled(idx, sizeof idx, row, ep->to_rs);
    scaled(idx, sizeof idx, col, ep->to_cs);
    cgen_line(ce, depth, "%s[%s] %s= %s;", ep->to, idx[0] ? idx : "0", ep->accumulate ? "+" : "", v);
    return;
  }
  bcast_index(ep, &ep->head->shape, row, col, idx, sizeof idx);
  if (!ep->k || ep->k->n == 1) {
    cgen_line(ce, depth, "y[%s] = %s;", idx, v);
    return;
  }
  DLC_ASSERT(shape_eq(&ep->res->shape, &ep->head->shape));
  cgen_line(ce, depth, "{");
  for (int j = 1; j < ep->k->n; j++) {
    const Node *n = ce->g->nodes[ep->k->nodes[j]];
    if (n->op != OP_RESHAPE) tail_node(ce, ep, n, depth + 1, v, row, col);
  }
  cgen_line(ce, depth + 1, "y[%s] = e%d;", idx, ep->res->id);
  cgen_line(ce, depth, "}");
}


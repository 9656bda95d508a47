/* fold.c — constant folding and exact algebraic simplification.
 *
 * Needs: a verified graph.  Gives: a verified graph that computes the same outputs, bit
 * for bit but for the sign of a zero (x + 0 gives +0 where x is -0), in which
 *   - a node whose operands are all CONST is a CONST (ir_fold_node), unless its result
 *     would be much larger than its operands (a broadcast of a scalar stays a broadcast,
 *     so weights do not grow);
 *   - x+0, 0+x, x-0, x*1, 1*x, x/1, neg(neg(x)), cast to x's own dtype, select with a
 *     constant condition, max(max(x,c),c) and min(min(x,c),c), a concat of one operand,
 *     and every movement that moves nothing (reshape to the same shape, the identity
 *     transpose, broadcast, slice and pad) are replaced by the value they equal, where
 *     that value has the node's dtype and shape;
 *   - reshape(reshape(x)) reads x, and transpose(transpose(x)) is one transpose;
 *   - cast(cast(v, to=I), to=F), v of dtype F clamped to I's range and an integer, is
 *     select(v == v, v + 0, 0) (QuantizeLinear then DequantizeLinear).
 * A PARAM is never folded: it is trainable, so its value is not known at compile time.
 * Nothing that IEEE arithmetic does not guarantee is assumed (x*0 stays: x may be NaN).
 * Nodes left without users are removed (pass_rebuild), so ids change.
 */
#include <math.h>
#include <string.h>

#include "passes.h"

/* ---- reading constants ---- */

static const Node *arg(const Graph *g, const Node *n, int i) { return g->nodes[n->in[i]]; }

/* Whether node c is a CONST every element of which equals v. */
static bool const_all(const Node *c, double v) {
  if (c->op != OP_CONST) return false;
  int64_t n = shape_numel(&c->shape);
  for (int64_t i = 0; i < n; i++)
    if (dtype_load(c->dtype, c->data, i) != v) return false;
  return n > 0;
}

static bool same_const(const Node *a, const Node *b) {
  if (a == b) return true;
  if (a->op != OP_CONST || b->op != OP_CONST || a->dtype != b->dtype || !shape_eq(&a->shape, &b->shape))
    return false;
  return !memcmp(a->data, b->data, (size_t)(shape_numel(&a->shape) * dtype_size(a->dtype)));
}

/* x may stand for n: same dtype and shape. */
static int as(const Graph *g, const Node *n, int x) {
  const Node *v = g->nodes[x];
  return v->dtype == n->dtype && shape_eq(&v->shape, &n->shape) ? x : -1;
}

/* ---- one rule per op: the id that n equals, or -1; a rule may also rewrite n ---- */

typedef int (*Rule)(Graph *g, Node *n);

/* op(x, k) = x and, when commutes, op(k, x) = x */
static int neutral(const Graph *g, const Node *n, double k, bool commutes) {
  if (const_all(arg(g, n, 1), k)) return as(g, n, n->in[0]);
  if (commutes && const_all(arg(g, n, 0), k)) return as(g, n, n->in[1]);
  return -1;
}

static int r_add(Graph *g, Node *n) { return neutral(g, n, 0, true); }
static int r_sub(Graph *g, Node *n) { return neutral(g, n, 0, false); }
static int r_mul(Graph *g, Node *n) { return neutral(g, n, 1, true); }
static int r_div(Graph *g, Node *n) { return neutral(g, n, 1, false); }

static int r_neg(Graph *g, Node *n) {
  const Node *x = arg(g, n, 0);
  return x->op == OP_NEG ? as(g, n, x->in[0]) : -1;
}

/* max(max(x, c), c) = max(x, c), and the same for min */
static int idempotent(Graph *g, Node *n) {
  const Node *m = arg(g, n, 0);
  if (m->op != n->op || !same_const(arg(g, m, 1), arg(g, n, 1))) return -1;
  return as(g, n, m->id);
}

/* Whether every element of CONST c is an integer in [lo, hi]. */
static bool const_ints_in(const Node *c, double lo, double hi) {
  if (c->op != OP_CONST || !dtype_is_float(c->dtype)) return false;
  for (int64_t i = 0; i < shape_numel(&c->shape); i++) {
    double v = dtype_load(c->dtype, c->data, i);
    if (!(v >= lo && v <= hi) || v != floor(v)) return false;
  }
  return true;
}

/* Whether float x is an integer, an infinity or NaN: rounded, or a sum or difference of
 * such values and integer constants (a float's sum of integers is an integer). */
static bool integral(const Graph *g, const Node *x, int depth) {
  if (depth > 8) return false;
  if (x->op == OP_ROUND || x->op == OP_FLOOR || x->op == OP_CEIL) return true;
  if (x->op == OP_CONST) return const_ints_in(x, -HUGE_VAL, HUGE_VAL);
  if (x->op == OP_ADD || x->op == OP_SUB)
    return integral(g, arg(g, x, 0), depth + 1) && integral(g, arg(g, x, 1), depth + 1);
  return false;
}

/* Whether v is min(max(w, lo), hi) or max(min(w, hi), lo) with w integral and lo, hi
 * integer constants in [a, b]: then v is an integer in [a, b], or NaN. */
static bool clamped_int(const Graph *g, const Node *v, double a, double b) {
  Op outer = v->op, inner = outer == OP_MIN ? OP_MAX : OP_MIN;
  if (outer != OP_MIN && outer != OP_MAX) return false;
  for (int i = 0; i < 2; i++) {
    const Node *w = arg(g, v, i), *c = arg(g, v, 1 - i);
    if (w->op != inner || !const_ints_in(c, a, b)) continue;
    for (int j = 0; j < 2; j++)
      if (const_ints_in(arg(g, w, 1 - j), a, b) && integral(g, arg(g, w, j), 0)) return true;
  }
  return false;
}

/* cast(cast(v, to=I), to=F) with F v's own float dtype and v already an integer in I's
 * range (or NaN): the round trip changes nothing but NaN (to 0) and -0 (to +0), so it
 * is select(v == v, v + 0, 0), a chain of float selects that the C compiler vectorises
 * (a QuantizeLinear and DequantizeLinear pair in a convolution's epilogue), where the
 * saturating conversion to I does not.  New nodes go at the end; pass_rebuild orders
 * them. */
static int cast_round_trip(Graph *g, Node *n) {
  const Node *m = arg(g, n, 0);
  if (m->op != OP_CAST || (n->dtype != DT_F32 && n->dtype != DT_F64)) return -1;
  if (m->dtype != DT_I8 && m->dtype != DT_U8 && m->dtype != DT_I16 && m->dtype != DT_U16) return -1;
  const Node *v = arg(g, m, 0);
  if (v->dtype != n->dtype || !shape_eq(&v->shape, &n->shape) ||
      !clamped_int(g, v, dtype_lowest(m->dtype), dtype_highest(m->dtype)))
    return -1;
  int vid = v->id, guard = n->guard;
  int eq = ir_binary(g, OP_EQ, vid, vid), zero = ir_scalar(g, n->dtype, 0);
  int plus = eq < 0 || zero < 0 ? -1 : ir_binary(g, OP_ADD, vid, zero);
  int sel = plus < 0 ? -1 : ir_select(g, eq, plus, zero);
  if (sel < 0) return -1;
  g->nodes[eq]->guard = g->nodes[plus]->guard = g->nodes[sel]->guard = guard;
  return as(g, n, sel);
}

static int r_cast(Graph *g, Node *n) {
  return arg(g, n, 0)->dtype == n->dtype ? n->in[0] : cast_round_trip(g, n);
}

static int r_select(Graph *g, Node *n) {
  if (const_all(arg(g, n, 0), 1)) return as(g, n, n->in[1]);
  if (const_all(arg(g, n, 0), 0)) return as(g, n, n->in[2]);
  return -1;
}

static int r_reshape(Graph *g, Node *n) {
  const Node *x = arg(g, n, 0);
  if (x->op == OP_RESHAPE) n->in[0] = x->in[0]; /* the shape attribute already says all */
  return as(g, n, n->in[0]);
}

/* y = t2(t1(x)): y.dim[i] = x.dim[p1[p2[i]]] */
static int r_transpose(Graph *g, Node *n) {
  int r;
  const int64_t *p2 = node_ints(n, A_PERM, &r);
  const Node *x = arg(g, n, 0);
  int64_t p[IR_MAX_RANK];
  for (int i = 0; i < r; i++) p[i] = p2[i];
  if (x->op == OP_TRANSPOSE) {
    const int64_t *p1 = node_ints(x, A_PERM, NULL);
    for (int i = 0; i < r; i++) p[i] = p1[p2[i]];
    Attr *a = arena_alloc(g->arena, sizeof *a);
    *a = attr_ints(A_PERM, arena_memdup(g->arena, p, sizeof(int64_t) * (size_t)(r ? r : 1)), r);
    n->in[0] = x->in[0], n->attr = a, n->nattr = 1;
  }
  for (int i = 0; i < r; i++)
    if (p[i] != i) return -1;
  return as(g, n, n->in[0]);
}

static int r_same_shape(Graph *g, Node *n) { return as(g, n, n->in[0]); }

static int r_slice(Graph *g, Node *n) {
  int r;
  const int64_t *steps = node_ints(n, A_STEPS, &r);
  for (int i = 0; i < r; i++)
    if (steps[i] != 1) return -1;
  return as(g, n, n->in[0]); /* step 1 and every dimension whole: all of x */
}

static int r_pad(Graph *g, Node *n) {
  int k;
  const int64_t *pads = node_ints(n, A_PADS, &k);
  for (int i = 0; i < k; i++)
    if (pads[i]) return -1;
  return as(g, n, n->in[0]);
}

static int r_concat(Graph *g, Node *n) { return n->nin == 1 ? as(g, n, n->in[0]) : -1; }

static const Rule rules[OP_COUNT] = {
    [OP_ADD] = r_add,       [OP_SUB] = r_sub,         [OP_MUL] = r_mul,
    [OP_DIV] = r_div,       [OP_NEG] = r_neg,         [OP_MAX] = idempotent,
    [OP_MIN] = idempotent,  [OP_CAST] = r_cast,       [OP_SELECT] = r_select,
    [OP_RESHAPE] = r_reshape, [OP_TRANSPOSE] = r_transpose, [OP_BROADCAST] = r_same_shape,
    [OP_SLICE] = r_slice,   [OP_PAD] = r_pad,         [OP_CONCAT] = r_concat,
};

/* ---- constants ---- */

enum { FOLD_SMALL = 4096 }; /* results up to this many elements fold whatever they cost */

static bool worth_folding(const Graph *g, const Node *n) {
  int64_t in = 0, out = shape_numel(&n->shape);
  for (int i = 0; i < n->nin; i++) {
    if (arg(g, n, i)->op != OP_CONST) return false;
    in += shape_numel(&arg(g, n, i)->shape);
  }
  return n->op != OP_INPUT && n->op != OP_PARAM && n->op != OP_CONST && (out <= FOLD_SMALL || out <= in);
}

/* Folds n when it is worth it.  An evaluation error (an index out of range) leaves the
 * node to fail where it runs, as it would have without folding. */
static void fold_const(Graph *g, Node *n) {
  DlcErr ignored;
  if (!worth_folding(g, n) || ir_fold_node(g, n->id, &ignored) != 1) return;
  n->name = NULL; /* a computed node's name is for printing; a CONST's must be unique */
}

/* ---- the pass ---- */

int pass_fold(Graph **gp, DlcErr *e) {
  (void)e;
  Graph *g = *gp;
  int n0 = g->n; /* a rule may add nodes after these, which need no visit */
  int *repl = arena_alloc(g->arena, sizeof(int) * (size_t)(n0 ? n0 : 1));
  for (int i = 0; i < n0; i++) {
    Node *n = g->nodes[i];
    repl[i] = i;
    for (int j = 0; j < n->nin; j++) n->in[j] = repl[n->in[j]];
    if (n->guard >= 0 && g->nodes[repl[n->guard]]->guard < 0) n->guard = repl[n->guard];
    if (n->guard >= 0 && const_all(g->nodes[n->guard], 1)) n->guard = -1; /* the branch always runs */
    fold_const(g, n);
    int r = rules[n->op] ? rules[n->op](g, n) : -1;
    if (r >= 0) repl[i] = r;
  }
  for (int j = 0; j < g->nout; j++) g->out[j] = repl[g->out[j]];
  *gp = pass_rebuild(g, NULL);
  return 0;
}

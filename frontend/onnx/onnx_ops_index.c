/* onnx_ops_index.c — ONNX operators that select by index or position: TopK, Trilu,
 * OneHot, GatherElements, GatherND, ScatterElements (and the older Scatter), ScatterND,
 * Compress.
 *
 * Two devices carry most of them.  A gather of scattered elements becomes one core
 * gather from the flattened data, at flat offsets computed from the indices and
 * constant iotas.  A scatter becomes a mask: every data position compared with every
 * update's flat offset, then a select or a reduction over the updates, which is exact
 * for every reduction and dtype. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"



/* Short names for composing: each returns an id or -1 (checked by the callers). */
static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int i64(OnnxCtx *c, double v) { return ir_scalar(c->g, DT_I64, v); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }
static int cast(OnnxCtx *c, int x, DType t) {
  return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t);
}
static int reduce(OnnxCtx *c, Op op, int x, int64_t axis, bool keep) {
  return x < 0 ? -1 : ir_reduce(c->g, op, x, &axis, 1, keep);
}
static int gather(OnnxCtx *c, int x, int idx, int64_t axis) {
  if (x < 0 || idx < 0) return -1;
  Attr a = attr_int(A_AXIS, axis);
  int in[2] = {x, idx};
  return ir_add(c->g, OP_GATHER, in, 2, &a, 1);
}

/* i64 counting along one axis of a shape. */
static int iota(OnnxCtx *c, const int64_t *d, int r, int64_t axis) {
  Attr a[3] = {attr_ints(A_SHAPE, d, r), attr_int(A_AXIS, axis), attr_dtype(A_DTYPE, DT_I64)};
  return ir_add(c->g, OP_IOTA, NULL, 0, a, 3);
}

/* Integer indices as i64, negative ones counted from the end of a dimension of size dim. */
static int wrap(OnnxCtx *c, int idx, int64_t dim) {
  if (idx >= 0 && ir_const_indices_check(c->g, idx, dim, &c->g->err)) return -1; /* ONNX: an error */
  idx = cast(c, idx, DT_I64);
  return sel(c, bin(c, OP_LT, idx, i64(c, 0)), bin(c, OP_ADD, idx, i64(c, (double)dim)), idx);
}

static int need_int(OnnxCtx *c, OnnxNode *n, int id, const char *what) {
  if (!dtype_is_int(dtype_of(c, id))) return onnx_fail(c, n, "%s must hold integers", what);
  return 0;
}

static int one_const_int(OnnxCtx *c, OnnxNode *n, int i, const char *what, int64_t *v) {
  if (onnx_const_ints(c, n->in[i], v, 1) != 1)
    return onnx_fail(c, n, "input %d (%s) must be a constant known at compile time, one value", i + 1, what);
  return 0;
}

/* ---- offsets ------------------------------------------------------------------------ */

/* Row-major flat offsets into data of shape ds (rank r) for positions whose coordinate
 * along dimension j is coord[j]: an i64 id broadcastable to the result, or -1 for an
 * iota along dimension j of the result shape `rs` (rank rr, r == rr). */
static int flat_offsets(OnnxCtx *c, const Shape *ds, const int *coord, const int64_t *rs, int rr) {
  int64_t stride[IR_MAX_RANK];
  shape_strides(ds, stride);
  int f = -1;
  for (int j = 0; j < ds->rank; j++) {
    int cj = coord[j] >= 0 ? coord[j] : iota(c, rs, rr, j);
    int t = bin(c, OP_MUL, cj, i64(c, (double)stride[j]));
    f = f < 0 ? t : bin(c, OP_ADD, f, t);
    if (t < 0) return -1;
  }
  return f < 0 ? i64(c, 0) : f;
}

/* The shape `s` as an array of dims with one more entry v at position at. */
static int insert_dim(const Shape *s, int at, int64_t v, int64_t *d) {
  for (int i = 0, j = 0; i <= s->rank; i++) d[i] = i == at ? v : s->d[j++];
  return s->rank + 1;
}

/* ---- GatherElements, GatherND ------------------------------------------------------- */

/* Offsets of GatherElements/ScatterElements: the index along axis, the position itself
 * along every other dimension. */
static int element_offsets(OnnxCtx *c, OnnxNode *n, int data, int indices, int64_t axis) {
  const Shape ds = *shape_of(c, data), is = *shape_of(c, indices);
  if (is.rank != ds.rank) return onnx_fail(c, n, "indices have rank %d, data rank %d", is.rank, ds.rank);
  for (int j = 0; j < ds.rank; j++)
    if (j != axis && is.d[j] > ds.d[j]) return onnx_fail(c, n, "indices are larger than data outside the axis");
  int coord[IR_MAX_RANK];
  for (int j = 0; j < ds.rank; j++) coord[j] = -1;
  coord[axis] = wrap(c, indices, ds.d[axis]);
  if (coord[axis] < 0) return onnx_fail_ir(c, n);
  int f = flat_offsets(c, &ds, coord, is.d, is.rank);
  return f < 0 ? onnx_fail_ir(c, n) : f;
}

static int flatten(OnnxCtx *c, int x) {
  if (x < 0) return -1;
  int64_t all = shape_numel(shape_of(c, x));
  return reshape(c, x, &all, 1);
}

int onnx_GatherElements(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2) || need_int(c, n, n->in[1], "indices")) return -1;
  int64_t axis;
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", 0), shape_of(c, n->in[0])->rank, &axis)) return -1;
  if (shape_numel(shape_of(c, n->in[1])) == 0) return onnx_fail(c, n, "empty indices are not supported");
  int f = element_offsets(c, n, n->in[0], n->in[1], axis);
  if (f < 0) return -1;
  ONNX_TRY(c, n, n->out[0] = gather(c, flatten(c, n->in[0]), f, 0));
  return 0;
}

/* Offsets of GatherND/ScatterND into data seen as [P, rest...] with P the product of
 * its first b + m dimensions: the batch position along the first b, then the m index
 * components.  The result has the shape of indices without its last dimension. */
static int nd_offsets(OnnxCtx *c, OnnxNode *n, int data, int indices, int b) {
  const Shape ds = *shape_of(c, data), is = *shape_of(c, indices);
  if (is.rank < 1) return onnx_fail(c, n, "indices must have rank 1 or more");
  int m = (int)is.d[is.rank - 1], q = is.rank - 1;
  if (b < 0 || b >= is.rank || b + m > ds.rank)
    return onnx_fail(c, n, "indices of shape [..., %d] with batch_dims %d do not fit data of rank %d", m, b, ds.rank);
  for (int j = 0; j < b; j++)
    if (is.d[j] != ds.d[j]) return onnx_fail(c, n, "batch dimension %d differs between data and indices", j);
  if (shape_numel(&is) == 0) return onnx_fail(c, n, "empty indices are not supported");
  const Node *ix = c->g->nodes[indices];
  for (int64_t i = 0; ix->op == OP_CONST && ix->data && i < shape_numel(&is); i++) { /* ONNX: an error */
    double v = dtype_load(ix->dtype, ix->data, i), dim = (double)ds.d[b + i % m];
    if (v < -dim || v >= dim)
      return onnx_fail(c, n, "index %.0f is out of range for a dimension of %.0f", v, dim);
  }
  Shape lead = shape_make(b + m, ds.d);
  int coord[IR_MAX_RANK];
  for (int j = 0; j < b; j++) coord[j] = -1;
  for (int j = 0; j < m; j++) {
    int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
    for (int d = 0; d < is.rank; d++) st[d] = 0, en[d] = is.d[d], sp[d] = 1;
    st[q] = j, en[q] = j + 1;
    Attr a[3] = {attr_ints(A_STARTS, st, is.rank), attr_ints(A_ENDS, en, is.rank), attr_ints(A_STEPS, sp, is.rank)};
    int comp = ir_add(c->g, OP_SLICE, &indices, 1, a, 3);
    coord[b + j] = wrap(c, reshape(c, comp, is.d, q), ds.d[b + j]);
    if (coord[b + j] < 0) return onnx_fail_ir(c, n);
  }
  int f = flat_offsets(c, &lead, coord, is.d, q);
  return f < 0 ? onnx_fail_ir(c, n) : f;
}

/* data as [P, rest...]: its first `lead` dimensions merged. */
static int merge_lead(OnnxCtx *c, int x, int lead) {
  const Shape *s = shape_of(c, x);
  int64_t d[IR_MAX_RANK];
  d[0] = 1;
  for (int i = 0; i < lead; i++) d[0] *= s->d[i];
  for (int i = lead; i < s->rank; i++) d[i - lead + 1] = s->d[i];
  return reshape(c, x, d, s->rank - lead + 1);
}

int onnx_GatherND(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2) || need_int(c, n, n->in[1], "indices")) return -1;
  int b = (int)onnx_attr_int(n, "batch_dims", 0);
  int f = nd_offsets(c, n, n->in[0], n->in[1], b);
  if (f < 0) return -1;
  const Shape *is = shape_of(c, n->in[1]);
  int lead = b + (int)is->d[is->rank - 1];
  ONNX_TRY(c, n, n->out[0] = gather(c, merge_lead(c, n->in[0], lead), f, 0));
  return 0;
}

/* ---- ScatterElements, Scatter, ScatterND --------------------------------------------- */

typedef enum { SC_NONE, SC_ADD, SC_MUL, SC_MAX, SC_MIN } ScatterRed;

static int scatter_reduction(OnnxCtx *c, OnnxNode *n, ScatterRed *r) {
  const char *s = onnx_attr_str(c, n, "reduction", "none");
  static const char *names[] = {"none", "add", "mul", "max", "min"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) {
      *r = (ScatterRed)i;
      return 0;
    }
  return onnx_fail(c, n, "reduction '%s' is not one of none, add, mul, max, min", s);
}

/* The larger intermediates a masked scatter may build: [P, T] and [P, T, R] elements. */
#define SCATTER_MAX_MASK (1LL << 26)

/* out [P, R] = data [P, R] with update row t of upd [T, R] applied at row f[t].
 * hit [P, T] says which updates land on which row.  With no reduction the last update
 * to a row wins (as the specification's loop does); otherwise the updates landing on a
 * row are reduced over T and combined with the data. */
static int scatter_fits(OnnxCtx *c, OnnxNode *n, int64_t p, int64_t t, int64_t r, ScatterRed red) {
  if ((double)p * (double)t * (double)(red == SC_NONE ? 1 : r) <= (double)SCATTER_MAX_MASK) return 0;
  return onnx_fail(c, n, "%lld updates into %lld rows is too large for dlc's masked scatter", (long long)t, (long long)p);
}

static int scatter_rows(OnnxCtx *c, int data, int f, int upd, ScatterRed red) {
  if (data < 0 || f < 0 || upd < 0) return -1;
  int64_t p = shape_of(c, data)->d[0], r = shape_of(c, data)->d[1], t = shape_of(c, upd)->d[0];
  int64_t pt[2] = {p, t}, t1[2] = {1, t}, p1[2] = {p, 1};
  int hit = bin(c, OP_EQ, iota(c, pt, 2, 0), reshape(c, f, t1, 2));
  if (red == SC_NONE) {
    int last = reduce(c, OP_REDUCE_MAX, sel(c, hit, iota(c, pt, 2, 1), i64(c, -1)), 1, false);
    int any = reshape(c, bin(c, OP_GE, last, i64(c, 0)), p1, 2);
    int rows = gather(c, upd, bin(c, OP_MAX, last, i64(c, 0)), 0);
    return sel(c, any, rows, data);
  }
  int64_t pt1[3] = {p, t, 1}, tr[3] = {1, t, r};
  static const Op op[] = {OP_COUNT, OP_REDUCE_SUM, OP_REDUCE_PROD, OP_REDUCE_MAX, OP_REDUCE_MIN};
  static const Op combine[] = {OP_COUNT, OP_ADD, OP_MUL, OP_MAX, OP_MIN};
  DType dt = dtype_of(c, data);
  double ident = red == SC_ADD ? 0 : red == SC_MUL ? 1 : red == SC_MAX ? dtype_lowest(dt) : dtype_highest(dt);
  int u = sel(c, reshape(c, hit, pt1, 3), reshape(c, upd, tr, 3), k(c, upd, ident));
  return bin(c, combine[red], data, reduce(c, op[red], u, 1, false));
}

static int scatter_elements(OnnxCtx *c, OnnxNode *n, bool reductions) {
  if (need(c, n, 3) || need_int(c, n, n->in[1], "indices")) return -1;
  int data = n->in[0], upd = n->in[2];
  const Shape ds = *shape_of(c, data);
  if (!shape_eq(shape_of(c, n->in[1]), shape_of(c, upd))) return onnx_fail(c, n, "indices and updates differ in shape");
  ScatterRed red = SC_NONE;
  if (reductions && scatter_reduction(c, n, &red)) return -1;
  int64_t axis;
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", 0), ds.rank, &axis)) return -1;
  if (shape_numel(shape_of(c, upd)) == 0) return onnx_fail(c, n, "empty indices are not supported");
  int f = element_offsets(c, n, data, n->in[1], axis);
  if (f < 0) return -1;
  int64_t pr[2] = {shape_numel(&ds), 1}, tr[2] = {shape_numel(shape_of(c, upd)), 1};
  if (scatter_fits(c, n, pr[0], tr[0], 1, red)) return -1;
  int y = scatter_rows(c, reshape(c, data, pr, 2), flatten(c, f), reshape(c, upd, tr, 2), red);
  ONNX_TRY(c, n, n->out[0] = reshape(c, y, ds.d, ds.rank));
  return 0;
}

int onnx_ScatterElements(OnnxCtx *c, OnnxNode *n) { return scatter_elements(c, n, true); }
int onnx_Scatter(OnnxCtx *c, OnnxNode *n) { return scatter_elements(c, n, false); }

int onnx_ScatterND(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3) || need_int(c, n, n->in[1], "indices")) return -1;
  int data = n->in[0], upd = n->in[2];
  const Shape ds = *shape_of(c, data);
  ScatterRed red = SC_NONE;
  if (scatter_reduction(c, n, &red)) return -1;
  int f = nd_offsets(c, n, data, n->in[1], 0);
  if (f < 0) return -1;
  const Shape *is = shape_of(c, n->in[1]);
  int m = (int)is->d[is->rank - 1];
  int64_t t = shape_numel(shape_of(c, f)), rows = 1;
  for (int i = 0; i < m; i++) rows *= ds.d[i];
  if (rows == 0) { /* empty data: only an empty set of indices fits */
    if (t) return onnx_fail(c, n, "indices point into empty data");
    n->out[0] = data;
    return 0;
  }
  int64_t pr[2] = {rows, shape_numel(&ds) / rows}, tr[2] = {t, pr[1]};
  if (shape_numel(shape_of(c, upd)) != t * pr[1]) return onnx_fail(c, n, "updates do not have the shape indices and data call for");
  if (scatter_fits(c, n, pr[0], t, pr[1], red)) return -1;
  int y = scatter_rows(c, reshape(c, data, pr, 2), flatten(c, f), reshape(c, upd, tr, 2), red);
  ONNX_TRY(c, n, n->out[0] = reshape(c, y, ds.d, ds.rank));
  return 0;
}

/* ---- TopK ---------------------------------------------------------------------------- */

/* k rounds: the extreme m of what is not yet taken (taken positions masked with the
 * worst value), then the first untaken position equal to m; that is the order ONNX
 * specifies (by value, ties to the lower index), and it stays right when the data
 * itself holds the masking value. */
static int topk_round(OnnxCtx *c, int x, int64_t axis, bool largest, int *taken, int *val, int *idx) {
  const Shape *xs = shape_of(c, x);
  DType t = dtype_of(c, x);
  int cur = *taken < 0 ? x : sel(c, *taken, k(c, x, largest ? dtype_lowest(t) : dtype_highest(t)), x);
  int m = reduce(c, largest ? OP_REDUCE_MAX : OP_REDUCE_MIN, cur, axis, true);
  int cand = bin(c, OP_EQ, x, m);
  if (*taken >= 0) cand = bin(c, OP_AND, cand, un(c, OP_NOT, *taken));
  Attr a[2] = {attr_int(A_AXIS, axis), attr_int(A_KEEPDIMS, 1)};
  int u = cast(c, cand, DT_U8);
  int at = u < 0 ? -1 : ir_add(c->g, OP_ARGMAX, &u, 1, a, 2);
  int hit = bin(c, OP_EQ, iota(c, xs->d, xs->rank, axis), at);
  *taken = *taken < 0 ? hit : bin(c, OP_OR, *taken, hit);
  *val = m, *idx = at;
  return *taken < 0 || m < 0 ? -1 : 0;
}

#define TOPK_MAX_ROUNDS 1024

int onnx_TopK(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  const Shape xs = *shape_of(c, x);
  int64_t kk, axis;
  onnx_attr_ignore(n, "sorted"); /* 0 leaves the order open: the sorted order is one answer */
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", -1), xs.rank, &axis)) return -1;
  bool runtime = c->opset >= 10 && has_in(n, 1) && !onnx_is_const(c, n->in[1]);
  if (runtime) { /* every entry sorted; the first K are the result (docs/ONNX.md) */
    kk = xs.d[axis];
    if (shape_numel(shape_of(c, n->in[1])) != 1 || need_int(c, n, n->in[1], "input 2 (K)")) 
      return onnx_fail(c, n, "input 2 (K) must hold one integer");
    if (kk > TOPK_MAX_ROUNDS)
      return onnx_fail(c, n, "a K known only at run time needs every one of the %lld entries sorted, over dlc's limit of %d",
                       (long long)kk, TOPK_MAX_ROUNDS);
    if (kk < 1) return onnx_fail(c, n, "the axis is empty");
  } else if (c->opset < 10) {
    kk = onnx_attr_int(n, "k", -1);
  } else if (need(c, n, 2) || one_const_int(c, n, 1, "K", &kk)) {
    return -1;
  }
  if (kk < 1 || kk > xs.d[axis]) return onnx_fail(c, n, "k = %lld is not in [1, %lld]", (long long)kk, (long long)xs.d[axis]);
  if (kk > TOPK_MAX_ROUNDS) return onnx_fail(c, n, "k = %lld is over dlc's limit of %d", (long long)kk, TOPK_MAX_ROUNDS);
  int pa = onnx_dyn_axis(c, x); /* a data-dependent length: searched along another axis, with a constant K */
  if (has_in(n, 1) && onnx_dyn_axis(c, n->in[1]) >= 0)
    return onnx_fail(c, n, "input 2 (K) has a length that depends on the data: it must hold one integer");
  if (pa >= 0 && (runtime || pa == axis))
    return onnx_fail(c, n, "input '%s' has a length that depends on the data along axis %d; TopK reads such a value "
                     "only along another axis, with a constant K", n->p->input[0], pa);
  if (dtype_of(c, x) == DT_BOOL) return onnx_fail(c, n, "bool input is not supported");
  bool largest = onnx_attr_int(n, "largest", 1) != 0;
  int *vals = arena_alloc(c->g->arena, sizeof(int) * (size_t)kk), *idxs = arena_alloc(c->g->arena, sizeof(int) * (size_t)kk);
  int taken = -1;
  for (int64_t r = 0; r < kk; r++)
    if (topk_round(c, x, axis, largest, &taken, &vals[r], &idxs[r])) return onnx_fail_ir(c, n);
  Attr a = attr_int(A_AXIS, axis);
  ONNX_TRY(c, n, n->out[0] = kk == 1 ? vals[0] : ir_add(c->g, OP_CONCAT, vals, (int)kk, &a, 1));
  if (n->nout > 1) ONNX_TRY(c, n, n->out[1] = kk == 1 ? idxs[0] : ir_add(c->g, OP_CONCAT, idxs, (int)kk, &a, 1));
  if (runtime) {
    int count;
    ONNX_TRY(c, n, count = onnx_dyn_count_in(c, n->in[1], kk));
    for (int o = 0; o < n->nout && o < 2; o++) onnx_dyn_mark(c, n->out[o], count, (int)axis);
  }
  for (int o = 0; o < n->nout && o < 2; o++) onnx_dyn_follow(c, x, n->out[o], pa);
  return 0;
}

/* ---- Trilu, OneHot, Compress --------------------------------------------------------- */

/* Keeps x[..., i, j] where j - i >= k (upper) or j - i <= k (lower); zeros elsewhere. */
int onnx_Trilu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  const Shape xs = *shape_of(c, x);
  if (xs.rank < 2) return onnx_fail(c, n, "input must have rank 2 or more");
  int64_t kk = 0;
  bool upper = onnx_attr_int(n, "upper", 1) != 0;
  if (has_in(n, 1) && one_const_int(c, n, 1, "k", &kk)) return -1;
  if (shape_numel(&xs) == 0) {
    n->out[0] = x;
    return 0;
  }
  int64_t nm[2] = {xs.d[xs.rank - 2], xs.d[xs.rank - 1]};
  int diag = bin(c, OP_SUB, iota(c, nm, 2, 1), iota(c, nm, 2, 0));
  int keep = bin(c, upper ? OP_GE : OP_LE, diag, i64(c, (double)kk));
  ONNX_TRY(c, n, n->out[0] = sel(c, keep, x, k(c, x, 0)));
  return 0;
}

/* y = on where the position along axis equals the index (negative ones counted from
 * depth), off elsewhere, including for indices out of range. */
int onnx_OneHot(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  int idx = n->in[0], values = n->in[2];
  const Shape is = *shape_of(c, idx);
  int64_t depth, axis;
  if (one_const_int(c, n, 1, "depth", &depth)) return -1;
  if (depth < 1) return onnx_fail(c, n, "depth %lld is not positive", (long long)depth);
  if (shape_numel(shape_of(c, values)) != 2 || onnx_dyn_axis(c, values) >= 0)
    return onnx_fail(c, n, "values must hold two entries, off and on%s",
                     onnx_dyn_axis(c, values) >= 0 ? " (it has a length that depends on the data)" : "");
  if (is.rank < 1) return onnx_fail(c, n, "indices is a scalar: OneHot needs rank 1 or more (as ONNX does)");
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", -1), is.rank + 1, &axis)) return -1;
  int64_t od[IR_MAX_RANK], id[IR_MAX_RANK];
  if (is.rank + 1 > IR_MAX_RANK) return onnx_fail(c, n, "result rank is over %d", IR_MAX_RANK);
  int r = insert_dim(&is, (int)axis, depth, od);
  insert_dim(&is, (int)axis, 1, id);
  int ix = cast(c, idx, DT_I64);
  ix = sel(c, bin(c, OP_LT, ix, i64(c, 0)), bin(c, OP_ADD, ix, i64(c, (double)depth)), ix);
  int hit = bin(c, OP_EQ, iota(c, od, r, axis), reshape(c, ix, id, is.rank + 1));
  int64_t two = 2, none = 0;
  int v = reshape(c, values, &two, 1);
  int off = reshape(c, gather(c, v, i64(c, 0), 0), &none, 0), on = reshape(c, gather(c, v, i64(c, 1), 0), &none, 0);
  ONNX_TRY(c, n, n->out[0] = sel(c, hit, on, off));
  int pa = onnx_dyn_axis(c, idx); /* padded indices: the new axis goes in beside the padded one */
  onnx_dyn_follow(c, idx, n->out[0], pa < 0 ? -1 : pa < axis ? pa : pa + 1);
  return 0;
}

/* A constant condition gives a static result, as long as its true entries; one known only
 * at run time a result padded to the condition's length, with the count beside it. */
int onnx_Compress(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0];
  int64_t axis = 0;
  bool flat = !onnx_attr(n, "axis");
  if (shape_of(c, x)->rank < 1) return onnx_fail(c, n, "the input is a scalar: Compress needs rank 1 or more (as ONNX does)");
  if (flat) ONNX_TRY(c, n, x = flatten(c, x));
  else if (onnx_axis(c, n, onnx_attr_int(n, "axis", 0), shape_of(c, x)->rank, &axis)) return -1;
  int64_t dim = shape_of(c, x)->d[axis];
  int64_t cnt = shape_numel(shape_of(c, n->in[1]));
  if (cnt > dim) return onnx_fail(c, n, "condition has %lld entries for a dimension of %lld", (long long)cnt, (long long)dim);
  if (!onnx_is_const(c, n->in[1])) { /* the kept slices, padded to cnt; their count beside */
    if (shape_of(c, n->in[1])->rank != 1) return onnx_fail(c, n, "input 2 (condition) must be one-dimensional");
    int nz, idx, count, y;
    int64_t len = cnt;
    ONNX_TRY(c, n, nz = ir_add(c->g, OP_NONZERO, &n->in[1], 1, NULL, 0));
    ONNX_TRY(c, n, idx = ir_reshape(c->g, nz, &len, 1));
    ONNX_TRY(c, n, y = gather(c, x, idx, axis));
    ONNX_TRY(c, n, count = onnx_count_nonzero(c->g, n->in[1]));
    onnx_dyn_mark(c, y, count, (int)axis);
    n->out[0] = y;
    return 0;
  }
  int64_t *cond = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(cnt + 1));
  if (onnx_const_ints(c, n->in[1], cond, (int)cnt) < 0)
    return onnx_fail(c, n, "input 2 (condition) must be a constant known at compile time");
  int64_t kept = 0;
  for (int64_t i = 0; i < cnt; i++)
    if (cond[i]) cond[kept++] = i;
  Shape s = {.rank = 1, .d = {kept}};
  int idx;
  ONNX_TRY(c, n, idx = ir_const(c->g, NULL, DT_I64, s, cond));
  ONNX_TRY(c, n, n->out[0] = gather(c, x, idx, axis));
  return 0;
}

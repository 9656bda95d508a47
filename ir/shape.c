/* shape.c — the shape rule of each op family: from the operands and attributes, the
 * result's dtype and shape.  Rules also normalise attributes in place (negative axes
 * become positive, a -1 in reshape is resolved, absent strides/pads/dilations are
 * filled in), so that every later stage sees one canonical form. */
#include <string.h>

#include "checked.h"
#include "shape.h"

static int fail(Graph *g, Node *n, const char *fmt, ...) DLC_PRINTF(3, 4);
static int fail(Graph *g, Node *n, const char *fmt, ...) {
  char msg[DLC_ERR_MAX - 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return dlc_errf(&g->err, "%s: %s", ir_ops[n->op].name, msg);
}

static const Node *arg(const Graph *g, const Node *n, int i) { return g->nodes[n->in[i]]; }

static DType result_dtype(const Graph *g, const Node *n) {
  switch (ir_ops[n->op].result) {
  case R_SAME: return arg(g, n, n->op == OP_SELECT ? 1 : 0)->dtype;
  case R_BOOL: return DT_BOOL;
  case R_I64: return DT_I64;
  case R_I32: return DT_I32;
  case R_ATTR: return (DType)node_int(n, node_attr(n, A_TO) ? A_TO : A_DTYPE);
  }
  return DT_F32;
}

/* Normalises an axis into [0, rank); -1 if out of range. */
static int axis_norm(int64_t *a, int rank) {
  int64_t v = *a < 0 ? *a + rank : *a;
  if (v < 0 || v >= rank) return -1; /* left as it was, for the message */
  *a = v;
  return 0;
}

static const char *shp(const Shape *s, char *buf) {
  shape_str(s, buf, 128);
  return buf;
}

/* Sets (or adds) an ints attribute on a node being built. */
static void set_ints(Graph *g, Node *n, AttrKey k, const int64_t *v, int count) {
  for (int i = 0; i < n->nattr; i++)
    if (n->attr[i].key == k) {
      n->attr[i] = attr_ints(k, arena_memdup(g->arena, v, sizeof(int64_t) * (size_t)count), count);
      return;
    }
  Attr *a = arena_alloc(g->arena, sizeof(Attr) * (size_t)(n->nattr + 1));
  memcpy(a, n->attr, sizeof(Attr) * (size_t)n->nattr);
  a[n->nattr] = attr_ints(k, arena_memdup(g->arena, v, sizeof(int64_t) * (size_t)count), count);
  n->attr = a;
  n->nattr++;
}

int shape_source(Graph *g, Node *n) {
  return fail(g, n, "is made with its own builder, not as an operation");
}

int shape_iota(Graph *g, Node *n) {
  int r;
  const int64_t *d = node_ints(n, A_SHAPE, &r);
  if (r > IR_MAX_RANK) return fail(g, n, "rank %d is over %d", r, IR_MAX_RANK);
  for (int i = 0; i < r; i++)
    if (d[i] <= 0) return fail(g, n, "dimensions must be positive");
  n->shape = shape_make(r, d);
  Attr *ax = (Attr *)node_attr(n, A_AXIS);
  if (axis_norm(&ax->i, r)) return fail(g, n, "axis is out of range for rank %d", r);
  n->dtype = result_dtype(g, n);
  return 0;
}

int shape_broadcast2(const Shape *a, const Shape *b, Shape *out) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  Shape s = {.rank = r};
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
    if (da != db && da != 1 && db != 1) return -1;
    s.d[i] = da == 1 ? db : da;
  }
  *out = s;
  return 0;
}

int shape_unary(Graph *g, Node *n) {
  n->dtype = result_dtype(g, n);
  n->shape = arg(g, n, 0)->shape;
  return 0;
}

int shape_cast(Graph *g, Node *n) {
  const Attr *r = node_attr(n, A_ROUND);
  if (r && node_int(n, A_TO) != DT_F8E8M0) return fail(g, n, "round applies to a cast to f8e8m0 only");
  if (r && (r->i < 0 || r->i > (DTYPE_E8M0_NEAREST | DTYPE_E8M0_NOSAT) || (r->i & 3) == 3))
    return fail(g, n, "round %lld is not a mode of f8e8m0 (0 up, 1 down, 2 nearest, +4 not saturating)",
                (long long)r->i);
  return shape_unary(g, n);
}

/* The same bits: widths must agree (bool is 8 bits), and only a bool is a bool's bits
 * (another byte than 0 or 1 is no bool). */
int shape_bitcast(Graph *g, Node *n) {
  DType from = arg(g, n, 0)->dtype, to = (DType)node_int(n, A_TO);
  if (dtype_bits(from) != dtype_bits(to))
    return fail(g, n, "%s (%d bits) and %s (%d bits) differ in width", dtype_name(from), dtype_bits(from),
                dtype_name(to), dtype_bits(to));
  if (to == DT_BOOL && from != DT_BOOL)
    return fail(g, n, "%s to bool: a byte other than 0 or 1 is no bool", dtype_name(from));
  return shape_unary(g, n);
}

static int broadcast_all(Graph *g, Node *n, int first) {
  Shape s = arg(g, n, first)->shape;
  for (int i = first + 1; i < n->nin; i++) {
    char b1[128], b2[128];
    if (shape_broadcast2(&s, &arg(g, n, i)->shape, &s))
      return fail(g, n, "shapes %s and %s do not broadcast", shp(&arg(g, n, first)->shape, b1),
                  shp(&arg(g, n, i)->shape, b2));
  }
  n->shape = s;
  return 0;
}

int shape_binary(Graph *g, Node *n) {
  if (arg(g, n, 0)->dtype != arg(g, n, 1)->dtype)
    return fail(g, n, "operands differ in dtype (%s and %s)", dtype_name(arg(g, n, 0)->dtype),
                dtype_name(arg(g, n, 1)->dtype));
  n->dtype = result_dtype(g, n);
  return broadcast_all(g, n, 0);
}

int shape_select(Graph *g, Node *n) {
  if (arg(g, n, 0)->dtype != DT_BOOL)
    return fail(g, n, "the condition is %s, not bool", dtype_name(arg(g, n, 0)->dtype));
  if (arg(g, n, 1)->dtype != arg(g, n, 2)->dtype)
    return fail(g, n, "the two branches differ in dtype (%s and %s)",
                dtype_name(arg(g, n, 1)->dtype), dtype_name(arg(g, n, 2)->dtype));
  n->dtype = result_dtype(g, n);
  return broadcast_all(g, n, 0);
}

/* Reduced axes: normalised, sorted, unique. */
static int axes_norm(Graph *g, Node *n, int64_t *ax, int na, int rank) {
  for (int i = 0; i < na; i++)
    if (axis_norm(&ax[i], rank)) return fail(g, n, "axis %lld is out of range for rank %d",
                                             (long long)ax[i], rank);
  for (int i = 1; i < na; i++)
    for (int j = i; j > 0 && ax[j - 1] > ax[j]; j--) {
      int64_t t = ax[j];
      ax[j] = ax[j - 1], ax[j - 1] = t;
    }
  for (int i = 1; i < na; i++)
    if (ax[i] == ax[i - 1]) return fail(g, n, "axis %lld is listed twice", (long long)ax[i]);
  return 0;
}

static Shape reduced(const Shape *x, const int64_t *ax, int na, bool keep) {
  Shape s = {0};
  for (int i = 0, k = 0; i < x->rank; i++) {
    bool red = k < na && ax[k] == i;
    if (red) k++;
    if (!red) s.d[s.rank++] = x->d[i];
    else if (keep) s.d[s.rank++] = 1;
  }
  return s;
}

int shape_reduce(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  int na;
  int64_t *ax = (int64_t *)node_ints(n, A_AXES, &na);
  if (axes_norm(g, n, ax, na, x->rank)) return -1;
  n->dtype = result_dtype(g, n);
  n->shape = reduced(x, ax, na, node_int(n, A_KEEPDIMS) != 0);
  return 0;
}

int shape_arg(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  Attr *ax = (Attr *)node_attr(n, A_AXIS);
  if (axis_norm(&ax->i, x->rank))
    return fail(g, n, "axis %lld is out of range for rank %d", (long long)ax->i, x->rank);
  if (x->d[ax->i] == 0) return fail(g, n, "the axis is empty");
  n->dtype = result_dtype(g, n);
  n->shape = reduced(x, &ax->i, 1, node_int(n, A_KEEPDIMS) != 0);
  return 0;
}

int shape_reshape(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  int r;
  int64_t *d = (int64_t *)node_ints(n, A_SHAPE, &r);
  if (r > IR_MAX_RANK) return fail(g, n, "rank %d is over %d", r, IR_MAX_RANK);
  int infer = -1;
  int64_t known = 1;
  double approx = 1; /* the product in double first: int64 must not overflow */
  for (int i = 0; i < r; i++) approx *= d[i] > 0 ? (double)d[i] : 1;
  if (approx > (double)(1LL << 40)) return fail(g, n, "the new shape has too many elements");
  for (int i = 0; i < r; i++) {
    if (d[i] == -1) {
      if (infer >= 0) return fail(g, n, "more than one -1 in the shape");
      infer = i;
    } else if (d[i] < 0 || (d[i] == 0 && shape_numel(x) != 0))
      return fail(g, n, "dimension %lld is not positive", (long long)d[i]);
    else known *= d[i];
  }
  int64_t total = shape_numel(x);
  if (infer >= 0) {
    if (known == 0 || total % known) return fail(g, n, "cannot infer the -1 dimension");
    d[infer] = total / known;
    known *= d[infer];
  }
  char b1[128];
  if (known != total)
    return fail(g, n, "%s has %lld elements, the new shape %lld", shp(x, b1), (long long)total,
                (long long)known);
  n->dtype = result_dtype(g, n);
  n->shape = shape_make(r, d);
  return 0;
}

int shape_transpose(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  int r;
  const int64_t *p = node_ints(n, A_PERM, &r);
  if (r != x->rank) return fail(g, n, "perm has %d entries for rank %d", r, x->rank);
  bool seen[IR_MAX_RANK] = {0};
  Shape s = {.rank = r};
  for (int i = 0; i < r; i++) {
    if (p[i] < 0 || p[i] >= r || seen[p[i]]) return fail(g, n, "perm is not a permutation");
    seen[p[i]] = true;
    s.d[i] = x->d[p[i]];
  }
  n->dtype = result_dtype(g, n);
  n->shape = s;
  return 0;
}

int shape_broadcast(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  int r;
  const int64_t *d = node_ints(n, A_SHAPE, &r);
  if (r > IR_MAX_RANK || r < x->rank) return fail(g, n, "target rank %d is below rank %d", r, x->rank);
  Shape t = shape_make(r, d), s;
  char b1[128], b2[128];
  if (shape_broadcast2(x, &t, &s) || !shape_eq(&s, &t))
    return fail(g, n, "%s does not broadcast to %s", shp(x, b1), shp(&t, b2));
  n->dtype = result_dtype(g, n);
  n->shape = t;
  return 0;
}

int shape_slice(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  int ns, ne, nt;
  const int64_t *st = node_ints(n, A_STARTS, &ns), *en = node_ints(n, A_ENDS, &ne),
                *sp = node_ints(n, A_STEPS, &nt);
  if (ns != x->rank || ne != x->rank || nt != x->rank)
    return fail(g, n, "starts, ends and steps need one entry per dimension (%d)", x->rank);
  Shape s = {.rank = x->rank};
  for (int i = 0; i < x->rank; i++) {
    int64_t d = x->d[i];
    if (sp[i] == 0) return fail(g, n, "step %d is zero", i);
    bool fwd = sp[i] > 0;
    if (st[i] < 0 || st[i] > d || (!fwd && st[i] >= d))
      return fail(g, n, "start %lld is out of range for dimension %d of size %lld",
                  (long long)st[i], i, (long long)d);
    if (en[i] < -1 || en[i] > d || (fwd && en[i] < 0))
      return fail(g, n, "end %lld is out of range for dimension %d of size %lld",
                  (long long)en[i], i, (long long)d);
    /* ceil(span / |step|) with |step| unsigned: a step of INT64_MIN has no int64 negation */
    int64_t span = fwd ? en[i] - st[i] : st[i] - en[i];
    uint64_t mag = fwd ? (uint64_t)sp[i] : 0 - (uint64_t)sp[i];
    s.d[i] = span > 0 ? (int64_t)(((uint64_t)span - 1) / mag + 1) : 0;
  }
  /* Canonical form: where at most one element is taken its step is 1, so no later
   * stage multiplies a huge step by a stride. */
  int64_t cst[IR_MAX_RANK], cen[IR_MAX_RANK], csp[IR_MAX_RANK];
  bool changed = false;
  for (int i = 0; i < x->rank; i++) {
    cst[i] = st[i], cen[i] = en[i], csp[i] = sp[i];
    if (s.d[i] > 1 || sp[i] == 1) continue;
    if (s.d[i] == 0) cst[i] = cen[i] = 0;
    else cen[i] = cst[i] + 1;
    csp[i] = 1, changed = true;
  }
  if (changed) {
    set_ints(g, n, A_STARTS, cst, x->rank);
    set_ints(g, n, A_ENDS, cen, x->rank);
    set_ints(g, n, A_STEPS, csp, x->rank);
  }
  n->dtype = result_dtype(g, n);
  n->shape = s;
  return 0;
}

int shape_pad(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  int np;
  const int64_t *p = node_ints(n, A_PADS, &np);
  if (np != 2 * x->rank) return fail(g, n, "pads needs %d entries (begins, then ends)", 2 * x->rank);
  Shape s = {.rank = x->rank};
  for (int i = 0; i < x->rank; i++) {
    if (ck_add(x->d[i], p[i], &s.d[i]) || ck_add(s.d[i], p[i + x->rank], &s.d[i]))
      return fail(g, n, "pads %lld and %lld overflow dimension %d", (long long)p[i], (long long)p[i + x->rank], i);
    if (s.d[i] < 0) return fail(g, n, "dimension %d would be negative", i);
  }
  n->dtype = result_dtype(g, n);
  n->shape = s;
  return 0;
}

int shape_concat(Graph *g, Node *n) {
  const Node *a = arg(g, n, 0);
  Attr *ax = (Attr *)node_attr(n, A_AXIS);
  if (axis_norm(&ax->i, a->shape.rank))
    return fail(g, n, "axis %lld is out of range for rank %d", (long long)ax->i, a->shape.rank);
  Shape s = a->shape;
  s.d[ax->i] = 0;
  for (int i = 0; i < n->nin; i++) {
    const Node *b = arg(g, n, i);
    char b1[128], b2[128];
    if (b->dtype != a->dtype) return fail(g, n, "operands differ in dtype");
    bool ok = b->shape.rank == a->shape.rank;
    for (int k = 0; ok && k < s.rank; k++) ok = k == ax->i || b->shape.d[k] == a->shape.d[k];
    if (!ok)
      return fail(g, n, "%s and %s differ outside axis %lld", shp(&a->shape, b1), shp(&b->shape, b2),
                  (long long)ax->i);
    if (ck_add(s.d[ax->i], b->shape.d[ax->i], &s.d[ax->i])) return fail(g, n, "the result is too large");
  }
  n->dtype = result_dtype(g, n);
  n->shape = s;
  return 0;
}

int ir_const_indices_check(const Graph *g, int id, int64_t dim, DlcErr *e) {
  const Node *ix = g->nodes[id];
  if (ix->op != OP_CONST || !ix->data || !dtype_is_int(ix->dtype)) return 0;
  int64_t cnt = shape_numel(&ix->shape);
  for (int64_t i = 0; i < cnt; i++) {
    double v = dtype_load(ix->dtype, ix->data, i);
    if (v < -(double)dim || v >= (double)dim)
      return dlc_errf(e, "index %.0f is out of range for a dimension of %lld", v, (long long)dim);
  }
  return 0;
}

int shape_gather(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape, *ix = &arg(g, n, 1)->shape;
  if (!dtype_is_int(arg(g, n, 1)->dtype)) return fail(g, n, "indices must be integers");
  Attr *ax = (Attr *)node_attr(n, A_AXIS);
  if (axis_norm(&ax->i, x->rank))
    return fail(g, n, "axis %lld is out of range for rank %d", (long long)ax->i, x->rank);
  int r = x->rank - 1 + ix->rank;
  if (r > IR_MAX_RANK) return fail(g, n, "result rank %d is over %d", r, IR_MAX_RANK);
  Shape s = {.rank = r};
  int k = 0;
  for (int i = 0; i < ax->i; i++) s.d[k++] = x->d[i];
  for (int i = 0; i < ix->rank; i++) s.d[k++] = ix->d[i];
  for (int i = (int)ax->i + 1; i < x->rank; i++) s.d[k++] = x->d[i];
  n->dtype = result_dtype(g, n);
  n->shape = s;
  return 0;
}

static int matmul_shape(Graph *g, Node *n, bool ta, bool tb) {
  const Shape *a = &arg(g, n, 0)->shape, *b = &arg(g, n, 1)->shape;
  char b1[128], b2[128];
  if (a->rank < 2 || b->rank < 2) return fail(g, n, "operands need rank 2 or more");
  int64_t m = a->d[a->rank - 2 + ta], k = a->d[a->rank - 1 - ta];
  int64_t k2 = b->d[b->rank - 2 + tb], nn = b->d[b->rank - 1 - tb];
  if (k != k2) return fail(g, n, "inner dimensions differ: %s x %s", shp(a, b1), shp(b, b2));
  Shape ba = shape_make(a->rank - 2, a->d), bb = shape_make(b->rank - 2, b->d), s;
  if (shape_broadcast2(&ba, &bb, &s))
    return fail(g, n, "batch dimensions of %s and %s do not broadcast", shp(a, b1), shp(b, b2));
  s.d[s.rank++] = m;
  s.d[s.rank++] = nn;
  n->dtype = result_dtype(g, n);
  n->shape = s;
  return 0;
}

int shape_matmul(Graph *g, Node *n) {
  if (arg(g, n, 0)->dtype != arg(g, n, 1)->dtype) return fail(g, n, "operands differ in dtype");
  return matmul_shape(g, n, node_int(n, A_TRANS_A), node_int(n, A_TRANS_B));
}

/* Operands u8 or i8 each (they may differ); the result is i32. */
int shape_matmul_int(Graph *g, Node *n) {
  for (int i = 0; i < 2; i++) {
    DType t = arg(g, n, i)->dtype;
    if (t != DT_U8 && t != DT_I8) return fail(g, n, "operand %d is %s; it takes u8 or i8", i, dtype_name(t));
  }
  return matmul_shape(g, n, false, false);
}

/* strides, pads, dilations: filled with 1, 0, 1 when absent; checked for length. */
static int window_attrs(Graph *g, Node *n, int nsp) {
  static const struct { AttrKey k; int mul; int64_t def; } w[3] = {
      {A_STRIDES, 1, 1}, {A_PADS, 2, 0}, {A_DILATIONS, 1, 1}};
  for (int i = 0; i < 3; i++) {
    const Attr *a = node_attr(n, w[i].k);
    if (!a) {
      int64_t v[2 * IR_MAX_RANK];
      for (int j = 0; j < w[i].mul * nsp; j++) v[j] = w[i].def;
      set_ints(g, n, w[i].k, v, w[i].mul * nsp);
    } else if (a->n != w[i].mul * nsp)
      return fail(g, n, "%s needs %d entries", attr_name(w[i].k), w[i].mul * nsp);
  }
  const int64_t *st = node_ints(n, A_STRIDES, NULL), *p = node_ints(n, A_PADS, NULL),
                *dl = node_ints(n, A_DILATIONS, NULL);
  for (int i = 0; i < nsp; i++) {
    if (st[i] < 1 || dl[i] < 1) return fail(g, n, "strides and dilations must be 1 or more");
    if (p[i] < 0 || p[i + nsp] < 0) return fail(g, n, "pads must not be negative");
  }
  return 0;
}

/* out = floor((in + pads - dilation*(k-1) - 1) / stride) + 1 */
static int window_out(Graph *g, Node *n, const Shape *x, const int64_t *k, Shape *s) {
  int nsp = x->rank - 2;
  const int64_t *st = node_ints(n, A_STRIDES, NULL), *p = node_ints(n, A_PADS, NULL),
                *dl = node_ints(n, A_DILATIONS, NULL);
  for (int i = 0; i < nsp; i++) {
    int64_t span, in;
    if (k[i] < 1) return fail(g, n, "kernel sizes must be 1 or more");
    if (ck_muladd(dl[i], k[i] - 1, 1, &span))
      return fail(g, n, "dilation %lld times kernel %lld overflows in dimension %d", (long long)dl[i],
                  (long long)k[i], 2 + i);
    if (ck_add(x->d[2 + i], p[i], &in) || ck_add(in, p[i + nsp], &in))
      return fail(g, n, "pads %lld and %lld overflow dimension %d", (long long)p[i], (long long)p[i + nsp], 2 + i);
    if (in < span)
      return fail(g, n, "the window (%lld) is larger than the padded input (%lld) in dimension %d",
                  (long long)span, (long long)in, 2 + i);
    s->d[2 + i] = (in - span) / st[i] + 1;
  }
  return 0;
}

int shape_conv(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape, *w = &arg(g, n, 1)->shape;
  char b1[128], b2[128];
  if (n->op == OP_MATMUL && arg(g, n, 0)->dtype != arg(g, n, 1)->dtype) return fail(g, n, "operands differ in dtype");
  if (x->rank < 3 || w->rank != x->rank)
    return fail(g, n, "input %s and weight %s need the same rank, 3 or more", shp(x, b1), shp(w, b2));
  int64_t groups = node_int(n, A_GROUPS);
  int64_t wc;
  if (groups < 1 || x->d[1] % groups || w->d[0] % groups || ck_mul(w->d[1], groups, &wc) || wc != x->d[1])
    return fail(g, n, "input %s and weight %s disagree on channels for %lld group(s)", shp(x, b1),
                shp(w, b2), (long long)groups);
  if (window_attrs(g, n, x->rank - 2)) return -1;
  Shape s = {.rank = x->rank};
  s.d[0] = x->d[0];
  s.d[1] = w->d[0];
  if (window_out(g, n, x, w->d + 2, &s)) return -1;
  n->dtype = result_dtype(g, n);
  n->shape = s;
  return 0;
}

int shape_pool(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  int nk;
  const int64_t *k = node_ints(n, A_KERNEL, &nk);
  if (x->rank < 3) return fail(g, n, "input needs rank 3 or more ([N, C, spatial...])");
  if (nk != x->rank - 2) return fail(g, n, "kernel needs %d entries", x->rank - 2);
  if (window_attrs(g, n, x->rank - 2)) return -1;
  const int64_t *p = node_ints(n, A_PADS, NULL);
  for (int i = 0; i < nk; i++)
    if (p[i] >= k[i] || p[i + nk] >= k[i])
      return fail(g, n, "pads must be smaller than the kernel");
  Shape s = {.rank = x->rank};
  s.d[0] = x->d[0];
  s.d[1] = x->d[1];
  if (window_out(g, n, x, k, &s)) return -1;
  n->dtype = result_dtype(g, n);
  n->shape = s;
  return 0;
}

/* ---- gradients and randomness (autodiff) ---- */

/* A `shape` attribute as a Shape: rank and dimensions checked. */
static int shape_attr(Graph *g, Node *n, Shape *s) {
  int r;
  const int64_t *d = node_ints(n, A_SHAPE, &r);
  if (r > IR_MAX_RANK) return fail(g, n, "rank %d is over %d", r, IR_MAX_RANK);
  for (int i = 0; i < r; i++)
    if (d[i] <= 0) return fail(g, n, "dimensions of shape must be positive");
  *s = shape_make(r, d);
  return 0;
}

/* updates, indices: updates must have the shape gather(zeros(shape), indices) has. */
int shape_scatter(Graph *g, Node *n) {
  const Shape *u = &arg(g, n, 0)->shape, *ix = &arg(g, n, 1)->shape;
  Shape x, want = {0};
  char b1[128], b2[128];
  if (shape_attr(g, n, &x)) return -1;
  if (!dtype_is_int(arg(g, n, 1)->dtype)) return fail(g, n, "indices must be integers");
  Attr *ax = (Attr *)node_attr(n, A_AXIS);
  if (axis_norm(&ax->i, x.rank))
    return fail(g, n, "axis %lld is out of range for rank %d", (long long)ax->i, x.rank);
  if (x.rank - 1 + ix->rank > IR_MAX_RANK) return fail(g, n, "updates would have rank over %d", IR_MAX_RANK);
  for (int i = 0; i < ax->i; i++) want.d[want.rank++] = x.d[i];
  for (int i = 0; i < ix->rank; i++) want.d[want.rank++] = ix->d[i];
  for (int i = (int)ax->i + 1; i < x.rank; i++) want.d[want.rank++] = x.d[i];
  if (!shape_eq(u, &want))
    return fail(g, n, "updates are %s, the indices want %s", shp(u, b1), shp(&want, b2));
  n->dtype = result_dtype(g, n);
  n->shape = x;
  return 0;
}

/* The conv that x [N,C,S..] and w [O,C/g,K..] make must give y: the operands of both
 * conv gradients are checked against the conv they undo. */
static int conv_check(Graph *g, Node *n, const Shape *x, const Shape *w, const Shape *y) {
  char b1[128], b2[128], b3[128], b4[128];
  int64_t groups = node_int(n, A_GROUPS);
  if (x->rank < 3 || w->rank != x->rank || y->rank != x->rank)
    return fail(g, n, "input %s, weight %s and result %s need one rank, 3 or more", shp(x, b1),
                shp(w, b2), shp(y, b3));
  int64_t wc;
  if (groups < 1 || x->d[1] % groups || w->d[0] % groups || ck_mul(w->d[1], groups, &wc) || wc != x->d[1])
    return fail(g, n, "input %s and weight %s disagree on channels for %lld group(s)", shp(x, b1),
                shp(w, b2), (long long)groups);
  if (window_attrs(g, n, x->rank - 2)) return -1;
  Shape s = {.rank = x->rank};
  s.d[0] = x->d[0];
  s.d[1] = w->d[0];
  if (window_out(g, n, x, w->d + 2, &s)) return -1;
  if (!shape_eq(&s, y))
    return fail(g, n, "the gradient is %s, but the conv of %s by %s gives %s", shp(y, b1),
                shp(x, b2), shp(w, b3), shp(&s, b4));
  return 0;
}

static int same_dtype(Graph *g, Node *n) {
  if (n->op == OP_MATMUL && arg(g, n, 0)->dtype != arg(g, n, 1)->dtype) return fail(g, n, "operands differ in dtype");
  n->dtype = result_dtype(g, n);
  return 0;
}

int shape_conv_grad_input(Graph *g, Node *n) {
  Shape x;
  if (shape_attr(g, n, &x) || same_dtype(g, n)) return -1;
  if (conv_check(g, n, &x, &arg(g, n, 1)->shape, &arg(g, n, 0)->shape)) return -1;
  n->shape = x;
  return 0;
}

int shape_conv_grad_weight(Graph *g, Node *n) {
  Shape w;
  if (shape_attr(g, n, &w) || same_dtype(g, n)) return -1;
  if (conv_check(g, n, &arg(g, n, 0)->shape, &w, &arg(g, n, 1)->shape)) return -1;
  n->shape = w;
  return 0;
}

/* The pool of x (its shape) must give gy's shape. */
static int pool_check(Graph *g, Node *n, const Shape *x, const Shape *gy) {
  char b1[128], b2[128], b3[128];
  int nk;
  const int64_t *k = node_ints(n, A_KERNEL, &nk);
  if (x->rank < 3) return fail(g, n, "input needs rank 3 or more ([N, C, spatial...])");
  if (nk != x->rank - 2) return fail(g, n, "kernel needs %d entries", x->rank - 2);
  if (window_attrs(g, n, x->rank - 2)) return -1;
  const int64_t *p = node_ints(n, A_PADS, NULL);
  for (int i = 0; i < nk; i++)
    if (p[i] >= k[i] || p[i + nk] >= k[i]) return fail(g, n, "pads must be smaller than the kernel");
  Shape s = {.rank = x->rank};
  s.d[0] = x->d[0];
  s.d[1] = x->d[1];
  if (window_out(g, n, x, k, &s)) return -1;
  if (!shape_eq(&s, gy))
    return fail(g, n, "the gradient is %s, but pooling %s gives %s", shp(gy, b1), shp(x, b2),
                shp(&s, b3));
  return 0;
}

int shape_pool_max_grad(Graph *g, Node *n) {
  if (same_dtype(g, n) || pool_check(g, n, &arg(g, n, 0)->shape, &arg(g, n, 1)->shape)) return -1;
  n->shape = arg(g, n, 0)->shape;
  return 0;
}

int shape_pool_avg_grad(Graph *g, Node *n) {
  Shape x;
  if (shape_attr(g, n, &x) || pool_check(g, n, &x, &arg(g, n, 0)->shape)) return -1;
  n->dtype = result_dtype(g, n);
  n->shape = x;
  return 0;
}

/* step: one integer; the result a float of the attribute's shape. */
int shape_rng(Graph *g, Node *n) {
  const Node *step = arg(g, n, 0);
  Shape s;
  if (shape_attr(g, n, &s)) return -1;
  if (!dtype_is_int(step->dtype) || shape_numel(&step->shape) != 1)
    return fail(g, n, "the step must be one integer");
  n->dtype = result_dtype(g, n);
  if (!dtype_is_float(n->dtype)) return fail(g, n, "dtype must be a float type");
  n->shape = s;
  return 0;
}

/* ---- data-dependent results (padded) ---- */

int shape_nonzero(Graph *g, Node *n) {
  const Shape *x = &arg(g, n, 0)->shape;
  if (x->rank < 1) return fail(g, n, "the operand needs rank 1 or more");
  int64_t d[2] = {x->rank, shape_numel(x)};
  n->dtype = DT_I64;
  n->shape = shape_make(2, d);
  return 0;
}

int shape_unique(Graph *g, Node *n) {
  const Node *x = arg(g, n, 0);
  Attr *ax = (Attr *)node_attr(n, A_AXIS);
  int64_t part = node_int(n, A_PART), sorted = node_int(n, A_SORTED);
  if (axis_norm(&ax->i, x->shape.rank))
    return fail(g, n, "axis %lld is out of range for rank %d", (long long)ax->i, x->shape.rank);
  if (part < 0 || part > 4) return fail(g, n, "part %lld is not 0..4", (long long)part);
  if (sorted != 0 && sorted != 1) return fail(g, n, "sorted is 0 or 1");
  DType want = part == 0 ? x->dtype : DT_I64;
  if (result_dtype(g, n) != want)
    return fail(g, n, "part %lld is %s, not %s", (long long)part, dtype_name(want), dtype_name(result_dtype(g, n)));
  n->dtype = want;
  int64_t dim = x->shape.d[ax->i];
  n->shape = part == 0 ? x->shape : part == 4 ? (Shape){0} : shape_make(1, &dim);
  return 0;
}

int shape_nms(Graph *g, Node *n) {
  const Shape *b = &arg(g, n, 0)->shape, *s = &arg(g, n, 1)->shape;
  char b1[128], b2[128];
  if (b->rank != 3 || b->d[2] != 4 || s->rank != 3 || s->d[0] != b->d[0] || s->d[2] != b->d[1])
    return fail(g, n, "boxes %s and scores %s are not [B,N,4] and [B,C,N]", shp(b, b1), shp(s, b2));
  for (int i = 2; i < 4; i++)
    if (arg(g, n, i)->shape.rank != 0) return fail(g, n, "operand %d (a threshold) must be a scalar", i + 1);
  int64_t part = node_int(n, A_PART), most = node_int(n, A_MAX_OUT), center = node_int(n, A_CENTER);
  if (part != 0 && part != 1) return fail(g, n, "part %lld is not 0 or 1", (long long)part);
  if (center != 0 && center != 1) return fail(g, n, "center is 0 or 1");
  if (most < 0) return fail(g, n, "max_out is negative");
  int64_t per = most < b->d[1] ? most : b->d[1], rows;
  if (ck_mul(b->d[0], s->d[1], &rows) || ck_mul(rows, per, &rows)) return fail(g, n, "too many rows");
  int64_t d[2] = {rows, 3};
  n->dtype = DT_I64;
  n->shape = part ? (Shape){0} : shape_make(2, d);
  return 0;
}

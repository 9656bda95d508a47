/* test_grad_ops.c — the gradient rule of every differentiable core op against central
 * finite differences, in double precision, on random shapes (broadcasting included).
 *
 * The ops come from ops.def itself: every row whose grad column is not g_none or
 * g_zero must have a case below, so a new op with a rule and no test fails here.
 * Inputs are drawn away from kinks and poles (log's 0, abs's 0, asin's +-1); max,
 * min and the max reductions see distinct random values, so no tie sits within a
 * finite-difference step. */
#include "grad_check.h"

static const Range ANY = {-1.5, 1.5, false, 0};

/* ---- elementwise ---- */

/* Where each unary op is smooth and finite; ANY for the rest. */
static const Range domains[OP_COUNT] = {
    [OP_LOG] = {0.5, 2, false, 0},     [OP_SQRT] = {0.5, 2, false, 0},
    [OP_RSQRT] = {0.5, 2, false, 0},   [OP_RECIP] = {0.5, 2, true, 0},
    [OP_ABS] = {0.1, 1.5, true, 0},    [OP_ASIN] = {-0.8, 0.8, false, 0},
    [OP_ACOS] = {-0.8, 0.8, false, 0}, [OP_ATANH] = {-0.8, 0.8, false, 0},
    [OP_ACOSH] = {1.2, 3, false, 0},
};

static Range unary_domain(Op op) { return domains[op].lo == domains[op].hi ? ANY : domains[op]; }

static int unary(Case *c, Op op) {
  int x = gc_var(c, gc_shape(&c->rng, 0, 3, 4), unary_domain(op));
  return ir_unary(c->g, op, x);
}

/* a and b broadcast against each other, each to a random part of one shape. */
static int binary(Case *c, Op op) {
  Range ra = ANY, rb = ANY;
  if (op == OP_DIV) rb = (Range){0.5, 2, true, 0};
  if (op == OP_POW) ra = (Range){0.5, 2, false, 0}, rb = (Range){-2, 2, false, 0};
  if (op == OP_MOD) ra = (Range){-3, 3, false, 0}, rb = (Range){0.6, 1.4, true, 0};
  Shape y = gc_shape(&c->rng, 0, 4, 3);
  int a = gc_var(c, gc_bcast_of(&c->rng, y), ra);
  int b = gc_var(c, gc_bcast_of(&c->rng, y), rb);
  return ir_binary(c->g, op, a, b);
}

static int select_(Case *c, Op op) {
  (void)op;
  Shape y = gc_shape(&c->rng, 1, 3, 4);
  int cond = gc_const(c, DT_BOOL, gc_bcast_of(&c->rng, y), (Range){0, 1.999, false, 0});
  int t = gc_var(c, gc_bcast_of(&c->rng, y), ANY), e = gc_var(c, y, ANY);
  return ir_select(c->g, cond, t, e);
}

/* f64 -> f32 -> f64: both directions of a float cast (the step is large: f32 rounds). */
static int cast(Case *c, Op op) {
  (void)op;
  int x = gc_var(c, gc_shape(&c->rng, 1, 3, 4), ANY);
  return ir_cast(c->g, ir_cast(c->g, x, DT_F32), DT_F64);
}

/* ---- reductions ---- */

static int reduce(Case *c, Op op) {
  Shape s = gc_shape(&c->rng, 1, 4, 4);
  int64_t ax[IR_MAX_RANK];
  int na = 0;
  for (int d = 0; d < s.rank; d++)
    if (rnd_unit(&c->rng) < 0.5) ax[na++] = d;
  if (!na) ax[na++] = gc_int(&c->rng, 0, s.rank - 1);
  Range r = op == OP_REDUCE_PROD ? (Range){0.5, 1.5, true, 0} : ANY;
  int x = gc_var(c, s, r);
  return ir_reduce(c->g, op, x, ax, na, rnd_unit(&c->rng) < 0.5);
}

/* prod is multilinear, so finite differences are exact even where x holds zeros:
 * groups with no zero, one zero and several. */
static int prod_zeros(Case *c, Op op) {
  int x = gc_var(c, SHP(6, 4), (Range){0.5, 1.5, true, 0.3});
  int64_t ax = 0;
  return ir_reduce(c->g, op, x, &ax, 1, false);
}

/* ---- movement ---- */

static int reshape(Case *c, Op op) {
  (void)op;
  Shape s = gc_shape(&c->rng, 1, 4, 3);
  int x = gc_var(c, s, ANY);
  Shape t = {.rank = s.rank};
  for (int d = 0; d < s.rank; d++) t.d[d] = s.d[s.rank - 1 - d];
  return ir_reshape(c->g, x, t.d, t.rank);
}

static int transpose(Case *c, Op op) {
  (void)op;
  Shape s = gc_shape(&c->rng, 1, 5, 3);
  int64_t p[IR_MAX_RANK];
  for (int d = 0; d < s.rank; d++) p[d] = d;
  for (int d = s.rank - 1; d > 0; d--) {
    int k = (int)gc_int(&c->rng, 0, d);
    int64_t t = p[d];
    p[d] = p[k], p[k] = t;
  }
  return ir_transpose(c->g, gc_var(c, s, ANY), p);
}

static int broadcast(Case *c, Op op) {
  Shape y = gc_shape(&c->rng, 1, 4, 3);
  int x = gc_var(c, gc_bcast_of(&c->rng, y), ANY);
  Attr a = attr_ints(A_SHAPE, y.d, y.rank);
  return ir_add(c->g, op, &x, 1, &a, 1);
}

/* Steps in -2..3, never empty. */
static int slice(Case *c, Op op) {
  Shape s = gc_shape(&c->rng, 1, 3, 7);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  static const int64_t steps[] = {-2, -1, 1, 1, 2, 3};
  for (int d = 0; d < s.rank; d++) {
    sp[d] = steps[gc_int(&c->rng, 0, 5)];
    int64_t half = (s.d[d] - 1) / 2; /* starts in the half the step walks away from */
    st[d] = sp[d] > 0 ? gc_int(&c->rng, 0, half) : gc_int(&c->rng, half, s.d[d] - 1);
    en[d] = sp[d] > 0 ? gc_int(&c->rng, st[d] + 1, s.d[d]) : gc_int(&c->rng, -1, st[d] - 1);
  }
  int x = gc_var(c, s, ANY);
  Attr a[3] = {attr_ints(A_STARTS, st, s.rank), attr_ints(A_ENDS, en, s.rank),
               attr_ints(A_STEPS, sp, s.rank)};
  return ir_add(c->g, op, &x, 1, a, 3);
}

/* Pads in -1..2 (negative crops). */
static int pad(Case *c, Op op) {
  Shape s = gc_shape(&c->rng, 1, 4, 4);
  int64_t p[2 * IR_MAX_RANK];
  for (int d = 0; d < s.rank; d++) {
    p[d] = gc_int(&c->rng, s.d[d] > 1 ? -1 : 0, 2);
    p[s.rank + d] = gc_int(&c->rng, s.d[d] + p[d] > 1 ? -1 : 0, 2);
  }
  int x = gc_var(c, s, ANY);
  Attr a[2] = {attr_ints(A_PADS, p, 2 * s.rank), attr_float(A_VALUE, 0.5)};
  return ir_add(c->g, op, &x, 1, a, 2);
}

static int concat(Case *c, Op op) {
  Shape s = gc_shape(&c->rng, 1, 4, 3);
  int ax = (int)gc_int(&c->rng, 0, s.rank - 1), k = (int)gc_int(&c->rng, 2, 3), in[3];
  for (int i = 0; i < k; i++) {
    s.d[ax] = gc_int(&c->rng, 1, 3);
    in[i] = gc_var(c, s, ANY);
  }
  Attr a = attr_int(A_AXIS, ax);
  return ir_add(c->g, op, in, k, &a, 1);
}

/* Indices of dimension d: negative ones and repeats included. */
static int indices(Case *c, int64_t d) {
  return gc_const(c, DT_I64, gc_shape(&c->rng, 0, 2, 4),
                  (Range){(double)-d, (double)d - 0.001, false, 0});
}

static int gather(Case *c, Op op) {
  Shape s = gc_shape(&c->rng, 1, 3, 4);
  int ax = (int)gc_int(&c->rng, 0, s.rank - 1);
  int x = gc_var(c, s, ANY), in[2] = {x, indices(c, s.d[ax])};
  Attr a = attr_int(A_AXIS, ax);
  return ir_add(c->g, op, in, 2, &a, 1);
}

static int scatter_add(Case *c, Op op) {
  Shape s = gc_shape(&c->rng, 1, 3, 4), u = {0};
  int ax = (int)gc_int(&c->rng, 0, s.rank - 1), ix = indices(c, s.d[ax]);
  const Shape *is = &c->g->nodes[ix]->shape;
  for (int d = 0; d < ax; d++) u.d[u.rank++] = s.d[d];
  for (int d = 0; d < is->rank; d++) u.d[u.rank++] = is->d[d];
  for (int d = ax + 1; d < s.rank; d++) u.d[u.rank++] = s.d[d];
  int in[2] = {gc_var(c, u, ANY), ix};
  Attr a[2] = {attr_ints(A_SHAPE, s.d, s.rank), attr_int(A_AXIS, ax)};
  return ir_add(c->g, op, in, 2, a, 2);
}

/* ---- heavy ---- */

/* [.., M, K] x [.., K, N] with random transposes and batch dims broadcast. */
static int matmul(Case *c, Op op) {
  (void)op;
  bool ta = rnd_unit(&c->rng) < 0.5, tb = rnd_unit(&c->rng) < 0.5;
  int64_t m = gc_int(&c->rng, 1, 4), k = gc_int(&c->rng, 1, 4), n = gc_int(&c->rng, 1, 4);
  Shape batch = gc_shape(&c->rng, 0, 2, 3), a = gc_bcast_of(&c->rng, batch),
        b = gc_bcast_of(&c->rng, batch);
  if (rnd_unit(&c->rng) < 0.5) a = batch;
  a.d[a.rank++] = ta ? k : m, a.d[a.rank++] = ta ? m : k;
  b.d[b.rank++] = tb ? n : k, b.d[b.rank++] = tb ? k : n;
  return ir_matmul(c->g, gc_var(c, a, ANY), gc_var(c, b, ANY), ta, tb);
}

/* A random 1-d or 2-d window: x [N, C, S..], weights [O, C/g, K..] or a pool kernel. */
typedef struct Win {
  int nsp;
  int64_t k[2], st[2], pad[4], dil[2], groups;
  Shape x, w;
} Win;

static Win window(Case *c, bool pool) {
  Win w = {.nsp = (int)gc_int(&c->rng, 1, 2), .groups = pool ? 1 : gc_int(&c->rng, 1, 2)};
  w.x = (Shape){.rank = 2 + w.nsp, .d = {gc_int(&c->rng, 1, 2), w.groups * gc_int(&c->rng, 1, 2)}};
  w.w = (Shape){.rank = 2 + w.nsp, .d = {w.groups * gc_int(&c->rng, 1, 2), w.x.d[1] / w.groups}};
  for (int d = 0; d < w.nsp; d++) {
    w.k[d] = gc_int(&c->rng, 1, 3);
    w.st[d] = gc_int(&c->rng, 1, 2);
    w.dil[d] = gc_int(&c->rng, 1, 2);
    w.pad[d] = gc_int(&c->rng, 0, w.k[d] - 1), w.pad[w.nsp + d] = gc_int(&c->rng, 0, w.k[d] - 1);
    w.x.d[2 + d] = w.dil[d] * (w.k[d] - 1) + 1 + gc_int(&c->rng, 0, 4);
    w.w.d[2 + d] = w.k[d];
  }
  return w;
}

/* The window's attributes: strides, pads, dilations, then groups (conv) or the kernel
 * (pool), then `shape` if given. */
static int win_attrs(const Win *w, bool pool, const Shape *shape, Attr *a) {
  int k = 0;
  a[k++] = attr_ints(A_STRIDES, w->st, w->nsp);
  a[k++] = attr_ints(A_PADS, w->pad, 2 * w->nsp);
  a[k++] = attr_ints(A_DILATIONS, w->dil, w->nsp);
  a[k++] = pool ? attr_ints(A_KERNEL, w->k, w->nsp) : attr_int(A_GROUPS, w->groups);
  if (shape) a[k++] = attr_ints(A_SHAPE, shape->d, shape->rank);
  return k;
}

/* conv's result shape for the window, through the shape rule. */
static Shape conv_out(const Win *w) {
  Graph *t = ir_graph_new("probe");
  int in[2] = {ir_input(t, "x", DT_F64, w->x), ir_input(t, "w", DT_F64, w->w)};
  Attr a[5];
  int y = ir_add(t, OP_CONV, in, 2, a, win_attrs(w, false, NULL, a));
  Shape s = y < 0 ? (Shape){0} : t->nodes[y]->shape;
  ir_graph_free(t);
  return s;
}

static Shape pool_out(const Win *w) {
  Graph *t = ir_graph_new("probe");
  int x = ir_input(t, "x", DT_F64, w->x);
  Attr a[5];
  int y = ir_add(t, OP_POOL_AVG, &x, 1, a, win_attrs(w, true, NULL, a));
  Shape s = y < 0 ? (Shape){0} : t->nodes[y]->shape;
  ir_graph_free(t);
  return s;
}

static int conv(Case *c, Op op) {
  Win w = window(c, false);
  Attr a[5];
  int in[2] = {gc_var(c, w.x, ANY), gc_var(c, w.w, ANY)};
  return ir_add(c->g, op, in, 2, a, win_attrs(&w, false, NULL, a));
}

static int conv_grad_input(Case *c, Op op) {
  Win w = window(c, false);
  Attr a[5];
  int in[2] = {gc_var(c, conv_out(&w), ANY), gc_var(c, w.w, ANY)};
  return ir_add(c->g, op, in, 2, a, win_attrs(&w, false, &w.x, a));
}

static int conv_grad_weight(Case *c, Op op) {
  Win w = window(c, false);
  Attr a[5];
  int in[2] = {gc_var(c, w.x, ANY), gc_var(c, conv_out(&w), ANY)};
  return ir_add(c->g, op, in, 2, a, win_attrs(&w, false, &w.w, a));
}

static int pool(Case *c, Op op) {
  Win w = window(c, true);
  Attr a[6];
  int x = gc_var(c, w.x, ANY), na = win_attrs(&w, true, NULL, a);
  if (op == OP_POOL_AVG) a[na++] = attr_int(A_COUNT_PAD, rnd_unit(&c->rng) < 0.5);
  return ir_add(c->g, op, &x, 1, a, na);
}

static int pool_avg_grad(Case *c, Op op) {
  Win w = window(c, true);
  Attr a[7];
  int gy = gc_var(c, pool_out(&w), ANY), na = win_attrs(&w, true, &w.x, a);
  a[na++] = attr_int(A_COUNT_PAD, rnd_unit(&c->rng) < 0.5);
  return ir_add(c->g, op, &gy, 1, a, na);
}

/* ---- the cases, and the check that every differentiable op has one ---- */

typedef struct GradCase {
  const char *impl; /* every op of this family, or */
  Op op;            /* this one op (impl NULL) */
  GradBuild build;
  double h;
  int trials;
} GradCase;

static const GradCase cases[] = {
    {"unary", 0, unary, 1e-6, 3},
    {"binary", 0, binary, 1e-6, 4},
    {NULL, OP_SELECT, select_, 1e-6, 3},
    {NULL, OP_CAST, cast, 1e-2, 2},
    {"reduce", 0, reduce, 1e-6, 5},
    {NULL, OP_REDUCE_PROD, prod_zeros, 1e-3, 2},
    {NULL, OP_RESHAPE, reshape, 1e-6, 2},
    {NULL, OP_TRANSPOSE, transpose, 1e-6, 3},
    {NULL, OP_BROADCAST, broadcast, 1e-6, 3},
    {NULL, OP_SLICE, slice, 1e-6, 8},
    {NULL, OP_PAD, pad, 1e-6, 5},
    {NULL, OP_CONCAT, concat, 1e-6, 3},
    {NULL, OP_GATHER, gather, 1e-6, 4},
    {NULL, OP_SCATTER_ADD, scatter_add, 1e-6, 4},
    {NULL, OP_MATMUL, matmul, 1e-6, 6},
    {NULL, OP_CONV, conv, 1e-6, 6},
    {NULL, OP_CONV_GRAD_INPUT, conv_grad_input, 1e-6, 4},
    {NULL, OP_CONV_GRAD_WEIGHT, conv_grad_weight, 1e-6, 4},
    {NULL, OP_POOL_MAX, pool, 1e-6, 5},
    {NULL, OP_POOL_AVG, pool, 1e-6, 5},
    {NULL, OP_POOL_AVG_GRAD, pool_avg_grad, 1e-6, 4},
};

static const char *const grad_names[OP_COUNT] = {
#define OP(id, name, nin, impl, types, result, attrs, scalar, cexpr, grad) [OP_##id] = #grad,
#include "ops.def"
#undef OP
};

static bool differentiable(Op op) {
  return strcmp(grad_names[op], "g_none") && strcmp(grad_names[op], "g_zero");
}

static bool covers(const GradCase *gc, Op op) {
  return gc->impl ? !strcmp(ir_ops[op].impl, gc->impl) : gc->op == op;
}

/* A seed from the op's name (FNV-1a), so that an op added to ops.def changes no other
 * op's draws. */
static uint64_t name_seed(const char *name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
  return h;
}

static void check_op(Op op) {
  int ran = 0;
  double largest = 0;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    if (!covers(&cases[k], op)) continue;
    for (int t = 0; t < cases[k].trials; t++, ran++) {
      char what[96];
      snprintf(what, sizeof what, "%s (case %zu, trial %d)", ir_ops[op].name, k, t);
      double err = gc_check(cases[k].build, op, name_seed(ir_ops[op].name) + 31 * k + (uint64_t)t,
                            cases[k].h, what);
      if (!(err <= largest)) largest = err;
      if (!(err <= GRAD_TOL)) {
        fprintf(stderr, "%s: largest error %.3g\n", what, err);
        check_failures++;
      }
    }
  }
  printf("%-18s %2d trials, largest error %.2g\n", ir_ops[op].name, ran, largest);
  if (!ran)
    fprintf(stderr, "%s has the gradient rule %s but no test case\n", ir_ops[op].name,
            grad_names[op]);
  CHECK(ran > 0);
}

/* ---- second derivatives: the gradient of a gradient ---- */

/* y = d sum(tanh(conv(x, w)) * R) / d x, built by autodiff itself; the checker then
 * differentiates sum(y * R') again, through conv_grad_input, tanh's rule and broadcast. */
static int second_order(Case *c, Op op) {
  (void)op;
  Win w = window(c, false);
  Attr a[5];
  int x = gc_var(c, w.x, ANY), k = gc_var(c, w.w, ANY), in[2] = {x, k};
  int y = ir_unary(c->g, OP_TANH, ir_add(c->g, OP_CONV, in, 2, a, win_attrs(&w, false, NULL, a)));
  int loss = gc_loss(c, y), dx;
  DlcErr e = {{0}};
  if (loss < 0 || pass_autodiff(c->g, loss, &x, 1, &dx, &e)) return -1;
  return dx;
}

static void second_derivatives(void) {
  for (int t = 0; t < 4; t++) {
    double err = gc_check(second_order, OP_CONV, 77 + (uint64_t)t, 1e-6, "second order");
    printf("second order (conv, tanh) trial %d: largest error %.2g\n", t, err);
    CHECK(err <= GRAD_TOL);
  }
}

/* ---- ties: where finite differences cannot judge, the documented choice ---- */

static double *run(Graph *g, int loss, int *wrt, int n, const double *const *in) {
  int grads[4];
  DlcErr e = {{0}};
  if (pass_autodiff(g, loss, wrt, n, grads, &e)) return NULL;
  double *out = calloc(64, sizeof(double)), *outs[4];
  for (int i = 0; i < n; i++)
    ir_output(g, grads[i], g->nodes[wrt[i]]->name), outs[i] = out + 16 * i;
  return interp_run(g, in, outs, &e) ? (free(out), NULL) : out;
}

/* reduce_max shares gy evenly among equal maxima. */
static void ties_reduce(void) {
  Graph *g = ir_graph_new("ties");
  double x[12] = {2, 2, 1, 0, 1, 1, 1, 1, 0, 3, 3, 3}, r[3] = {0.5, -2, 3};
  int xi = ir_input(g, "x", DT_F64, SHP(3, 4)), rc = ir_const(g, "r", DT_F64, SHP(3), r);
  int64_t ax = 1, all = 0;
  int y = ir_reduce(g, OP_REDUCE_MAX, xi, &ax, 1, false);
  int loss = ir_reduce(g, OP_REDUCE_SUM, ir_binary(g, OP_MUL, y, rc), &all, 1, false);
  const double *in[1] = {x};
  double *got = run(g, loss, &xi, 1, in);
  CHECK(got != NULL);
  for (int i = 0; got && i < 3; i++) {
    double m = -INFINITY, k = 0;
    for (int j = 0; j < 4; j++) m = fmax(m, x[4 * i + j]);
    for (int j = 0; j < 4; j++) k += x[4 * i + j] == m;
    for (int j = 0; j < 4; j++) CHECK(got[4 * i + j] == (x[4 * i + j] == m ? r[i] / k : 0));
  }
  free(got);
  ir_graph_free(g);
}

/* max(a, b) with a == b: the gradient goes to a, the operand the forward op picks;
 * min the same; pool_max to the first maximum of a window. */
static void ties_pick(void) {
  Graph *g = ir_graph_new("ties");
  double a[4] = {1, 2, 3, 4}, b[4] = {1, 5, 3, 0};
  int ai = ir_input(g, "a", DT_F64, SHP(1, 1, 2, 2)),
      bi = ir_input(g, "b", DT_F64, SHP(1, 1, 2, 2));
  int64_t all[4] = {0, 1, 2, 3}, k[2] = {2, 2};
  Attr pa = attr_ints(A_KERNEL, k, 2);
  int mx = ir_binary(g, OP_MAX, ai, bi), mn = ir_binary(g, OP_MIN, ai, bi);
  int pool = ir_add(g, OP_POOL_MAX, &bi, 1, &pa, 1); /* b's window: 5 */
  int s =
      ir_binary(g, OP_ADD,
                ir_binary(g, OP_ADD, mx, ir_binary(g, OP_MUL, mn, ir_scalar(g, DT_F64, 10))), pool);
  int loss = ir_reduce(g, OP_REDUCE_SUM, s, all, 4, false), wrt[2] = {ai, bi};
  const double *in[2] = {a, b};
  double *got = run(g, loss, wrt, 2, in);
  CHECK(got != NULL);
  for (int i = 0; got && i < 4; i++) {
    double da = (a[i] < b[i] ? 0 : 1) + (b[i] < a[i] ? 0 : 10);
    double db =
        (a[i] < b[i] ? 1 : 0) + (b[i] < a[i] ? 10 : 0) + 4 * (i == 1); /* pool: read 4 times */
    CHECK(got[i] == da && got[16 + i] == db);
  }
  free(got);
  ir_graph_free(g);
}

int main(void) {
  int n = 0;
  for (int op = 0; op < OP_COUNT; op++)
    if (differentiable((Op)op)) check_op((Op)op), n++;
  printf("test_grad_ops: %d differentiable ops checked against finite differences\n", n);
  second_derivatives();
  ties_reduce();
  ties_pick();
  return check_report("test_grad_ops");
}

/* test_passes_small.c — freeze, fold, cse, dce, bnfold and the pipeline on small graphs whose
 * result after each pass is known by hand: which nodes remain, and that the outputs
 * still equal the interpreter's on the original graph. */
#include "passes_util.h"

static int count_op(const Graph *g, Op op) {
  int k = 0;
  for (int i = 0; i < g->n; i++) k += g->nodes[i]->op == op;
  return k;
}

static const Node *out_node(const Graph *g, int j) { return g->nodes[g->out[j]]; }

/* Runs pass on a copy of g (checked against the interpreter) and returns the copy. */
static Graph *after(const Graph *g, PtPass pass, const char *what) {
  PtVals in = pt_inputs(g, 1), want;
  DlcErr e;
  CHECK(!pt_interp(g, &in, &want, &e));
  pt_check_pass(g, pass, &in, &want, what, NULL);
  Graph *c = pass_clone(g);
  CHECK(!pass(&c, &e) && !ir_verify(c, &e));
  pt_free(&in), pt_free(&want);
  return c;
}

static Graph *vec_graph(int *x) {
  Graph *g = ir_graph_new("t");
  *x = ir_input(g, "x", DT_F32, SHP(2, 3));
  return g;
}

/* ---- fold ---- */

/* op(x, k) (or op(k, x)) disappears: the output is x itself. */
static void neutral(Op op, double k, bool k_first, const char *what) {
  int x;
  Graph *g = vec_graph(&x);
  int c = ir_scalar(g, DT_F32, k);
  ir_output(g, k_first ? ir_binary(g, op, c, x) : ir_binary(g, op, x, c), "y");
  Graph *f = after(g, pass_fold, what);
  CHECK(f->n == 1 && out_node(f, 0)->op == OP_INPUT);
  if (f->n != 1) fprintf(stderr, "%s: %d nodes left\n", what, f->n);
  ir_graph_free(f), ir_graph_free(g);
}

/* op(x, k) stays: not an identity in IEEE arithmetic, or not one at all. */
static void kept(Op op, double k, bool k_first, const char *what) {
  int x;
  Graph *g = vec_graph(&x);
  int c = ir_scalar(g, DT_F32, k);
  ir_output(g, k_first ? ir_binary(g, op, c, x) : ir_binary(g, op, x, c), "y");
  Graph *f = after(g, pass_fold, what);
  CHECK(f->n == 3 && out_node(f, 0)->op == op);
  if (f->n != 3) fprintf(stderr, "%s: %d nodes left\n", what, f->n);
  ir_graph_free(f), ir_graph_free(g);
}

static void fold_neutral(void) {
  neutral(OP_ADD, 0, false, "x+0"), neutral(OP_ADD, 0, true, "0+x");
  neutral(OP_SUB, 0, false, "x-0"), neutral(OP_MUL, 1, false, "x*1");
  neutral(OP_MUL, 1, true, "1*x"), neutral(OP_DIV, 1, false, "x/1");
  kept(OP_MUL, 0, false, "x*0"), kept(OP_SUB, 0, true, "0-x"), kept(OP_DIV, 1, true, "1/x");
  kept(OP_ADD, 1, false, "x+1"), kept(OP_MUL, -1, false, "x*-1");
}

/* x + zeros[4, 2, 3] broadcasts x: the add stays, since x alone has another shape. */
static void fold_keeps_broadcast(void) {
  int x;
  Graph *g = vec_graph(&x);
  float z[24] = {0};
  int c = ir_const(g, NULL, DT_F32, SHP(4, 2, 3), z);
  ir_output(g, ir_binary(g, OP_ADD, x, c), "y");
  Graph *f = after(g, pass_fold, "x + zeros, broadcast");
  CHECK(f->n == 3 && out_node(f, 0)->op == OP_ADD);
  ir_graph_free(f), ir_graph_free(g);
}

static void fold_unary(void) {
  int x;
  Graph *g = vec_graph(&x);
  int nn = ir_unary(g, OP_NEG, ir_unary(g, OP_NEG, x));
  int same = ir_cast(g, nn, DT_F32);
  ir_output(g, same, "y");
  ir_output(g, ir_cast(g, x, DT_F64), "z");
  Graph *f = after(g, pass_fold, "neg neg, cast to f32");
  CHECK(f->n == 2 && out_node(f, 0)->op == OP_INPUT && out_node(f, 1)->op == OP_CAST);
  ir_graph_free(f), ir_graph_free(g);
}

static void fold_movement(void) {
  int x;
  Graph *g = vec_graph(&x);
  int r = ir_reshape(g, ir_reshape(g, x, (int64_t[]){3, 2}, 2), (int64_t[]){6}, 1);
  int t = ir_transpose(g, ir_transpose(g, x, (int64_t[]){1, 0}), (int64_t[]){1, 0});
  int same = ir_reshape(g, x, (int64_t[]){2, 3}, 2);
  Attr sl[3] = {attr_ints(A_STARTS, (int64_t[]){0, 0}, 2), attr_ints(A_ENDS, (int64_t[]){2, 3}, 2),
                attr_ints(A_STEPS, (int64_t[]){1, 1}, 2)};
  int s = ir_add(g, OP_SLICE, &x, 1, sl, 3);
  Attr pd = attr_ints(A_PADS, (int64_t[]){0, 0, 0, 0}, 4);
  int p = ir_add(g, OP_PAD, &x, 1, &pd, 1);
  Attr bc = attr_ints(A_SHAPE, (int64_t[]){2, 3}, 2);
  int b = ir_add(g, OP_BROADCAST, &x, 1, &bc, 1);
  int cat = ir_add(g, OP_CONCAT, &x, 1, (Attr[]){attr_int(A_AXIS, 0)}, 1);
  int outs[] = {r, t, same, s, p, b, cat};
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    char name[8];
    snprintf(name, sizeof name, "y%zu", i);
    ir_output(g, outs[i], name);
  }
  Graph *f = after(g, pass_fold, "movement");
  /* x and one reshape (to [6], reading x); every other output is x */
  CHECK(f->n == 2 && count_op(f, OP_RESHAPE) == 1 && f->nodes[1]->in[0] == 0);
  for (int j = 1; j < f->nout; j++) CHECK(out_node(f, j)->op == OP_INPUT);
  ir_graph_free(f), ir_graph_free(g);
}

/* transpose [1,2,0] of transpose [2,0,1] is the identity; [1,0,2] of [0,2,1] is [2,0,1]. */
static void fold_transposes(void) {
  Graph *g = ir_graph_new("t");
  int x = ir_input(g, "x", DT_F32, SHP(2, 3, 4));
  int a = ir_transpose(g, ir_transpose(g, x, (int64_t[]){2, 0, 1}), (int64_t[]){1, 2, 0});
  int b = ir_transpose(g, ir_transpose(g, x, (int64_t[]){0, 2, 1}), (int64_t[]){1, 0, 2});
  ir_output(g, a, "a"), ir_output(g, b, "b");
  Graph *f = after(g, pass_fold, "transpose of transpose");
  CHECK(f->n == 2 && out_node(f, 0)->op == OP_INPUT && out_node(f, 1)->op == OP_TRANSPOSE);
  const int64_t *p = node_ints(out_node(f, 1), A_PERM, NULL);
  CHECK(p[0] == 2 && p[1] == 0 && p[2] == 1);
  ir_graph_free(f), ir_graph_free(g);
}

static void fold_constants(void) {
  int x;
  Graph *g = vec_graph(&x);
  int c = ir_unary(g, OP_EXP, ir_binary(g, OP_ADD, ir_scalar(g, DT_F32, 1), ir_scalar(g, DT_F32, 2)));
  int w = ir_param(g, "w", DT_F32, SHP(3), (Init){.kind = INIT_NORMAL, .b = 1, .seed = 3});
  int pw = ir_binary(g, OP_MUL, w, ir_scalar(g, DT_F32, 2)); /* a PARAM is not folded */
  ir_output(g, ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, x, c), pw), "y");
  Graph *f = after(g, pass_fold, "constants");
  /* x, w, 2, w*2, exp(3) as one CONST, x*c, + */
  CHECK(f->n == 7 && count_op(f, OP_CONST) == 2 && count_op(f, OP_EXP) == 0 && count_op(f, OP_PARAM) == 1);
  ir_graph_free(f), ir_graph_free(g);
}

/* A broadcast of a scalar constant stays a broadcast: folding would grow the weights. */
static void fold_no_growth(void) {
  Graph *g = ir_graph_new("t");
  int x = ir_input(g, "x", DT_F32, SHP(100, 100));
  Attr bc = attr_ints(A_SHAPE, (int64_t[]){100, 100}, 2);
  int one = ir_scalar(g, DT_F32, 1.5);
  int b = ir_add(g, OP_BROADCAST, &one, 1, &bc, 1);
  ir_output(g, ir_binary(g, OP_ADD, x, b), "y");
  Graph *f = after(g, pass_fold, "large broadcast");
  CHECK(count_op(f, OP_BROADCAST) == 1);
  ir_graph_free(f), ir_graph_free(g);
}

static void fold_select_relu(void) {
  int x;
  Graph *g = vec_graph(&x);
  int t = ir_unary(g, OP_TANH, x), u = ir_unary(g, OP_SIN, x);
  int yes = ir_select(g, ir_binary(g, OP_LT, ir_scalar(g, DT_F32, 0), ir_scalar(g, DT_F32, 1)), t, u);
  int no = ir_select(g, ir_binary(g, OP_GT, ir_scalar(g, DT_F32, 0), ir_scalar(g, DT_F32, 1)), t, u);
  int relu = ir_binary(g, OP_MAX, ir_binary(g, OP_MAX, x, ir_scalar(g, DT_F32, 0)), ir_scalar(g, DT_F32, 0));
  ir_output(g, yes, "yes"), ir_output(g, no, "no"), ir_output(g, relu, "relu");
  Graph *f = after(g, pass_fold, "select, relu of relu");
  CHECK(out_node(f, 0)->op == OP_TANH && out_node(f, 1)->op == OP_SIN);
  CHECK(count_op(f, OP_MAX) == 1 && count_op(f, OP_SELECT) == 0);
  ir_graph_free(f), ir_graph_free(g);
}

/* QuantizeLinear then DequantizeLinear: cast(cast(v, to=i8), to=f32) of a clamped
 * integer v becomes a select; values at every edge (NaN, infinities, -0, halves, the
 * bounds and past them) agree with the interpreter on the original.  Clamps that leave
 * the type's range, or an operand that is not an integer, keep the casts. */
static void qdq_graph(double lo, double hi, bool rounded, Graph **gp, int *x) {
  Graph *g = ir_graph_new("t");
  *x = ir_input(g, "x", DT_F32, SHP(4, 6));
  int w = rounded ? ir_unary(g, OP_ROUND, *x) : *x;
  w = ir_binary(g, OP_ADD, w, ir_scalar(g, DT_F32, 3));
  w = ir_binary(g, OP_MIN, ir_binary(g, OP_MAX, w, ir_scalar(g, DT_F32, lo)), ir_scalar(g, DT_F32, hi));
  int q = ir_cast(g, w, DT_I8), d = ir_cast(g, q, DT_F32);
  ir_output(g, ir_binary(g, OP_MUL, ir_binary(g, OP_SUB, d, ir_scalar(g, DT_F32, 3)), ir_scalar(g, DT_F32, 0.5)), "y");
  *gp = g;
}

static void fold_qdq_case(double lo, double hi, bool rounded, bool folds, const char *what) {
  int x;
  Graph *g;
  qdq_graph(lo, hi, rounded, &g, &x);
  static const double edge[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, 0.5, -0.5, 1.5, -2.5, 124.4, 124.6, 125.5,
                                -131.5, -130.4, 1e9, -1e9, 127, -128, 3.49, -3.51, 0.49999997, 2.5, 1e-40, -1e-40};
  PtVals in = pt_inputs(g, 1), want;
  for (int k = 0; k < 24; k++) in.v[0][k] = edge[k];
  DlcErr e;
  CHECK(!pt_interp(g, &in, &want, &e));
  pt_check_pass(g, pass_fold, &in, &want, what, NULL);
  Graph *f = pass_clone(g);
  CHECK(!pass_fold(&f, &e) && !ir_verify(f, &e));
  CHECK((count_op(f, OP_CAST) == 0) == folds && (count_op(f, OP_SELECT) == 1) == folds);
  if ((count_op(f, OP_CAST) == 0) != folds) fprintf(stderr, "%s: %d casts left\n", what, count_op(f, OP_CAST));
  pt_free(&in), pt_free(&want);
  ir_graph_free(f), ir_graph_free(g);
}

static void fold_qdq(void) {
  fold_qdq_case(-128, 127, true, true, "qdq i8 range");
  fold_qdq_case(0, 127, true, true, "qdq relu range");
  fold_qdq_case(-129, 127, true, false, "qdq below i8");
  fold_qdq_case(-128, 128, true, false, "qdq above i8");
  fold_qdq_case(-128, 127, false, false, "qdq not rounded");
}

/* ---- cse ---- */

static void cse_basic(void) {
  int x;
  Graph *g = vec_graph(&x);
  int e1 = ir_unary(g, OP_EXP, x), e2 = ir_unary(g, OP_EXP, x);
  int a1 = ir_binary(g, OP_ADD, e1, ir_scalar(g, DT_F32, 2));
  int a2 = ir_binary(g, OP_ADD, e2, ir_scalar(g, DT_F32, 2));
  int w1 = ir_param(g, "w1", DT_F32, SHP(3), (Init){.kind = INIT_ONES});
  int w2 = ir_param(g, "w2", DT_F32, SHP(3), (Init){.kind = INIT_ONES});
  int sq = ir_input(g, "sq", DT_F32, SHP(3, 3)); /* sums over either axis: same shape, not equal */
  int s0 = ir_reduce(g, OP_REDUCE_SUM, sq, (int64_t[]){0}, 1, false);
  int s1 = ir_reduce(g, OP_REDUCE_SUM, sq, (int64_t[]){1}, 1, false);
  ir_output(g, ir_binary(g, OP_MUL, a1, a2), "y");
  ir_output(g, ir_binary(g, OP_ADD, w1, w2), "w");
  ir_output(g, s0, "s0"), ir_output(g, s1, "s1");
  Graph *f = after(g, pass_cse, "cse");
  /* x, exp, 2, add, mul; w1, w2, add; sq and two different sums */
  CHECK(f->n == 11 && count_op(f, OP_EXP) == 1 && count_op(f, OP_PARAM) == 2 && count_op(f, OP_CONST) == 1);
  CHECK(count_op(f, OP_REDUCE_SUM) == 2);
  const Node *y = out_node(f, 0);
  CHECK(y->in[0] == y->in[1]);
  ir_graph_free(f), ir_graph_free(g);
}

/* ---- dce ---- */

static void dce_basic(void) {
  Graph *g = ir_graph_new("t");
  int x = ir_input(g, "x", DT_F32, SHP(3));
  ir_unary(g, OP_EXP, x); /* dead */
  int unused = ir_input(g, "unused", DT_F32, SHP(2));
  int w = ir_param(g, "w", DT_F32, SHP(3), (Init){.kind = INIT_ONES});
  ir_scalar(g, DT_F32, 5); /* dead */
  int t = ir_unary(g, OP_TANH, x);
  ir_output(g, t, "y");
  ir_output(g, x, "x_again");
  Graph *f = after(g, pass_dce, "dce");
  CHECK(f->n == 4 && count_op(f, OP_EXP) == 0 && count_op(f, OP_CONST) == 0);
  CHECK(ir_input_id(f, 0) == 0 && ir_input_id(f, 1) == 1 && !strcmp(f->nodes[1]->name, "unused"));
  CHECK(ir_find(f, "w") >= 0 && !strcmp(f->out_name[0], "y") && !strcmp(f->out_name[1], "x_again"));
  CHECK(out_node(f, 0)->op == OP_TANH && out_node(f, 1)->op == OP_INPUT);
  (void)unused, (void)w;
  ir_graph_free(f), ir_graph_free(g);
}

/* Nodes keep their relative order: the rebuild does not reorder what needs no reordering. */
static void dce_keeps_order(void) {
  int x;
  Graph *g = vec_graph(&x);
  int b = ir_unary(g, OP_TANH, x), a = ir_unary(g, OP_EXP, x);
  ir_unary(g, OP_SIN, x); /* dead */
  ir_output(g, ir_binary(g, OP_ADD, ir_unary(g, OP_NEG, b), a), "y");
  Graph *f = after(g, pass_dce, "dce order");
  CHECK(f->n == 5 && f->nodes[1]->op == OP_TANH && f->nodes[2]->op == OP_EXP && f->nodes[3]->op == OP_NEG);
  ir_graph_free(f), ir_graph_free(g);
}

/* A replacement node appended after the users of what it replaces is put before them. */
static void rebuild_reorders(void) {
  int x;
  Graph *g = vec_graph(&x);
  int e = ir_unary(g, OP_EXP, x);
  ir_output(g, ir_unary(g, OP_NEG, e), "y");
  int r = ir_unary(g, OP_TANH, x); /* id 3, after neg */
  int repl[4] = {0, r, 2, 3};
  g = pass_rebuild(g, repl);
  DlcErr err;
  CHECK(!ir_verify(g, &err) && g->n == 3 && g->nodes[1]->op == OP_TANH && out_node(g, 0)->op == OP_NEG);
  ir_graph_free(g);
}

/* ---- bnfold ---- */

static Init rnd(uint64_t seed, double lo, double hi) { return (Init){.kind = INIT_UNIFORM, .a = lo, .b = hi, .seed = seed}; }

/* (y - mean) * (gamma * rsqrt(var + eps)) + beta along axis, as the .dlc layer builds it */
static int batchnorm(Graph *g, int y, int axis, const char *pre) {
  const Shape *s = &g->nodes[y]->shape;
  Shape c = SHP(s->d[axis]);
  char nm[4][32];
  const char *what[4] = {"gamma", "beta", "mean", "var"};
  for (int i = 0; i < 4; i++) snprintf(nm[i], sizeof nm[i], "%s.%s", pre, what[i]);
  int gamma = ir_param(g, nm[0], DT_F32, c, rnd(11, 0.5, 2)), beta = ir_param(g, nm[1], DT_F32, c, rnd(12, -1, 1));
  int mean = ir_param(g, nm[2], DT_F32, c, rnd(13, -1, 1)), var = ir_param(g, nm[3], DT_F32, c, rnd(14, 0.2, 3));
  int sc = ir_binary(g, OP_MUL, gamma, ir_unary(g, OP_RSQRT, ir_binary(g, OP_ADD, var, ir_scalar(g, DT_F32, 1e-5))));
  int64_t d[IR_MAX_RANK];
  for (int i = 0; i < s->rank - axis; i++) d[i] = i ? 1 : s->d[axis];
  int xm = ir_binary(g, OP_SUB, y, ir_reshape(g, mean, d, s->rank - axis));
  int ys = ir_binary(g, OP_MUL, xm, ir_reshape(g, sc, d, s->rank - axis));
  return ir_binary(g, OP_ADD, ys, ir_reshape(g, beta, d, s->rank - axis));
}

static Graph *conv_bn(bool bias, bool shared_w) {
  Graph *g = ir_graph_new("convbn");
  int x = ir_input(g, "x", DT_F32, SHP(2, 3, 6, 6));
  int w = ir_param(g, "w", DT_F32, SHP(4, 3, 3, 3), rnd(1, -1, 1));
  Attr a[1] = {attr_int(A_GROUPS, 1)};
  int y = ir_add(g, OP_CONV, (int[]){x, w}, 2, a, 1);
  if (bias) {
    int b = ir_param(g, "b", DT_F32, SHP(4), rnd(2, -1, 1));
    y = ir_binary(g, OP_ADD, y, ir_reshape(g, b, (int64_t[]){1, 4, 1, 1}, 4));
  }
  ir_output(g, ir_unary(g, OP_TANH, batchnorm(g, y, 1, "bn")), "y");
  if (shared_w) ir_output(g, ir_reduce(g, OP_REDUCE_SUM, w, (int64_t[]){0, 1, 2, 3}, 4, false), "wsum");
  return g;
}

static Graph *dense_bn(bool trans_b) {
  Graph *g = ir_graph_new("densebn");
  int x = ir_input(g, "x", DT_F32, SHP(5, 7));
  int w = ir_param(g, "w", DT_F32, trans_b ? SHP(3, 7) : SHP(7, 3), rnd(3, -1, 1));
  int y = ir_matmul(g, x, w, false, trans_b);
  int b = ir_param(g, "b", DT_F32, SHP(3), rnd(4, -1, 1));
  y = ir_binary(g, OP_ADD, y, b);
  y = ir_binary(g, OP_MUL, y, ir_scalar(g, DT_F32, 3)); /* a scalar factor counts too */
  y = ir_binary(g, OP_SUB, ir_param(g, "c", DT_F32, SHP(3), rnd(5, -1, 1)), y); /* c - y */
  ir_output(g, batchnorm(g, y, 1, "bn"), "y");
  return g;
}

/* The chain is gone: the output reads heavy(x, W') + b' (through tanh for conv). */
static void bnfold_case(Graph *g, Op heavy, bool folds, const char *what) {
  Graph *f = after(g, pass_bnfold, what);
  const Node *y = out_node(f, 0);
  if (y->op == OP_TANH) y = f->nodes[y->in[0]];
  bool folded = y->op == OP_ADD && f->nodes[y->in[0]]->op == heavy && f->nodes[y->in[1]]->op == OP_CONST &&
                count_op(f, OP_MUL) == 0 && count_op(f, OP_SUB) == 0;
  CHECK(folded == folds);
  if (folded != folds) fprintf(stderr, "%s: folded %d, want %d\n", what, folded, folds);
  ir_graph_free(f), ir_graph_free(g);
}

static void bnfold_all(void) {
  bnfold_case(conv_bn(true, false), OP_CONV, true, "conv + bias + batchnorm");
  bnfold_case(conv_bn(false, false), OP_CONV, true, "conv + batchnorm");
  bnfold_case(conv_bn(true, true), OP_CONV, false, "conv whose weight is read twice");
  bnfold_case(dense_bn(false), OP_MATMUL, true, "dense + scale + batchnorm");
  bnfold_case(dense_bn(true), OP_MATMUL, true, "dense (trans_b) + scale + batchnorm");
}

/* Training keeps the chain: parameters change after every step. */
static void bnfold_training(void) {
  Graph *g = conv_bn(true, false);
  PassOptions o = pass_options(2);
  o.training = true, o.verify = true;
  Schedule *s;
  Plan *p;
  DlcErr e;
  Graph *c = pass_clone(g);
  CHECK(!pass_pipeline(&c, &o, &s, &p, &e));
  CHECK(count_op(c, OP_SUB) == 1 && count_op(c, OP_CONV) == 1);
  ir_graph_free(c), ir_graph_free(g);
}

/* ---- freeze ---- */

/* x [2,3] times the transpose of a reshaped parameter [1,4,3]: at -O2 an inference
 * graph computes the reshape and transpose now (the parameter is a constant), a
 * training one keeps the parameter and both movements. */
static Graph *param_matmul(void) {
  int x;
  Graph *g = vec_graph(&x);
  int w = ir_param(g, "w", DT_F32, SHP(1, 4, 3), (Init){.kind = INIT_NORMAL, .b = 1, .seed = 5});
  int64_t shape[] = {4, 3}, perm[] = {1, 0};
  int wt = ir_transpose(g, ir_reshape(g, w, shape, 2), perm);
  ir_output(g, ir_matmul(g, x, wt, false, false), "y");
  return g;
}

static void freeze_weights(void) {
  for (int training = 0; training <= 1; training++) {
    Graph *g = param_matmul(), *c = pass_clone(g);
    PtVals in = pt_inputs(g, 9), want;
    DlcErr e;
    CHECK(!pt_interp(g, &in, &want, &e));
    PassOptions o = pass_options(2);
    o.training = training, o.verify = true;
    pt_check_pipeline(g, o, &in, &want, training ? "param matmul, training" : "param matmul");
    Schedule *s;
    Plan *p;
    CHECK(!pass_pipeline(&c, &o, &s, &p, &e));
    int moves = count_op(c, OP_RESHAPE) + count_op(c, OP_TRANSPOSE);
    CHECK(count_op(c, OP_PARAM) == training && moves == (training ? 2 : 0));
    if (!training) CHECK(c->nodes[c->nodes[c->out[0]]->in[1]]->op == OP_CONST);
    pt_free(&in), pt_free(&want), ir_graph_free(c), ir_graph_free(g);
  }
}

/* An unrolled RNN: each of 4 steps reshapes and transposes the same recurrent weight
 * [1,4,4] (its own nodes, as a frontend builds them) and multiplies the state by it.
 * At -O2 fold makes each step's movement a CONST; cse must make them one, so the
 * weights take one matrix's bytes, not one per step. */
static void freeze_rnn_once(void) {
  Graph *g = ir_graph_new("t");
  int h = ir_input(g, "h", DT_F32, SHP(2, 4));
  int w = ir_param(g, "w", DT_F32, SHP(1, 4, 4), (Init){.kind = INIT_NORMAL, .b = 1, .seed = 6});
  int64_t shape[] = {4, 4}, perm[] = {1, 0};
  for (int step = 0; step < 4; step++)
    h = ir_unary(g, OP_TANH, ir_matmul(g, h, ir_transpose(g, ir_reshape(g, w, shape, 2), perm), false, false));
  ir_output(g, h, "y");
  PtVals in = pt_inputs(g, 10), want;
  DlcErr e;
  CHECK(!pt_interp(g, &in, &want, &e));
  PassOptions o = pass_options(2);
  o.verify = true;
  pt_check_pipeline(g, o, &in, &want, "rnn weight per step");
  Graph *c = pass_clone(g);
  Schedule *s;
  Plan *p;
  CHECK(!pass_pipeline(&c, &o, &s, &p, &e));
  CHECK(count_op(c, OP_CONST) == 1 && count_op(c, OP_MATMUL) == 4 && p->weight_bytes == 64);
  if (p->weight_bytes != 64) fprintf(stderr, "rnn weight per step: %lld weight bytes\n", (long long)p->weight_bytes);
  pt_free(&in), pt_free(&want), ir_graph_free(c), ir_graph_free(g);
}

/* ---- the pipeline ---- */

static void pipeline_levels(void) {
  Graph *g = conv_bn(true, false);
  PtVals in = pt_inputs(g, 5), want;
  DlcErr e;
  CHECK(!pt_interp(g, &in, &want, &e));
  int nodes[3];
  for (int level = 0; level <= 2; level++) {
    char what[32];
    snprintf(what, sizeof what, "conv_bn at -O%d", level);
    pt_check_pipeline(g, pass_options(level), &in, &want, what);
    Graph *c = pass_clone(g);
    PassOptions o = pass_options(level);
    o.verify = true;
    Schedule *s;
    Plan *p;
    CHECK(!pass_pipeline(&c, &o, &s, &p, &e));
    nodes[level] = c->n;
    ir_graph_free(c);
  }
  CHECK(nodes[0] == g->n && nodes[1] <= nodes[0] && nodes[2] < nodes[1]);
  pt_free(&in), pt_free(&want), ir_graph_free(g);
}

/* --print-after prints the graph after that pass once; stats name every pass run. */
static void pipeline_print(void) {
  int x;
  Graph *g = vec_graph(&x);
  ir_output(g, ir_binary(g, OP_ADD, ir_unary(g, OP_EXP, x), ir_scalar(g, DT_F32, 0)), "y");
  FILE *pf = tmpfile(), *sf = tmpfile();
  PassOptions o = pass_options(2);
  o.print_after = "cse", o.print_to = pf, o.stats_to = sf, o.verify = true;
  Schedule *s;
  Plan *p;
  DlcErr e;
  CHECK(!pass_pipeline(&g, &o, &s, &p, &e));
  char buf[4096] = {0}, st[4096] = {0};
  rewind(pf), rewind(sf);
  size_t np = fread(buf, 1, sizeof buf - 1, pf), ns = fread(st, 1, sizeof st - 1, sf);
  CHECK(np > 0 && strstr(buf, "exp(") && !strstr(buf, "add("));
  CHECK(ns > 0 && strstr(st, "freeze") && strstr(st, "fold") && strstr(st, "cse") && strstr(st, "dce") && strstr(st, "bnfold") &&
        strstr(st, "plan"));
  CHECK(pass_known("fold") && pass_known("plan") && !pass_known("nothing"));
  fclose(pf), fclose(sf), ir_graph_free(g);
}

int main(void) {
  fold_neutral();
  fold_keeps_broadcast();
  fold_unary();
  fold_movement();
  fold_transposes();
  fold_constants();
  fold_no_growth();
  fold_select_relu();
  fold_qdq();
  cse_basic();
  dce_basic();
  dce_keeps_order();
  rebuild_reorders();
  bnfold_all();
  bnfold_training();
  freeze_weights();
  freeze_rnn_once();
  pipeline_levels();
  pipeline_print();
  return check_report("test_passes_small");
}

/* test_interp_ops.c — the interpreter's elementwise, movement and reduction ops on small
 * cases whose answers are derived by hand or by direct loops written here. */
#include "interp_util.h"

static void check_values(const double *y, const double *want, int n, const char *what) {
  if (!y) {
    check_failures++;
    fprintf(stderr, "%s: no result\n", what);
    return;
  }
  for (int i = 0; i < n; i++)
    if (!(y[i] == want[i])) {
      check_failures++;
      fprintf(stderr, "%s: element %d is %.17g, want %.17g\n", what, i, y[i], want[i]);
    }
}

static double arange[64];

static void test_binary_broadcast(void) {
  Graph *g = ir_graph_new("t");
  double a[3] = {10, 20, 30}, b[4] = {1, 2, 3, 4};
  int ia = tconst(g, DT_F64, SHP(3, 1), a), ib = tconst(g, DT_F64, SHP(4), b);
  int s = ir_binary(g, OP_SUB, ia, ib);
  CHECK_SHAPE(g, s, 3, 4);
  double *y = eval1(g, s, NULL), want[12];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) want[i * 4 + j] = a[i] - b[j];
  check_values(y, want, 12, "sub [3,1] - [4]");
  free(y);
  ir_graph_free(g);
}

static void test_select_broadcast(void) {
  Graph *g = ir_graph_new("t");
  double c[2] = {1, 0}, a[3] = {1, 2, 3}, b[1] = {-1};
  int ic = tconst(g, DT_BOOL, SHP(2, 1), c), ia = tconst(g, DT_F32, SHP(3), a);
  int ib = tconst(g, DT_F32, SHP(1), b);
  double *y = eval1(g, ir_select(g, ic, ia, ib), NULL);
  double want[6] = {1, 2, 3, -1, -1, -1};
  check_values(y, want, 6, "select");
  free(y);
  ir_graph_free(g);
}

static void test_relu_and_compare(void) {
  Graph *g = ir_graph_new("t");
  double x[4] = {-2, -0.5, 0, 3};
  int ix = tconst(g, DT_F32, SHP(4), x), z = ir_scalar(g, DT_F32, 0);
  int r = ir_binary(g, OP_MAX, ix, z), gt = ir_binary(g, OP_GT, ix, z);
  CHECK(g->nodes[gt]->dtype == DT_BOOL);
  double *y = eval1(g, r, NULL), *c = eval1(g, gt, NULL);
  check_values(y, (double[]){0, 0, 0, 3}, 4, "relu");
  check_values(c, (double[]){0, 0, 0, 1}, 4, "gt 0");
  free(y), free(c);
  ir_graph_free(g);
}

/* The result of an f32 node is what a float holds, not the exact double. */
static void test_f32_rounding(void) {
  Graph *g = ir_graph_new("t");
  int x = ir_input(g, "x", DT_F32, SHP(2));
  int y3 = ir_binary(g, OP_DIV, x, ir_scalar(g, DT_F32, 3));
  double in[2] = {0.1, 1}, *y = eval1(g, y3, (const double *const[]){in});
  check_values(y, (double[]){(double)((float)(double)(float)0.1 / 3.0f), (double)(1.0f / 3.0f)}, 2,
               "f32 input rounding and division");
  free(y);
  ir_graph_free(g);
}

static void test_integer_wrap(void) {
  Graph *g = ir_graph_new("t");
  double a[3] = {100, -128, 127};
  int ia = tconst(g, DT_I8, SHP(3), a);
  int s = ir_binary(g, OP_ADD, ia, ia), ng = ir_unary(g, OP_NEG, ia);
  double *y = eval1(g, s, NULL), *n = eval1(g, ng, NULL);
  check_values(y, (double[]){-56, 0, -2}, 3, "i8 add wraps");
  check_values(n, (double[]){-100, -128, -127}, 3, "i8 neg wraps");
  free(y), free(n);
  ir_graph_free(g);
}

/* Integer division truncates; by zero (and mod by -1) gives 0, where C is undefined. */
static void test_int_div_mod(void) {
  Graph *g = ir_graph_new("t");
  double a[6] = {7, -7, 7, -7, 5, -2147483648.0}, b[6] = {2, 2, -2, 0, 0, -1};
  int ia = tconst(g, DT_I32, SHP(6), a), ib = tconst(g, DT_I32, SHP(6), b);
  int d = ir_binary(g, OP_DIV, ia, ib), m = ir_binary(g, OP_MOD, ia, ib);
  double *yd = eval1(g, d, NULL), *ym = eval1(g, m, NULL);
  /* INT_MIN / -1 overflows int32 and wraps back to INT_MIN */
  check_values(yd, (double[]){3, -3, -3, 0, 0, -2147483648.0}, 6, "i32 div");
  check_values(ym, (double[]){1, -1, 1, 0, 0, 0}, 6, "i32 mod");
  free(yd), free(ym);
  ir_graph_free(g);
}

static void test_float_mod(void) {
  Graph *g = ir_graph_new("t");
  double a[2] = {7.5, -7.5}, b[2] = {2, 2};
  int m = ir_binary(g, OP_MOD, tconst(g, DT_F64, SHP(2), a), tconst(g, DT_F64, SHP(2), b));
  double *y = eval1(g, m, NULL);
  check_values(y, (double[]){1.5, -1.5}, 2, "f64 mod takes the sign of a");
  free(y);
  ir_graph_free(g);
}

static void test_cast(void) {
  Graph *g = ir_graph_new("t");
  double x[7] = {300, -300, 1e10, NAN, -2.7, 2.7, 0};
  int ix = tconst(g, DT_F32, SHP(7), x);
  double *i8 = eval1(g, ir_cast(g, ix, DT_I8), NULL), *u8 = eval1(g, ir_cast(g, ix, DT_U8), NULL);
  double *b = eval1(g, ir_cast(g, ix, DT_BOOL), NULL), *i64 = eval1(g, ir_cast(g, ix, DT_I64), NULL);
  check_values(i8, (double[]){127, -128, 127, 0, -2, 2, 0}, 7, "f32 -> i8 saturates");
  check_values(u8, (double[]){255, 0, 255, 0, 0, 2, 0}, 7, "f32 -> u8 saturates");
  check_values(b, (double[]){1, 1, 1, 1, 1, 1, 0}, 7, "f32 -> bool");
  check_values(i64, (double[]){300, -300, 1e10, 0, -2, 2, 0}, 7, "f32 -> i64");
  free(i8), free(u8), free(b), free(i64);
  double w[3] = {300, -1, 65535};
  int iw = tconst(g, DT_I32, SHP(3), w);
  double *wi8 = eval1(g, ir_cast(g, iw, DT_I8), NULL), *wu8 = eval1(g, ir_cast(g, iw, DT_U8), NULL);
  check_values(wi8, (double[]){44, -1, -1}, 3, "i32 -> i8 wraps");
  check_values(wu8, (double[]){44, 255, 255}, 3, "i32 -> u8 wraps");
  free(wi8), free(wu8);
  ir_graph_free(g);
}

static void test_iota(void) {
  Graph *g = ir_graph_new("t");
  int64_t shape[2] = {2, 3};
  Attr a0[3] = {attr_ints(A_SHAPE, shape, 2), attr_int(A_AXIS, 1), attr_dtype(A_DTYPE, DT_I32)};
  Attr a1[3] = {attr_ints(A_SHAPE, shape, 2), attr_int(A_AXIS, -2), attr_dtype(A_DTYPE, DT_F32)};
  int i0 = ir_add(g, OP_IOTA, NULL, 0, a0, 3), i1 = ir_add(g, OP_IOTA, NULL, 0, a1, 3);
  CHECK(i0 >= 0 && g->nodes[i0]->dtype == DT_I32);
  double *y0 = eval1(g, i0, NULL), *y1 = eval1(g, i1, NULL);
  check_values(y0, (double[]){0, 1, 2, 0, 1, 2}, 6, "iota axis 1");
  check_values(y1, (double[]){0, 0, 0, 1, 1, 1}, 6, "iota axis -2");
  free(y0), free(y1);
  ir_graph_free(g);
}

/* Reductions against direct loops over a random [3,4,5]. */
static void test_reduce(void) {
  Graph *g = ir_graph_new("t");
  double x[60];
  tfill(x, 60, 1);
  int ix = tconst(g, DT_F64, SHP(3, 4, 5), x);
  int64_t ax02[2] = {2, 0}, axl[1] = {-1};
  int s = ir_reduce(g, OP_REDUCE_SUM, ix, ax02, 2, true);
  CHECK_SHAPE(g, s, 1, 4, 1);
  int p = ir_reduce(g, OP_REDUCE_PROD, ix, axl, 1, false);
  int mx = ir_reduce(g, OP_REDUCE_MAX, ix, axl, 1, false);
  int mn = ir_reduce(g, OP_REDUCE_MIN, ix, ax02, 2, false);
  CHECK_SHAPE(g, p, 3, 4);
  double *ys = eval1(g, s, NULL), *yp = eval1(g, p, NULL), *ymx = eval1(g, mx, NULL),
         *ymn = eval1(g, mn, NULL);
  if (!ys || !yp || !ymx || !ymn) check_failures++;
  for (int j = 0; ys && ymn && j < 4; j++) {
    double sum = 0, lo = INFINITY;
    for (int i = 0; i < 3; i++)
      for (int k = 0; k < 5; k++) sum += x[i * 20 + j * 5 + k], lo = fmin(lo, x[i * 20 + j * 5 + k]);
    CHECK_NEAR(ys[j], sum, 1e-12);
    CHECK(ymn[j] == lo);
  }
  for (int r = 0; yp && ymx && r < 12; r++) {
    double prod = 1, hi = -INFINITY;
    for (int k = 0; k < 5; k++) prod *= x[r * 5 + k], hi = fmax(hi, x[r * 5 + k]);
    CHECK_NEAR(yp[r], prod, 1e-15);
    CHECK(ymx[r] == hi);
  }
  free(ys), free(yp), free(ymx), free(ymn);
  /* every axis at once gives a scalar; an integer sum wraps like the dtype */
  int64_t all[3] = {0, 1, 2};
  int tot = ir_reduce(g, OP_REDUCE_SUM, ix, all, 3, false);
  CHECK(tot >= 0 && g->nodes[tot]->shape.rank == 0);
  double *yt = eval1(g, tot, NULL), t = 0;
  for (int i = 0; i < 60; i++) t += x[i];
  if (yt) CHECK_NEAR(yt[0], t, 1e-12);
  free(yt);
  int ii = tconst(g, DT_I8, SHP(2), (double[]){100, 100});
  int64_t ax0[1] = {0};
  double *yi = eval1(g, ir_reduce(g, OP_REDUCE_SUM, ii, ax0, 1, false), NULL);
  check_values(yi, (double[]){-56}, 1, "i8 reduce_sum wraps");
  free(yi);
  ir_graph_free(g);
}

static void test_argmax_ties(void) {
  Graph *g = ir_graph_new("t");
  /* [[1, 3, 3, 2], [5, 0, 5, 0]]: the first of equal maxima and minima wins */
  double x[8] = {1, 3, 3, 2, 5, 0, 5, 0};
  int ix = tconst(g, DT_F32, SHP(2, 4), x);
  Attr a1 = attr_int(A_AXIS, 1), a0[2] = {attr_int(A_AXIS, 0), attr_int(A_KEEPDIMS, 1)};
  int am = ir_add(g, OP_ARGMAX, &ix, 1, &a1, 1), an = ir_add(g, OP_ARGMIN, &ix, 1, &a1, 1);
  int a0m = ir_add(g, OP_ARGMAX, &ix, 1, a0, 2);
  CHECK(am >= 0 && g->nodes[am]->dtype == DT_I64);
  CHECK_SHAPE(g, a0m, 1, 4);
  double *ym = eval1(g, am, NULL), *yn = eval1(g, an, NULL), *y0 = eval1(g, a0m, NULL);
  check_values(ym, (double[]){1, 0}, 2, "argmax ties");
  check_values(yn, (double[]){0, 1}, 2, "argmin ties");
  check_values(y0, (double[]){1, 0, 1, 0}, 4, "argmax axis 0");
  free(ym), free(yn), free(y0);
  ir_graph_free(g);
}

static void test_transpose(void) {
  Graph *g = ir_graph_new("t");
  double x[24];
  tfill(x, 24, 2);
  int ix = tconst(g, DT_F64, SHP(2, 3, 4), x);
  int64_t perm[3] = {2, 0, 1}, inv[3] = {1, 2, 0};
  int t = ir_transpose(g, ix, perm), back = ir_transpose(g, t, inv);
  CHECK_SHAPE(g, t, 4, 2, 3);
  double *yt = eval1(g, t, NULL), *yb = eval1(g, back, NULL), want[24];
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 2; b++)
      for (int c = 0; c < 3; c++) want[(a * 2 + b) * 3 + c] = x[(b * 3 + c) * 4 + a];
  check_values(yt, want, 24, "transpose [2,0,1]");
  check_values(yb, x, 24, "transpose then its inverse");
  free(yt), free(yb);
  ir_graph_free(g);
}

static void test_reshape_broadcast(void) {
  Graph *g = ir_graph_new("t");
  int ix = tconst(g, DT_F32, SHP(2, 3), arange);
  int64_t to[2] = {3, -1}, big[3] = {2, 2, 3};
  int r = ir_reshape(g, ix, to, 2);
  CHECK_SHAPE(g, r, 3, 2);
  double *yr = eval1(g, r, NULL);
  check_values(yr, arange, 6, "reshape keeps the order");
  free(yr);
  int row = tconst(g, DT_F32, SHP(1, 3), arange);
  Attr a = attr_ints(A_SHAPE, big, 3);
  double *yb = eval1(g, ir_add(g, OP_BROADCAST, &row, 1, &a, 1), NULL);
  check_values(yb, (double[]){0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}, 12, "broadcast [1,3] to [2,2,3]");
  free(yb);
  ir_graph_free(g);
}

static int slice(Graph *g, int x, const int64_t *st, const int64_t *en, const int64_t *sp, int r) {
  Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
  return ir_add(g, OP_SLICE, &x, 1, a, 3);
}

/* x = [[0,1,2,3],[4,5,6,7],[8,9,10,11]] */
static void test_slice(void) {
  Graph *g = ir_graph_new("t");
  int ix = tconst(g, DT_F64, SHP(3, 4), arange);
  int fw = slice(g, ix, (int64_t[]){0, 1}, (int64_t[]){3, 4}, (int64_t[]){2, 2}, 2);
  int bw = slice(g, ix, (int64_t[]){2, 3}, (int64_t[]){-1, 0}, (int64_t[]){-1, -2}, 2);
  int mid = slice(g, ix, (int64_t[]){1, 2}, (int64_t[]){2, 0}, (int64_t[]){1, -1}, 2);
  CHECK_SHAPE(g, bw, 3, 2);
  CHECK_SHAPE(g, mid, 1, 2);
  double *yf = eval1(g, fw, NULL), *yb = eval1(g, bw, NULL), *ym = eval1(g, mid, NULL);
  check_values(yf, (double[]){1, 3, 9, 11}, 4, "slice steps 2");
  check_values(yb, (double[]){11, 9, 7, 5, 3, 1}, 6, "slice negative steps to the start");
  check_values(ym, (double[]){6, 5}, 2, "slice negative step stopping before 0");
  free(yf), free(yb), free(ym);
  ir_graph_free(g);
}

static void test_pad(void) {
  Graph *g = ir_graph_new("t");
  int ix = tconst(g, DT_F32, SHP(2, 3), (double[]){1, 2, 3, 4, 5, 6});
  int64_t pads[4] = {1, -1, 0, 1}; /* begins [1, -1], ends [0, 1] */
  Attr a[2] = {attr_ints(A_PADS, pads, 4), attr_float(A_VALUE, 9)};
  int p = ir_add(g, OP_PAD, &ix, 1, a, 2);
  CHECK_SHAPE(g, p, 3, 3);
  double *y = eval1(g, p, NULL);
  check_values(y, (double[]){9, 9, 9, 2, 3, 9, 5, 6, 9}, 9, "pad with a crop");
  free(y);
  int64_t zp[4] = {0, 2, 1, 0};
  Attr az = attr_ints(A_PADS, zp, 4); /* value defaults to 0 */
  double *yz = eval1(g, ir_add(g, OP_PAD, &ix, 1, &az, 1), NULL);
  check_values(yz, (double[]){0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0}, 15, "pad zeros");
  free(yz);
  ir_graph_free(g);
}

static void test_concat(void) {
  Graph *g = ir_graph_new("t");
  int a = tconst(g, DT_F32, SHP(2, 1), (double[]){1, 2});
  int b = tconst(g, DT_F32, SHP(2, 2), (double[]){3, 4, 5, 6});
  int in[3] = {a, b, a};
  Attr ax = attr_int(A_AXIS, -1);
  int c = ir_add(g, OP_CONCAT, in, 3, &ax, 1);
  CHECK_SHAPE(g, c, 2, 4);
  double *y = eval1(g, c, NULL);
  check_values(y, (double[]){1, 3, 4, 1, 2, 5, 6, 2}, 8, "concat axis -1");
  free(y);
  int in0[2] = {b, b};
  Attr ax0 = attr_int(A_AXIS, 0);
  double *y0 = eval1(g, ir_add(g, OP_CONCAT, in0, 2, &ax0, 1), NULL);
  check_values(y0, (double[]){3, 4, 5, 6, 3, 4, 5, 6}, 8, "concat axis 0");
  free(y0);
  ir_graph_free(g);
}

static void test_gather(void) {
  Graph *g = ir_graph_new("t");
  int d = tconst(g, DT_F32, SHP(3, 2), arange);
  int i = tconst(g, DT_I64, SHP(2), (double[]){-1, 0});
  int in[2] = {d, i};
  Attr ax0 = attr_int(A_AXIS, 0);
  double *y = eval1(g, ir_add(g, OP_GATHER, in, 2, &ax0, 1), NULL);
  check_values(y, (double[]){4, 5, 0, 1}, 4, "gather rows -1, 0");
  free(y);
  int i2 = tconst(g, DT_I32, SHP(2, 2), (double[]){1, 0, 1, -2});
  int in2[2] = {d, i2};
  Attr ax1 = attr_int(A_AXIS, 1);
  int g2 = ir_add(g, OP_GATHER, in2, 2, &ax1, 1);
  CHECK_SHAPE(g, g2, 3, 2, 2);
  double *y2 = eval1(g, g2, NULL);
  check_values(y2, (double[]){1, 0, 1, 0, 3, 2, 3, 2, 5, 4, 5, 4}, 12, "gather columns");
  free(y2);
  ir_graph_free(g);

  /* an index out of range is an error that names it */
  g = ir_graph_new("t");
  d = tconst(g, DT_F32, SHP(5), arange);
  int bad = tconst(g, DT_I64, SHP(2), (double[]){1, 7});
  int inb[2] = {d, bad};
  ir_output(g, ir_add(g, OP_GATHER, inb, 2, &ax0, 1), "y");
  double out[2];
  DlcErr e = {{0}};
  CHECK(interp_run(g, NULL, (double *const[]){out}, &e) == -1);
  CHECK(strstr(e.msg, "gather: index 7 is out of range for dimension of size 5") != NULL);
  ir_graph_free(g);

  g = ir_graph_new("t");
  d = tconst(g, DT_F32, SHP(5), arange);
  bad = tconst(g, DT_I64, SHP(1), (double[]){-6});
  int inn[2] = {d, bad};
  ir_output(g, ir_add(g, OP_GATHER, inn, 2, &ax0, 1), "y");
  CHECK(interp_run(g, NULL, (double *const[]){out}, &e) == -1);
  CHECK(strstr(e.msg, "index -6") != NULL);
  ir_graph_free(g);
}

/* Inputs arrive in the order of the INPUT nodes and are rounded to their dtype. */
static void test_inputs_and_outputs(void) {
  Graph *g = ir_graph_new("t");
  int a = ir_input(g, "a", DT_I32, SHP(2)), b = ir_input(g, "b", DT_F64, SHP(2));
  int s = ir_binary(g, OP_MUL, b, b);
  ir_output(g, a, "a_out");
  ir_output(g, s, "sq");
  double ia[2] = {2.9, -3.5}, ib[2] = {1.5, -2}, ya[2], ys[2];
  DlcErr e = {{0}};
  CHECK(interp_run(g, (const double *const[]){ia, ib}, (double *const[]){ya, ys}, &e) == 0);
  check_values(ya, (double[]){2, -3}, 2, "i32 input truncates");
  check_values(ys, (double[]){2.25, 4}, 2, "second input");
  ir_graph_free(g);
}

/* Values freed after their last reader must not be outputs, nor read again later. */
static void test_liveness(void) {
  Graph *g = ir_graph_new("t");
  int x = ir_input(g, "x", DT_F64, SHP(3));
  int a = ir_unary(g, OP_NEG, x);
  ir_unary(g, OP_EXP, x); /* read by nobody */
  int b = ir_binary(g, OP_ADD, a, a);
  int c = ir_binary(g, OP_MUL, b, x);
  ir_output(g, a, "a");
  ir_output(g, c, "c");
  ir_output(g, a, "a_again");
  double in[3] = {1, -2, 0.5}, ya[3], yc[3], ya2[3];
  DlcErr e = {{0}};
  CHECK(interp_run(g, (const double *const[]){in}, (double *const[]){ya, yc, ya2}, &e) == 0);
  check_values(ya, (double[]){-1, 2, -0.5}, 3, "intermediate output");
  check_values(ya2, (double[]){-1, 2, -0.5}, 3, "the same node as a second output");
  check_values(yc, (double[]){-2, -8, -0.5}, 3, "(-x + -x) * x");
  CHECK(interp_run(g, NULL, (double *const[]){ya, yc, ya2}, &e) == -1);
  CHECK(strstr(e.msg, "no values given for input 'x'") != NULL);
  ir_graph_free(g);
}

/* An empty slice reduces to the identity: 0 for a sum, -inf for a float max. */
static void test_empty(void) {
  Graph *g = ir_graph_new("t");
  int ix = tconst(g, DT_F32, SHP(2, 3), arange);
  int e = slice(g, ix, (int64_t[]){0, 2}, (int64_t[]){2, 2}, (int64_t[]){1, 1}, 2);
  CHECK_SHAPE(g, e, 2, 0);
  int64_t ax[1] = {1};
  int s = ir_reduce(g, OP_REDUCE_SUM, e, ax, 1, false), m = ir_reduce(g, OP_REDUCE_MAX, e, ax, 1, false);
  int p = ir_reduce(g, OP_REDUCE_PROD, e, ax, 1, false);
  double *ys = eval1(g, s, NULL), *ym = eval1(g, m, NULL), *yp = eval1(g, p, NULL);
  check_values(ys, (double[]){0, 0}, 2, "sum over nothing");
  check_values(ym, (double[]){-INFINITY, -INFINITY}, 2, "max over nothing");
  check_values(yp, (double[]){1, 1}, 2, "prod over nothing");
  free(ys), free(ym), free(yp);
  ir_graph_free(g);
}

int main(void) {
  for (int i = 0; i < 64; i++) arange[i] = i;
  test_binary_broadcast();
  test_select_broadcast();
  test_relu_and_compare();
  test_f32_rounding();
  test_integer_wrap();
  test_int_div_mod();
  test_float_mod();
  test_cast();
  test_iota();
  test_reduce();
  test_argmax_ties();
  test_transpose();
  test_reshape_broadcast();
  test_slice();
  test_pad();
  test_concat();
  test_gather();
  test_inputs_and_outputs();
  test_liveness();
  test_empty();
  return check_report("test_interp_ops");
}

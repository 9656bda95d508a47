/* test_shape.c — the builders and shape rules of ir/graph.c and ir/shape.c: result
 * shapes and dtypes derived by hand, attribute defaults and normalisation, and a
 * message from every way ir_add can refuse a node. */
#include "check.h"

static Graph *g;

static int in(const char *name, DType t, Shape s) { return ir_input(g, name, t, s); }

static int add1(Op op, int x, const Attr *a, int na) { return ir_add(g, op, &x, 1, a, na); }

static int add2(Op op, int x, int y, const Attr *a, int na) {
  int v[2] = {x, y};
  return ir_add(g, op, v, 2, a, na);
}

static const int64_t *ints_of(int id, AttrKey k, int *n) {
  return node_ints(g->nodes[id], k, n);
}

/* ---- results that build ---- */

static void test_broadcasting(void) {
  int a = in("a", DT_F32, SHP(2, 1, 3)), b = in("b", DT_F32, SHP(4, 1));
  CHECK_SHAPE(g, ir_binary(g, OP_ADD, a, b), 2, 4, 3);
  int s = ir_scalar(g, DT_F32, 2);
  CHECK(g->nodes[s]->shape.rank == 0);
  CHECK_SHAPE(g, ir_binary(g, OP_MUL, s, a), 2, 1, 3);
  int lt = ir_binary(g, OP_LT, a, b);
  CHECK(lt >= 0 && g->nodes[lt]->dtype == DT_BOOL);
  int c = in("c", DT_BOOL, SHP(4, 3)), x = in("x", DT_F64, SHP(3)), y = in("y", DT_F64, SHP(2, 1, 1));
  int sel = ir_select(g, c, x, y);
  CHECK_SHAPE(g, sel, 2, 4, 3);
  CHECK(sel >= 0 && g->nodes[sel]->dtype == DT_F64);
  int64_t to[3] = {5, 4, 3};
  Attr at = attr_ints(A_SHAPE, to, 3);
  CHECK_SHAPE(g, add1(OP_BROADCAST, c, &at, 1), 5, 4, 3);
}

static void test_matmul_shapes(void) {
  int a = in("ma", DT_F32, SHP(2, 1, 3, 4)), b = in("mb", DT_F32, SHP(5, 4, 6));
  CHECK_SHAPE(g, ir_matmul(g, a, b, 0, 0), 2, 5, 3, 6);
  int at = in("mat", DT_F32, SHP(4, 3)), bt = in("mbt", DT_F32, SHP(6, 4));
  CHECK_SHAPE(g, ir_matmul(g, at, bt, 1, 1), 3, 6);
  CHECK_SHAPE(g, ir_matmul(g, at, b, 1, 0), 5, 3, 6);
  /* trans_a and trans_b default to 0 when left out */
  int mm = add2(OP_MATMUL, a, b, NULL, 0);
  CHECK_SHAPE(g, mm, 2, 5, 3, 6);
  CHECK(mm >= 0 && node_int(g->nodes[mm], A_TRANS_A) == 0 && node_int(g->nodes[mm], A_TRANS_B) == 0);
}

static int conv(int x, int w, const int64_t *st, const int64_t *p, const int64_t *d, int nsp,
                int64_t groups) {
  Attr a[4];
  int k = 0;
  if (st) a[k++] = attr_ints(A_STRIDES, st, nsp);
  if (p) a[k++] = attr_ints(A_PADS, p, 2 * nsp);
  if (d) a[k++] = attr_ints(A_DILATIONS, d, nsp);
  if (groups) a[k++] = attr_int(A_GROUPS, groups);
  return add2(OP_CONV, x, w, a, k);
}

/* out = floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1 */
static void test_conv_shapes(void) {
  int x = in("cx", DT_F32, SHP(1, 3, 32, 32)), w = in("cw", DT_F32, SHP(8, 3, 5, 5));
  int64_t s2[2] = {2, 2}, p2[4] = {2, 2, 2, 2}, d2[2] = {2, 2}, d1[2] = {1, 1};
  CHECK_SHAPE(g, conv(x, w, s2, p2, d1, 2, 0), 1, 8, 16, 16);   /* (32+4-4-1)/2+1 */
  CHECK_SHAPE(g, conv(x, w, s2, p2, d2, 2, 0), 1, 8, 14, 14);   /* (32+4-8-1)/2+1 */
  int64_t pa[4] = {0, 1, 3, 0};                                 /* begins h,w then ends */
  CHECK_SHAPE(g, conv(x, w, NULL, pa, NULL, 2, 0), 1, 8, 31, 29);
  int c = conv(x, w, NULL, NULL, NULL, 2, 0);
  CHECK_SHAPE(g, c, 1, 8, 28, 28);
  /* absent strides, pads, dilations and groups are filled in */
  int n;
  const int64_t *v = ints_of(c, A_STRIDES, &n);
  CHECK(n == 2 && v[0] == 1 && v[1] == 1);
  v = ints_of(c, A_PADS, &n);
  CHECK(n == 4 && v[0] == 0 && v[3] == 0);
  v = ints_of(c, A_DILATIONS, &n);
  CHECK(n == 2 && v[0] == 1 && v[1] == 1);
  CHECK(node_int(g->nodes[c], A_GROUPS) == 1);
  int xg = in("cxg", DT_F32, SHP(2, 4, 10, 10)), wg = in("cwg", DT_F32, SHP(6, 2, 3, 3));
  CHECK_SHAPE(g, conv(xg, wg, NULL, NULL, NULL, 2, 2), 2, 6, 8, 8);
  int x1 = in("cx1", DT_F64, SHP(1, 2, 9)), w1 = in("cw1", DT_F64, SHP(4, 2, 3));
  int64_t s3[1] = {3};
  CHECK_SHAPE(g, conv(x1, w1, s3, NULL, NULL, 1, 0), 1, 4, 3);
}

static void test_pool_shapes(void) {
  int x = in("px", DT_F32, SHP(1, 2, 7, 7));
  int64_t k[2] = {3, 3}, s[2] = {2, 2}, p[4] = {1, 1, 1, 1};
  Attr a[3] = {attr_ints(A_KERNEL, k, 2), attr_ints(A_STRIDES, s, 2), attr_ints(A_PADS, p, 4)};
  CHECK_SHAPE(g, add1(OP_POOL_MAX, x, a, 2), 1, 2, 3, 3);
  CHECK_SHAPE(g, add1(OP_POOL_MAX, x, a, 3), 1, 2, 4, 4);
  int avg = add1(OP_POOL_AVG, x, a, 1); /* stride 1 by default */
  CHECK_SHAPE(g, avg, 1, 2, 5, 5);
  CHECK(avg >= 0 && node_int(g->nodes[avg], A_COUNT_PAD) == 0);
}

static void test_reduce_shapes(void) {
  int x = in("rx", DT_F32, SHP(2, 3, 4));
  int64_t ax[2] = {-1, 0};
  int r = ir_reduce(g, OP_REDUCE_SUM, x, ax, 2, false);
  CHECK_SHAPE(g, r, 3);
  int n;
  const int64_t *v = ints_of(r, A_AXES, &n);
  CHECK(n == 2 && v[0] == 0 && v[1] == 2); /* normalised and sorted */
  CHECK(ax[0] == -1);                      /* the caller's array is untouched */
  CHECK_SHAPE(g, ir_reduce(g, OP_REDUCE_MAX, x, ax, 2, true), 1, 3, 1);
  Attr a = attr_ints(A_AXES, ax, 1);
  int d = add1(OP_REDUCE_PROD, x, &a, 1);
  CHECK_SHAPE(g, d, 2, 3);
  CHECK(d >= 0 && node_int(g->nodes[d], A_KEEPDIMS) == 0);
  Attr am = attr_int(A_AXIS, -2);
  int m = add1(OP_ARGMAX, x, &am, 1);
  CHECK_SHAPE(g, m, 2, 4);
  CHECK(m >= 0 && g->nodes[m]->dtype == DT_I64 && node_int(g->nodes[m], A_AXIS) == 1);
}

static void test_movement_shapes(void) {
  int x = in("vx", DT_F32, SHP(2, 3, 4));
  int64_t s[2] = {4, -1};
  int r = ir_reshape(g, x, s, 2);
  CHECK_SHAPE(g, r, 4, 6);
  CHECK(r >= 0 && ints_of(r, A_SHAPE, NULL)[1] == 6);
  int64_t s3[3] = {-1, 1, 2};
  CHECK_SHAPE(g, ir_reshape(g, x, s3, 3), 12, 1, 2);
  int64_t perm[3] = {1, 2, 0};
  CHECK_SHAPE(g, ir_transpose(g, x, perm), 3, 4, 2);

  int v = in("sv", DT_I32, SHP(5, 6));
  int64_t st[2] = {4, 0}, en[2] = {-1, 6}, sp[2] = {-2, 4};
  Attr sa[3] = {attr_ints(A_STARTS, st, 2), attr_ints(A_ENDS, en, 2), attr_ints(A_STEPS, sp, 2)};
  CHECK_SHAPE(g, add1(OP_SLICE, v, sa, 3), 3, 2); /* rows 4,2,0; columns 0,4 */
  int64_t st2[2] = {3, 5}, en2[2] = {1, 5}, sp2[2] = {-1, 1};
  Attr sb[3] = {attr_ints(A_STARTS, st2, 2), attr_ints(A_ENDS, en2, 2), attr_ints(A_STEPS, sp2, 2)};
  CHECK_SHAPE(g, add1(OP_SLICE, v, sb, 3), 2, 0);

  int64_t pads[4] = {-1, 2, 0, -3};
  Attr pa = attr_ints(A_PADS, pads, 4);
  int p = add1(OP_PAD, v, &pa, 1);
  CHECK_SHAPE(g, p, 4, 5);
  CHECK(p >= 0 && node_float(g->nodes[p], A_VALUE) == 0);
  Attr pv[2] = {attr_ints(A_PADS, pads, 4), attr_int(A_VALUE, 3)}; /* an int where a float goes */
  int p3 = add1(OP_PAD, v, pv, 2);
  CHECK(p3 >= 0 && node_float(g->nodes[p3], A_VALUE) == 3);

  int a = in("ca", DT_F32, SHP(2, 3)), b = in("cb", DT_F32, SHP(2, 5));
  Attr ax = attr_int(A_AXIS, -1);
  int c = add2(OP_CONCAT, a, b, &ax, 1);
  CHECK_SHAPE(g, c, 2, 8);
  CHECK(c >= 0 && node_int(g->nodes[c], A_AXIS) == 1);
  int three[3] = {a, a, a};
  Attr ax0 = attr_int(A_AXIS, 0);
  CHECK_SHAPE(g, ir_add(g, OP_CONCAT, three, 3, &ax0, 1), 6, 3);

  int data = in("gd", DT_F32, SHP(5, 6, 7)), idx = in("gi", DT_I64, SHP(2, 3));
  Attr g1 = attr_int(A_AXIS, 1);
  CHECK_SHAPE(g, add2(OP_GATHER, data, idx, &g1, 1), 5, 2, 3, 7);
  int i0 = ir_scalar(g, DT_I32, 4);
  CHECK_SHAPE(g, add2(OP_GATHER, data, i0, &ax0, 1), 6, 7);

  int64_t ishape[2] = {3, 4};
  Attr ia[3] = {attr_ints(A_SHAPE, ishape, 2), attr_int(A_AXIS, 0), attr_dtype(A_DTYPE, DT_I32)};
  int io = ir_add(g, OP_IOTA, NULL, 0, ia, 3);
  CHECK_SHAPE(g, io, 3, 4);
  CHECK(io >= 0 && g->nodes[io]->dtype == DT_I32);
  int cs = ir_cast(g, a, DT_U8);
  CHECK(cs >= 0 && g->nodes[cs]->dtype == DT_U8);
}

/* ---- every refusal names its cause ---- */

static void test_errors(void) {
  int f = in("ef", DT_F32, SHP(3)), d = in("ed", DT_F64, SHP(3)), i = in("ei", DT_I32, SHP(3));
  int bo = in("eb", DT_BOOL, SHP(3)), m = in("em", DT_F32, SHP(2, 3)), four = in("e4", DT_F32, SHP(4));
  int nodes_before = g->n;

  /* operand count and existence */
  CHECK_FAILS(g, ir_add(g, OP_ADD, &f, 1, NULL, 0), "add takes 2 operands, not 1");
  CHECK_FAILS(g, ir_add(g, OP_EXP, (int[]){f, f}, 2, NULL, 0), "exp takes 1 operand, not 2");
  Attr ax0 = attr_int(A_AXIS, 0);
  CHECK_FAILS(g, ir_add(g, OP_CONCAT, NULL, 0, &ax0, 1), "concat takes at least one operand");
  CHECK_FAILS(g, ir_binary(g, OP_ADD, f, 999), "add: operand 2 does not exist");

  /* operand dtypes */
  CHECK_FAILS(g, ir_unary(g, OP_EXP, i), "exp: operand 1 is i32, but exp wants floating-point");
  CHECK_FAILS(g, ir_binary(g, OP_ADD, bo, bo), "wants numeric operands");
  CHECK_FAILS(g, ir_unary(g, OP_NOT, f), "wants bool operands");
  CHECK_FAILS(g, ir_binary(g, OP_ADD, f, d), "add: operands differ in dtype (f32 and f64)");
  CHECK_FAILS(g, ir_select(g, f, f, f), "select: the condition is f32, not bool");
  CHECK_FAILS(g, ir_select(g, bo, f, d), "the two branches differ in dtype");
  CHECK_FAILS(g, ir_matmul(g, m, d, 0, 0), "matmul: operand");

  /* shapes that do not fit */
  CHECK_FAILS(g, ir_binary(g, OP_ADD, f, four), "add: shapes [3] and [4] do not broadcast");
  int a784 = in("a784", DT_F32, SHP(1, 784)), w512 = in("w512", DT_F32, SHP(512, 10));
  CHECK_FAILS(g, ir_matmul(g, a784, w512, 0, 0), "matmul: inner dimensions differ: [1,784] x [512,10]");
  CHECK_FAILS(g, ir_matmul(g, f, f, 0, 0), "operands need rank 2 or more");
  int b1 = in("mb1", DT_F32, SHP(2, 3, 4)), b2 = in("mb2", DT_F32, SHP(3, 4, 5));
  CHECK_FAILS(g, ir_matmul(g, b1, b2, 0, 0), "batch dimensions of [2,3,4] and [3,4,5] do not broadcast");
  int64_t to[1] = {5};
  Attr bt = attr_ints(A_SHAPE, to, 1);
  CHECK_FAILS(g, add1(OP_BROADCAST, f, &bt, 1), "broadcast: [3] does not broadcast to [5]");

  /* axes */
  int64_t bad[1] = {2}, twice[2] = {0, -2};
  CHECK_FAILS(g, ir_reduce(g, OP_REDUCE_SUM, m, bad, 1, false), "axis 2 is out of range for rank 2");
  CHECK_FAILS(g, ir_reduce(g, OP_REDUCE_SUM, m, twice, 2, false), "axis 0 is listed twice");
  Attr axb = attr_int(A_AXIS, -3);
  CHECK_FAILS(g, add1(OP_ARGMAX, m, &axb, 1), "is out of range for rank 2");
  CHECK_FAILS(g, add2(OP_CONCAT, m, m, &axb, 1), "concat: axis");
  CHECK_FAILS(g, add2(OP_GATHER, m, i, &axb, 1), "gather: axis");

  /* attributes: missing, unknown, of the wrong kind, twice, too many */
  CHECK_FAILS(g, add1(OP_CAST, f, NULL, 0), "cast needs attribute 'to'");
  CHECK_FAILS(g, add1(OP_REDUCE_SUM, f, NULL, 0), "reduce_sum needs attribute 'axes'");
  CHECK_FAILS(g, add2(OP_ADD, f, f, &ax0, 1), "add has no attribute 'axis'");
  Attr wrong = attr_float(A_AXIS, 1.5);
  CHECK_FAILS(g, add1(OP_ARGMAX, m, &wrong, 1), "argmax: attribute 'axis' has the wrong kind");
  Attr to_int = attr_int(A_TO, DT_I32);
  CHECK_FAILS(g, add1(OP_CAST, f, &to_int, 1), "cast: attribute 'to' has the wrong kind");
  Attr dup[2] = {attr_int(A_AXIS, 0), attr_int(A_AXIS, 1)};
  CHECK_FAILS(g, add1(OP_ARGMAX, m, dup, 2), "argmax: attribute 'axis' given twice");
  Attr many[9];
  for (int k = 0; k < 9; k++) many[k] = attr_int(A_AXIS, 0);
  CHECK_FAILS(g, add1(OP_ARGMAX, m, many, 9), "too many attributes");

  /* reshape, transpose */
  int64_t r2[2] = {-1, -1}, r5[1] = {5}, r4[2] = {4, -1}, r0[2] = {0, 6};
  CHECK_FAILS(g, ir_reshape(g, m, r2, 2), "more than one -1");
  CHECK_FAILS(g, ir_reshape(g, m, r5, 1), "reshape: [2,3] has 6 elements, the new shape 5");
  CHECK_FAILS(g, ir_reshape(g, m, r4, 2), "cannot infer the -1 dimension");
  CHECK_FAILS(g, ir_reshape(g, m, r0, 2), "dimension 0 is not positive");
  int64_t p3[3] = {0, 1, 2}, pdup[2] = {0, 0};
  Attr tp = attr_ints(A_PERM, p3, 3), tdup = attr_ints(A_PERM, pdup, 2);
  CHECK_FAILS(g, add1(OP_TRANSPOSE, m, &tp, 1), "perm has 3 entries for rank 2");
  CHECK_FAILS(g, add1(OP_TRANSPOSE, m, &tdup, 1), "perm is not a permutation");

  /* slice, pad */
  int64_t z[1] = {0}, one[1] = {1}, three[1] = {3}, four1[1] = {4}, m2[1] = {-2}, stp0[1] = {0};
  Attr s0[3] = {attr_ints(A_STARTS, z, 1), attr_ints(A_ENDS, three, 1), attr_ints(A_STEPS, stp0, 1)};
  CHECK_FAILS(g, add1(OP_SLICE, f, s0, 3), "slice: step 0 is zero");
  Attr s1[3] = {attr_ints(A_STARTS, four1, 1), attr_ints(A_ENDS, three, 1), attr_ints(A_STEPS, one, 1)};
  CHECK_FAILS(g, add1(OP_SLICE, f, s1, 3), "start 4 is out of range for dimension 0 of size 3");
  Attr s2[3] = {attr_ints(A_STARTS, z, 1), attr_ints(A_ENDS, m2, 1), attr_ints(A_STEPS, one, 1)};
  CHECK_FAILS(g, add1(OP_SLICE, f, s2, 3), "end -2 is out of range");
  Attr s3[3] = {attr_ints(A_STARTS, z, 1), attr_ints(A_ENDS, three, 1), attr_ints(A_STEPS, one, 1)};
  CHECK_FAILS(g, add1(OP_SLICE, m, s3, 3), "one entry per dimension (2)");
  Attr pd = attr_ints(A_PADS, z, 1);
  CHECK_FAILS(g, add1(OP_PAD, f, &pd, 1), "pads needs 2 entries (begins, then ends)");
  int64_t neg[2] = {-2, -2};
  Attr pn = attr_ints(A_PADS, neg, 2);
  CHECK_FAILS(g, add1(OP_PAD, f, &pn, 1), "dimension 0 would be negative");

  /* concat, gather */
  CHECK_FAILS(g, add2(OP_CONCAT, f, d, &ax0, 1), "concat: operands differ in dtype");
  Attr ax1 = attr_int(A_AXIS, 1);
  int m4 = in("m4", DT_F32, SHP(4, 3));
  CHECK_FAILS(g, add2(OP_CONCAT, m, m4, &ax1, 1), "[2,3] and [4,3] differ outside axis 1");
  CHECK_FAILS(g, add2(OP_CONCAT, m, f, &ax0, 1), "differ outside axis 0");
  CHECK_FAILS(g, add2(OP_GATHER, m, f, &ax0, 1), "gather: indices must be integers");

  /* conv and pool */
  int x = in("x4", DT_F32, SHP(1, 4, 8, 8)), w3 = in("w3", DT_F32, SHP(6, 3, 3, 3));
  int w2 = in("w2", DT_F32, SHP(6, 2, 3, 3)), wbig = in("wbig", DT_F32, SHP(2, 4, 9, 9));
  CHECK_FAILS(g, conv(x, w3, NULL, NULL, NULL, 2, 0), "disagree on channels for 1 group(s)");
  CHECK_FAILS(g, conv(x, w2, NULL, NULL, NULL, 2, 4), "disagree on channels for 4 group(s)");
  CHECK_FAILS(g, conv(x, m, NULL, NULL, NULL, 2, 0), "need the same rank, 3 or more");
  int64_t s1x[1] = {1}, s00[2] = {0, 1}, pneg[4] = {0, -1, 0, 0};
  CHECK_FAILS(g, conv(x, w2, s1x, NULL, NULL, 1, 2), "strides needs 2 entries");
  CHECK_FAILS(g, conv(x, w2, s00, NULL, NULL, 2, 2), "strides and dilations must be 1 or more");
  CHECK_FAILS(g, conv(x, w2, NULL, pneg, NULL, 2, 2), "pads must not be negative");
  CHECK_FAILS(g, conv(x, wbig, NULL, NULL, NULL, 2, 0), "the window (9) is larger than the padded input (8)");
  int64_t k3[1] = {3}, k22[2] = {2, 2}, p22[4] = {2, 0, 0, 0};
  Attr pk = attr_ints(A_KERNEL, k3, 1);
  CHECK_FAILS(g, add1(OP_POOL_MAX, x, &pk, 1), "kernel needs 2 entries");
  CHECK_FAILS(g, add1(OP_POOL_MAX, m, &pk, 1), "input needs rank 3 or more");
  Attr pp[2] = {attr_ints(A_KERNEL, k22, 2), attr_ints(A_PADS, p22, 4)};
  CHECK_FAILS(g, add1(OP_POOL_AVG, x, pp, 2), "pads must be smaller than the kernel");
  CHECK_FAILS(g, add1(OP_POOL_MAX, i, &pk, 1), "pool_max: operand 1 is i32");

  /* iota */
  int64_t zero_dim[2] = {2, 0};
  Attr io[3] = {attr_ints(A_SHAPE, zero_dim, 2), attr_int(A_AXIS, 0), attr_dtype(A_DTYPE, DT_F32)};
  CHECK_FAILS(g, ir_add(g, OP_IOTA, NULL, 0, io, 3), "iota: dimensions must be positive");
  Attr io2[3] = {attr_ints(A_SHAPE, k22, 2), attr_int(A_AXIS, 2), attr_dtype(A_DTYPE, DT_F32)};
  CHECK_FAILS(g, ir_add(g, OP_IOTA, NULL, 0, io2, 3), "iota: axis is out of range for rank 2");
  CHECK_FAILS(g, ir_add(g, OP_INPUT, NULL, 0, NULL, 0), "input: is made with its own builder");

  /* a refused node leaves the graph as it was, beyond the inputs made above */
  CHECK(g->n == nodes_before + 9);
}

static void test_source_errors(void) {
  /* inputs may be empty (an empty batch); params may not */
  int empty = in("empty0", DT_F32, SHP(2, 0));
  CHECK(empty >= 0 && shape_numel(&g->nodes[empty]->shape) == 0);
  CHECK_FAILS(g, ir_param(g, "bad0", DT_F32, SHP(2, 0), (Init){.kind = INIT_ZEROS}),
              "param 'bad0': dimension 1 is 0; dimensions must be positive");
  CHECK_FAILS(g, in("ef", DT_F32, SHP(2)), "input 'ef': the name is already taken");
  Shape deep = {.rank = IR_MAX_RANK + 1};
  CHECK_FAILS(g, in("deep", DT_F32, deep), "rank 9 is out of range");
  int64_t huge[3] = {1 << 20, 1 << 20, 1 << 10};
  CHECK_FAILS(g, in("huge", DT_F32, shape_make(3, huge)), "(--max-elements)");
  int x = in("outx", DT_F32, SHP(1));
  CHECK(ir_output(g, x, "y") == 0);
  CHECK_FAILS(g, ir_output(g, x, "y"), "output 'y' is declared twice");
  CHECK(ir_find(g, "outx") == x && ir_find(g, "nope") == -1);
  CHECK(ir_num_inputs(g) > 0 && ir_input_id(g, 0) == 0 && ir_input_id(g, ir_num_inputs(g)) == -1);
}

/* ---- the op table ---- */

static void test_op_table(void) {
  for (int op = 0; op < OP_COUNT; op++) {
    const char *name = ir_ops[op].name;
    CHECK(op_parse(name, strlen(name)) == op);
    CHECK(ir_ops[op].shape != NULL);
    AttrSpec spec[8];
    int ns = op_attr_specs((Op)op, spec, 8);
    for (int k = 0; k < ns; k++) CHECK(spec[k].key < A_COUNT && spec[k].kind <= AK_DTYPE);
    /* elementwise ops and reductions carry the scalar the interpreter applies */
    bool needs_scalar = op_is_elementwise((Op)op) && op != OP_CAST && op != OP_BITCAST;
    needs_scalar |= !strcmp(ir_ops[op].impl, "reduce");
    CHECK(!needs_scalar || ir_ops[op].scalar);
  }
  CHECK(op_parse("ad", 2) == -1 && op_parse("addx", 4) == -1 && op_parse("add", 3) == OP_ADD);
  for (int k = 0; k < A_COUNT; k++) CHECK(attr_parse(attr_name(k), strlen(attr_name(k))) == k);
  CHECK(attr_parse("axi", 3) == -1);
  for (int k = 0; k < INIT_COUNT; k++) CHECK(init_parse(init_name(k), strlen(init_name(k))) == k);
  CHECK(init_parse("xavie", 5) == -1);
  AttrSpec spec[8];
  CHECK(op_attr_specs(OP_REDUCE_SUM, spec, 8) == 2);
  CHECK(spec[0].key == A_AXES && spec[0].kind == AK_INTS && !spec[0].optional);
  CHECK(spec[1].key == A_KEEPDIMS && spec[1].has_default && spec[1].def == 0);
  CHECK(op_attr_specs(OP_CONV, spec, 8) == 4);
  CHECK(spec[0].optional && !spec[0].has_default && spec[3].key == A_GROUPS && spec[3].def == 1);
  CHECK(op_attr_specs(OP_ADD, spec, 8) == 0);
  CHECK(op_is_elementwise(OP_SELECT) && op_is_elementwise(OP_CAST) && !op_is_elementwise(OP_MATMUL));
}

int main(void) {
  g = ir_graph_new("shapes");
  test_broadcasting();
  test_matmul_shapes();
  test_conv_shapes();
  test_pool_shapes();
  test_reduce_shapes();
  test_movement_shapes();
  test_errors();
  test_source_errors();
  test_op_table();
  ir_graph_free(g);
  return check_report("test_shape");
}

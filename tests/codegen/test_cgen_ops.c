/* test_cgen_ops.c — every op family of ops.def through the C backend, compared with
 * the reference interpreter on seeded inputs: f32 within 1e-5 relative, integers and
 * bools exactly.  Each graph gathers many ops as outputs, so one build covers a family
 * in one dtype. */
#include "cgen_util.h"

static const Range F = {-3, 3}, I = {-10, 10};

static bool op_takes(Op op, DType t) {
  switch (ir_ops[op].types) {
  case T_ANY: return true;
  case T_NUM: return t != DT_BOOL && t != DT_STR;
  case T_FLOAT: return dtype_is_float(t);
  case T_BOOL: return t == DT_BOOL;
  case T_INT: return dtype_is_int(t);
  case T_STR: return t == DT_STR;
  }
  return false;
}

static bool is_impl(Op op, const char *impl) { return !strcmp(ir_ops[op].impl, impl); }

/* Every unary op that takes dtype t, on one input. */
static void unary_ops(DType t, Range f, const char *what) {
  Graph *g = ir_graph_new("unary");
  int x = ir_input(g, "x", t, SHP(3, 5));
  for (int op = 0; op < OP_COUNT; op++)
    if (is_impl((Op)op, "unary") && op_takes((Op)op, t)) cg_out(g, ir_unary(g, (Op)op, x));
  cg_check(g, what, f, I, 1);
  ir_graph_free(g);
}

/* Every binary op that takes dtype t, on operands of shapes a and b. */
static void binary_ops(DType t, Shape a, Shape b, const char *what) {
  Graph *g = ir_graph_new("binary");
  int x = ir_input(g, "a", t, a), y = ir_input(g, "b", t, b);
  for (int op = 0; op < OP_COUNT; op++)
    if (is_impl((Op)op, "binary") && op_takes((Op)op, t)) cg_out(g, ir_binary(g, (Op)op, x, y));
  cg_check(g, what, F, I, 2);
  ir_graph_free(g);
}

static void binary_all(void) {
  static const DType all[] = {DT_F32, DT_F64, DT_I8,  DT_I16, DT_I32, DT_I64,
                              DT_U8,  DT_BOOL, DT_U16, DT_U32, DT_U64};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    char what[64];
    snprintf(what, sizeof what, "binary %s same shape", dtype_name(all[i]));
    binary_ops(all[i], SHP(3, 4), SHP(3, 4), what);
    snprintf(what, sizeof what, "binary %s broadcast", dtype_name(all[i]));
    binary_ops(all[i], SHP(2, 1, 4), SHP(3, 1), what);
  }
  binary_ops(DT_F32, SHP(3, 4), SHP(4), "binary f32 row");
  binary_ops(DT_F32, SHP(3, 4), (Shape){0}, "binary f32 scalar right");
  binary_ops(DT_I32, (Shape){0}, SHP(3, 4), "binary i32 scalar left");
  binary_ops(DT_F32, SHP(1, 1), SHP(2, 3), "binary f32 one element");
}

/* Integer division's corners: x/0, x%0, x%-1, INT_MIN/-1.  INT64_MIN / -1 runs (the
 * sanitizers watch it) but is not compared: the interpreter's doubles cannot wrap it. */
static void int_division(void) {
  Graph *g = ir_graph_new("idiv");
  int32_t a[6] = {INT32_MIN, INT32_MIN, 7, -7, 7, -7}, b[6] = {-1, 0, 0, 2, -1, -2};
  int64_t a64[2] = {INT64_MIN, 9}, b64[2] = {-1, -1};
  int ca = ir_const(g, "a", DT_I32, SHP(6), a), cb = ir_const(g, "b", DT_I32, SHP(6), b);
  int x = ir_input(g, "x", DT_I32, SHP(6));
  int sa = ir_binary(g, OP_ADD, ca, x), sb = ir_binary(g, OP_SUB, cb, x); /* keep them live */
  int l = ir_const(g, "l", DT_I64, SHP(2), a64), r = ir_const(g, "r", DT_I64, SHP(2), b64);
  cg_out(g, ir_binary(g, OP_DIV, ca, cb));
  cg_out(g, ir_binary(g, OP_MOD, ca, cb));
  CHECK(ir_binary(g, OP_DIV, l, r) >= 0);
  cg_out(g, ir_binary(g, OP_MOD, l, r));
  cg_out(g, sa), cg_out(g, sb);
  cg_check(g, "integer division corners", F, (Range){0, 0}, 3);
  ir_graph_free(g);
}

/* i32 results that overflow wrap, as the interpreter's do, with no undefined
 * behaviour on the way (the sanitizer build watches). */
static void int32_wrap(void) {
  Graph *g = ir_graph_new("wrap");
  int a = ir_input(g, "a", DT_I32, SHP(4, 16)), b = ir_input(g, "b", DT_I32, SHP(16));
  int32_t mn[2] = {INT32_MIN, INT32_MAX};
  int c = ir_const(g, "c", DT_I32, SHP(2), mn);
  int64_t ax = 0;
  cg_out(g, ir_binary(g, OP_ADD, a, b));
  cg_out(g, ir_binary(g, OP_SUB, a, b));
  cg_out(g, ir_unary(g, OP_NEG, c));
  cg_out(g, ir_unary(g, OP_ABS, c));
  cg_out(g, ir_binary(g, OP_SUB, c, ir_scalar(g, DT_I32, 1)));
  cg_out(g, ir_reduce(g, OP_REDUCE_SUM, a, &ax, 1, false));
  cg_check(g, "i32 wraps", F, (Range){-2e9, 2e9}, 15);
  ir_graph_free(g);
}

static void selects(void) {
  Graph *g = ir_graph_new("select");
  int c = ir_input(g, "c", DT_BOOL, SHP(3, 1)), a = ir_input(g, "a", DT_F32, SHP(3, 4));
  int b = ir_input(g, "b", DT_F32, SHP(4)), i = ir_input(g, "i", DT_I32, SHP(3, 4));
  int j = ir_input(g, "j", DT_I32, SHP(3, 4)), d = ir_input(g, "d", DT_BOOL, SHP(3, 4));
  cg_out(g, ir_select(g, c, a, b));
  cg_out(g, ir_select(g, d, i, j));
  cg_out(g, ir_select(g, d, c, d));
  cg_check(g, "select", F, I, 4);
  ir_graph_free(g);
}

static void casts_from(DType from, Range f, const char *what) {
  Graph *g = ir_graph_new("cast");
  int x = ir_input(g, "x", from, SHP(40));
  for (int t = 0; t < DT_COUNT; t++)
    if (t != DT_STR) cg_out(g, ir_cast(g, x, (DType)t));
  cg_check(g, what, f, (Range){-300, 300}, 5);
  ir_graph_free(g);
}

/* Saturation: NaN, infinities and values beyond every integer type. */
static void cast_saturation(void) {
  Graph *g = ir_graph_new("saturate");
  float v[10] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 3.7f, -3.7f, 300.5f, -300.5f, 0.5f};
  int c = ir_const(g, "v", DT_F32, SHP(10), v), x = ir_input(g, "x", DT_F32, SHP(10));
  int s = ir_binary(g, OP_ADD, c, ir_binary(g, OP_MUL, x, ir_scalar(g, DT_F32, 0)));
  for (int t = 0; t < DT_COUNT; t++)
    if (t != DT_STR) cg_out(g, ir_cast(g, s, (DType)t));
  cg_check(g, "cast saturation", F, I, 6);
  ir_graph_free(g);
}

/* bitcast from each dtype to every other of its width, on x and on x+x (fused into the
 * add's loop at -O2), one graph, against the interpreter.  Not i64 to u64: a negative
 * i64's bits are a u64 near 2^64, which the interpreter's double cannot hold (the ONNX
 * tests compare those bit for bit with numpy). */
static void bitcasts(void) {
  static const DType from[] = {DT_F32, DT_I32, DT_U32, DT_F64, DT_I64, DT_I16, DT_F16, DT_BF16,
                               DT_U8,  DT_BOOL, DT_F8E4M3FN, DT_F8E8M0, DT_I4, DT_F4E2M1, DT_U2};
  Graph *g = ir_graph_new("bitcast");
  for (size_t k = 0; k < sizeof from / sizeof from[0]; k++) {
    char name[16];
    snprintf(name, sizeof name, "x%d", (int)k);
    int x = ir_input(g, name, from[k], SHP(24));
    int xx = dtype_is_storage(from[k]) || from[k] == DT_BOOL ? -1 : ir_binary(g, OP_ADD, x, x);
    for (int t = 0; t < DT_COUNT; t++) {
      if (t == (int)from[k] || t == DT_BOOL || t == DT_STR || dtype_bits((DType)t) != dtype_bits(from[k])) continue;
      if (from[k] == DT_I64 && t == DT_U64) continue;
      Attr a = attr_dtype(A_TO, (DType)t);
      cg_out(g, ir_add(g, OP_BITCAST, &x, 1, &a, 1));
      if (xx >= 0) cg_out(g, ir_add(g, OP_BITCAST, &xx, 1, &a, 1));
    }
  }
  cg_check(g, "bitcast", (Range){-400, 400}, (Range){-300, 300}, 9);
  ir_graph_free(g);
  /* widths that differ, and a byte to bool, are refused by the shape rule */
  g = ir_graph_new("bitcast_bad");
  int x = ir_input(g, "x", DT_I8, SHP(3)), y = ir_input(g, "y", DT_F32, SHP(3));
  Attr to_i4 = attr_dtype(A_TO, DT_I4), to_bool = attr_dtype(A_TO, DT_BOOL), to_i64 = attr_dtype(A_TO, DT_I64);
  CHECK(ir_add(g, OP_BITCAST, &x, 1, &to_i4, 1) < 0 && strstr(g->err.msg, "differ in width"));
  CHECK(ir_add(g, OP_BITCAST, &x, 1, &to_bool, 1) < 0 && strstr(g->err.msg, "no bool"));
  CHECK(ir_add(g, OP_BITCAST, &y, 1, &to_i64, 1) < 0 && strstr(g->err.msg, "differ in width"));
  ir_graph_free(g);
}

static void casts(void) {
  casts_from(DT_F32, (Range){-400, 400}, "cast from f32");
  casts_from(DT_F64, (Range){-3e9, 3e9}, "cast from f64 (wide)");
  casts_from(DT_I32, F, "cast from i32");
  casts_from(DT_I64, F, "cast from i64");
  casts_from(DT_BOOL, F, "cast from bool");
  casts_from(DT_U8, F, "cast from u8");
  casts_from(DT_F16, (Range){-400, 400}, "cast from f16");
  casts_from(DT_BF16, (Range){-3e9, 3e9}, "cast from bf16");
  casts_from(DT_F8E4M3FN, (Range){-500, 500}, "cast from f8e4m3fn");
  casts_from(DT_F8E5M2FNUZ, (Range){-7e4, 7e4}, "cast from f8e5m2fnuz");
  casts_from(DT_F8E8M0, (Range){0, 1e30}, "cast from f8e8m0");
  casts_from(DT_F4E2M1, (Range){-7, 7}, "cast from f4e2m1");
  casts_from(DT_I4, (Range){-8, 7}, "cast from i4");
  casts_from(DT_U2, (Range){0, 3}, "cast from u2");
  cast_saturation();
}

static void reductions(DType t, Range f) {
  static const int64_t sets[][3] = {{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}};
  static const int nset[] = {1, 1, 1, 2, 2, 3};
  Graph *g = ir_graph_new("reduce");
  int x = ir_input(g, "x", t, SHP(2, 3, 4));
  for (int op = 0; op < OP_COUNT; op++) {
    if (!is_impl((Op)op, "reduce")) continue;
    for (int s = 0; s < 6; s++)
      for (int keep = 0; keep < 2; keep++) cg_out(g, ir_reduce(g, (Op)op, x, sets[s], nset[s], keep));
    cg_out(g, ir_reduce(g, (Op)op, x, NULL, 0, false));
  }
  /* Float sums along the innermost axes in 8 lanes (reduce.c): 65 and 195 elements
   * merged from two and three axes (ragged tails), 32 exactly, and 13 (no lanes). */
  static const int64_t long_sets[][3] = {{1, 2}, {0, 1, 2}, {2}, {0, 2}};
  static const int nlong[] = {2, 3, 1, 2};
  int z = ir_input(g, "z", t, SHP(3, 5, 13)), w = ir_input(g, "w", t, SHP(2, 32));
  int64_t last = 1;
  for (int s = 0; s < 4; s++) cg_out(g, ir_reduce(g, OP_REDUCE_SUM, z, long_sets[s], nlong[s], s == 0));
  cg_out(g, ir_reduce(g, OP_REDUCE_SUM, w, &last, 1, false));
  for (int op = 0; op < OP_COUNT; op++) {
    if (!is_impl((Op)op, "arg")) continue;
    for (int ax = -1; ax < 3; ax++)
      for (int keep = 0; keep < 2; keep++) {
        Attr a[2] = {attr_int(A_AXIS, ax), attr_int(A_KEEPDIMS, keep)};
        cg_out(g, ir_add(g, (Op)op, &x, 1, a, 2));
      }
  }
  char what[64];
  snprintf(what, sizeof what, "reductions %s", dtype_name(t));
  cg_check(g, what, f, (Range){-3, 3}, 7);
  ir_graph_free(g);
}

static int slice(Graph *g, int x, const int64_t *st, const int64_t *en, const int64_t *sp, int r) {
  Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
  return ir_add(g, OP_SLICE, &x, 1, a, 3);
}

static int pad(Graph *g, int x, const int64_t *p, int n, double v) {
  Attr a[2] = {attr_ints(A_PADS, p, n), attr_float(A_VALUE, v)};
  return ir_add(g, OP_PAD, &x, 1, a, 2);
}

static void movement(DType t) {
  Graph *g = ir_graph_new("movement");
  int x = ir_input(g, "x", t, SHP(2, 3, 4)), r = ir_input(g, "r", t, SHP(3, 1));
  int64_t shape[2] = {4, 6}, perm[3] = {2, 0, 1}, to[3] = {2, 3, 4};
  cg_out(g, ir_reshape(g, x, shape, 2));
  cg_out(g, ir_transpose(g, x, perm));
  Attr b = attr_ints(A_SHAPE, to, 3);
  cg_out(g, ir_add(g, OP_BROADCAST, &r, 1, &b, 1));
  int64_t s1[3] = {0, 1, 0}, e1[3] = {2, 3, 4}, p1[3] = {1, 1, 2};
  int64_t s2[3] = {1, 2, 3}, e2[3] = {-1, -1, 0}, p2[3] = {-1, -2, -2};
  cg_out(g, slice(g, x, s1, e1, p1, 3));
  cg_out(g, slice(g, x, s2, e2, p2, 3));
  int64_t pa[6] = {1, 0, 2, 0, 2, 1}, pc[6] = {0, -1, 1, -1, 1, -2};
  cg_out(g, pad(g, x, pa, 6, 1.5));
  cg_out(g, pad(g, x, pc, 6, 0));
  int three[3] = {x, x, x};
  for (int ax = 0; ax < 3; ax++) {
    Attr a = attr_int(A_AXIS, ax);
    cg_out(g, ir_add(g, OP_CONCAT, three, 3, &a, 1));
  }
  char what[64];
  snprintf(what, sizeof what, "movement %s", dtype_name(t));
  cg_check(g, what, F, I, 8);
  ir_graph_free(g);
}

static int gather(Graph *g, int x, int idx, int axis) {
  int in[2] = {x, idx};
  Attr a = attr_int(A_AXIS, axis);
  return ir_add(g, OP_GATHER, in, 2, &a, 1);
}

static void gathers(void) {
  Graph *g = ir_graph_new("gather");
  int x = ir_input(g, "x", DT_F32, SHP(4, 3)), i = ir_input(g, "i", DT_I64, SHP(2, 3));
  int z = ir_input(g, "z", DT_I32, SHP(2, 4, 3));
  int32_t k[3] = {-1, 0, 2};
  int ki = ir_const(g, "k", DT_I32, SHP(3), k);
  cg_out(g, gather(g, x, i, 0));
  cg_out(g, gather(g, z, ki, 1));
  cg_out(g, gather(g, z, ki, -1));
  cg_out(g, gather(g, x, ir_scalar(g, DT_I8, -2), 0));
  cg_check(g, "gather", F, (Range){-4, 3}, 9);
  ir_graph_free(g);
}

static void iotas(void) {
  Graph *g = ir_graph_new("iota");
  static const DType ts[] = {DT_F32, DT_I32, DT_I64, DT_U8, DT_BOOL};
  int64_t shape[3] = {2, 3, 4};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
    for (int ax = 0; ax < 3; ax++) {
      Attr a[3] = {attr_ints(A_SHAPE, shape, 3), attr_int(A_AXIS, ax), attr_dtype(A_DTYPE, ts[i])};
      cg_out(g, ir_add(g, OP_IOTA, NULL, 0, a, 3));
    }
  cg_check(g, "iota", F, I, 10);
  ir_graph_free(g);
}

static void matmuls(DType t) {
  Graph *g = ir_graph_new("matmul");
  int a = ir_input(g, "a", t, SHP(3, 4)), b = ir_input(g, "b", t, SHP(4, 5));
  int at = ir_input(g, "at", t, SHP(4, 3)), bt = ir_input(g, "bt", t, SHP(5, 4));
  int ba = ir_input(g, "ba", t, SHP(2, 1, 3, 4)), bb = ir_input(g, "bb", t, SHP(3, 4, 5));
  int bbt = ir_input(g, "bbt", t, SHP(3, 5, 4));
  cg_out(g, ir_matmul(g, a, b, false, false));
  cg_out(g, ir_matmul(g, at, b, true, false));
  cg_out(g, ir_matmul(g, a, bt, false, true));
  cg_out(g, ir_matmul(g, at, bt, true, true));
  cg_out(g, ir_matmul(g, ba, bb, false, false));
  cg_out(g, ir_matmul(g, ba, bbt, false, true));
  cg_out(g, ir_matmul(g, a, bb, false, false));
  cg_out(g, ir_matmul(g, bb, bbt, true, true));
  char what[64];
  snprintf(what, sizeof what, "matmul %s", dtype_name(t));
  cg_check(g, what, F, I, 11);
  ir_graph_free(g);
}

/* conv with optional strides, pads, dilations (n spatial dims) and groups. */
static int conv(Graph *g, int x, int w, int n, const int64_t *st, const int64_t *p,
                const int64_t *d, int64_t groups) {
  int in[2] = {x, w};
  Attr a[4];
  int na = 0;
  if (st) a[na++] = attr_ints(A_STRIDES, st, n);
  if (p) a[na++] = attr_ints(A_PADS, p, 2 * n);
  if (d) a[na++] = attr_ints(A_DILATIONS, d, n);
  a[na++] = attr_int(A_GROUPS, groups);
  return ir_add(g, OP_CONV, in, 2, a, na);
}

static void convs(DType t) {
  Graph *g = ir_graph_new("conv");
  int x1 = ir_input(g, "x1", t, SHP(2, 4, 9)), w1 = ir_input(g, "w1", t, SHP(6, 2, 3));
  int x2 = ir_input(g, "x2", t, SHP(1, 3, 7, 6)), w2 = ir_input(g, "w2", t, SHP(4, 3, 3, 2));
  int dw = ir_input(g, "dw", t, SHP(3, 1, 3, 3));
  int x3 = ir_input(g, "x3", t, SHP(1, 2, 5, 4, 4)), w3 = ir_input(g, "w3", t, SHP(2, 2, 2, 3, 2));
  int64_t s1[1] = {2}, p1[2] = {1, 2}, d1[1] = {2};
  cg_out(g, conv(g, x1, w1, 1, NULL, NULL, NULL, 2));
  cg_out(g, conv(g, x1, w1, 1, s1, p1, d1, 2));
  int64_t s2[2] = {2, 1}, p2[4] = {1, 0, 1, 2}, d2[2] = {1, 2};
  cg_out(g, conv(g, x2, w2, 2, NULL, NULL, NULL, 1));
  cg_out(g, conv(g, x2, w2, 2, s2, p2, d2, 1));
  int64_t p3[4] = {1, 1, 1, 1};
  cg_out(g, conv(g, x2, dw, 2, NULL, p3, NULL, 3));
  int64_t s4[3] = {1, 2, 1}, p4[6] = {0, 1, 1, 1, 0, 1}, d4[3] = {2, 1, 1};
  cg_out(g, conv(g, x3, w3, 3, s4, p4, d4, 1));
  char what[64];
  snprintf(what, sizeof what, "conv %s", dtype_name(t));
  cg_check(g, what, F, I, 12);
  ir_graph_free(g);
}

static int pool(Graph *g, Op op, int x, int n, const int64_t *k, const int64_t *st,
                const int64_t *p, const int64_t *d, int count_pad) {
  Attr a[5];
  int na = 0;
  a[na++] = attr_ints(A_KERNEL, k, n);
  if (st) a[na++] = attr_ints(A_STRIDES, st, n);
  if (p) a[na++] = attr_ints(A_PADS, p, 2 * n);
  if (d) a[na++] = attr_ints(A_DILATIONS, d, n);
  if (op == OP_POOL_AVG) a[na++] = attr_int(A_COUNT_PAD, count_pad);
  return ir_add(g, op, &x, 1, a, na);
}

/* Max pooling's NaNs and signed zeros, bit for bit against the interpreter: a later tap
 * wins only when greater, so NaNs are skipped and of +0 and -0 the first in (k0, k1)
 * order is kept, whichever way pool.c groups the taps (pool_max_sep: each row's maxima
 * first; pool_rows; the loop per output). */
static void pool_max_bits(void) {
  static const float vals[] = {NAN, -0.0f, 0.0f, 1.0f, -1.0f, -INFINITY, 0.0f, -0.0f, NAN};
  /* padded (the row maxima), padded asymmetrically with stride 1 down, and unpadded on
   * rows of 39 outputs (a row at a time, on every target's vectors) */
  int64_t k[3][2] = {{3, 3}, {2, 3}, {3, 3}}, st[3][2] = {{2, 2}, {1, 2}, {2, 2}};
  int64_t pd[3][4] = {{1, 1, 1, 1}, {0, 1, 1, 0}, {0, 0, 0, 0}}, wide[3] = {9, 9, 79};
  for (int c = 0; c < 3; c++) {
    Graph *g = ir_graph_new("pool_bits");
    int x = ir_input(g, "x", DT_F32, SHP(1, 2, 7, wide[c]));
    ir_output(g, pool(g, OP_POOL_MAX, x, 2, k[c], st[c], pd[c], NULL, 0), "y");
    int64_t n = 2 * 7 * wide[c], ny = shape_numel(&g->nodes[g->out[0]]->shape);
    float xs[2 * 7 * 79], ys[2 * 7 * 79];
    double xd[2 * 7 * 79], yd[2 * 7 * 79];
    uint64_t seed = 91 + (uint64_t)c;
    for (int64_t i = 0; i < n; i++) xs[i] = vals[rnd_next(&seed) % 9], xd[i] = xs[i];
    DlcErr e;
    const double *din[1] = {xd};
    double *dout[1] = {yd};
    const void *in[1] = {xs};
    void *out[1] = {ys};
    JitOptions o = {.cflags = CGEN_STRICT};
    JitModel *m = NULL;
    if (interp_run(g, din, dout, &e) || !(m = jit_build(g, &o, &e)) || jit_run(m, in, out, &e)) {
      fprintf(stderr, "pool max bits %d: %s\n", c, e.msg);
      check_failures++;
    } else {
      for (int64_t i = 0; i < ny; i++) {
        float want = (float)yd[i];
        if (memcmp(&want, &ys[i], sizeof want) && !(isnan(want) && isnan(ys[i]))) {
          fprintf(stderr, "pool max bits %d: y[%lld] is %g (sign %d), the interpreter's %g (sign %d)\n", c,
                  (long long)i, (double)ys[i], !!signbit(ys[i]), (double)want, !!signbit(want));
          check_failures++;
          break;
        }
      }
    }
    if (m) jit_free(m);
    ir_graph_free(g);
  }
}

static void pools(void) {
  Graph *g = ir_graph_new("pool");
  int x1 = ir_input(g, "x1", DT_F32, SHP(2, 3, 9)), x2 = ir_input(g, "x2", DT_F32, SHP(1, 2, 7, 6));
  int x3 = ir_input(g, "x3", DT_F64, SHP(1, 2, 4, 5, 4));
  int64_t k1[1] = {3}, s1[1] = {2}, p1[2] = {1, 2};
  int64_t k2[2] = {3, 2}, s2[2] = {2, 2}, p2[4] = {1, 0, 2, 1}, d2[2] = {2, 1};
  int64_t k3[3] = {2, 2, 3}, s3[3] = {1, 2, 1}, p3[6] = {1, 0, 1, 0, 1, 1};
  /* 2-d without dilation, a row at a time (pool.c pool_rows): ResNet's 3x3/2 padded by
   * one, asymmetric pads with a stride as large as the kernel, a kernel larger than x,
   * and a stride above the kernel with pads of two (f64) */
  int x4 = ir_input(g, "x4", DT_F64, SHP(1, 2, 3, 3));
  int64_t k4[2] = {3, 3}, s4[2] = {2, 2}, p4[4] = {1, 1, 1, 1};
  int64_t k5[2] = {2, 3}, s5[2] = {1, 3}, p5[4] = {0, 2, 1, 0};
  int64_t k6[2] = {4, 5}, s6[2] = {1, 1}, p6[4] = {2, 2, 2, 2};
  int64_t k7[2] = {3, 1}, s7[2] = {4, 1}, p7[4] = {2, 0, 2, 0};
  for (int op = OP_POOL_MAX; op <= OP_POOL_AVG; op++)
    for (int cp = 0; cp < 2; cp++) {
      cg_out(g, pool(g, (Op)op, x2, 2, k4, s4, p4, NULL, cp));
      cg_out(g, pool(g, (Op)op, x2, 2, k5, s5, p5, NULL, cp));
      cg_out(g, pool(g, (Op)op, x4, 2, k6, s6, p6, NULL, cp));
      cg_out(g, pool(g, (Op)op, x4, 2, k7, s7, p7, NULL, cp));
    }
  for (int op = OP_POOL_MAX; op <= OP_POOL_AVG; op++) {
    cg_out(g, pool(g, (Op)op, x1, 1, k1, s1, p1, NULL, 0));
    cg_out(g, pool(g, (Op)op, x1, 1, k1, NULL, NULL, NULL, 0));
    cg_out(g, pool(g, (Op)op, x2, 2, k2, s2, p2, d2, 0));
    cg_out(g, pool(g, (Op)op, x2, 2, k2, s2, p2, d2, 1));
    cg_out(g, pool(g, (Op)op, x3, 3, k3, s3, p3, NULL, 1));
    cg_out(g, pool(g, (Op)op, x3, 3, k3, s3, p3, NULL, 0));
  }
  cg_check(g, "pool", F, I, 13);
  ir_graph_free(g);
}

/* A small network with weights: matmul, bias, relu, softmax-ish reductions, so
 * values flow through the arena and the plan reuses it. */
static void network(void) {
  Graph *g = ir_graph_new("net");
  int x = ir_input(g, "x", DT_F32, SHP(4, 8));
  int w1 = ir_param(g, "w1", DT_F32, SHP(8, 16), (Init){.kind = INIT_XAVIER, .seed = 1});
  int b1 = ir_param(g, "b1", DT_F32, SHP(16), (Init){.kind = INIT_NORMAL, .b = 0.1, .seed = 2});
  int w2 = ir_param(g, "w2", DT_F32, SHP(16, 3), (Init){.kind = INIT_HE, .seed = 3});
  int h = ir_binary(g, OP_ADD, ir_matmul(g, x, w1, false, false), b1);
  h = ir_binary(g, OP_MAX, h, ir_scalar(g, DT_F32, 0));
  int z = ir_matmul(g, h, w2, false, false);
  int64_t ax = 1;
  int m = ir_reduce(g, OP_REDUCE_MAX, z, &ax, 1, true);
  int e = ir_unary(g, OP_EXP, ir_binary(g, OP_SUB, z, m));
  cg_out(g, ir_binary(g, OP_DIV, e, ir_reduce(g, OP_REDUCE_SUM, e, &ax, 1, true)));
  cg_out(g, ir_add(g, OP_ARGMAX, &z, 1, (Attr[]){attr_int(A_AXIS, 1)}, 1));
  cg_out(g, x);
  cg_out(g, w2);
  cg_check(g, "network", F, I, 14);
  ir_graph_free(g);
}

/* Empty results and constants, an output given twice, an input and a constant as
 * outputs. */
static void edges(void) {
  Graph *g = ir_graph_new("edges");
  int x = ir_input(g, "x", DT_F32, SHP(3, 4));
  int64_t st[2] = {1, 0}, en[2] = {1, 4}, sp[2] = {1, 1};
  int empty = slice(g, x, st, en, sp, 2);
  int two[2] = {empty, x};
  Attr a = attr_int(A_AXIS, 0);
  int e = ir_unary(g, OP_EXP, x);
  cg_out(g, empty);
  cg_out(g, ir_unary(g, OP_NEG, empty));
  cg_out(g, ir_add(g, OP_CONCAT, two, 2, &a, 1));
  cg_out(g, e);
  cg_out(g, e);
  cg_out(g, x);
  cg_out(g, ir_scalar(g, DT_I8, -7));
  int none = ir_const(g, "none", DT_F32, SHP(0, 4), NULL);
  int withnone[2] = {x, none};
  cg_out(g, ir_add(g, OP_CONCAT, withnone, 2, &a, 1));
  cg_out(g, ir_unary(g, OP_ABS, none));
  cg_out(g, none);
  cg_check(g, "edge cases", F, I, 16);
  ir_graph_free(g);
}

int main(void) {
  edges();
  unary_ops(DT_F32, F, "unary f32");
  unary_ops(DT_F32, (Range){0.05, 4}, "unary f32 positive");
  unary_ops(DT_F64, F, "unary f64");
  unary_ops(DT_F64, (Range){0.05, 4}, "unary f64 positive");
  unary_ops(DT_I32, F, "unary i32");
  unary_ops(DT_I8, F, "unary i8");
  unary_ops(DT_U16, F, "unary u16");
  unary_ops(DT_U32, F, "unary u32");
  unary_ops(DT_U64, F, "unary u64");
  unary_ops(DT_BOOL, F, "unary bool");
  binary_all();
  int_division();
  int32_wrap();
  selects();
  casts();
  bitcasts();
  reductions(DT_F32, (Range){0.5, 1.5});
  reductions(DT_F32, F);
  reductions(DT_I32, F);
  reductions(DT_U8, F);
  movement(DT_F32);
  movement(DT_I16);
  movement(DT_BOOL);
  gathers();
  iotas();
  matmuls(DT_F32);
  matmuls(DT_F64);
  convs(DT_F32);
  convs(DT_F64);
  pools();
  pool_max_bits();
  network();
  return check_report("test_cgen_ops");
}

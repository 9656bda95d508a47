/* test_kernels.c — the tiled matmul and conv kernels and their epilogues against the
 * reference interpreter: shapes at and around the tile sizes (edge rows and columns),
 * transposes, broadcast batches, weights baked into the code or read at run time or
 * from a weights file, deep products (K in the thousands), and convolutions
 * with strides, asymmetric padding, dilations, groups and 1 to 3 spatial dimensions
 * through each of conv's ways (blocks of rows, single panels, no depth).
 * Epilogue kernels are made by hand here (ku_schedule), so they are tested whatever
 * the fuse pass chooses to form. */
#include "cgen.h"
#include "kern_util.h"

static uint64_t seed = 11;

static int param(KCase *c, DType t, Shape s) {
  char name[32];
  snprintf(name, sizeof name, "w%d", c->g->n);
  return ir_param(c->g, name, t, s, (Init){INIT_UNIFORM, -1, 1, seed++});
}

static int input(KCase *c, DType t, Shape s) {
  char name[32];
  snprintf(name, sizeof name, "x%d", c->g->n);
  return ir_input(c->g, name, t, s);
}

static int matmul(KCase *c, int a, int b, bool ta, bool tb) {
  const Shape *as = &c->g->nodes[a]->shape;
  int64_t k = as->d[as->rank - 1 - ta];
  if (k > c->depth) c->depth = k;
  return ir_matmul(c->g, a, b, ta, tb);
}

typedef struct ConvAttrs {
  int nsp;
  int64_t strides[3], pads[6], dil[3], groups;
} ConvAttrs;

static int conv(KCase *c, int x, int w, const ConvAttrs *a) {
  const Shape *ws = &c->g->nodes[w]->shape;
  Attr at[4] = {attr_ints(A_STRIDES, a->strides, a->nsp), attr_ints(A_PADS, a->pads, 2 * a->nsp),
                attr_ints(A_DILATIONS, a->dil, a->nsp), attr_int(A_GROUPS, a->groups)};
  int in[2] = {x, w};
  int64_t k = shape_numel(ws) / ws->d[0];
  if (k > c->depth) c->depth = k;
  return ir_add(c->g, OP_CONV, in, 2, at, 4);
}

/* ---- matmul ---- */

/* Around the tile (8 rows, panels of 16 or 8 columns; AVX2's matmul: 3 rows over pairs
 * of panels, then a panel left over); few rows over many panels take several panels
 * side by side. */
static const int64_t mnk[][3] = {{1, 1, 1},    {1, 5, 16},   {2, 3, 17},  {7, 16, 15},
                                 {8, 9, 16},   {9, 17, 33},  {16, 37, 32}, {17, 64, 40},
                                 {67, 20, 70}, {1, 7, 133},  {3, 10, 70},  {17, 6, 150},
                                 {130, 9, 48}};

/* The shapes of mnk from `first` on, every other one under each transpose in turn. */
static void matmul_shapes(KCase *c, DType t, bool weight_b, size_t first) {
  for (size_t s = first; s < sizeof mnk / sizeof mnk[0]; s++) {
    bool ta = s & 1, tb = s & 2;
    int64_t m = mnk[s][0], k = mnk[s][1], n = mnk[s][2];
    int a = input(c, t, ta ? SHP(k, m) : SHP(m, k));
    Shape bs = tb ? SHP(n, k) : SHP(k, n);
    int b = weight_b ? param(c, t, bs) : input(c, t, bs);
    cg_out(c->g, matmul(c, a, b, ta, tb));
  }
}

/* Every shape, B baked or at run time, in f32 and f64 (panels of 16 and 8). */
static void matmuls(void) {
  KCase c = ku_new("mm");
  matmul_shapes(&c, DT_F32, true, 0);
  matmul_shapes(&c, DT_F32, false, 0);
  matmul_shapes(&c, DT_F64, true, 0);
  matmul_shapes(&c, DT_F64, false, 4);
  ku_check(&c, "matmul, B baked and at run time");
  KCase f = ku_new("mmfile");
  matmul_shapes(&f, DT_F32, true, 5);
  ku_check_embed(&f, "matmul, B from a weights file", 1);
}

/* Broadcast batches, B baked or at run time; and depths whose panel would not fit on
 * the stack (one sum at a time). */
static void matmul_batches(void) {
  KCase c = ku_new("mmb");
  for (int w = 0; w < 2; w++) {
    int (*b_of)(KCase *, DType, Shape) = w ? param : input;
    cg_out(c.g, matmul(&c, input(&c, DT_F32, SHP(2, 3, 9, 5)), b_of(&c, DT_F32, SHP(3, 5, 18)), false, false));
    cg_out(c.g, matmul(&c, input(&c, DT_F32, SHP(9, 5)), b_of(&c, DT_F32, SHP(4, 5, 18)), false, false));
    cg_out(c.g, matmul(&c, input(&c, DT_F32, SHP(2, 1, 5, 11)), b_of(&c, DT_F32, SHP(1, 3, 17, 5)), true, true));
    cg_out(c.g, matmul(&c, input(&c, DT_F32, SHP(3, 10, 4)), b_of(&c, DT_F32, SHP(4, 33)), false, false));
  }
  cg_out(c.g, matmul(&c, input(&c, DT_F32, SHP(2, 2100)), input(&c, DT_F32, SHP(2100, 3)), false, false));
  cg_out(c.g, matmul(&c, input(&c, DT_F32, SHP(2, 2100)), input(&c, DT_F32, SHP(19, 2100)), false, true));
  ku_check(&c, "matmul batches and deep products");
}

/* ---- conv ---- */

static const struct {
  int64_t x[5], w[5];
  ConvAttrs a;
} convs[] = {
    {{2, 3, 9, 11}, {5, 3, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
    {{1, 24, 5, 64}, {3, 24, 5, 5}, {2, {1, 1}, {2, 2, 2, 2}, {1, 1}, 1}}, /* rows too wide: per panel */
    {{1, 4, 13, 10}, {11, 4, 3, 2}, {2, {2, 1}, {0, 1, 2, 0}, {2, 1}, 1}},
    {{1, 4, 8, 8}, {6, 2, 3, 3}, {2, {1, 2}, {1, 0, 1, 1}, {1, 1}, 2}},
    {{2, 6, 7, 7}, {6, 1, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 6}}, /* depthwise (conv_dw.c) */
    {{2, 4, 13, 11}, {8, 1, 3, 2}, {2, {2, 1}, {2, 0, 1, 3}, {2, 3}, 4}}, /* depthwise x2, strides, dilations */
    {{1, 3, 40, 33}, {3, 1, 5, 5}, {2, {2, 2}, {2, 2, 2, 2}, {1, 1}, 3}},
    {{2, 5, 30}, {5, 1, 7}, {1, {1}, {3, 0}, {1}, 5}}, /* depthwise, 1-d */
    {{3, 2, 20}, {9, 2, 4}, {1, {3}, {2, 1}, {1}, 1}},
    {{1, 2, 5, 6, 4}, {3, 2, 2, 3, 2}, {3, {1, 2, 1}, {1, 0, 1, 1, 1, 0}, {2, 1, 1}, 1}},
    {{2, 1, 28, 28}, {6, 1, 5, 5}, {2, {1, 1}, {2, 2, 2, 2}, {1, 1}, 1}},
    {{2, 6, 14, 14}, {16, 6, 5, 5}, {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}},
    {{1, 3, 6, 6}, {17, 3, 1, 1}, {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}},
    {{1, 240, 4, 4}, {2, 240, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
    {{2, 8, 4, 8}, {10, 8, 1, 1}, {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}}, /* 1x1, whole panels */
    {{1, 20, 8, 8}, {24, 20, 1, 1}, {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}},
    /* blocks in chunks of panels (conv.c, panel_chunk): ragged chunks, rows and panel */
    {{1, 200, 9, 47}, {20, 200, 1, 1}, {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}},
    {{1, 4, 70, 70}, {18, 4, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
    /* small planes with many channels: by channels in f32 (conv.c) */
    {{1, 32, 7, 7}, {64, 32, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
    {{2, 16, 5, 6}, {40, 16, 1, 1}, {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}},
    {{1, 8, 9, 9}, {36, 8, 3, 3}, {2, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
    /* 3x3 stride 1, 32 or more input channels, enough tiles: Winograd F(2x2, 3x3) in f32 (conv_wino.c) */
    {{1, 32, 10, 10}, {8, 32, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
    {{2, 33, 12, 10}, {13, 33, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},   /* ragged O, C; batch 2 */
    {{1, 35, 14, 12}, {10, 35, 3, 3}, {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}}, /* no padding */
    {{1, 32, 11, 11}, {17, 32, 3, 3}, {2, {1, 1}, {1, 0, 0, 1}, {1, 1}, 1}},   /* uneven padding */
    {{1, 32, 28, 26}, {40, 32, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}}, /* several panels of tiles */
    {{1, 32, 21, 23}, {9, 32, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},    /* odd sizes: half-outside tiles */
    {{1, 33, 23, 20}, {16, 33, 3, 3}, {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}},   /* odd height, no padding */
};

/* Every convolution of convs in f32, and from `first` on in f64 too. */
static void conv_shapes(KCase *c, DType t, size_t first) {
  for (size_t i = first; i < sizeof convs / sizeof convs[0]; i++) {
    int r = convs[i].a.nsp + 2;
    int x = input(c, t, shape_make(r, convs[i].x)), w = param(c, t, shape_make(r, convs[i].w));
    cg_out(c->g, conv(c, x, w, &convs[i].a));
  }
}

/* ---- epilogues ---- */

static int scalar(KCase *c, double v) { return ir_scalar(c->g, DT_F32, v); }

/* relu(x W + b), then a second layer on it (the first result lives in the arena). */
static void epi_dense(KCase *c) {
  int x = input(c, DT_F32, SHP(13, 20)), w = param(c, DT_F32, SHP(20, 37)), b = param(c, DT_F32, SHP(37));
  int mm = matmul(c, x, w, false, false), add = ir_binary(c->g, OP_ADD, mm, b);
  int relu = ir_binary(c->g, OP_MAX, add, scalar(c, 0));
  ku_epilogue(c, (int[]){mm, add, relu}, 3);
  int mm2 = matmul(c, relu, param(c, DT_F32, SHP(37, 9)), false, false);
  int t = ir_unary(c->g, OP_TANH, mm2);
  ku_epilogue(c, (int[]){mm2, t}, 2);
  cg_out(c->g, t);
}

/* tanh(x y^T + r): runtime B, transposed, and a residual of the result's shape. */
static void epi_residual(KCase *c) {
  int x = input(c, DT_F32, SHP(10, 24)), y = input(c, DT_F32, SHP(21, 24)), r = input(c, DT_F32, SHP(10, 21));
  int mm = matmul(c, x, y, false, true), add = ir_binary(c->g, OP_ADD, r, mm);
  int t = ir_unary(c->g, OP_TANH, add);
  ku_epilogue(c, (int[]){mm, add, t}, 3);
  cg_out(c->g, t);
}

/* A batched product (its batch folded into rows: one B) plus an operand broadcast over
 * rows and the leading batch, a leaky relu that uses the value three times (gt, mul,
 * select), and a residual of the whole shape. */
static void epi_batched(KCase *c) {
  int x = input(c, DT_F32, SHP(2, 3, 5, 8)), w = param(c, DT_F32, SHP(8, 19)), b = param(c, DT_F32, SHP(3, 1, 19));
  int r = input(c, DT_F32, SHP(2, 3, 5, 19));
  int mm = matmul(c, x, w, false, false), add = ir_binary(c->g, OP_ADD, mm, b);
  int pos = ir_binary(c->g, OP_GT, add, scalar(c, 0)), small = ir_binary(c->g, OP_MUL, add, scalar(c, 0.1));
  int sel = ir_select(c->g, pos, add, small), res = ir_binary(c->g, OP_ADD, sel, r);
  ku_epilogue(c, (int[]){mm, add, pos, small, sel, res}, 6);
  cg_out(c->g, res);
}

/* conv + bias through a view ([O] read as [1, O, 1, 1]) + relu. */
static void epi_conv_bias(KCase *c) {
  int x = input(c, DT_F32, SHP(2, 3, 10, 9)), w = param(c, DT_F32, SHP(10, 3, 3, 3)), b = param(c, DT_F32, SHP(10));
  ConvAttrs a = {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1};
  int cv = conv(c, x, w, &a);
  int view = ir_reshape(c->g, b, (int64_t[]){1, 10, 1, 1}, 4);
  int add = ir_binary(c->g, OP_ADD, cv, view), relu = ir_binary(c->g, OP_MAX, add, scalar(c, 0));
  ku_epilogue(c, (int[]){cv, view, add, relu}, 4);
  cg_out(c->g, relu);
}

/* conv + an operand that varies along one spatial dimension only ([1, 1, H, 1]). */
static void epi_conv_partial(KCase *c) {
  int x = input(c, DT_F32, SHP(1, 4, 7, 6)), w = param(c, DT_F32, SHP(10, 2, 2, 2)), r = input(c, DT_F32, SHP(1, 1, 6, 1));
  ConvAttrs a = {2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2};
  int cv = conv(c, x, w, &a), add = ir_binary(c->g, OP_ADD, cv, r);
  int mul = ir_binary(c->g, OP_MUL, add, add);
  ku_epilogue(c, (int[]){cv, add, mul}, 3);
  cg_out(c->g, mul);
}

/* An f64 product: a different panel width (8). */
static void epi_f64(KCase *c) {
  int x = input(c, DT_F64, SHP(11, 6)), w = param(c, DT_F64, SHP(6, 13)), b = param(c, DT_F64, SHP(13));
  int mm = matmul(c, x, w, false, false), add = ir_binary(c->g, OP_ADD, mm, b);
  int e = ir_unary(c->g, OP_EXP, add);
  ku_epilogue(c, (int[]){mm, add, e}, 3);
  cg_out(c->g, e);
}

/* conv by channels + bias + relu + a residual, the weight from a weights file (packed by
 * NAME_init) or baked in. */
static void epi_conv_channels(KCase *c) {
  int x = input(c, DT_F32, SHP(1, 24, 7, 7)), w = param(c, DT_F32, SHP(48, 24, 3, 3)), b = param(c, DT_F32, SHP(48));
  int r = input(c, DT_F32, SHP(1, 48, 7, 7));
  ConvAttrs a = {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1};
  int cv = conv(c, x, w, &a);
  int view = ir_reshape(c->g, b, (int64_t[]){1, 48, 1, 1}, 4);
  int add = ir_binary(c->g, OP_ADD, cv, view), res = ir_binary(c->g, OP_ADD, add, r);
  int relu = ir_binary(c->g, OP_MAX, res, scalar(c, 0));
  ku_epilogue(c, (int[]){cv, view, add, res, relu}, 5);
  cg_out(c->g, relu);
}

/* Winograd's path + bias + residual + relu, batch 2, odd sizes, the weight from a file or baked in. */
static void epi_conv_wino(KCase *c) {
  int x = input(c, DT_F32, SHP(2, 32, 15, 13)), w = param(c, DT_F32, SHP(19, 32, 3, 3)), b = param(c, DT_F32, SHP(19));
  int r = input(c, DT_F32, SHP(2, 19, 15, 13));
  ConvAttrs a = {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1};
  int cv = conv(c, x, w, &a);
  int view = ir_reshape(c->g, b, (int64_t[]){1, 19, 1, 1}, 4);
  int add = ir_binary(c->g, OP_ADD, cv, view), res = ir_binary(c->g, OP_ADD, add, r);
  int relu = ir_binary(c->g, OP_MAX, res, scalar(c, 0));
  ku_epilogue(c, (int[]){cv, view, add, res, relu}, 5);
  cg_out(c->g, relu);
}

/* ---- depthwise (conv_dw.c) ----
 * Rows stored as made (a whole number of 8 columns, or 16 and wider) or computed into
 * a block of rows (the last block short); strides 2 and 3 along the last dimension
 * (its phase planes, or one plane read with the stride when x is large), dilations,
 * asymmetric padding, a channel multiplier, 1-d, more than 64 taps (the loop), 1x1
 * taps, batches. */
static const struct {
  int64_t x[4], w[4];
  ConvAttrs a;
} dws[] = {
    {{2, 5, 30, 28}, {5, 1, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 5}},      /* 28 wide: blocks */
    {{1, 2, 300, 15}, {2, 1, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2}},     /* blocks of 136 rows, the last short */
    {{1, 3, 20, 60}, {3, 1, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 3}},      /* 60 wide: stored as made, a tail */
    {{1, 2, 6, 56}, {2, 1, 3, 3}, {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2}},       /* 56 wide: stored as made */
    {{2, 4, 17, 23}, {4, 1, 3, 3}, {2, {2, 2}, {1, 1, 1, 1}, {1, 1}, 4}},      /* stride 2, odd sizes */
    {{1, 6, 16, 16}, {6, 1, 3, 3}, {2, {2, 2}, {0, 0, 1, 1}, {1, 1}, 6}},      /* stride 2, 8 wide, asymmetric */
    {{1, 2, 20, 31}, {2, 1, 5, 5}, {2, {2, 3}, {2, 1, 3, 0}, {2, 2}, 2}},      /* stride 3, dilation 2 */
    {{1, 3, 10, 40}, {6, 1, 3, 4}, {2, {1, 2}, {1, 2, 0, 1}, {1, 1}, 3}},      /* two outputs per channel */
    {{1, 2, 24, 27}, {2, 1, 9, 9}, {2, {2, 2}, {4, 4, 4, 4}, {1, 1}, 2}},      /* 81 taps: the loop, phases */
    {{1, 4, 9, 9}, {4, 1, 1, 1}, {2, {2, 2}, {0, 0, 0, 0}, {1, 1}, 4}},        /* 1x1 taps, stride 2 */
    {{2, 4, 50}, {4, 1, 5}, {1, {2}, {2, 2}, {1}, 4}},                         /* 1-d, stride 2 */
};

/* dw + bias (a view) + ReLU6 (max, min), MobileNet's block, batch 2, rows 14 wide. */
static void epi_dw_relu6(KCase *c, DType t) {
  int x = input(c, t, SHP(2, 8, 14, 14)), w = param(c, t, SHP(8, 1, 3, 3)), b = param(c, t, SHP(8));
  ConvAttrs a = {2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 8};
  int cv = conv(c, x, w, &a);
  int view = ir_reshape(c->g, b, (int64_t[]){1, 8, 1, 1}, 4);
  int add = ir_binary(c->g, OP_ADD, cv, view);
  int lo = ir_binary(c->g, OP_MAX, add, ir_scalar(c->g, t, 0)), hi = ir_binary(c->g, OP_MIN, lo, ir_scalar(c->g, t, 6));
  ku_epilogue(c, (int[]){cv, view, add, lo, hi}, 5);
  cg_out(c->g, hi);
}

static void depthwise(void) {
  for (int f64 = 0; f64 < 2; f64++) {
    DType t = f64 ? DT_F64 : DT_F32;
    KCase c = ku_new("dw");
    for (size_t i = 0; i < sizeof dws / sizeof dws[0]; i++) {
      int r = dws[i].a.nsp + 2;
      int x = input(&c, t, shape_make(r, dws[i].x)), w = param(&c, t, shape_make(r, dws[i].w));
      cg_out(c.g, conv(&c, x, w, &dws[i].a));
    }
    epi_dw_relu6(&c, t);
    if (!f64) { /* x above 8 MiB: one plane read with the stride, no phases */
      ConvAttrs big = {2, {2, 2}, {1, 1, 1, 1}, {1, 1}, 2}, thin = {2, {1, 3}, {1, 1, 1, 1}, {1, 1}, 2};
      int x = input(&c, t, SHP(1, 2, 1100, 1000)), w = param(&c, t, SHP(2, 1, 3, 3));
      cg_out(c.g, conv(&c, x, w, &big));
      x = input(&c, t, SHP(1, 2, 36000, 30)), w = param(&c, t, SHP(2, 1, 3, 3)); /* 10 wide: blocks */
      cg_out(c.g, conv(&c, x, w, &thin));
    }
    ku_check(&c, f64 ? "depthwise convolutions, f64" : "depthwise convolutions");
  }
}

static void convs_by_channels(void) {
  for (int file = 0; file < 2; file++) {
    KCase c = ku_new("convch");
    conv_shapes(&c, DT_F32, 18);
    epi_conv_channels(&c);
    epi_conv_wino(&c);
    ku_check_embed(&c, file ? "convolutions by channels, weights from a file" : "convolutions by channels",
                   file ? 1 : 0);
  }
}

static void convs_and_epilogues(void) {
  KCase c = ku_new("epi");
  conv_shapes(&c, DT_F32, 0);
  conv_shapes(&c, DT_F64, 6);
  epi_dense(&c);
  epi_residual(&c);
  epi_batched(&c);
  epi_conv_bias(&c);
  epi_conv_partial(&c);
  epi_f64(&c);
  ku_check(&c, "convolutions and epilogues");
}

int main(void) {
  const CpuTarget *cpu = cgen_cpu_resolve(NULL); /* $DLC_CPU: the suite runs per target */
  if (!cpu || !cgen_cpu_runs_here(cpu)) {
    printf("%s: skipped: this CPU cannot run code for %s\n", "test_kernels", getenv("DLC_CPU"));
    return 77;
  }
  printf("%s: target CPU %s\n", "test_kernels", cpu->name);
  matmuls();
  matmul_batches();
  convs_and_epilogues();
  convs_by_channels();
  depthwise();
  return check_report("test_kernels");
}

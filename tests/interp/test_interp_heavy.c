/* test_interp_heavy.c — matmul, conv and pooling in the interpreter against oracles
 * written here (a triple loop, im2col + matmul, direct windows), compositions with
 * known properties (softmax rows sum to 1), and a LeNet at batch 64 to finite outputs. */
#include <time.h>

#include "interp_util.h"

/* ---- matmul ---- */

/* a is [2,1,M,K] (stored [2,1,K,M] when ta), b is [3,K,N] (stored [3,N,K] when tb). */
static void test_matmul(bool ta, bool tb) {
  enum { M = 4, K = 5, N = 6 };
  double a[2 * M * K], b[3 * K * N];
  tfill(a, 2 * M * K, 10 + ta), tfill(b, 3 * K * N, 20 + tb);
  Graph *g = ir_graph_new("t");
  int ia = tconst(g, DT_F64, ta ? SHP(2, 1, K, M) : SHP(2, 1, M, K), a);
  int ib = tconst(g, DT_F64, tb ? SHP(3, N, K) : SHP(3, K, N), b);
  int mm = ir_matmul(g, ia, ib, ta, tb);
  CHECK_SHAPE(g, mm, 2, 3, M, N);
  double *y = eval1(g, mm, NULL);
  for (int p = 0; y && p < 2; p++)
    for (int q = 0; q < 3; q++)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
          double want = 0;
          for (int k = 0; k < K; k++) {
            double av = ta ? a[p * M * K + k * M + i] : a[p * M * K + i * K + k];
            double bv = tb ? b[q * K * N + j * K + k] : b[q * K * N + k * N + j];
            want += av * bv;
          }
          CHECK_NEAR(y[((p * 3 + q) * M + i) * N + j], want, 1e-13);
        }
  if (!y) check_failures++;
  free(y);
  ir_graph_free(g);
}

/* An f32 matmul is accumulated in double and rounded once at the end. */
static void test_matmul_f32(void) {
  double a[3 * 7], b[7 * 2];
  tfill(a, 21, 3), tfill(b, 14, 4);
  for (int i = 0; i < 21; i++) a[i] = (float)a[i];
  for (int i = 0; i < 14; i++) b[i] = (float)b[i];
  Graph *g = ir_graph_new("t");
  int mm = ir_matmul(g, tconst(g, DT_F32, SHP(3, 7), a), tconst(g, DT_F32, SHP(7, 2), b), 0, 0);
  double *y = eval1(g, mm, NULL);
  for (int i = 0; y && i < 3; i++)
    for (int j = 0; j < 2; j++) {
      double want = 0;
      for (int k = 0; k < 7; k++) want += a[i * 7 + k] * b[k * 2 + j];
      CHECK(y[i * 2 + j] == (double)(float)want);
    }
  free(y);
  ir_graph_free(g);
}

/* ---- conv ---- */

typedef struct ConvCase {
  int n, c, h, w, o, groups, kh, kw;
  int sh, sw, ph0, pw0, ph1, pw1, dh, dw;
} ConvCase;

static int conv_out(int in, int p0, int p1, int k, int d, int s) {
  return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

/* The oracle: per image and group, unfold x into columns (im2col), then multiply. */
static void conv_im2col(const ConvCase *k, const double *x, const double *w, double *y) {
  int oh = conv_out(k->h, k->ph0, k->ph1, k->kh, k->dh, k->sh);
  int ow = conv_out(k->w, k->pw0, k->pw1, k->kw, k->dw, k->sw);
  int cg = k->c / k->groups, og = k->o / k->groups, rows = cg * k->kh * k->kw, cols = oh * ow;
  double *col = malloc(sizeof(double) * (size_t)(rows * cols));
  for (int n = 0; n < k->n; n++)
    for (int gr = 0; gr < k->groups; gr++) {
      for (int c = 0; c < cg; c++)
        for (int i = 0; i < k->kh; i++)
          for (int j = 0; j < k->kw; j++)
            for (int oy = 0; oy < oh; oy++)
              for (int ox = 0; ox < ow; ox++) {
                int iy = oy * k->sh - k->ph0 + i * k->dh, ix = ox * k->sw - k->pw0 + j * k->dw;
                bool in = iy >= 0 && iy < k->h && ix >= 0 && ix < k->w;
                int ch = gr * cg + c;
                col[((c * k->kh + i) * k->kw + j) * cols + oy * ow + ox] =
                    in ? x[((n * k->c + ch) * k->h + iy) * k->w + ix] : 0;
              }
      for (int o = 0; o < og; o++)
        for (int q = 0; q < cols; q++) {
          double acc = 0;
          for (int r = 0; r < rows; r++) acc += w[(gr * og + o) * rows + r] * col[r * cols + q];
          y[(n * k->o + gr * og + o) * cols + q] = acc;
        }
    }
  free(col);
}

static int conv_node(Graph *g, int x, int w, const int64_t *st, const int64_t *pads,
                     const int64_t *dil, int nsp, int64_t groups) {
  int in[2] = {x, w};
  Attr a[4] = {attr_ints(A_STRIDES, st, nsp), attr_ints(A_PADS, pads, 2 * nsp),
               attr_ints(A_DILATIONS, dil, nsp), attr_int(A_GROUPS, groups)};
  return ir_add(g, OP_CONV, in, 2, a, 4);
}

static void test_conv2d(const ConvCase *k) {
  int nx = k->n * k->c * k->h * k->w, nw = k->o * (k->c / k->groups) * k->kh * k->kw;
  double *x = malloc(sizeof(double) * (size_t)nx), *w = malloc(sizeof(double) * (size_t)nw);
  tfill(x, nx, 30), tfill(w, nw, 31);
  Graph *g = ir_graph_new("t");
  int ix = tconst(g, DT_F64, SHP(k->n, k->c, k->h, k->w), x);
  int iw = tconst(g, DT_F64, SHP(k->o, k->c / k->groups, k->kh, k->kw), w);
  int64_t st[2] = {k->sh, k->sw}, pads[4] = {k->ph0, k->pw0, k->ph1, k->pw1}, dil[2] = {k->dh, k->dw};
  int cv = conv_node(g, ix, iw, st, pads, dil, 2, k->groups);
  int oh = conv_out(k->h, k->ph0, k->ph1, k->kh, k->dh, k->sh);
  int ow = conv_out(k->w, k->pw0, k->pw1, k->kw, k->dw, k->sw);
  CHECK_SHAPE(g, cv, k->n, k->o, oh, ow);
  double *y = eval1(g, cv, NULL), *want = malloc(sizeof(double) * (size_t)(k->n * k->o * oh * ow));
  conv_im2col(k, x, w, want);
  for (int i = 0; y && i < k->n * k->o * oh * ow; i++) CHECK_NEAR(y[i], want[i], 1e-12);
  if (!y) check_failures++;
  free(y), free(want), free(x), free(w);
  ir_graph_free(g);
}

/* A 1-d conv is the 2-d conv of a height-1 image (the 2-d one is checked above). */
static void test_conv1d(void) {
  double x[2 * 4 * 9], w[6 * 2 * 3];
  tfill(x, 72, 40), tfill(w, 36, 41);
  Graph *g = ir_graph_new("t");
  int x1 = tconst(g, DT_F64, SHP(2, 4, 9), x), w1 = tconst(g, DT_F64, SHP(6, 2, 3), w);
  int x2 = tconst(g, DT_F64, SHP(2, 4, 1, 9), x), w2 = tconst(g, DT_F64, SHP(6, 2, 1, 3), w);
  int c1 = conv_node(g, x1, w1, (int64_t[]){2}, (int64_t[]){2, 1}, (int64_t[]){2}, 1, 2);
  int c2 = conv_node(g, x2, w2, (int64_t[]){1, 2}, (int64_t[]){0, 2, 0, 1}, (int64_t[]){1, 2}, 2, 2);
  CHECK_SHAPE(g, c1, 2, 6, 4);
  double *y1 = eval1(g, c1, NULL), *y2 = eval1(g, c2, NULL);
  for (int i = 0; y1 && y2 && i < 2 * 6 * 4; i++) CHECK(y1[i] == y2[i]);
  if (!y1 || !y2) check_failures++;
  free(y1), free(y2);
  ir_graph_free(g);
}

/* 3-d conv against the definition written out as loops. */
static void test_conv3d(void) {
  enum { N = 1, C = 2, D = 4, H = 5, W = 3, O = 3, KD = 2, KH = 3, KW = 2 };
  double x[N * C * D * H * W], w[O * C * KD * KH * KW];
  tfill(x, N * C * D * H * W, 50), tfill(w, O * C * KD * KH * KW, 51);
  Graph *g = ir_graph_new("t");
  int ix = tconst(g, DT_F64, SHP(N, C, D, H, W), x), iw = tconst(g, DT_F64, SHP(O, C, KD, KH, KW), w);
  /* strides [1,2,1], pads begins [1,0,1] ends [0,1,1], dilations [1,1,2] */
  int cv = conv_node(g, ix, iw, (int64_t[]){1, 2, 1}, (int64_t[]){1, 0, 1, 0, 1, 1},
                     (int64_t[]){1, 1, 2}, 3, 1);
  int od = conv_out(D, 1, 0, KD, 1, 1), oh = conv_out(H, 0, 1, KH, 1, 2), ow = conv_out(W, 1, 1, KW, 2, 1);
  CHECK_SHAPE(g, cv, N, O, od, oh, ow);
  double *y = eval1(g, cv, NULL);
  for (int o = 0; y && o < O; o++)
    for (int a = 0; a < od; a++)
      for (int b = 0; b < oh; b++)
        for (int c = 0; c < ow; c++) {
          double want = 0;
          for (int ci = 0; ci < C; ci++)
            for (int i = 0; i < KD; i++)
              for (int j = 0; j < KH; j++)
                for (int k = 0; k < KW; k++) {
                  int z = a - 1 + i, r = b * 2 + j, s = c - 1 + 2 * k;
                  if (z < 0 || z >= D || r < 0 || r >= H || s < 0 || s >= W) continue;
                  want += x[((ci * D + z) * H + r) * W + s] * w[(((o * C + ci) * KD + i) * KH + j) * KW + k];
                }
          CHECK_NEAR(y[((o * od + a) * oh + b) * ow + c], want, 1e-12);
        }
  if (!y) check_failures++;
  free(y);
  ir_graph_free(g);
}

/* A 1x1 conv is a matmul of the weights [O,C] with each image as [C, H*W]. */
static void test_conv1x1_is_matmul(void) {
  double x[2 * 3 * 4 * 5], w[6 * 3];
  tfill(x, 120, 60), tfill(w, 18, 61);
  Graph *g = ir_graph_new("t");
  int ix = tconst(g, DT_F64, SHP(2, 3, 4, 5), x), iw = tconst(g, DT_F64, SHP(6, 3, 1, 1), w);
  int cv = conv_node(g, ix, iw, (int64_t[]){1, 1}, (int64_t[]){0, 0, 0, 0}, (int64_t[]){1, 1}, 2, 1);
  int xm = ir_reshape(g, ix, (int64_t[]){2, 3, 20}, 3), wm = ir_reshape(g, iw, (int64_t[]){6, 3}, 2);
  int mm = ir_matmul(g, wm, xm, 0, 0);
  CHECK_SHAPE(g, mm, 2, 6, 20);
  double *yc = eval1(g, cv, NULL), *ym = eval1(g, mm, NULL);
  for (int i = 0; yc && ym && i < 240; i++) CHECK_NEAR(yc[i], ym[i], 1e-14);
  if (!yc || !ym) check_failures++;
  free(yc), free(ym);
  ir_graph_free(g);
}

/* ---- pooling ---- */

static int pool_node(Graph *g, Op op, int x, const int64_t *k, const int64_t *st,
                     const int64_t *pads, const int64_t *dil, int nsp, int count_pad) {
  Attr a[5] = {attr_ints(A_KERNEL, k, nsp), attr_ints(A_STRIDES, st, nsp),
               attr_ints(A_PADS, pads, 2 * nsp), attr_ints(A_DILATIONS, dil, nsp),
               attr_int(A_COUNT_PAD, count_pad)};
  return ir_add(g, op, &x, 1, a, op == OP_POOL_AVG ? 5 : 4);
}

static void test_pool_hand(void) {
  Graph *g = ir_graph_new("t");
  double c[9] = {2, 2, 2, 2, 2, 2, 2, 2, 2}, neg[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
  int ic = tconst(g, DT_F32, SHP(1, 1, 3, 3), c), in = tconst(g, DT_F32, SHP(1, 1, 3, 3), neg);
  const int64_t k[2] = {2, 2}, st[2] = {2, 2}, p[4] = {1, 1, 1, 1}, d[2] = {1, 1};
  int avg = pool_node(g, OP_POOL_AVG, ic, k, st, p, d, 2, 0);
  int avgp = pool_node(g, OP_POOL_AVG, ic, k, st, p, d, 2, 1);
  int mx = pool_node(g, OP_POOL_MAX, in, k, st, p, d, 2, 0);
  CHECK_SHAPE(g, avg, 1, 1, 2, 2);
  double *ya = eval1(g, avg, NULL), *yp = eval1(g, avgp, NULL), *ym = eval1(g, mx, NULL);
  /* windows hold 1, 2, 2 and 4 in-bounds elements */
  double want_a[4] = {2, 2, 2, 2}, want_p[4] = {0.5, 1, 1, 2}, want_m[4] = {-1, -2, -4, -5};
  for (int i = 0; ya && yp && ym && i < 4; i++) {
    CHECK(ya[i] == want_a[i]);
    CHECK(yp[i] == want_p[i]);
    CHECK(ym[i] == want_m[i]);
  }
  if (!ya || !yp || !ym) check_failures++;
  free(ya), free(yp), free(ym);
  ir_graph_free(g);
}

/* Random 2-d pooling with stride, padding and dilation against direct windows. */
static void test_pool_random(void) {
  enum { N = 2, C = 3, H = 7, W = 6 };
  double x[N * C * H * W];
  tfill(x, N * C * H * W, 70);
  const int64_t k[2] = {3, 2}, st[2] = {2, 1}, p[4] = {1, 0, 2, 1}, d[2] = {1, 2};
  Graph *g = ir_graph_new("t");
  int ix = tconst(g, DT_F64, SHP(N, C, H, W), x);
  int mx = pool_node(g, OP_POOL_MAX, ix, k, st, p, d, 2, 0);
  int av = pool_node(g, OP_POOL_AVG, ix, k, st, p, d, 2, 0);
  int oh = conv_out(H, 1, 2, 3, 1, 2), ow = conv_out(W, 0, 1, 2, 2, 1);
  CHECK_SHAPE(g, mx, N, C, oh, ow);
  double *ym = eval1(g, mx, NULL), *ya = eval1(g, av, NULL);
  for (int pl = 0; ym && ya && pl < N * C; pl++)
    for (int a = 0; a < oh; a++)
      for (int b = 0; b < ow; b++) {
        double hi = -INFINITY, sum = 0;
        int cnt = 0;
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 2; j++) {
            int r = a * 2 - 1 + i, s = b - 0 + 2 * j;
            if (r < 0 || r >= H || s < 0 || s >= W) continue;
            double v = x[(pl * H + r) * W + s];
            hi = v > hi ? v : hi, sum += v, cnt++;
          }
        CHECK(ym[(pl * oh + a) * ow + b] == hi);
        CHECK_NEAR(ya[(pl * oh + a) * ow + b], sum / cnt, 1e-15);
      }
  if (!ym || !ya) check_failures++;
  free(ym), free(ya);
  ir_graph_free(g);
}

/* ---- compositions ---- */

static void test_softmax(void) {
  enum { R = 4, L = 7 };
  double x[R * L];
  tfill(x, R * L, 80);
  for (int i = 0; i < R * L; i++) x[i] *= 30; /* large enough that exp needs the max shift */
  Graph *g = ir_graph_new("t");
  int ix = ir_input(g, "x", DT_F64, SHP(R, L));
  int64_t ax[1] = {1};
  int m = ir_reduce(g, OP_REDUCE_MAX, ix, ax, 1, true);
  int e = ir_unary(g, OP_EXP, ir_binary(g, OP_SUB, ix, m));
  int s = ir_reduce(g, OP_REDUCE_SUM, e, ax, 1, true);
  int y = ir_binary(g, OP_DIV, e, s);
  double *p = eval1(g, y, (const double *const[]){x});
  for (int r = 0; p && r < R; r++) {
    double row = 0, z = 0, hi = -INFINITY;
    for (int j = 0; j < L; j++) row += p[r * L + j], hi = fmax(hi, x[r * L + j]);
    CHECK_NEAR(row, 1, 1e-12);
    for (int j = 0; j < L; j++) z += exp(x[r * L + j] - hi);
    for (int j = 0; j < L; j++) CHECK_NEAR(p[r * L + j], exp(x[r * L + j] - hi) / z, 1e-14);
  }
  if (!p) check_failures++;
  free(p);
  ir_graph_free(g);
}

/* ---- a whole model: it runs to finite outputs, and its time is printed ---- */

static int dense(Graph *g, int x, int in, int out, uint64_t seed, bool relu) {
  int w = ir_param(g, NULL, DT_F32, SHP(in, out), (Init){INIT_XAVIER, 0, 0, seed});
  int y = ir_matmul(g, x, w, 0, 0);
  return relu ? ir_binary(g, OP_MAX, y, ir_scalar(g, DT_F32, 0)) : y;
}

static int conv_relu_pool(Graph *g, int x, int cin, int cout, int pad, uint64_t seed) {
  int w = ir_param(g, NULL, DT_F32, SHP(cout, cin, 5, 5), (Init){INIT_XAVIER, 0, 0, seed});
  int b = ir_param(g, NULL, DT_F32, SHP(cout, 1, 1), (Init){INIT_UNIFORM, -0.1, 0.1, seed + 1});
  int64_t p[4] = {pad, pad, pad, pad};
  int c = conv_node(g, x, w, (int64_t[]){1, 1}, p, (int64_t[]){1, 1}, 2, 1);
  int r = ir_binary(g, OP_MAX, ir_binary(g, OP_ADD, c, b), ir_scalar(g, DT_F32, 0));
  const int64_t k[2] = {2, 2}, st[2] = {2, 2}, z[4] = {0, 0, 0, 0}, d[2] = {1, 1};
  return pool_node(g, OP_POOL_MAX, r, k, st, z, d, 2, 0);
}

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_lenet_batch64(void) {
  enum { B = 64 };
  Graph *g = ir_graph_new("lenet");
  int x = ir_input(g, "x", DT_F32, SHP(B, 1, 28, 28));
  int h = conv_relu_pool(g, x, 1, 6, 2, 1);
  h = conv_relu_pool(g, h, 6, 16, 0, 3);
  CHECK_SHAPE(g, h, B, 16, 5, 5);
  h = ir_reshape(g, h, (int64_t[]){B, -1}, 2);
  h = dense(g, dense(g, h, 400, 120, 5, true), 120, 84, 6, true);
  int y = dense(g, h, 84, 10, 7, false);
  CHECK_SHAPE(g, y, B, 10);
  double *in = malloc(sizeof(double) * B * 28 * 28);
  tfill(in, B * 28 * 28, 90);
  double t0 = seconds(), *out = eval1(g, y, (const double *const[]){in}), dt = seconds() - t0;
  printf("lenet batch %d: %.3f s in the interpreter (printed, not checked: speed is for benchmarks)\n", B, dt);
  for (int i = 0; out && i < B * 10; i++) CHECK(isfinite(out[i]));
  if (!out) check_failures++;
  free(in), free(out);
  ir_graph_free(g);
}

int main(void) {
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) test_matmul(ta, tb);
  test_matmul_f32();
  /* n c h w o groups kh kw | sh sw ph0 pw0 ph1 pw1 dh dw */
  test_conv2d(&(ConvCase){2, 3, 6, 5, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1});
  test_conv2d(&(ConvCase){2, 4, 7, 6, 6, 2, 3, 2, 2, 1, 1, 0, 1, 1, 1, 2});
  test_conv2d(&(ConvCase){1, 6, 9, 8, 6, 6, 3, 3, 2, 3, 0, 2, 2, 1, 2, 1}); /* depthwise */
  test_conv1d();
  test_conv3d();
  test_conv1x1_is_matmul();
  test_pool_hand();
  test_pool_random();
  test_softmax();
  test_lenet_batch64();
  return check_report("test_interp_heavy");
}

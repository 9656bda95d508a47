/* test_conv_grad.c — conv's gradients (conv_grad_input, conv_grad_weight) through the
 * tiled im2col / col2im kernels of codegen/c/conv_grad.c and through their fallback,
 * the direct loops, against the reference interpreter: LeNet's two layers, strides 1
 * to 3, symmetric and asymmetric padding (and padding wider than the kernel),
 * dilations, groups and depthwise, batches, non-square and 1-d and 3-d windows, output
 * channels over several panels (of the target's width and of one vector), few output channels, short products over panels side
 * by side, blocks of rows with a shorter last block, positions that fill whole panels,
 * a kernel too wide for its taps to be written out, and shapes whose single output row
 * does not fit a block, and conv_grad_weight's images in fixed ranges of their own (LeNet's
 * layers, 2 and 3 images, and 5).  Each case also checks which way the generated code took. */
#include <stdio.h>

#include "cgen.h"
#include "kern_util.h"

typedef struct GradCase {
  const char *what;
  int64_t x[5], w[5]; /* x [N, C, S..], w [O, C/groups, K..] */
  int nsp;
  int64_t strides[3], pads[6], dil[3], groups;
  bool tiled;         /* whether conv_grad.c's blocks fit (else the direct loops) */
} GradCase;

static const GradCase cases[] = {
    {"lenet conv2", {2, 6, 14, 14}, {16, 6, 5, 5}, 2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},
    {"lenet conv1", {3, 1, 28, 28}, {6, 1, 5, 5}, 2, {1, 1}, {2, 2, 2, 2}, {1, 1}, 1, true},
    {"stride 2, pad 1", {2, 3, 9, 11}, {5, 3, 3, 3}, 2, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, true},
    {"asymmetric pads, dilation, stride", {1, 4, 13, 10}, {11, 4, 3, 2}, 2, {2, 1}, {0, 1, 2, 0}, {2, 1}, 1, true},
    {"groups", {2, 4, 8, 8}, {6, 2, 3, 3}, 2, {1, 2}, {1, 0, 1, 1}, {1, 1}, 2, true},
    /* enough work for conv_grad_weight's 4 ranges of images (5: 1, 1, 1, 2) */
    {"5 images in 4 ranges, groups", {5, 4, 16, 16}, {16, 2, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2, true},
    {"depthwise", {2, 6, 7, 7}, {6, 1, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 6, true},
    {"1-d, stride 3", {3, 2, 20}, {9, 2, 4}, 1, {3}, {2, 1}, {1}, 1, true},
    {"3-d", {1, 2, 5, 6, 4}, {3, 2, 2, 3, 2}, 3, {1, 2, 1}, {1, 0, 1, 1, 1, 0}, {2, 1, 1}, 1, true},
    {"37 channels: two panels and 5", {2, 3, 6, 17}, {37, 3, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true},
    /* conv_grad_weight's narrow panels (one vector of output channels): whole ones */
    {"48 channels: panels of one vector", {2, 3, 6, 7}, {48, 3, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true},
    {"blocks of 11 rows and one of 7", {1, 8, 40, 40}, {4, 8, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true},
    {"stride over the kernel (inputs never read)", {1, 2, 10, 11}, {3, 2, 2, 2}, 2, {3, 3}, {0, 0, 0, 0}, {1, 1}, 1, true},
    {"padding wider than the kernel", {2, 2, 5, 5}, {2, 2, 2, 2}, 2, {1, 1}, {3, 3, 3, 3}, {1, 1}, 1, true},
    {"1x1, whole panels of positions", {2, 3, 4, 8}, {16, 3, 1, 1}, 2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},
    {"one output channel: 8 panels of taps side by side", {2, 16, 9, 9}, {1, 16, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true},
    {"three output channels, stride 2", {2, 5, 6, 7}, {3, 5, 3, 3}, 2, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, true},
    {"K of 4 over 40 channels: panels side by side", {2, 2, 5, 6}, {40, 2, 1, 2}, 2, {1, 1}, {0, 0, 0, 1}, {1, 1}, 1, true},
    {"1x11 kernel: the runs' bounds computed at run time", {2, 3, 5, 20}, {4, 3, 1, 11}, 2, {1, 2}, {0, 5, 0, 4}, {1, 1}, 1, true},
    {"kernel as large as x", {2, 3, 5, 5}, {4, 3, 5, 5}, 2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},
    {"one output column", {1, 2, 7, 3}, {3, 2, 3, 3}, 2, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},
    /* K = 240 * 9 = 2160: one output row of 16 is 138 kB of im2col, over the stack's share */
    {"too deep for a block: direct loops", {1, 240, 4, 16}, {2, 240, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, false},
};

#define NCASES (sizeof cases / sizeof cases[0])

static uint64_t seed = 5;

/* gy's shape: conv's output for the case. */
static Shape gy_shape(const GradCase *k) {
  Shape s = {.rank = k->nsp + 2};
  s.d[0] = k->x[0], s.d[1] = k->w[0];
  for (int d = 0; d < k->nsp; d++) {
    int64_t span = k->dil[d] * (k->w[2 + d] - 1) + 1, in = k->x[2 + d] + k->pads[d] + k->pads[k->nsp + d];
    s.d[2 + d] = (in - span) / k->strides[d] + 1;
  }
  return s;
}

static int grad_node(Graph *g, Op op, int a, int b, const Shape *result, const GradCase *k) {
  Attr at[5] = {attr_ints(A_SHAPE, result->d, result->rank), attr_ints(A_STRIDES, k->strides, k->nsp),
                attr_ints(A_PADS, k->pads, 2 * k->nsp), attr_ints(A_DILATIONS, k->dil, k->nsp),
                attr_int(A_GROUPS, k->groups)};
  return ir_add(g, op, (int[]){a, b}, 2, at, 5);
}

/* Both gradients of case k into c's graph: dx from an input gy and a weight w, dw from
 * inputs x and gy.  The tolerance follows the longest sum (dw sums over N * Q). */
static void add_case(KCase *c, const GradCase *k, DType t) {
  char name[32];
  Shape xs = shape_make(k->nsp + 2, k->x), ws = shape_make(k->nsp + 2, k->w), gs = gy_shape(k);
  snprintf(name, sizeof name, "w%d", c->g->n);
  int w = ir_param(c->g, name, t, ws, (Init){INIT_UNIFORM, -1, 1, seed++});
  snprintf(name, sizeof name, "gy%d", c->g->n);
  int gy = ir_input(c->g, name, t, gs);
  snprintf(name, sizeof name, "x%d", c->g->n);
  int x = ir_input(c->g, name, t, xs);
  cg_out(c->g, grad_node(c->g, OP_CONV_GRAD_INPUT, gy, w, &xs, k));
  cg_out(c->g, grad_node(c->g, OP_CONV_GRAD_WEIGHT, x, gy, &ws, k));
  int64_t q = shape_numel(&gs) / (gs.d[1] ? gs.d[1] : 1), taps = shape_numel(&ws) / ws.d[0] / ws.d[1];
  int64_t depth = q > (k->w[0] / k->groups) * taps ? q : (k->w[0] / k->groups) * taps;
  if (depth > c->depth) c->depth = depth;
}

/* The generated C of case k alone, in a string (malloc'd), or NULL. */
static char *source_of(const GradCase *k) {
  KCase c = ku_new("src");
  add_case(&c, k, DT_F32);
  DlcErr e = {{0}};
  Schedule *s = NULL;
  Plan *p = NULL;
  FILE *f = tmpfile(), *h = tmpfile();
  char *text = NULL;
  CgenOptions o = {.name = "m", .header_name = "m.h", .embed_max_bytes = CGEN_EMBED_DEFAULT,
                   .weights_as = CGEN_WEIGHTS_C_ARRAY}; /* the source alone is read */
  if (f && h && !ir_verify(c.g, &e) && (s = pass_schedule(c.g)) && (p = pass_plan(c.g, s)) &&
      !cgen_c(c.g, s, p, &o, f, h, NULL, &e)) {
    long n = ftell(f);
    text = n >= 0 ? calloc((size_t)n + 1, 1) : NULL;
    rewind(f);
    if (text && fread(text, 1, (size_t)n, f) != (size_t)n) free(text), text = NULL;
  }
  if (!text) fprintf(stderr, "%s: generating C failed: %s\n", k->what, e.msg);
  if (f) fclose(f);
  if (h) fclose(h);
  ir_graph_free(c.g);
  return text;
}

/* Each case takes the way its shape calls for: both gradients tiled, or both direct. */
static void ways(void) {
  for (size_t i = 0; i < NCASES; i++) {
    char *src = source_of(&cases[i]);
    if (!src) {
      check_failures++;
      continue;
    }
    bool gi = strstr(src, "the gradient of im2col(x) of a block") != NULL;
    bool gw = strstr(src, "im2col(x) of a block of output rows") != NULL;
    if (gi != cases[i].tiled || gw != cases[i].tiled) {
      fprintf(stderr, "%s: conv_grad_input %s, conv_grad_weight %s, expected %s\n", cases[i].what,
              gi ? "tiled" : "direct", gw ? "tiled" : "direct", cases[i].tiled ? "tiled" : "direct");
      check_failures++;
    }
    free(src);
  }
}

/* Every case against the interpreter: f32 (panels of 16) in one model, f64 (panels of 8)
 * in another. */
static void values(void) {
  KCase c = ku_new("cg32");
  for (size_t i = 0; i < NCASES; i++) add_case(&c, &cases[i], DT_F32);
  ku_check(&c, "conv gradients, f32");
  KCase d = ku_new("cg64");
  for (size_t i = 0; i < NCASES; i++)
    if (i % 2 || !cases[i].tiled) add_case(&d, &cases[i], DT_F64);
  ku_check(&d, "conv gradients, f64");
}

int main(void) {
  const CpuTarget *cpu = cgen_cpu_resolve(NULL); /* $DLC_CPU: the suite runs per target */
  if (!cpu || !cgen_cpu_runs_here(cpu)) {
    printf("%s: skipped: this CPU cannot run code for %s\n", "test_conv_grad", getenv("DLC_CPU"));
    return 77;
  }
  printf("%s: target CPU %s\n", "test_conv_grad", cpu->name);
  ways();
  values();
  return check_report("test_conv_grad");
}

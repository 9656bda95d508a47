/* test_grad_jit.c — the generated C of backward graphs against the interpreter, in f32,
 * and the random-number ops against the runtime's Philox.
 *
 * Each graph is a forward model, a loss and pass_autodiff's gradients; the loss and
 * every gradient are outputs.  The jit builds it (every warning an error) once as
 * given and once through the -O2 training pipeline (fold, cse, dce, fuse, plan); each
 * output must equal the interpreter's to 1e-5 relative (absolute below 1).
 * Usage: test_grad_jit REPO_ROOT */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dlc_rng.h"
#include "frontend.h"
#include "jit.h"
#include "passes.h"
#include "rnd.h"

#define STRICT "-O2 -Wall -Wextra -Wshadow -Werror -pedantic"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

/* Inputs as the model takes them (typed) and as the interpreter reads them. */
typedef struct Io {
  int ni, no;
  void *in[32], *out[64];
  double *din[32], *dout[64];
} Io;

static void io_make(Io *io, const Graph *g) {
  *io = (Io){.ni = ir_num_inputs(g), .no = g->nout};
  DLC_ASSERT(io->ni <= 32 && io->no <= 64);
  for (int i = 0; i < io->ni; i++) {
    const Node *n = g->nodes[ir_input_id(g, i)];
    int64_t c = shape_numel(&n->shape);
    io->in[i] = malloc((size_t)(c + 1) * 8), io->din[i] = malloc((size_t)(c + 1) * 8);
    for (int64_t k = 0; k < c; k++) {
      dtype_store(n->dtype, io->in[i], k, dtype_is_float(n->dtype) ? rnd_sym(&rng_state) : 3);
      io->din[i][k] = dtype_load(n->dtype, io->in[i], k);
    }
  }
  for (int j = 0; j < io->no; j++) {
    int64_t c = shape_numel(&g->nodes[g->out[j]]->shape);
    io->out[j] = calloc((size_t)c + 1, 8), io->dout[j] = calloc((size_t)c + 1, 8);
  }
}

static void io_free(Io *io) {
  for (int i = 0; i < io->ni; i++) free(io->in[i]), free(io->din[i]);
  for (int j = 0; j < io->no; j++) free(io->out[j]), free(io->dout[j]);
}

/* Largest |got - want| / max(1, |want|) over output j; exact=true wants it 0. */
static double out_error(const Graph *g, const Io *io, int j) {
  const Node *n = g->nodes[g->out[j]];
  double worst = 0;
  for (int64_t k = 0; k < shape_numel(&n->shape); k++) {
    double got = dtype_load(n->dtype, io->out[j], k), want = io->dout[j][k];
    double err = fabs(got - want) / fmax(1, fabs(want));
    if (!(err <= worst)) worst = err;
  }
  return worst;
}

/* Builds g with the jit under o (NULL: as given), runs it, compares with the
 * interpreter.  Returns the largest error, INFINITY when it did not run. */
static double jit_compare(Graph *g, const PassOptions *o, const char *what, double tol) {
  Io io;
  io_make(&io, g);
  DlcErr e = {{0}};
  double worst = INFINITY;
  JitOptions jo = {
      .cflags = STRICT, .passes = o, .embed_max_bytes = 4096}; /* big weights: a file */
  JitModel *m = NULL;
  if (interp_run(g, (const double *const *)io.din, io.dout, &e))
    fprintf(stderr, "%s: interp: %s\n", what, e.msg);
  else if (!(m = jit_build(g, &jo, &e)))
    fprintf(stderr, "%s: jit: %s\n", what, e.msg);
  else if (jit_run(m, (const void *const *)io.in, io.out, &e))
    fprintf(stderr, "%s: run: %s\n", what, e.msg);
  else {
    worst = 0;
    for (int j = 0; j < io.no; j++) {
      double err = out_error(g, &io, j);
      if (!(err <= tol))
        fprintf(stderr, "%s: output %s differs by %.3g\n", what, g->out_name[j], err);
      worst = fmax(worst, err);
    }
  }
  jit_free(m);
  io_free(&io);
  return worst;
}

/* loss = sum(y * R) for a fixed R; the loss and the gradients of every PARAM and float
 * INPUT become the outputs.  -1 on failure. */
static int train_graph(Graph *g, int y) {
  const Shape *s = &g->nodes[y]->shape;
  int64_t n = shape_numel(s), ax[IR_MAX_RANK];
  float *r = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++) r[i] = (float)rnd_sym(&rng_state);
  int rc = ir_const(g, "R", g->nodes[y]->dtype, *s, r);
  free(r);
  for (int d = 0; d < s->rank; d++) ax[d] = d;
  int loss = ir_reduce(g, OP_REDUCE_SUM, ir_binary(g, OP_MUL, y, rc), ax, s->rank, false);
  int p[64], grads[64], np = 0;
  for (int i = 0; i < g->n && np < 64; i++) {
    const Node *v = g->nodes[i];
    if (v->op == OP_PARAM || (v->op == OP_INPUT && dtype_is_float(v->dtype))) p[np++] = i;
  }
  DlcErr e = {{0}};
  if (loss < 0 || pass_autodiff(g, loss, p, np, grads, &e)) {
    fprintf(stderr, "autodiff: %s\n", loss < 0 ? g->err.msg : e.msg);
    return -1;
  }
  g->nout = 0;
  ir_output(g, loss, "loss");
  for (int i = 0; i < np; i++) {
    char name[160];
    snprintf(name, sizeof name, "d_%s", g->nodes[p[i]]->name);
    ir_output(g, grads[i], name);
  }
  return ir_verify(g, &e) ? -1 : 0;
}

static void check_both(Graph *g, const char *what) {
  PassOptions o2 = pass_options(2);
  o2.training = true, o2.verify = true;
  char w[128];
  snprintf(w, sizeof w, "%s -O0", what);
  double e0 = jit_compare(g, NULL, w, 1e-5);
  snprintf(w, sizeof w, "%s -O2", what);
  double e2 = jit_compare(g, &o2, w, 1e-5);
  printf("%s: generated C against the interpreter: largest error %.2g (-O0), %.2g (-O2)\n", what,
         e0, e2);
  CHECK(e0 <= 1e-5);
  CHECK(e2 <= 1e-5);
}

static void check_model(const char *root, const char *model, int64_t batch) {
  char path[4096];
  snprintf(path, sizeof path, "%s/models/%s.dlc", root, model);
  LoadOptions lo = {.batch = batch};
  DlcErr e = {{0}};
  Graph *g = frontend_load(path, &lo, &e);
  if (!g) fprintf(stderr, "%s: %s\n", model, e.msg);
  CHECK(g != NULL);
  if (!g) return;
  int rc = train_graph(g, g->out[0]);
  CHECK(rc == 0);
  if (!rc) check_both(g, model);
  ir_graph_free(g);
}

/* The ops autodiff adds, in one graph: a strided, padded, grouped conv, average
 * pooling with count_pad, a gather (its gradient is scatter_add), a stepped slice,
 * pad, concat, and a dropout-like mask from rng_uniform with a step input. */
static void check_ops(void) {
  Graph *g = ir_graph_new("ops");
  int x = ir_input(g, "x", DT_F32, SHP(2, 4, 9, 8));
  int step = ir_input(g, "step", DT_I64, (Shape){0});
  int w =
      ir_param(g, "w", DT_F32, SHP(6, 2, 3, 2), (Init){.kind = INIT_NORMAL, .b = 0.5, .seed = 3});
  int64_t st[2] = {2, 1}, pads[4] = {1, 0, 2, 1}, ppads[4] = {1, 0, 1, 1}, dil[2] = {1, 2},
          k[2] = {2, 2}, one[2] = {1, 1};
  Attr ca[4] = {attr_ints(A_STRIDES, st, 2), attr_ints(A_PADS, pads, 4),
                attr_ints(A_DILATIONS, dil, 2), attr_int(A_GROUPS, 2)};
  int in[2] = {x, w}, c = ir_add(g, OP_CONV, in, 2, ca, 4); /* [2,6,5,7] */
  Attr pa[4] = {attr_ints(A_KERNEL, k, 2), attr_ints(A_STRIDES, one, 2),
                attr_ints(A_PADS, ppads, 4), attr_int(A_COUNT_PAD, 1)};
  int p = ir_add(g, OP_POOL_AVG, &c, 1, pa, 4); /* [2,6,6,7] */
  int mx = ir_add(g, OP_POOL_MAX, &c, 1, pa, 3);
  int64_t idx[5] = {0, 2, -1, 2, 4};
  int ic = ir_const(g, "idx", DT_I64, SHP(5), idx);
  Attr ga = attr_int(A_AXIS, 2);
  int gin[2] = {p, ic}, gt = ir_add(g, OP_GATHER, gin, 2, &ga, 1); /* [2,6,5,7] */
  int64_t ss[4] = {1, 5, 0, 6}, se[4] = {2, -1, 5, -1}, sp[4] = {1, -2, 1, -3};
  Attr sa[3] = {attr_ints(A_STARTS, ss, 4), attr_ints(A_ENDS, se, 4), attr_ints(A_STEPS, sp, 4)};
  int sl = ir_add(g, OP_SLICE, &gt, 1, sa, 3); /* [1,3,5,3] */
  int64_t shp[4] = {1, 3, 5, 3};
  Attr ra[3] = {attr_ints(A_SHAPE, shp, 4), attr_int(A_SEED, 11), attr_dtype(A_DTYPE, DT_F32)};
  int keep =
      ir_binary(g, OP_LT, ir_add(g, OP_RNG_UNIFORM, &step, 1, ra, 3), ir_scalar(g, DT_F32, 0.7));
  int drop = ir_select(g, keep, ir_binary(g, OP_MUL, sl, ir_scalar(g, DT_F32, 1 / 0.7)),
                       ir_scalar(g, DT_F32, 0));
  int64_t pp[8] = {0, 0, 1, 0, 0, 0, 0, 2};
  Attr pda = attr_ints(A_PADS, pp, 8);
  int pd = ir_add(g, OP_PAD, &drop, 1, &pda, 1); /* [1,3,6,5] */
  int64_t ms[4] = {0, 0, 0, 0}, me[4] = {1, 3, 6, 5}, m1[4] = {1, 1, 1, 1};
  Attr ma[3] = {attr_ints(A_STARTS, ms, 4), attr_ints(A_ENDS, me, 4), attr_ints(A_STEPS, m1, 4)};
  int mxs = ir_add(g, OP_SLICE, &mx, 1, ma, 3);
  Attr cc = attr_int(A_AXIS, 1);
  int cat[2] = {pd, mxs}, y = ir_add(g, OP_CONCAT, cat, 2, &cc, 1);
  CHECK(y >= 0);
  if (y < 0) fprintf(stderr, "ops: %s\n", g->err.msg);
  int rc = y < 0 ? -1 : train_graph(g, y);
  CHECK(rc == 0);
  if (!rc) check_both(g, "gradient ops");
  ir_graph_free(g);
}

/* One window configuration: x [N,C,S..] and w [O,C/g,K..]; pools use w's K as kernel. */
typedef struct WinCase {
  Shape x, w;
  int64_t st[3], pads[6], dil[3], groups;
} WinCase;

/* conv_grad_input, conv_grad_weight, pool_max_grad and pool_avg_grad (both divisors)
 * of one window, each an output; gy and gw come in as inputs. */
static void window_ops(Graph *g, const WinCase *c, int tag) {
  int nsp = c->x.rank - 2;
  char name[32];
  Attr a[6] = {attr_ints(A_STRIDES, c->st, nsp), attr_ints(A_PADS, c->pads, 2 * nsp),
               attr_ints(A_DILATIONS, c->dil, nsp), attr_int(A_GROUPS, c->groups)};
  snprintf(name, sizeof name, "x%d", tag);
  int x = ir_input(g, name, DT_F32, c->x);
  snprintf(name, sizeof name, "w%d", tag);
  int w = ir_input(g, name, DT_F32, c->w), in[2] = {x, w};
  const Shape *ys = &g->nodes[ir_add(g, OP_CONV, in, 2, a, 4)]->shape;
  snprintf(name, sizeof name, "gy%d", tag);
  int gy = ir_input(g, name, DT_F32, *ys);
  a[4] = attr_ints(A_SHAPE, c->x.d, c->x.rank);
  int gi[2] = {gy, w}, gw[2] = {x, gy};
  snprintf(name, sizeof name, "gx%d", tag);
  ir_output(g, ir_add(g, OP_CONV_GRAD_INPUT, gi, 2, a, 5), name);
  a[4] = attr_ints(A_SHAPE, c->w.d, c->w.rank);
  snprintf(name, sizeof name, "gw%d", tag);
  ir_output(g, ir_add(g, OP_CONV_GRAD_WEIGHT, gw, 2, a, 5), name);
  a[3] = attr_ints(A_KERNEL, c->w.d + 2, nsp);
  const Shape *ps = &g->nodes[ir_add(g, OP_POOL_MAX, &x, 1, a, 4)]->shape;
  snprintf(name, sizeof name, "gp%d", tag);
  int gp = ir_input(g, name, DT_F32, *ps), pm[2] = {x, gp};
  snprintf(name, sizeof name, "max%d", tag);
  ir_output(g, ir_add(g, OP_POOL_MAX_GRAD, pm, 2, a, 4), name);
  a[4] = attr_ints(A_SHAPE, c->x.d, c->x.rank);
  for (int cp = 0; cp < 2; cp++) {
    a[5] = attr_int(A_COUNT_PAD, cp);
    snprintf(name, sizeof name, "avg%d_%d", tag, cp);
    ir_output(g, ir_add(g, OP_POOL_AVG_GRAD, &gp, 1, a, 6), name);
  }
}

/* The new ops directly, on 1-, 2- and 3-d windows with every attribute in play, and
 * scatter_add in f32 and i32: generated C against the interpreter. */
static void check_windows(void) {
  static const WinCase cases[] = {
      {{3, {2, 4, 9}}, {3, {4, 2, 3}}, {2}, {1, 2}, {2}, 2},
      {{4, {1, 3, 7, 8}}, {4, {2, 3, 2, 3}}, {1, 2}, {0, 1, 1, 2}, {2, 2}, 1},
      {{5, {1, 2, 4, 5, 3}}, {5, {2, 1, 2, 2, 2}}, {1, 2, 1}, {1, 0, 1, 1, 1, 0}, {1, 1, 2}, 2},
      /* windows that tile x (stride = kernel): pool_max_grad's unrolled form, x covered
       * exactly, with rows and columns left over, 1-d, 3-d */
      {{4, {2, 3, 6, 8}}, {4, {2, 3, 2, 2}}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
      {{4, {1, 2, 7, 8}}, {4, {2, 1, 2, 3}}, {2, 3}, {0, 0, 0, 0}, {1, 1}, 2},
      {{3, {2, 2, 10}}, {3, {2, 2, 3}}, {3}, {0, 0}, {1}, 1},
      {{5, {1, 2, 4, 4, 4}}, {5, {2, 2, 2, 2, 2}}, {2, 2, 2}, {0, 0, 0, 0, 0, 0}, {1, 1, 1}, 1},
  };
  Graph *g = ir_graph_new("windows");
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) window_ops(g, &cases[i], i);
  int64_t idx[4] = {1, -1, 0, 1}, shape[2] = {3, 5};
  int ic = ir_const(g, "idx", DT_I64, SHP(4), idx);
  Attr sa[2] = {attr_ints(A_SHAPE, shape, 2), attr_int(A_AXIS, 0)};
  for (int t = 0; t < 2; t++) {
    int in[2] = {ir_input(g, t ? "ui" : "uf", t ? DT_I32 : DT_F32, SHP(4, 5)), ic};
    ir_output(g, ir_add(g, OP_SCATTER_ADD, in, 2, sa, 2), t ? "si" : "sf");
  }
  DlcErr e = {{0}};
  int rc = ir_verify(g, &e);
  if (rc) fprintf(stderr, "windows: %s (%s)\n", e.msg, g->err.msg);
  CHECK(rc == 0);
  double err = rc ? INFINITY : jit_compare(g, NULL, "windows", 1e-5);
  printf("window ops and scatter_add: generated C against the interpreter: largest error %.2g\n",
         err);
  CHECK(err <= 1e-5);
  ir_graph_free(g);
}

/* pool_max_grad where the maximum is not unique or not a number: ties (the first tap
 * wins), NaN taps (never win), -INFINITY (never wins: a window of only -INFINITY and
 * NaN passes no gradient), on windows that tile x and on overlapping ones. */
static void check_pool_ties(void) {
  const float inf = INFINITY, nan = NAN;
  static float xv[24];
  const float rows[4][6] = {{1, 1, nan, 2, -inf, -inf},
                            {1, 0, 2, nan, -inf, nan},
                            {nan, 3, 5, 5, 0, -inf},
                            {3, 3, 5, -1, -inf, 0}};
  for (int i = 0; i < 24; i++) xv[i] = rows[i / 6][i % 6];
  Graph *g = ir_graph_new("pool_ties");
  int x = ir_const(g, "x", DT_F32, SHP(1, 1, 4, 6), xv);
  int64_t k22[2] = {2, 2}, k23[2] = {2, 3}, s11[2] = {1, 1}, p0[4] = {0}, d1[2] = {1, 1};
  const int64_t *ks[3] = {k22, k23, k22}, *ss[3] = {k22, k23, s11};
  for (int c = 0; c < 3; c++) {
    Attr a[4] = {attr_ints(A_KERNEL, ks[c], 2), attr_ints(A_STRIDES, ss[c], 2), attr_ints(A_PADS, p0, 4),
                 attr_ints(A_DILATIONS, d1, 2)};
    const Shape *ps = &g->nodes[ir_add(g, OP_POOL_MAX, &x, 1, a, 4)]->shape;
    char name[16];
    snprintf(name, sizeof name, "g%d", c);
    int in[2] = {x, ir_input(g, name, DT_F32, *ps)};
    snprintf(name, sizeof name, "max%d", c);
    ir_output(g, ir_add(g, OP_POOL_MAX_GRAD, in, 2, a, 4), name);
  }
  DlcErr e = {{0}};
  int rc = ir_verify(g, &e);
  if (rc) fprintf(stderr, "pool ties: %s (%s)\n", e.msg, g->err.msg);
  CHECK(rc == 0);
  double err = rc ? INFINITY : jit_compare(g, NULL, "pool ties", 0);
  printf("pool_max_grad with ties, NaN and -inf: generated C against the interpreter: largest error %.2g\n", err);
  CHECK(err == 0);
  ir_graph_free(g);
}

/* rng_uniform and rng_normal: the runtime's numbers (element i of step s is number
 * s * numel + i), the same in generated C, and plausible statistics. */
static void check_rng(void) {
  Graph *g = ir_graph_new("rng");
  int step = ir_input(g, "step", DT_I64, (Shape){0});
  int64_t nu[1] = {1000}, nn[2] = {33, 31};
  Attr ua[3] = {attr_ints(A_SHAPE, nu, 1), attr_int(A_SEED, 42), attr_dtype(A_DTYPE, DT_F32)};
  Attr na[3] = {attr_ints(A_SHAPE, nn, 2), attr_int(A_SEED, -5), attr_dtype(A_DTYPE, DT_F64)};
  ir_output(g, ir_add(g, OP_RNG_UNIFORM, &step, 1, ua, 3), "u");
  ir_output(g, ir_add(g, OP_RNG_NORMAL, &step, 1, na, 3), "n");
  CHECK(g->nout == 2);
  double *u = malloc(1000 * sizeof(double)), *nrm = malloc(1023 * sizeof(double)), s = 3;
  double *outs[2] = {u, nrm};
  const double *ins[1] = {&s};
  DlcErr e = {{0}};
  CHECK(interp_run(g, ins, outs, &e) == 0);
  double mean = 0, nmean = 0, nvar = 0;
  int same = 0;
  for (int i = 0; i < 1000; i++) {
    same += u[i] == (double)(float)rt_rand_uniform(42, 3000 + (uint64_t)i);
    mean += u[i] / 1000;
  }
  for (int i = 0; i < 1023; i++) {
    same += nrm[i] == rt_rand_normal((uint64_t)-5, 3 * 1023 + (uint64_t)i);
    nmean += nrm[i] / 1023, nvar += nrm[i] * nrm[i] / 1023;
  }
  CHECK(same == 2023);
  CHECK(fabs(mean - 0.5) < 0.05 && fabs(nmean) < 0.15 && fabs(nvar - 1) < 0.15);
  /* the generated code draws exactly the interpreter's numbers */
  CHECK(jit_compare(g, NULL, "rng", 0) == 0);
  printf("rng: interpreter = runtime Philox = generated C; uniform mean %.3f, normal mean %.3f var "
         "%.3f\n",
         mean, nmean, nvar);
  free(u), free(nrm);
  ir_graph_free(g);
}

int main(int argc, char **argv) {
  const char *root = argc > 1 ? argv[1] : ".";
  check_rng();
  check_windows();
  check_pool_ties();
  check_ops();
  check_model(root, "mlp", 4);
  check_model(root, "lenet", 2);
  return check_report("test_grad_jit");
}

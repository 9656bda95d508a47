/* test_train_step.c — one generated training step (C through the jit) against the
 * interpreter's step on the same weights and batch: the loss and every new value of a
 * parameter or of the optimizer's state, for each optimizer, two steps in a row (the
 * second from the weights the first wrote), with fusion and without; and a model of
 * two steps over shared weights (a GAN's), each step in turn.
 *
 * The interpreter's step is the graph's outputs: the step's loss and its updates.  For
 * the second step the interpreter's new values are written into the PARAMs' data and
 * the graph is run again; the generated model steps on from its own weights.
 * Usage: test_train_step REPO_ROOT */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend.h"
#include "jit.h"
#include "passes.h"
#include "rnd.h"

#define STRICT "-O2 -Wall -Wextra -Wshadow -Werror -pedantic"
#define TOL 2e-5

static const char *const conv_src =
    "model cnn\n"
    "input x: f32[batch, 1, 8, 8]\n"
    "c = conv2d(x, 3, kernel=3, padding=1)\n"
    "c = relu(c)\n"
    "p = maxpool2d(c, kernel=2)\n"
    "f = flatten(p)\n"
    "h = dense(f, 6)\n"
    "h = tanh(h)\n"
    "y = dense(h, 4)\n"
    "y = softmax(y)\n"
    "output y\n";

/* Two steps over shared weights: the second runs through the first's parameters. */
static const char *const gan_src =
    "model gan\n"
    "input z: f32[batch, 3]\n"
    "input real: f32[batch, 4]\n"
    "fake = tanh(dense(z, 4, name=gen.a))\n"
    "d = dense(tanh(dense(concat(real, fake, axis=0), 5, name=disc.a)), 1, name=disc.b)\n"
    "output fake\n"
    "training\n"
    "d_real = slice(d, starts=[0, 0], ends=[5, 1], steps=[1, 1])\n"
    "d_fake = slice(d, starts=[5, 0], ends=[10, 1], steps=[1, 1])\n"
    "train step_d: loss = add(bce(d_real, 1), bce(d_fake, 0)), params = [disc], optimizer = adam(lr=0.01, beta1=0.5)\n"
    "train step_g: loss = bce(d_fake, 1), params = [gen], optimizer = momentum(lr=0.1)\n";

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

typedef struct Io {
  int ni, no;
  void *in[8];
  double *din[8], *dout[128];
} Io;

static void io_make(Io *io, const Graph *g, int classes) {
  *io = (Io){.ni = ir_num_inputs(g), .no = g->nout};
  DLC_ASSERT(io->ni <= 8 && io->no <= 128);
  for (int i = 0; i < io->ni; i++) {
    const Node *n = g->nodes[ir_input_id(g, i)];
    int64_t c = shape_numel(&n->shape);
    io->in[i] = malloc((size_t)(c + 1) * 8), io->din[i] = malloc((size_t)(c + 1) * 8);
    for (int64_t k = 0; k < c; k++) {
      double u = rnd_sym(&rng_state), v = dtype_is_float(n->dtype) ? u : (double)(int)((u + 1) / 2 * classes);
      dtype_store(n->dtype, io->in[i], k, v);
      io->din[i][k] = dtype_load(n->dtype, io->in[i], k);
    }
  }
  for (int j = 0; j < io->no; j++)
    io->dout[j] = calloc((size_t)shape_numel(&g->nodes[g->out[j]]->shape) + 1, 8);
}

static void io_free(Io *io) {
  for (int i = 0; i < io->ni; i++) free(io->in[i]), free(io->din[i]);
  for (int j = 0; j < io->no; j++) free(io->dout[j]);
}

static double rel(double got, double want) { return fabs(got - want) / fmax(1, fabs(want)); }

/* The generated step's loss and new values against the interpreter's outputs. */
static void compare(const char *what, const Graph *g, JitModel *m, const Io *io, float loss, int step) {
  const GraphStep *st = &g->step[step];
  double worst = rel(loss, io->dout[st->out0][0]);
  const char *where = "the loss";
  for (int u = 0; u < st->nupd; u++) {
    const Node *p = g->nodes[st->target[u]];
    const void *got = jit_param(m, p->name);
    CHECK(got != NULL);
    for (int64_t k = 0; got && k < shape_numel(&p->shape); k++) {
      double e = rel(dtype_load(p->dtype, got, k), io->dout[st->out0 + 1 + u][k]);
      if (e > worst) worst = e, where = p->name;
    }
  }
  if (worst > TOL) {
    check_failures++;
    fprintf(stderr, "%s: the generated step differs from the interpreter's by %g (%s)\n", what, worst, where);
  }
}

/* The interpreter's new values become the PARAMs' data: the weights after its step. */
static void apply(Graph *g, const Io *io, int step) {
  const GraphStep *st = &g->step[step];
  for (int u = 0; u < st->nupd; u++) {
    Node *p = g->nodes[st->target[u]];
    for (int64_t k = 0; k < shape_numel(&p->shape); k++) dtype_store(p->dtype, p->data, k, io->dout[st->out0 + 1 + u][k]);
  }
}

/* Twice, each step in turn: the interpreter from the weights the previous step left. */
static void two_steps(const char *what, Graph *g, JitModel *m, int classes) {
  Io io;
  io_make(&io, g, classes);
  DlcErr e;
  for (int s = 0; s < 2 * g->nstep; s++) {
    float loss = -1;
    int k = s % g->nstep;
    if (interp_run(g, (const double *const *)io.din, io.dout, &e) ||
        jit_step(m, k, true, (const void *const *)io.in, &loss, &e)) {
      check_failures++;
      fprintf(stderr, "%s: %s\n", what, e.msg);
      break;
    }
    compare(what, g, m, &io, loss, k);
    apply(g, &io, k);
  }
  io_free(&io);
}

static Graph *train_graph(const char *src, const char *optimizer, double wd, LrKind sched, LossKind loss) {
  LoadOptions lo = {.batch = 5};
  DlcErr e;
  Graph *g = txt_parse(src, strlen(src), "t.dlc", &lo, &e);
  DLC_ASSERT(g);
  Optim o;
  DLC_ASSERT(!optim_named(optimizer, &o));
  o.lr = 0.05, o.weight_decay = wd, o.sched = sched, o.sched_steps = 3, o.gamma = 0.5;
  if (train_default_spec(g, loss, &o, "train", &e) || pass_train(g, &e)) {
    fprintf(stderr, "%s: %s\n", optimizer, e.msg);
    ir_graph_free(g);
    return NULL;
  }
  return g;
}

static void one(const char *src, const char *optimizer, double wd, LrKind sched, LossKind loss, FuseMode fuse) {
  char what[128];
  snprintf(what, sizeof what, "%s wd=%g sched=%d loss=%d fuse=%d", optimizer, wd, (int)sched, (int)loss, (int)fuse);
  Graph *g = train_graph(src, optimizer, wd, sched, loss);
  if (!g) {
    check_failures++;
    return;
  }
  PassOptions po = pass_options(2);
  po.fuse = fuse, po.training = true, po.verify = true;
  JitOptions jo = {.cflags = STRICT, .passes = &po};
  DlcErr e;
  JitModel *m = jit_build(g, &jo, &e);
  if (!m) {
    check_failures++;
    fprintf(stderr, "%s: %s\n", what, e.msg);
  } else {
    CHECK(jit_steps(m) == 1 && !strcmp(jit_step_name(m, 0), "train"));
    two_steps(what, g, m, 4);
  }
  jit_free(m);
  ir_graph_free(g);
}

static void gan(FuseMode fuse) {
  LoadOptions lo = {.batch = 5, .train = true};
  DlcErr e;
  Graph *g = txt_parse(gan_src, strlen(gan_src), "gan.dlc", &lo, &e);
  if (!g || pass_train(g, &e)) {
    check_failures++;
    fprintf(stderr, "gan: %s\n", e.msg);
    ir_graph_free(g);
    return;
  }
  PassOptions po = pass_options(2);
  po.fuse = fuse, po.training = true, po.verify = true;
  JitOptions jo = {.cflags = STRICT, .passes = &po};
  JitModel *m = jit_build(g, &jo, &e);
  if (!m) {
    check_failures++;
    fprintf(stderr, "gan: %s\n", e.msg);
  } else {
    CHECK(jit_steps(m) == 2 && !strcmp(jit_step_name(m, 1), "step_g"));
    two_steps(fuse == FUSE_ALL ? "gan, fused" : "gan", g, m, 2);
  }
  jit_free(m);
  ir_graph_free(g);
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  static const char *const opts[] = {"sgd", "momentum", "nesterov", "adam", "adamw"};
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    for (int fuse = FUSE_NONE; fuse <= FUSE_ALL; fuse += 2) {
      one(conv_src, opts[i], 0, LR_CONSTANT, LOSS_CE, (FuseMode)fuse);
      one(conv_src, opts[i], 0.01, i % 2 ? LR_COSINE : LR_STEP, LOSS_CE, (FuseMode)fuse);
    }
  one(conv_src, "adam", 0, LR_CONSTANT, LOSS_MSE, FUSE_ALL);
  one(conv_src, "sgd", 0, LR_CONSTANT, LOSS_L1, FUSE_ALL);
  gan(FUSE_NONE);
  gan(FUSE_ALL);
  return check_report("test_train_step");
}

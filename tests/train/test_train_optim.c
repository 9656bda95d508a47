/* test_train_optim.c — the optimizers' updates against their formulas, written out
 * here in double from the papers' (and PyTorch's documented) definitions, over several
 * steps of a loss whose gradient changes as the weights do.
 *
 * The graph: w (a PARAM, f64), x (an INPUT), loss = mean(w*w*x), so d loss / d w =
 * 2*w*x/n.  pass_train appends the update; the interpreter runs the step, and its new
 * values of w and of the optimizer's state are written back into the PARAMs before
 * the next step.  The learning rate and the bias corrections are computed in f32
 * in f64 like the rest, so the tolerance is tight; the loss the step reports is f32.
 * Usage: test_train_optim */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "passes.h"

#define N 5
#define STEPS 7
#define TOL 1e-10

static const double x0[N] = {0.5, -1.25, 2.0, 0.75, -0.3};
static const double w0[N] = {1.0, 0.4, -0.7, 2.5, -1.1};

/* The reference: one optimizer's state. */
typedef struct Ref {
  double w[N], b[N], m[N], v[N];
  int t;
} Ref;

static double lr_at(const Optim *o, int t) {
  if (o->sched == LR_STEP) return o->lr * pow(o->gamma, floor((double)t / (double)o->sched_steps));
  if (o->sched == LR_COSINE) {
    double T = (double)o->sched_steps, f = fmin(t, T) / T;
    return o->lr_min + (o->lr - o->lr_min) * (1 + cos(3.14159265358979323846 * f)) / 2;
  }
  return o->lr;
}

/* SGD with momentum and Nesterov as in Sutskever et al. / torch.optim.SGD (dampening
 * 0); Adam (Kingma & Ba, Algorithm 1) with L2 decay in the gradient; AdamW
 * (Loshchilov & Hutter) with the decay applied to the weights. */
static void ref_step(Ref *r, const Optim *o) {
  double lr = lr_at(o, r->t++);
  for (int i = 0; i < N; i++) {
    double g = 2 * r->w[i] * x0[i] / N;
    if (o->kind != OPT_ADAMW) g += o->weight_decay * r->w[i];
    if (o->kind == OPT_SGD) {
      double d = g;
      if (o->momentum) {
        r->b[i] = o->momentum * r->b[i] + g;
        d = o->nesterov ? g + o->momentum * r->b[i] : r->b[i];
      }
      r->w[i] -= lr * d;
      continue;
    }
    if (o->kind == OPT_ADAMW) r->w[i] -= lr * o->weight_decay * r->w[i];
    r->m[i] = o->beta1 * r->m[i] + (1 - o->beta1) * g;
    r->v[i] = o->beta2 * r->v[i] + (1 - o->beta2) * g * g;
    double mh = r->m[i] / (1 - pow(o->beta1, r->t)), vh = r->v[i] / (1 - pow(o->beta2, r->t));
    r->w[i] -= lr * mh / (sqrt(vh) + o->eps);
  }
}

static Graph *build(const Optim *o, int *w) {
  Graph *g = ir_graph_new("opt");
  int x = ir_input(g, "x", DT_F64, SHP(N));
  *w = ir_param_data(g, "w", DT_F64, SHP(N), w0);
  int ww = ir_binary(g, OP_MUL, ir_binary(g, OP_MUL, *w, *w), x);
  int64_t ax = 0;
  int loss = ir_binary(g, OP_MUL, ir_reduce(g, OP_REDUCE_SUM, ww, &ax, 1, false), ir_scalar(g, DT_F64, 1.0 / N));
  ir_output(g, ww, "y");
  TrainSpec s = {.name = "s", .loss = loss, .opt = *o};
  ir_add_spec(g, &s);
  DlcErr e;
  if (pass_train(g, &e)) {
    fprintf(stderr, "pass_train: %s\n", e.msg);
    ir_graph_free(g);
    return NULL;
  }
  return g;
}

/* The interpreter's step, its new values written into the PARAMs. */
static int interp_step(Graph *g, double *loss) {
  double *outs[64], xin[N];
  memcpy(xin, x0, sizeof xin);
  const double *ins[1] = {xin};
  DLC_ASSERT(g->nout <= 64);
  for (int j = 0; j < g->nout; j++) outs[j] = calloc((size_t)shape_numel(&g->nodes[g->out[j]]->shape) + 1, 8);
  DlcErr e;
  int rc = interp_run(g, ins, outs, &e);
  if (rc) fprintf(stderr, "interp: %s\n", e.msg);
  const GraphStep *st = &g->step[0];
  *loss = outs[st->out0][0];
  for (int u = 0; !rc && u < st->nupd; u++) {
    Node *p = g->nodes[st->target[u]];
    for (int64_t k = 0; k < shape_numel(&p->shape); k++) dtype_store(p->dtype, p->data, k, outs[st->out0 + 1 + u][k]);
  }
  for (int j = 0; j < g->nout; j++) free(outs[j]);
  return rc;
}

static void run(const char *what, Optim o) {
  int w;
  Graph *g = build(&o, &w);
  if (!g) {
    check_failures++;
    return;
  }
  Ref r = {0};
  memcpy(r.w, w0, sizeof r.w);
  double worst = 0;
  for (int s = 0; s < STEPS; s++) {
    double loss, want = 0;
    for (int i = 0; i < N; i++) want += r.w[i] * r.w[i] * x0[i] / N;
    if (interp_step(g, &loss)) {
      check_failures++;
      break;
    }
    CHECK(fabs(loss - want) <= 1e-7 * fmax(1, fabs(want))); /* the step reports its loss as f32 */
    ref_step(&r, &o);
    const double *got = g->nodes[w]->data;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(got[i] - r.w[i]) / fmax(1, fabs(r.w[i])));
  }
  if (worst > TOL) {
    check_failures++;
    fprintf(stderr, "%s: the update differs from the formula by %g\n", what, worst);
  }
  ir_graph_free(g);
}

static Optim named(const char *name, double lr, double wd) {
  Optim o;
  DLC_ASSERT(!optim_named(name, &o));
  o.lr = lr, o.weight_decay = wd;
  return o;
}

int main(void) {
  run("sgd", named("sgd", 0.1, 0));
  run("sgd, weight decay", named("sgd", 0.1, 0.05));
  run("momentum", named("momentum", 0.1, 0));
  run("nesterov, weight decay", named("nesterov", 0.05, 0.01));
  run("adam", named("adam", 0.05, 0));
  run("adam, L2 decay", named("adam", 0.05, 0.1));
  run("adamw", named("adamw", 0.05, 0.1));
  Optim o = named("adam", 0.05, 0);
  o.beta1 = 0.5, o.beta2 = 0.9, o.eps = 1e-3;
  run("adam, other betas", o);
  o = named("momentum", 0.2, 0);
  o.sched = LR_STEP, o.sched_steps = 2, o.gamma = 0.5;
  run("momentum, step schedule", o);
  o = named("adamw", 0.1, 0.01);
  o.sched = LR_COSINE, o.sched_steps = 5, o.lr_min = 0.01;
  run("adamw, cosine schedule past its end", o);
  return check_report("test_train_optim");
}

/* test_train_loss.c — the losses (ir_loss) against their direct formulas, written out
 * here in double, and their gradients (pass_autodiff through the losses' core ops)
 * against central finite differences; large logits must stay finite.  All through the
 * interpreter in f64.
 * Usage: test_train_loss */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "passes.h"
#include "rnd.h"

#define NB 4
#define NK 5

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

/* ---- direct formulas ---- */

static double lse_row(const double *z) {
  double m = z[0], s = 0;
  for (int k = 1; k < NK; k++) m = fmax(m, z[k]);
  for (int k = 0; k < NK; k++) s += exp(z[k] - m);
  return m + log(s);
}

static double ce_ids(const double *z, const double *y) {
  double l = 0;
  for (int i = 0; i < NB; i++) l += lse_row(z + i * NK) - z[i * NK + (int)y[i]];
  return l / NB;
}

static double ce_probs(const double *z, const double *y) {
  double l = 0;
  for (int i = 0; i < NB; i++)
    for (int k = 0; k < NK; k++) l -= y[i * NK + k] * (z[i * NK + k] - lse_row(z + i * NK));
  return l / NB;
}

/* log(sigmoid(z)), without cancellation at either end */
static double log_sigmoid(double z) { return z > 0 ? -log1p(exp(-z)) : z - log1p(exp(z)); }

static double bce(const double *z, const double *y) { /* -(y log s + (1-y) log(1-s)), s = sigmoid(z) */
  double l = 0;
  for (int i = 0; i < NB * NK; i++) l -= y[i] * log_sigmoid(z[i]) + (1 - y[i]) * log_sigmoid(-z[i]);
  return l / (NB * NK);
}

static double mse(const double *z, const double *y) {
  double l = 0;
  for (int i = 0; i < NB * NK; i++) l += (z[i] - y[i]) * (z[i] - y[i]);
  return l / (NB * NK);
}

static double l1(const double *z, const double *y) {
  double l = 0;
  for (int i = 0; i < NB * NK; i++) l += fabs(z[i] - y[i]);
  return l / (NB * NK);
}

/* ---- the graph: loss(z, y) and d loss / d z ---- */

typedef struct LossCase {
  const char *name;
  LossKind k;
  DType ydt;
  bool ids;   /* y: class ids [NB], else [NB, NK] */
  double (*ref)(const double *z, const double *y);
} LossCase;

static Graph *build(const LossCase *c, int *grad) {
  Graph *g = ir_graph_new("loss");
  int z = ir_input(g, "z", DT_F64, SHP(NB, NK));
  int y = c->ids ? ir_input(g, "y", c->ydt, SHP(NB)) : ir_input(g, "y", DT_F64, SHP(NB, NK));
  int l = ir_loss(g, c->k, z, y);
  DlcErr e;
  if (l < 0 || pass_autodiff(g, l, &z, 1, grad, &e)) {
    fprintf(stderr, "%s: %s\n", c->name, l < 0 ? g->err.msg : e.msg);
    ir_graph_free(g);
    return NULL;
  }
  ir_output(g, l, "loss");
  ir_output(g, *grad, "dz");
  return g;
}

static void targets(const LossCase *c, double *y) {
  for (int i = 0; i < NB; i++) {
    double sum = 0;
    for (int k = 0; k < NK; k++) sum += y[i * NK + k] = (rnd_sym(&rng_state) + 1) / 2;
    if (c->ids) y[i] = (double)(i * 3 % NK);
    else if (c->k == LOSS_CE)
      for (int k = 0; k < NK; k++) y[i * NK + k] /= sum; /* probabilities */
  }
}

static double run_loss(Graph *g, double *z, double *y, double *dz) {
  double loss, scratch[NB * NK], *outs[2] = {&loss, dz ? dz : scratch};
  const double *ins[2] = {z, y};
  DlcErr e;
  if (interp_run(g, ins, outs, &e)) {
    fprintf(stderr, "interp: %s\n", e.msg);
    check_failures++;
    return NAN;
  }
  return loss;
}

static void one(const LossCase *c, double scale) {
  int grad;
  Graph *g = build(c, &grad);
  if (!g) {
    check_failures++;
    return;
  }
  double z[NB * NK], y[NB * NK], dz[NB * NK];
  for (int i = 0; i < NB * NK; i++) z[i] = scale * rnd_sym(&rng_state);
  targets(c, y);
  double got = run_loss(g, z, y, dz), want = c->ref(z, y);
  if (!(fabs(got - want) <= 1e-12 * fmax(1, fabs(want)))) {
    check_failures++;
    fprintf(stderr, "%s (logits x%g): loss %.17g, the formula gives %.17g\n", c->name, scale, got, want);
  }
  for (int i = 0; i < NB * NK && scale < 10; i++) { /* finite differences where smooth */
    double h = 1e-6, keep = z[i];
    z[i] = keep + h;
    double up = run_loss(g, z, y, NULL);
    z[i] = keep - h;
    double down = run_loss(g, z, y, NULL);
    z[i] = keep;
    double fd = (up - down) / (2 * h);
    if (!(fabs(fd - dz[i]) <= 1e-6 * fmax(1, fabs(fd)))) {
      check_failures++;
      fprintf(stderr, "%s: d loss / d z[%d] = %.10g, finite differences %.10g\n", c->name, i, dz[i], fd);
    }
  }
  for (int i = 0; i < NB * NK; i++) CHECK(isfinite(dz[i]));
  ir_graph_free(g);
}

/* Shapes the losses refuse, each with its message. */
static void refusals(void) {
  Graph *g = ir_graph_new("bad");
  int z = ir_input(g, "z", DT_F32, SHP(NB, NK)), wrong = ir_input(g, "w", DT_I64, SHP(NB + 1));
  int small = ir_input(g, "s", DT_F32, SHP(3)), d = ir_input(g, "d", DT_F64, SHP(NB, NK));
  CHECK_FAILS(g, ir_loss(g, LOSS_CE, z, wrong), "do not fit logits");
  CHECK_FAILS(g, ir_loss(g, LOSS_MSE, z, small), "does not broadcast");
  CHECK_FAILS(g, ir_loss(g, LOSS_BCE, z, d), "the target is f64");
  CHECK_FAILS(g, ir_loss(g, LOSS_CE, wrong, z), "not a float");
  ir_graph_free(g);
}

int main(void) {
  static const LossCase cases[] = {
      {"ce, i64 ids", LOSS_CE, DT_I64, true, ce_ids},
      {"ce, i32 ids", LOSS_CE, DT_I32, true, ce_ids},
      {"ce, probabilities", LOSS_CE, DT_F64, false, ce_probs},
      {"bce", LOSS_BCE, DT_F64, false, bce},
      {"mse", LOSS_MSE, DT_F64, false, mse},
      {"l1", LOSS_L1, DT_F64, false, l1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    one(&cases[i], 3);
    if (cases[i].k == LOSS_CE || cases[i].k == LOSS_BCE) one(&cases[i], 30); /* stable: no overflow */
  }
  refusals();
  LossKind k;
  CHECK(!loss_parse("cross_entropy", &k) && k == LOSS_CE && !loss_parse("l1", &k) && k == LOSS_L1);
  CHECK(loss_parse("hinge", &k) == -1);
  return check_report("test_train_loss");
}

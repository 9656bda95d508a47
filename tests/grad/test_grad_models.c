/* test_grad_models.c — gradients of whole models against finite differences.
 *
 * Each bundled model (models/NAME.dlc) is read with its f32 declarations turned into
 * f64, so the interpreter's double precision holds end to end.  The loss is
 * sum(log(probs) * R) for a fixed random R (a cross-entropy with soft random targets);
 * pass_autodiff gives d loss / d every parameter, and a sample of each parameter's
 * elements is checked by central differences of the loss, perturbing that parameter's
 * values in a second, forward-only copy of the model.
 * Usage: test_grad_models REPO_ROOT */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend.h"
#include "passes.h"
#include "rnd.h"

#define TOL 1e-4
#define SAMPLES 6 /* elements checked per parameter */

static uint64_t rng_state = 0x853C49E6748FEA9BULL;

static char *read_f64(const char *root, const char *model) {
  char path[4096];
  snprintf(path, sizeof path, "%s/models/%s.dlc", root, model);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = calloc((size_t)n + 1, 1);
  if (fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = 0;
  fclose(f);
  for (char *p = s; (p = strstr(p, "f32"));) memcpy(p, "f64", 3);
  return s;
}

/* The model with loss = sum(log(out0) * R) appended; R from `seed`.  Returns the
 * loss id, or -1. */
static int with_loss(Graph *g, uint64_t seed) {
  int y = g->out[0];
  const Shape *s = &g->nodes[y]->shape;
  int64_t n = shape_numel(s), ax[IR_MAX_RANK];
  double *r = malloc(sizeof(double) * (size_t)n);
  rng_state = seed;
  for (int64_t i = 0; i < n; i++) r[i] = rnd_sym(&rng_state);
  int rc = ir_const(g, "targets", DT_F64, *s, r);
  free(r);
  for (int d = 0; d < s->rank; d++) ax[d] = d;
  return ir_reduce(g, OP_REDUCE_SUM, ir_binary(g, OP_MUL, ir_unary(g, OP_LOG, y), rc), ax, s->rank,
                   false);
}

static int params_of(const Graph *g, int *p, int max) {
  int k = 0;
  for (int i = 0; i < g->n && k < max; i++)
    if (g->nodes[i]->op == OP_PARAM) p[k++] = i;
  return k;
}

static double loss_of(Graph *fwd, const double *const *x) {
  double loss = NAN, *out[1] = {&loss};
  DlcErr e = {{0}};
  if (interp_run(fwd, x, out, &e)) fprintf(stderr, "forward: %s\n", e.msg);
  return loss;
}

/* d loss / d param[j] by central differences, perturbing the parameter's own data. */
static double numeric(Graph *fwd, int param, int64_t j, const double *const *x) {
  double *w = fwd->nodes[param]->data, v = w[j], h = 1e-6 * fmax(1, fabs(v));
  w[j] = v + h;
  double up = loss_of(fwd, x);
  w[j] = v - h;
  double down = loss_of(fwd, x);
  w[j] = v;
  return (up - down) / (2 * h);
}

static void check_model(const char *root, const char *model, int64_t batch) {
  char *src = read_f64(root, model);
  CHECK(src != NULL);
  if (!src) return;
  LoadOptions o = {.batch = batch};
  DlcErr e = {{0}};
  Graph *g = txt_parse(src, strlen(src), model, &o, &e),
        *fwd = txt_parse(src, strlen(src), model, &o, &e);
  free(src);
  if (!g || !fwd) fprintf(stderr, "%s: %s\n", model, e.msg);
  CHECK(g && fwd);
  if (!g || !fwd) return;
  int loss = with_loss(g, 99), floss = with_loss(fwd, 99), p[64], grads[64];
  CHECK(loss >= 0 && floss >= 0);
  fwd->nout = 0; /* the loss alone */
  ir_output(fwd, floss, "loss");
  int np = params_of(g, p, 64);
  int rc = pass_autodiff(g, loss, p, np, grads, &e);
  if (rc) fprintf(stderr, "%s: %s\n", model, e.msg);
  CHECK(rc == 0);
  g->nout = 0;
  for (int i = 0; !rc && i < np; i++) ir_output(g, grads[i], g->nodes[p[i]]->name);
  CHECK(rc || ir_verify(g, &e) == 0);
  const Node *xin = g->nodes[ir_input_id(g, 0)];
  int64_t nx = shape_numel(&xin->shape);
  double *x = malloc(sizeof(double) * (size_t)nx), *ga[64];
  rng_state = 7;
  for (int64_t i = 0; i < nx; i++) x[i] = rnd_sym(&rng_state);
  const double *xs[1] = {x};
  for (int i = 0; i < np; i++)
    ga[i] = malloc(sizeof(double) * (size_t)shape_numel(&g->nodes[p[i]]->shape));
  if (!rc && (rc = interp_run(g, xs, ga, &e))) fprintf(stderr, "%s: backward: %s\n", model, e.msg);
  CHECK(rc == 0);
  double worst = 0;
  for (int i = 0; !rc && i < np; i++) {
    int64_t n = shape_numel(&g->nodes[p[i]]->shape);
    for (int k = 0; k < SAMPLES; k++) {
      int64_t j = (int64_t)((rnd_sym(&rng_state) + 1) / 2 * (double)n);
      double num = numeric(fwd, p[i], j, xs),
             err = fabs(ga[i][j] - num) / fmax(1, fmax(fabs(num), fabs(ga[i][j])));
      if (!(err <= TOL))
        fprintf(stderr, "%s: d loss / d %s[%lld]: autodiff %.12g, finite differences %.12g\n",
                model, g->nodes[p[i]]->name, (long long)j, ga[i][j], num);
      CHECK(err <= TOL);
      worst = fmax(worst, err);
    }
  }
  printf("%s: %d parameters, %d elements each, largest error %.2g\n", model, np, SAMPLES, worst);
  for (int i = 0; i < np; i++) free(ga[i]);
  free(x);
  ir_graph_free(g);
  ir_graph_free(fwd);
}

int main(int argc, char **argv) {
  const char *root = argc > 1 ? argv[1] : ".";
  check_model(root, "logreg", 3);
  check_model(root, "mlp", 2);
  check_model(root, "lenet", 2);
  return check_report("test_grad_models");
}

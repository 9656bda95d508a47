/* test_fuse_models.c — one model file under every fusion mode at -O2 (the graphs as
 * the pipeline leaves them; tests/fuse's other files run -O0): the schedule and plan
 * checked, the generated code built with every warning an error, run and compared
 * with the reference interpreter.  Prints, per mode, the kernel count and
 * the arena against the lower bound (the most bytes live at once) and the sum of all
 * arena values; with --bound, an arena more than 10% above the lower bound fails.  With
 * --train the graph is a training step first: loss = sum(out0 * T) for a constant
 * T, its gradient for every parameter (pass_autodiff), loss and gradients the outputs.
 *
 * Usage: test_fuse_models MODEL [--bound] [--train] [--batch N]
 */
#include <stdlib.h>

#include "frontend.h"
#include "fuse_util.h"

static void report(const char *path, int level, FuseMode mode, const FuseStats *st, bool bound) {
  double ratio = st->peak ? (double)st->arena / (double)st->peak : 1.0;
  printf("%-40s -O%d %-4s kernels %4d  arena %9lld  lower bound %9lld  (x%.3f)  sum of values %9lld\n",
         path, level, fuse_mode_name[mode], st->kernels, (long long)st->arena, (long long)st->peak, ratio,
         (long long)st->total);
  if (bound && st->arena > st->peak + st->peak / 10) {
    check_failures++;
    fprintf(stderr, "%s -O%d --fuse=%s: arena %lld is more than 10%% above the lower bound %lld\n", path,
            level, fuse_mode_name[mode], (long long)st->arena, (long long)st->peak);
  }
}

/* The training step of g's first output, as the file comment says; 0 or -1. */
static int training_step(Graph *g, DlcErr *e) {
  int y = g->out[0], p[256], grads[256], np = 0;
  const Shape *s = &g->nodes[y]->shape;
  int64_t n = shape_numel(s), ax[IR_MAX_RANK];
  float *t = malloc(sizeof(float) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) t[i] = (float)((i * 7919) % 13) / 13.0f;
  int tc = ir_const(g, "targets", DT_F32, *s, t);
  free(t);
  for (int d = 0; d < s->rank; d++) ax[d] = d;
  int loss = ir_reduce(g, OP_REDUCE_SUM, ir_binary(g, OP_MUL, y, tc), ax, s->rank, false);
  for (int i = 0; i < g->n && np < 256; i++)
    if (g->nodes[i]->op == OP_PARAM) p[np++] = i;
  if (loss < 0 || pass_autodiff(g, loss, p, np, grads, e)) return -1;
  g->nout = 0;
  ir_output(g, loss, "loss");
  for (int i = 0; i < np; i++) {
    char name[64];
    snprintf(name, sizeof name, "grad%d", i);
    ir_output(g, grads[i], name);
  }
  return ir_verify(g, e);
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: test_fuse_models MODEL [--bound] [--train] [--batch N]\n"), 2;
  bool bound = false, train = false;
  LoadOptions lo = {.batch = 2};
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--bound")) bound = true;
    else if (!strcmp(argv[i], "--train")) train = true;
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) lo.batch = atoll(argv[++i]);
  }
  DlcErr e;
  Graph *g = frontend_load(argv[1], &lo, &e);
  if (!g) return fprintf(stderr, "%s\n", e.msg), 1;
  if (train && training_step(g, &e)) return fprintf(stderr, "%s: training step: %s\n", argv[1], e.msg), 1;
  PtVals in = pt_inputs(g, 7), want;
  if (pt_interp(g, &in, &want, &e)) return fprintf(stderr, "%s: interp: %s\n", argv[1], e.msg), 1;
  char name[256];
  snprintf(name, sizeof name, "%s%s", strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1],
           train ? " (train)" : "");
  for (int mode = FUSE_NONE; mode <= FUSE_ALL; mode++) {
    FuseStats st = {0};
    if (!fu_check(g, 2, (FuseMode)mode, &in, &want, &st, name)) report(name, 2, (FuseMode)mode, &st, bound);
  }
  pt_free(&in), pt_free(&want);
  ir_graph_free(g);
  return check_report("test_fuse_models");
}

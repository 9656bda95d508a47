/* cmd_check.c — `dlc run --check`: the compiled code against the reference interpreter
 * on the same inputs.
 *
 * An element passes when |got - want| <= 1e-5 * max(|want|, min(1, s)) for floats, s
 * the largest finite |want| of the tensor (NaN only matches NaN, an infinity only
 * itself), and when it is exactly equal for integers and bools, whose results the
 * interpreter rounds to the same dtype.  The scale s keeps a tensor of small values
 * (a network whose outputs are all near 1e-9) from passing whatever it holds.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define CHECK_TOL 1e-5

typedef struct Diff {
  double max_abs, max_rel; /* over finite pairs */
  int64_t bad, first_bad;  /* elements out of tolerance, the first of them */
  double got, want;        /* at first_bad */
} Diff;

static bool element_ok(bool exact, double got, double want, double scale) {
  if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
  if (exact || isinf(want) || isinf(got)) return got == want;
  return fabs(got - want) <= CHECK_TOL * fmax(fmin(1.0, scale), fabs(want));
}

/* str: equal bytes (the interpreter's value is the string's address). */
static Diff compare_str(const Node *n, const void *got, const double *want) {
  Diff d = {.first_bad = -1};
  for (int64_t i = 0, m = shape_numel(&n->shape); i < m; i++) {
    const char *w = (const char *)(uintptr_t)want[i];
    if (!strcmp(((const char *const *)got)[i], w)) continue;
    if (!d.bad++) d.first_bad = i, d.got = d.want = NAN;
  }
  return d;
}

static Diff compare(const Node *n, const void *got, const double *want) {
  if (n->dtype == DT_STR) return compare_str(n, got, want);
  Diff d = {.first_bad = -1};
  bool exact = !dtype_is_float(n->dtype);
  int64_t numel = shape_numel(&n->shape);
  double scale = 0;
  for (int64_t i = 0; i < numel; i++)
    if (isfinite(want[i])) scale = fmax(scale, fabs(want[i]));
  for (int64_t i = 0; i < numel; i++) {
    double g = dtype_load(n->dtype, got, i), w = want[i];
    if (isfinite(g) && isfinite(w)) {
      d.max_abs = fmax(d.max_abs, fabs(g - w));
      d.max_rel = fmax(d.max_rel, fabs(g - w) / fmax(fabs(w), 1e-30));
    }
    if (element_ok(exact, g, w, scale)) continue;
    if (!d.bad++) d.first_bad = i, d.got = g, d.want = w;
  }
  return d;
}

static void report(const char *name, const Node *n, const Diff *d) {
  printf("check %s: max abs err %.3g, max rel err %.3g: ", name, d->max_abs, d->max_rel);
  if (!d->bad) {
    printf("ok\n");
    return;
  }
  printf("FAILED, %lld of %lld elements out of tolerance (first at %lld: got %.9g, want %.9g)\n",
         (long long)d->bad, (long long)shape_numel(&n->shape), (long long)d->first_bad, d->got,
         d->want);
}

static void free_all(double **p, int n);

/* The inputs as doubles, for the interpreter; NULL when memory runs out. */
static double **to_doubles(const Graph *g, void *const *inputs) {
  int ni = ir_num_inputs(g);
  double **x = dlc_calloc((size_t)(ni ? ni : 1), sizeof *x);
  for (int i = 0; x && i < ni; i++) {
    const Node *n = ir_node(g, ir_input_id(g, i));
    int64_t numel = shape_numel(&n->shape);
    x[i] = dlc_malloc(sizeof(double) * (size_t)(numel ? numel : 1));
    if (!x[i]) {
      free_all(x, i);
      return NULL;
    }
    for (int64_t k = 0; k < numel; k++) x[i][k] = dtype_load(n->dtype, inputs[i], k);
  }
  return x;
}

static void free_all(double **p, int n) {
  for (int i = 0; i < n; i++) free(p[i]);
  free(p);
}

static int compare_all(const Graph *g, void *const *outputs, double **want) {
  int failed = 0;
  for (int j = 0; j < g->nout; j++) {
    const Node *n = ir_node(g, g->out[j]);
    char name[256];
    Diff d = compare(n, outputs[j], want[j]);
    report(cmd_output_name(g, j, name, sizeof name), n, &d);
    failed += d.bad != 0;
  }
  return failed;
}

int cmd_check(const Graph *g, void *const *inputs, void *const *outputs, DlcErr *e) {
  int ni = ir_num_inputs(g);
  double **x = to_doubles(g, inputs);
  double **y = dlc_calloc((size_t)(g->nout ? g->nout : 1), sizeof *y);
  bool ok = x && y;
  for (int j = 0; ok && j < g->nout; j++) {
    int64_t numel = shape_numel(&ir_node(g, g->out[j])->shape);
    ok = (y[j] = dlc_calloc((size_t)(numel ? numel : 1), sizeof(double))) != NULL;
  }
  if (!ok) {
    if (x) free_all(x, ni);
    if (y) free_all(y, g->nout);
    return dlc_errf(e, "--check: out of memory for the reference interpreter");
  }
  int r = interp_run(g, (const double *const *)x, y, e);
  if (!r && compare_all(g, outputs, y)) r = 1;
  free_all(x, ni);
  free_all(y, g->nout);
  return r;
}

/* grad_check.h — the gradient checker the grad tests share.
 *
 * A case builds, in f64, a value y from INPUT nodes (the variables) and constants.
 * The checker appends loss = sum(y * R) with a fixed random R, asks pass_autodiff for
 * d loss / d input, evaluates it with the interpreter, and compares it with central
 * finite differences of the loss, also through the interpreter, on a second graph
 * built the same way that holds only the forward part.  The error of an element is
 * |analytic - numeric| / max(1, |analytic|, |numeric|); the largest must be under
 * GRAD_TOL. */
#ifndef DLC_TEST_GRAD_CHECK_H
#define DLC_TEST_GRAD_CHECK_H

#include <stdlib.h>

#include "check.h"
#include "passes.h"
#include "rnd.h"

#define GRAD_TOL 1e-4
#define GRAD_MAX_IN 8
#define GRAD_SAMPLES 24 /* elements of each input checked by finite differences */

/* Values drawn uniformly from [lo, hi], negated half the time when sym, and exactly
 * zero with probability zero_p (for ops that are smooth there, like prod). */
typedef struct Range {
  double lo, hi;
  bool sym;
  double zero_p;
} Range;

typedef struct Case {
  Graph *g;
  uint64_t rng; /* shapes, constants: the same sequence for both builds */
  int nin;
  int in[GRAD_MAX_IN];
  Range r[GRAD_MAX_IN];
} Case;

/* A well-mixed generator state from any seed (splitmix64), so that small seeds do not
 * start xorshift on a run of tiny numbers. */
static inline uint64_t gc_seed(uint64_t seed) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return z ? z : 1;
}

static inline int64_t gc_int(uint64_t *s, int64_t lo, int64_t hi) { /* in [lo, hi] */
  return lo + (int64_t)(rnd_unit(s) * (double)(hi - lo + 1));
}

static inline double gc_draw(uint64_t *s, Range r) {
  double u = rnd_unit(s), v = r.lo + (r.hi - r.lo) * rnd_unit(s);
  if (r.sym && rnd_unit(s) < 0.5) v = -v;
  return u < r.zero_p ? 0 : v;
}

/* A variable: an f64 INPUT whose values come from r. */
static inline int gc_var(Case *c, Shape s, Range r) {
  char name[16];
  DLC_ASSERT(c->nin < GRAD_MAX_IN);
  snprintf(name, sizeof name, "x%d", c->nin);
  int id = ir_input(c->g, name, DT_F64, s);
  c->r[c->nin] = r;
  c->in[c->nin++] = id;
  return id;
}

/* A constant of dtype t with values from r (integers: rounded down). */
static inline int gc_const(Case *c, DType t, Shape s, Range r) {
  int64_t n = shape_numel(&s);
  void *buf = malloc((size_t)(n ? n : 1) * 8);
  for (int64_t i = 0; i < n; i++) {
    double v = gc_draw(&c->rng, r);
    dtype_store(t, buf, i, dtype_is_float(t) ? v : floor(v));
  }
  int id = ir_const(c->g, NULL, t, s, buf);
  free(buf);
  return id;
}

/* A random shape of rank in [rlo, rhi], dimensions in [1, dmax]. */
static inline Shape gc_shape(uint64_t *s, int rlo, int rhi, int64_t dmax) {
  Shape sh = {.rank = (int)gc_int(s, rlo, rhi)};
  for (int i = 0; i < sh.rank; i++) sh.d[i] = gc_int(s, 1, dmax);
  return sh;
}

/* A shape that broadcasts to s: some leading dims dropped, some others made 1. */
static inline Shape gc_bcast_of(uint64_t *s, Shape to) {
  int drop = (int)gc_int(s, 0, to.rank);
  Shape sh = {.rank = to.rank - drop};
  for (int i = 0; i < sh.rank; i++) sh.d[i] = rnd_unit(s) < 0.3 ? 1 : to.d[i + drop];
  return sh;
}

typedef int (*GradBuild)(Case *c, Op op);

/* loss = sum(y * R) over every axis */
static inline int gc_loss(Case *c, int y) {
  if (y < 0) return -1;
  const Shape *s = &c->g->nodes[y]->shape;
  int r = gc_const(c, DT_F64, *s, (Range){-1, 1, false, 0});
  int64_t ax[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) ax[i] = i;
  return ir_reduce(c->g, OP_REDUCE_SUM, ir_binary(c->g, OP_MUL, y, r), ax, s->rank, false);
}

static inline int gc_build(Case *c, GradBuild b, Op op, uint64_t seed) {
  *c = (Case){.g = ir_graph_new("grad"), .rng = gc_seed(seed)};
  return gc_loss(c, b(c, op));
}

static inline double gc_run_loss(Graph *g, double **x) {
  double loss = NAN, *out[1] = {&loss};
  DlcErr e = {{0}};
  if (interp_run(g, (const double *const *)x, out, &e)) fprintf(stderr, "forward: %s\n", e.msg);
  return loss;
}

/* d loss / d x[i][j] by central differences with step h (scaled by |x|). */
static inline double gc_numeric(Graph *fwd, double **x, int i, int64_t j, double h) {
  double v = x[i][j], step = h * fmax(1, fabs(v));
  x[i][j] = v + step;
  double up = gc_run_loss(fwd, x);
  x[i][j] = v - step;
  double down = gc_run_loss(fwd, x);
  x[i][j] = v;
  return (up - down) / (2 * step);
}

/* Compares input i's analytic gradient with finite differences on a sample of its
 * elements; returns the largest error. */
static inline double gc_compare(Graph *fwd, double **x, const double *ga, int64_t n, int i,
                                double h, uint64_t *pick, const char *what) {
  double worst = 0;
  int64_t count = n < GRAD_SAMPLES ? n : GRAD_SAMPLES;
  for (int64_t k = 0; k < count; k++) {
    int64_t j = n <= GRAD_SAMPLES ? k : gc_int(pick, 0, n - 1);
    double num = gc_numeric(fwd, x, i, j, h);
    double err = fabs(ga[j] - num) / fmax(1, fmax(fabs(ga[j]), fabs(num)));
    if (!(err <= GRAD_TOL))
      fprintf(stderr, "%s: d loss / d x%d[%lld]: autodiff %.12g, finite differences %.12g\n", what,
              i, (long long)j, ga[j], num);
    if (!(err <= worst)) worst = err;
  }
  return worst;
}

/* Builds the case twice (with and without its backward part), checks every input.
 * Returns the largest error, or INFINITY when something could not be built or run. */
static inline double gc_check(GradBuild b, Op op, uint64_t seed, double h, const char *what) {
  Case c, f;
  DlcErr e = {{0}};
  int loss = gc_build(&c, b, op, seed), floss = gc_build(&f, b, op, seed), grads[GRAD_MAX_IN];
  double worst = INFINITY, *x[GRAD_MAX_IN] = {0}, *ga[GRAD_MAX_IN] = {0};
  if (loss < 0 || floss < 0) {
    fprintf(stderr, "%s: building the case failed: %s\n", what, c.g->err.msg);
    goto out;
  }
  ir_output(f.g, floss, "loss");
  if (pass_autodiff(c.g, loss, c.in, c.nin, grads, &e)) {
    fprintf(stderr, "%s: %s\n", what, e.msg);
    goto out;
  }
  for (int i = 0; i < c.nin; i++) ir_output(c.g, grads[i], c.g->nodes[c.in[i]]->name);
  if (ir_verify(c.g, &e)) {
    fprintf(stderr, "%s: the backward graph does not verify: %s\n", what, e.msg);
    goto out;
  }
  uint64_t vals = gc_seed(~seed);
  for (int i = 0; i < c.nin; i++) {
    int64_t n = shape_numel(&c.g->nodes[c.in[i]]->shape);
    x[i] = malloc(sizeof(double) * (size_t)(n + 1)),
    ga[i] = malloc(sizeof(double) * (size_t)(n + 1));
    for (int64_t j = 0; j < n; j++) x[i][j] = gc_draw(&vals, c.r[i]);
  }
  if (interp_run(c.g, (const double *const *)x, ga, &e)) {
    fprintf(stderr, "%s: running the backward graph: %s\n", what, e.msg);
    goto out;
  }
  worst = 0;
  for (int i = 0; i < c.nin; i++) {
    double w =
        gc_compare(f.g, x, ga[i], shape_numel(&c.g->nodes[c.in[i]]->shape), i, h, &vals, what);
    if (!(w <= worst)) worst = w;
  }
out:
  for (int i = 0; i < GRAD_MAX_IN; i++) free(x[i]), free(ga[i]);
  ir_graph_free(c.g);
  ir_graph_free(f.g);
  return worst;
}

#endif

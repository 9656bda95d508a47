/* passes_util.h — what the pass tests share: seeded inputs, the reference interpreter
 * on a graph, and the comparison of a transformed graph's outputs with the original's
 * (floats within 1e-5 relative, integers and bools exactly, NaN only with NaN). */
#ifndef DLC_TEST_PASSES_UTIL_H
#define DLC_TEST_PASSES_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "passes.h"
#include "rnd.h"

static inline int pt_randint(uint64_t *s, int n) { return (int)(rnd_unit(s) * n); }

/* Values of one output or input, as the interpreter reads them. */
typedef struct PtVals {
  int n;
  double **v;
  int64_t *numel;
} PtVals;

static inline void pt_free(PtVals *p) {
  for (int i = 0; p->v && i < p->n; i++) free(p->v[i]);
  free(p->v), free(p->numel);
  memset(p, 0, sizeof *p);
}

static inline void pt_alloc(PtVals *p, int n) {
  p->n = n;
  p->v = calloc((size_t)(n ? n : 1), sizeof(double *));
  p->numel = calloc((size_t)(n ? n : 1), sizeof(int64_t));
  DLC_ASSERT(p->v && p->numel);
}

static inline double *pt_buf(PtVals *p, int i, const Node *n) {
  p->numel[i] = shape_numel(&n->shape);
  p->v[i] = calloc((size_t)(p->numel[i] ? p->numel[i] : 1), sizeof(double));
  DLC_ASSERT(p->v[i]);
  return p->v[i];
}

/* Seeded values for every INPUT of g: floats in [-2, 2], integers in [0, 3], coins. */
static inline PtVals pt_inputs(const Graph *g, uint64_t seed) {
  PtVals p;
  pt_alloc(&p, ir_num_inputs(g));
  uint64_t s = seed * 2654435761u + 88172645463325252ull;
  for (int i = 0; i < p.n; i++) {
    const Node *n = ir_node(g, ir_input_id(g, i));
    double *v = pt_buf(&p, i, n);
    for (int64_t k = 0; k < p.numel[i]; k++) {
      double u = rnd_unit(&s);
      v[k] = dtype_is_float(n->dtype) ? dtype_round(n->dtype, 4 * u - 2) : n->dtype == DT_BOOL ? u < 0.5 : (double)(int)(4 * u);
    }
  }
  return p;
}

/* The interpreter's outputs of g on in; 0, or -1 with e set. */
static inline int pt_interp(const Graph *g, const PtVals *in, PtVals *out, DlcErr *e) {
  pt_alloc(out, g->nout);
  for (int j = 0; j < g->nout; j++) pt_buf(out, j, ir_node(g, g->out[j]));
  int r = interp_run(g, (const double *const *)in->v, out->v, e);
  if (r) pt_free(out);
  return r;
}

static inline bool pt_close(DType t, double got, double want) {
  if (!dtype_is_float(t)) return got == want;
  if (isnan(got) || isnan(want)) return isnan(got) && isnan(want);
  if (isinf(got) || isinf(want)) return got == want;
  return fabs(got - want) <= 1e-5 * fmax(1, fabs(want));
}

/* got (outputs of graph g) against want, output by output; prints the first few
 * differences under `what` and counts one failure.  true when all agree. */
static inline bool pt_compare(const Graph *g, const PtVals *got, const PtVals *want, const char *what) {
  int shown = 0;
  if (got->n != want->n) {
    check_failures++;
    fprintf(stderr, "%s: %d outputs, want %d\n", what, got->n, want->n);
    return false;
  }
  for (int j = 0; j < got->n; j++) {
    DType t = ir_node(g, g->out[j])->dtype;
    if (got->numel[j] != want->numel[j]) {
      if (shown++ < 4) fprintf(stderr, "%s: output %d has %lld values, want %lld\n", what, j,
                               (long long)got->numel[j], (long long)want->numel[j]);
      continue;
    }
    for (int64_t k = 0; k < got->numel[j]; k++)
      if (!pt_close(t, got->v[j][k], want->v[j][k]) && shown++ < 4)
        fprintf(stderr, "%s: output '%s' [%lld]: got %.9g, want %.9g\n", what, g->out_name[j],
                (long long)k, got->v[j][k], want->v[j][k]);
  }
  if (shown) check_failures++;
  return !shown;
}

/* Runs g (a transformed copy) on in and compares with want. */
static inline bool pt_check_graph(const Graph *g, const PtVals *in, const PtVals *want, const char *what) {
  DlcErr e;
  PtVals got;
  if (pt_interp(g, in, &got, &e)) {
    check_failures++;
    fprintf(stderr, "%s: the interpreter failed: %s\n", what, e.msg);
    return false;
  }
  bool ok = pt_compare(g, &got, want, what);
  pt_free(&got);
  return ok;
}

/* A copy of orig through the pipeline (verifying after every pass), then the
 * interpreter on it, compared with want. */
static inline bool pt_check_pipeline(const Graph *orig, PassOptions o, const PtVals *in, const PtVals *want,
                                     const char *what) {
  Graph *g = pass_clone(orig);
  Schedule *s;
  Plan *p;
  DlcErr e;
  o.verify = true;
  bool ok = false;
  if (pass_pipeline(&g, &o, &s, &p, &e)) {
    check_failures++;
    fprintf(stderr, "%s: the pipeline failed: %s\n", what, e.msg);
  } else {
    ok = pt_check_graph(g, in, want, what);
  }
  ir_graph_free(g);
  return ok;
}

typedef int (*PtPass)(Graph **g, DlcErr *e);

/* A copy of orig through one pass; the verifier and the interpreter then check it.
 * *nodes (when not NULL) gets the node count after the pass. */
static inline bool pt_check_pass(const Graph *orig, PtPass pass, const PtVals *in, const PtVals *want,
                                 const char *what, int *nodes) {
  Graph *g = pass_clone(orig);
  DlcErr e;
  bool ok = false;
  if (pass(&g, &e) || ir_verify(g, &e)) {
    check_failures++;
    fprintf(stderr, "%s: %s\n", what, e.msg);
  } else {
    ok = pt_check_graph(g, in, want, what);
  }
  if (nodes) *nodes = g->n;
  ir_graph_free(g);
  return ok;
}

#endif

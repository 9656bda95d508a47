/* cgen_util.h — what the C backend's tests share: seeded inputs in every dtype, and
 * a check that builds a graph with the jit (every warning an error), runs it, and
 * compares each output with the reference interpreter. */
#ifndef DLC_TEST_CGEN_UTIL_H
#define DLC_TEST_CGEN_UTIL_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "jit.h"
#include "rnd.h"

/* What the generated code must pass: the pedantic C99 the backend promises, and no
 * shadowed names, so users who build with -Wshadow stay quiet. */
#define CGEN_STRICT "-O2 -Wall -Wextra -Wshadow -Werror -pedantic"

typedef struct Range {
  double lo, hi;
} Range;

/* n values of dtype t: floats uniform in f, integers uniform in i (clipped to t),
 * bools fair coins.  `typed` gets them as t stores them, `dbl` as the interpreter reads
 * them. */
static inline void cg_fill(DType t, void *typed, double *dbl, int64_t n, Range f, Range i,
                           uint64_t *seed) {
  double lo = i.lo < dtype_lowest(t) ? dtype_lowest(t) : i.lo;
  double hi = i.hi > dtype_highest(t) ? dtype_highest(t) : i.hi;
  for (int64_t k = 0; k < n; k++) {
    double u = rnd_unit(seed), v;
    if (dtype_is_float(t)) v = f.lo + (f.hi - f.lo) * u;
    else if (t == DT_BOOL) v = u < 0.5;
    else v = floor(lo + (hi - lo + 1) * u);
    dtype_store(t, typed, k, v);
    dbl[k] = dtype_load(t, typed, k);
  }
}

static inline bool cg_close(DType t, double got, double want) {
  if (!dtype_is_float(t)) return got == want;
  if (isnan(got) || isnan(want)) return isnan(got) && isnan(want);
  if (isinf(got) || isinf(want)) return got == want;
  return fabs(got - want) <= 1e-5 * fmax(1, fabs(want));
}

/* Compares output j; prints the first few differences. */
static inline void cg_compare(const Graph *g, int j, const void *typed, const double *want,
                              const char *what) {
  const Node *n = g->nodes[g->out[j]];
  int64_t count = shape_numel(&n->shape);
  int shown = 0;
  for (int64_t k = 0; k < count; k++) {
    double got = dtype_load(n->dtype, typed, k);
    if (cg_close(n->dtype, got, want[k])) continue;
    if (shown++ < 4)
      fprintf(stderr, "%s: output '%s' (%s) [%lld]: got %.9g, want %.9g\n", what, g->out_name[j],
              dtype_name(n->dtype), (long long)k, got, want[k]);
  }
  if (shown) check_failures++;
}

/* Removes a folder the jit was told to keep. */
static inline void cg_remove_dir(const char *dir) {
  static const char *const files[] = {"model.c", "model.h", "model.weights", "model.bin", "model.so",
                                      "cc.log", "bad.weights", "bad.bin", "bad.so", "clang.log"};
  char p[4096];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    if (snprintf(p, sizeof p, "%s/%s", dir, files[i]) < (int)sizeof p) unlink(p);
  }
  rmdir(dir);
}

/* The kept code compiles under clang with every warning an error (when clang exists). */
static inline void cg_clang(const char *dir, const char *what) {
  if (!CGEN_CLANG[0]) return;
  char cmd[8192];
  int len = snprintf(cmd, sizeof cmd,
           "cd '%s' && '%s' -std=c99 -Wall -Wextra -Wshadow -Werror -pedantic -fsyntax-only model.c "
           ">clang.log 2>&1",
           dir, CGEN_CLANG);
  if (len < 0 || (size_t)len >= sizeof cmd || system(cmd)) {
    fprintf(stderr, "%s: clang rejects the generated code (kept in %s)\n", what, dir);
    check_failures++;
  }
}

/* Builds g (outputs already marked) with weights embedded up to embed_max bytes (0:
 * the default), runs it on seeded inputs, compares every output with interp_run.  The
 * jit's folder is removed unless something failed.  0, or -1 after a failure. */
static inline int cg_check_embed(Graph *g, const char *what, Range f, Range i, uint64_t seed,
                                 int64_t embed_max) {
  DlcErr e = {{0}};
  int ni = ir_num_inputs(g), no = g->nout, rc = -1, before = check_failures;
  void **in = calloc((size_t)ni + 1, sizeof *in), **out = calloc((size_t)no + 1, sizeof *out);
  double **din = calloc((size_t)ni + 1, sizeof *din), **dout = calloc((size_t)no + 1, sizeof *dout);
  for (int k = 0; k < ni; k++) {
    const Node *n = g->nodes[ir_input_id(g, k)];
    int64_t c = shape_numel(&n->shape);
    in[k] = malloc((size_t)(c + 1) * 8), din[k] = malloc((size_t)(c + 1) * 8);
    cg_fill(n->dtype, in[k], din[k], c, f, i, &seed);
  }
  for (int j = 0; j < no; j++) {
    int64_t c = shape_numel(&g->nodes[g->out[j]]->shape);
    out[j] = calloc((size_t)c + 1, 8), dout[j] = calloc((size_t)c + 1, 8);
  }
  if (ir_verify(g, &e)) fprintf(stderr, "%s: graph does not verify: %s\n", what, e.msg);
  else if (interp_run(g, (const double *const *)din, dout, &e))
    fprintf(stderr, "%s: interp_run failed: %s\n", what, e.msg);
  else {
    JitOptions o = {.cflags = CGEN_STRICT, .embed_max_bytes = embed_max, .keep = true};
    JitModel *m = jit_build(g, &o, &e);
    if (!m) fprintf(stderr, "%s: jit_build failed: %s\n", what, e.msg);
    else if (jit_run(m, (const void *const *)in, out, &e)) fprintf(stderr, "%s: %s\n", what, e.msg);
    else {
      for (int j = 0; j < no; j++) cg_compare(g, j, out[j], dout[j], what);
      cg_clang(jit_dir(m), what);
      rc = 0;
    }
    if (m) {
      char dir[4096];
      snprintf(dir, sizeof dir, "%s", jit_dir(m));
      jit_free(m);
      if (!rc && check_failures == before) cg_remove_dir(dir);
      else fprintf(stderr, "%s: generated code kept in %s\n", what, dir);
    }
  }
  if (rc) check_failures++;
  for (int k = 0; k < ni; k++) free(in[k]), free(din[k]);
  for (int j = 0; j < no; j++) free(out[j]), free(dout[j]);
  free(in), free(out), free(din), free(dout);
  return rc;
}

static inline int cg_check(Graph *g, const char *what, Range f, Range i, uint64_t seed) {
  return cg_check_embed(g, what, f, i, seed, 0);
}

/* Marks id as output "y<k>" with k counting outputs; a failed build is reported. */
static inline void cg_out(Graph *g, int id) {
  char name[32];
  if (id < 0) {
    fprintf(stderr, "building a node failed: %s\n", g->err.msg);
    check_failures++;
    return;
  }
  snprintf(name, sizeof name, "y%d", g->nout);
  ir_output(g, id, name);
}

#endif

/* fuse_util.h — what the fusion tests share: a graph through the pipeline at one fusion
 * mode (schedule_check and plan_check on the result), then through the jit with every
 * warning an error (weights over 64 KiB go to a file, which keeps the C small), run on
 * seeded inputs and compared with the reference interpreter on the original graph; the
 * generated code also passes clang -fsyntax-only. */
#ifndef DLC_TEST_FUSE_UTIL_H
#define DLC_TEST_FUSE_UTIL_H

#include <unistd.h>

#include "../passes/passes_util.h"
#include "jit.h"

#define FUSE_STRICT "-O2 -Wall -Wextra -Wshadow -Werror -pedantic"

static const char *const fuse_mode_name[] = {"none", "op", "all"};

/* What the pipeline made of a graph. */
typedef struct FuseStats {
  int kernels;
  int64_t arena, peak, total;
} FuseStats;

/* A copy of g through the pipeline; its schedule and plan checked.  0, or -1 after a
 * failure (counted). */
static inline int fu_plan(const Graph *g, PassOptions o, FuseStats *st, const char *what) {
  Graph *c = pass_clone(g);
  Schedule *s;
  Plan *p;
  DlcErr e;
  o.verify = true;
  int r = pass_pipeline(&c, &o, &s, &p, &e);
  if (!r && (r = schedule_check(c, s, &e)) == 0) r = plan_check(c, s, p, &e);
  if (r) {
    check_failures++;
    fprintf(stderr, "%s: %s\n", what, e.msg);
  } else {
    *st = (FuseStats){s->nk, p->arena_bytes, p->peak_bytes, p->total_bytes};
  }
  ir_graph_free(c);
  return r;
}

static inline void fu_clang(const char *dir, const char *what) {
  if (!FUSE_CLANG[0]) return;
  char cmd[8192];
  int len = snprintf(cmd, sizeof cmd,
                     "cd '%s' && '%s' -std=c99 -Wall -Wextra -Wshadow -Werror -pedantic -fsyntax-only "
                     "model.c >clang.log 2>&1",
                     dir, FUSE_CLANG);
  if (len < 0 || (size_t)len >= sizeof cmd || system(cmd)) {
    fprintf(stderr, "%s: clang rejects the generated code (kept in %s)\n", what, dir);
    check_failures++;
  }
}

static inline void fu_remove(const char *dir) {
  static const char *const files[] = {"model.c", "model.h", "model.weights", "model.bin", "model.so", "cc.log", "clang.log"};
  char p[4200];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (snprintf(p, sizeof p, "%s/%s", dir, files[i]) < (int)sizeof p) unlink(p);
  rmdir(dir);
}

/* Runs the jit's build of g under o on `in`; the outputs (as doubles) into got. */
static inline int fu_jit(const Graph *g, const PassOptions *o, const PtVals *in, PtVals *got,
                         const char *what) {
  JitOptions jo = {.cflags = FUSE_STRICT, .embed_max_bytes = 64 << 10, .passes = o, .keep = true};
  DlcErr e;
  JitModel *m = jit_build((Graph *)g, &jo, &e);
  if (!m) return fprintf(stderr, "%s: jit: %s\n", what, e.msg), check_failures++, -1;
  int ni = in->n, no = g->nout, r;
  void **ib = calloc((size_t)ni + 1, sizeof(void *)), **ob = calloc((size_t)no + 1, sizeof(void *));
  pt_alloc(got, no);
  for (int i = 0; i < ni; i++) {
    const Node *n = ir_node(g, ir_input_id(g, i));
    ib[i] = calloc((size_t)in->numel[i] + 1, (size_t)dtype_size(n->dtype));
    for (int64_t k = 0; k < in->numel[i]; k++) dtype_store(n->dtype, ib[i], k, in->v[i][k]);
  }
  for (int j = 0; j < no; j++) {
    const Node *n = ir_node(g, g->out[j]);
    ob[j] = calloc((size_t)shape_numel(&n->shape) + 1, (size_t)dtype_size(n->dtype));
    pt_buf(got, j, n);
  }
  if ((r = jit_run(m, (const void *const *)ib, ob, &e)))
    fprintf(stderr, "%s: run: %s\n", what, e.msg), check_failures++;
  for (int j = 0; !r && j < no; j++)
    for (int64_t k = 0; k < got->numel[j]; k++) got->v[j][k] = dtype_load(ir_node(g, g->out[j])->dtype, ob[j], k);
  for (int i = 0; i < ni; i++) free(ib[i]);
  for (int j = 0; j < no; j++) free(ob[j]);
  free(ib), free(ob);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", jit_dir(m));
  jit_free(m);
  int before = check_failures;
  fu_clang(dir, what);
  if (check_failures == before && !r) fu_remove(dir);
  else fprintf(stderr, "%s: generated code kept in %s\n", what, dir);
  return r;
}

/* g at one level and fusion mode: planned and checked, built, run and compared with the
 * interpreter's outputs `want` on `in`. */
static inline int fu_check(const Graph *g, int level, FuseMode mode, const PtVals *in, const PtVals *want,
                           FuseStats *st, const char *name) {
  char what[512];
  snprintf(what, sizeof what, "%s -O%d --fuse=%s", name, level, fuse_mode_name[mode]);
  PassOptions o = pass_options(level);
  o.fuse = mode;
  o.verify = true;
  PtVals got;
  if (fu_plan(g, o, st, what) || fu_jit(g, &o, in, &got, what)) return -1;
  bool ok = pt_compare(g, &got, want, what);
  pt_free(&got);
  return ok ? 0 : -1;
}

#endif

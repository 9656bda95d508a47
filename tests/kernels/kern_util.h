/* kern_util.h — what the kernel tests share: a schedule with hand-made epilogue
 * kernels, a build through the jit exactly as scheduled (every warning an error, plus
 * clang's view of the same code), and a comparison of every output with the reference
 * interpreter at a tolerance that grows with the depth of the sums. */
#ifndef DLC_TEST_KERN_UTIL_H
#define DLC_TEST_KERN_UTIL_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgen_util.h"
#include "passes.h"

#define KU_MAX_GROUPS 32

/* A graph under construction and the kernels to fuse in it. */
typedef struct KCase {
  Graph *g;
  int ngroups;
  int gn[KU_MAX_GROUPS];      /* nodes per group */
  int gnodes[KU_MAX_GROUPS][8]; /* head first, then the tail in order */
  int64_t depth;              /* the deepest sum, for the tolerance */
} KCase;

static inline KCase ku_new(const char *name) {
  KCase c = {.g = ir_graph_new(name)};
  return c;
}

/* Marks nodes[0..n) (a matmul or conv, then elementwise nodes) as one epilogue kernel. */
static inline void ku_epilogue(KCase *c, const int *nodes, int n) {
  DLC_ASSERT(c->ngroups < KU_MAX_GROUPS && n <= 8);
  for (int i = 0; i < n; i++) c->gnodes[c->ngroups][i] = nodes[i];
  c->gn[c->ngroups++] = n;
}

static inline int ku_group_of(const KCase *c, int id) {
  for (int q = 0; q < c->ngroups; q++)
    for (int i = 0; i < c->gn[q]; i++)
      if (c->gnodes[q][i] == id) return q;
  return -1;
}

/* One kernel per node, except each epilogue group: one kernel where its last node was. */
static inline Schedule *ku_schedule(KCase *c) {
  Schedule *one = pass_schedule(c->g);
  Schedule *s = arena_alloc(c->g->arena, sizeof *s);
  s->k = arena_alloc(c->g->arena, sizeof(Kernel) * (size_t)(one->nk ? one->nk : 1));
  for (int t = 0; t < one->nk; t++) {
    int id = one->k[t].nodes[0], q = ku_group_of(c, id);
    if (q < 0) {
      s->k[s->nk++] = one->k[t];
      continue;
    }
    if (id != c->gnodes[q][c->gn[q] - 1]) continue;
    Kernel *k = &s->k[s->nk++];
    k->kind = KERNEL_EPILOGUE, k->n = c->gn[q];
    k->nodes = arena_memdup(c->g->arena, c->gnodes[q], sizeof(int) * (size_t)c->gn[q]);
  }
  return s;
}

static inline bool ku_close(DType t, double got, double want, int64_t depth) {
  if (!dtype_is_float(t)) return got == want;
  if (isnan(got) || isnan(want)) return isnan(got) && isnan(want);
  double eps = t == DT_F32 ? 1.2e-7 : 2.3e-16;
  return fabs(got - want) <= 8 * eps * (double)(depth + 4) * fmax(1, fabs(want));
}

static inline void ku_compare(const KCase *c, int j, const void *typed, const double *want,
                              const char *what) {
  const Node *n = c->g->nodes[c->g->out[j]];
  int shown = 0;
  for (int64_t k = 0; k < shape_numel(&n->shape); k++) {
    double got = dtype_load(n->dtype, typed, k);
    if (ku_close(n->dtype, got, want[k], c->depth)) continue;
    if (shown++ < 4)
      fprintf(stderr, "%s: output %s [%lld]: got %.9g, want %.9g\n", what, c->g->out_name[j],
              (long long)k, got, want[k]);
  }
  if (shown) check_failures++;
}

typedef struct KBufs {
  int ni, no;
  void **in, **out;
  double **din, **dout;
} KBufs;

static inline void ku_bufs(const Graph *g, KBufs *b, uint64_t seed) {
  b->ni = ir_num_inputs(g), b->no = g->nout;
  b->in = calloc((size_t)b->ni + 1, sizeof(void *)), b->din = calloc((size_t)b->ni + 1, sizeof(double *));
  b->out = calloc((size_t)b->no + 1, sizeof(void *)), b->dout = calloc((size_t)b->no + 1, sizeof(double *));
  for (int k = 0; k < b->ni; k++) {
    const Node *n = g->nodes[ir_input_id(g, k)];
    int64_t cnt = shape_numel(&n->shape);
    b->in[k] = malloc((size_t)(cnt + 1) * 8), b->din[k] = malloc((size_t)(cnt + 1) * 8);
    cg_fill(n->dtype, b->in[k], b->din[k], cnt, (Range){-1, 1}, (Range){-4, 4}, &seed);
  }
  for (int j = 0; j < b->no; j++) {
    int64_t cnt = shape_numel(&g->nodes[g->out[j]]->shape);
    b->out[j] = calloc((size_t)cnt + 1, 8), b->dout[j] = calloc((size_t)cnt + 1, 8);
  }
}

static inline void ku_bufs_free(KBufs *b) {
  for (int k = 0; k < b->ni; k++) free(b->in[k]), free(b->din[k]);
  for (int j = 0; j < b->no; j++) free(b->out[j]), free(b->dout[j]);
  free(b->in), free(b->din), free(b->out), free(b->dout);
}

/* Builds the case as scheduled (weights embedded up to embed_max bytes, 0: the
 * default), runs it, compares; frees the graph. */
static inline void ku_check_embed(KCase *c, const char *what, int64_t embed_max) {
  Graph *g = c->g;
  DlcErr e = {{0}};
  KBufs b;
  int before = check_failures;
  ku_bufs(g, &b, 7);
  Schedule *s = NULL;
  Plan *p = NULL;
  if (ir_verify(g, &e) || interp_run(g, (const double *const *)b.din, b.dout, &e)) {
    fprintf(stderr, "%s: %s\n", what, e.msg);
    check_failures++;
  } else if (!(s = ku_schedule(c)) || schedule_check(g, s, &e) || !(p = pass_plan(g, s)) ||
             plan_check(g, s, p, &e)) {
    fprintf(stderr, "%s: schedule or plan: %s\n", what, e.msg);
    check_failures++;
  } else {
    /* $DLC_TEST_O3: the flags of dlc bench (gcc 12 has miscompiled loops at -O3 only) */
    JitOptions o = {.cflags = getenv("DLC_TEST_O3") ? CGEN_STRICT " -O3" : CGEN_STRICT, .embed_max_bytes = embed_max,
                    .keep = true};
    JitModel *m = jit_build_plan(g, s, p, &o, &e);
    if (!m || jit_run(m, (const void *const *)b.in, b.out, &e)) {
      fprintf(stderr, "%s: %s\n", what, e.msg);
      check_failures++;
    } else {
      for (int j = 0; j < b.no; j++) ku_compare(c, j, b.out[j], b.dout[j], what);
      cg_clang(jit_dir(m), what);
    }
    if (m) {
      char dir[4096];
      snprintf(dir, sizeof dir, "%s", jit_dir(m));
      jit_free(m);
      if (check_failures == before) cg_remove_dir(dir);
      else fprintf(stderr, "%s: generated code kept in %s\n", what, dir);
    }
  }
  ku_bufs_free(&b);
  ir_graph_free(g);
}

static inline void ku_check(KCase *c, const char *what) { ku_check_embed(c, what, 0); }

#endif

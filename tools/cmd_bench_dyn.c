/* cmd_bench_dyn.c — `dlc bench MODEL --dynamic batch<=64 [--at 1,32]`: what a run-time
 * dimension costs.  One --dynamic build (passes/dynamic.c), and for each --at size a
 * static build at that size; then, one size after another, rounds in which the static
 * build and the dynamic one run once each (in turn first) on the same seeded inputs.  Prints per size the median
 * microseconds of both, their ratio, and how far their outputs differ (they run the same
 * kernels on the same samples, so 0 unless a size is a sum of several builds and a
 * kernel's reassociation depends on its size).  Exact dimensions (NAME=S1,..) stay at
 * their first size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "dlcrt.h"
#include "jit.h"

#define BENCH_DYN_MAX 16

typedef struct Size {
  int64_t n;
  Graph *g;      /* the static model at n */
  JitModel *m;
  void **in, **out, **dout;
  int ni, no;
  double *us, *dus;
  double diff;
} Size;

static int parse_at(const CmdArgs *a, const DynInfo *d, int64_t *at, int *n) {
  int64_t max = d->dim[d->bound].max;
  *n = 0;
  if (!a->at) {
    int64_t def[3] = {1, max / 2, max};
    for (int i = 0; i < 3; i++)
      if (!*n || def[i] != at[*n - 1]) at[(*n)++] = def[i];
    return 0;
  }
  const char *p = a->at;
  while (*p) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || v < 1 || v > max || *n == BENCH_DYN_MAX)
      return cmd_fail("--at '%s': sizes from 1 to %lld, %d at most", a->at, (long long)max, BENCH_DYN_MAX);
    at[(*n)++] = v;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return cmd_fail("--at '%s': expected N1,N2,..", a->at);
  }
  return *n ? 0 : cmd_fail("--at: no size");
}

static double elapsed_us(uint64_t t0, bool cpu) { return (double)((cpu ? cmd_thread_cpu_ns() : rt_now_ns()) - t0) / 1e3; }

/* One run of each, the static build first when first_static (rounds alternate, so that
 * neither always finds the caches the other warmed). */
static int run_pair(Size *s, JitModel *dyn, const int64_t *dims, const CmdArgs *a, bool first_static, double *us,
                    double *dus, DlcErr *e) {
  for (int k = 0; k < 2; k++) {
    bool stat = (k == 0) == first_static;
    uint64_t t0 = a->cpu_clock ? cmd_thread_cpu_ns() : rt_now_ns();
    if (stat ? jit_run(s->m, (const void *const *)s->in, s->out, e)
             : jit_run_dims(dyn, dims, (const void *const *)s->in, s->dout, e))
      return -1;
    *(stat ? us : dus) = elapsed_us(t0, a->cpu_clock);
  }
  return 0;
}

static double max_diff(const Size *s) {
  double worst = 0;
  for (int j = 0; j < s->no; j++) {
    const Node *n = ir_node(s->g, s->g->out[j]);
    for (int64_t i = 0; i < shape_numel(&n->shape); i++) {
      double x = dtype_load(n->dtype, s->out[j], i), y = dtype_load(n->dtype, s->dout[j], i);
      double dlt = isnan(x) && isnan(y) ? 0 : fabs(x - y);
      if (!(dlt <= worst)) worst = dlt;
    }
  }
  return worst;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int setup(Size *s, const DynInfo *d, const CmdArgs *a, const JitOptions *jo, DlcErr *e) {
  int64_t sz[DYN_MAX_DIMS];
  for (int j = 0; j < d->ndim; j++) sz[j] = j == d->bound ? s->n : d->dim[j].size[0];
  if (!(s->g = cmd_load_sizes(a, d, sz, e)) || !(s->m = jit_build(s->g, jo, e))) return -1;
  s->ni = ir_num_inputs(s->g), s->no = s->g->nout;
  s->in = dlc_try_calloc((size_t)s->ni + 1, sizeof(void *));
  s->out = dlc_try_calloc((size_t)s->no + 1, sizeof(void *));
  s->dout = dlc_try_calloc((size_t)s->no + 1, sizeof(void *));
  s->us = dlc_try_calloc((size_t)a->runs, sizeof(double));
  s->dus = dlc_try_calloc((size_t)a->runs, sizeof(double));
  if (!s->in || !s->out || !s->dout || !s->us || !s->dus) return dlc_errf(e, "out of memory");
  for (int i = 0; i < s->ni; i++)
    if (!(s->in[i] = cmd_alloc_value(ir_node(s->g, ir_input_id(s->g, i))))) return dlc_errf(e, "out of memory");
  for (int j = 0; j < s->no; j++)
    if (!(s->out[j] = cmd_alloc_value(ir_node(s->g, s->g->out[j]))) ||
        !(s->dout[j] = cmd_alloc_value(ir_node(s->g, s->g->out[j]))))
      return dlc_errf(e, "out of memory");
  return cmd_inputs(s->g, a, s->in, e);
}

static void size_free(Size *s) {
  for (int i = 0; s->in && i < s->ni; i++) free(s->in[i]);
  for (int j = 0; s->out && j < s->no; j++) free(s->out[j]), free(s->dout[j]);
  free(s->in), free(s->out), free(s->dout), free(s->us), free(s->dus);
  jit_free(s->m);
  ir_graph_free(s->g);
}

int cmd_bench_dynamic(const CmdArgs *a) {
  DlcErr e;
  DynInfo d = {0};
  Graph *g = cmd_load_dynamic(a, &d, &e);
  if (!g) return dyn_free(&d), cmd_fail("%s", e.msg);
  int r = 0, nat = 0;
  int64_t at[BENCH_DYN_MAX];
  if (d.bound < 0) r = cmd_fail("bench --dynamic: give one dimension as NAME<=MAX (the sizes --at times)");
  if (!r) r = parse_at(a, &d, at, &nat);
  Size sz[BENCH_DYN_MAX] = {{0}};
  JitModel *dyn = NULL;
  JitOptions jo = {.cflags = a->cflags ? a->cflags : "-O3", .cpu = a->cpu, .passes = &a->passes, .threads = a->threads,
                   .cuda = a->cuda};
  JitOptions jd = jo;
  jd.dyn = &d;
  if (!r && !(dyn = jit_build(g, &jd, &e))) r = cmd_fail("--dynamic build: %s", e.msg);
  for (int i = 0; !r && i < nat; i++) {
    sz[i].n = at[i];
    if (setup(&sz[i], &d, a, &jo, &e)) r = cmd_fail("static build at %lld: %s", (long long)at[i], e.msg);
  }
  int64_t dims[BENCH_DYN_MAX][DYN_MAX_DIMS];
  for (int i = 0; !r && i < nat; i++)
    for (int j = 0; j < d.ndim; j++) dims[i][j] = j == d.bound ? at[i] : d.dim[j].size[0];
  double us, dus;
  for (int i = 0; !r && i < nat; i++) { /* one size at a time, so another size's runs leave no trace in the caches */
    for (int w = 0; !r && w < a->warmup; w++)
      if (run_pair(&sz[i], dyn, dims[i], a, w % 2 == 0, &us, &dus, &e)) r = cmd_fail("%s", e.msg);
    if (!r) sz[i].diff = max_diff(&sz[i]);
    for (int k = 0; !r && k < a->runs; k++)
      if (run_pair(&sz[i], dyn, dims[i], a, k % 2 == 0, &sz[i].us[k], &sz[i].dus[k], &e)) r = cmd_fail("%s", e.msg);
  }
  if (!r) {
    printf("%s: --dynamic", a->model);
    for (int j = 0; j < a->ndynamic; j++) printf(" %s", a->dynamic[j]);
    printf(" (%d builds), %d thread%s, %d runs after %d warm-up, %s time, %s %s\n", d.nv,
           a->threads > 1 ? a->threads : 1, a->threads > 1 ? "s" : "", a->runs, a->warmup,
           a->cpu_clock ? "thread CPU" : "wall", a->cuda ? "target cuda (copies in and out included), host cpu" : "cpu",
           cgen_cpu_resolve(a->cpu) ? cgen_cpu_resolve(a->cpu)->name : "?");
    printf("%8s %14s %14s %8s %12s\n", d.dim[d.bound].name, "static_us", "dynamic_us", "ratio", "max_diff");
    for (int i = 0; i < nat; i++) {
      double s = median(sz[i].us, a->runs), dm = median(sz[i].dus, a->runs);
      printf("%8lld %14.1f %14.1f %8.2f %12.3g\n", (long long)at[i], s, dm, dm / s, sz[i].diff);
    }
  }
  for (int i = 0; i < nat; i++) size_free(&sz[i]);
  jit_free(dyn);
  ir_graph_free(g);
  dyn_free(&d);
  return r;
}

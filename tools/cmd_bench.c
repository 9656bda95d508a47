/* cmd_bench.c — `dlc bench MODEL`: builds each variant of a model (a fusion mode of the
 * pass pipeline), then times NAME_run of all of them side by side: the warm-up runs,
 * then rounds in which every variant runs once, so that a machine that speeds up or
 * slows down during the benchmark treats every variant alike.  Prints per variant the
 * median, min and max microseconds, the kernels, the arena bytes and the bytes its
 * kernels read and write per run (estimated from the schedule: each kernel reads what
 * it takes from outside and writes its result), as a table or as JSON.
 *
 * With --target cuda each round also times NAME_launch, the kernels alone on the device's
 * buffers (no copies in or out): the kernels_us column.
 *
 * --clock cpu times the calling thread's CPU time instead of the wall clock: the model
 * runs on that thread alone, so on a machine shared with other work it counts what the
 * model did rather than how long it waited for a core.
 *
 * --plot OUT.svg also draws the variants as a bar chart (rt_plot_bars): the median
 * with a whisker from min to max, titled with the model, batch and CPU.
 *
 * --profile builds each variant with NAME_run timing every kernel it calls (by --clock:
 * CgenOptions.profile), zeroes the tables after the warm-up and lists per variant each
 * kernel in schedule order: its mean microseconds per timed run, its share of the
 * kernels' sum, its nodes' ops and its result.  The clock reads add a little to each
 * kernel; a variant in parts (--micro-batch) runs another module and has no table.
 *
 * A benchmark measures; it asserts nothing about speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgen.h"
#include "cmd.h"
#include "dlcrt.h"
#include "jit.h"
#include "rt_cuda.h"
#include "rt_data.h"

#define BENCH_MAX_VARIANTS 8
#define BENCH_CFLAGS "-O3" /* and the target's -march (--cpu) */

typedef struct Variant {
  char name[16];
  PassOptions po;
  Graph *g; /* the optimised copy; the schedule and plan live in its arena */
  Schedule *s;
  Plan *p;
  JitModel *m;
  double *us; /* one time per round */
  double *kus; /* --target cuda: the kernels alone, one time per round */
  int64_t moved;
  int64_t micro; /* as CmdArgs.micro */
  int64_t parts; /* the batch ran in this many parts (1: whole) */
  int64_t *prof; /* --profile: jit_profile's table (nprof kernels), or NULL */
  int nprof;
} Variant;

/* ---- the variants ---- */

/* "fused": the pipeline as the options give it; "unfused": the same with --fuse=none;
 * "none", "op", "all": that fusion mode; "parts": fused, the batch run in parts
 * (--micro-batch's, else auto).  Each runs in parts as --micro-batch says. */
static int variant_options(const CmdArgs *a, const char *name, PassOptions *po, int64_t *micro) {
  static const char *const modes[] = {"none", "op", "all"};
  *po = a->passes;
  *micro = a->micro;
  if (!strcmp(name, "fused")) return 0;
  if (!strcmp(name, "parts")) return *micro = a->micro ? a->micro : -1, 0;
  if (!strcmp(name, "unfused")) return po->fuse = FUSE_NONE, 0;
  for (int m = 0; m < 3; m++)
    if (!strcmp(name, modes[m])) return po->fuse = (FuseMode)m, 0;
  return -1;
}

static int parse_variants(const CmdArgs *a, Variant *v, int *nv) {
  char list[256];
  snprintf(list, sizeof list, "%s", a->compare ? a->compare : "fused,unfused");
  *nv = 0;
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    if (*nv == BENCH_MAX_VARIANTS) return cmd_fail("--compare: at most %d variants", BENCH_MAX_VARIANTS);
    if (variant_options(a, tok, &v[*nv].po, &v[*nv].micro) || strlen(tok) >= sizeof v->name)
      return cmd_fail("--compare: unknown variant '%s' (fused, unfused, none, op, all, parts)", tok);
    snprintf(v[(*nv)++].name, sizeof v->name, "%s", tok);
  }
  return *nv ? 0 : cmd_fail("--compare: no variant given");
}

/* ---- what the plan says ---- */

static bool in_kernel(const Kernel *k, int id) {
  for (int j = 0; j < k->n; j++)
    if (k->nodes[j] == id) return true;
  return false;
}

static int64_t value_bytes(const Graph *g, int id) {
  const Node *n = g->nodes[id];
  return shape_numel(&n->shape) * dtype_size(n->dtype);
}

/* What kernel k reads from outside (each value once) and writes. */
static int64_t kernel_bytes(const Graph *g, const Kernel *k) {
  int64_t bytes = k->kind == KERNEL_SEQ ? 0 : value_bytes(g, k->nodes[k->n - 1]);
  for (int j = 0; j < k->n; j++) {
    const Node *n = g->nodes[k->nodes[j]];
    if (k->kind == KERNEL_SEQ) bytes += value_bytes(g, n->id);
    for (int i = 0; i < n->nin; i++) {
      bool seen = in_kernel(k, n->in[i]);
      for (int jj = 0; jj <= j && !seen; jj++) {
        const Node *m = g->nodes[k->nodes[jj]];
        for (int ii = 0; ii < (jj < j ? m->nin : i) && !seen; ii++) seen = m->in[ii] == n->in[i];
      }
      if (!seen) bytes += value_bytes(g, n->in[i]);
    }
  }
  return bytes;
}

static int64_t moved_bytes(const Graph *g, const Schedule *s) {
  int64_t b = 0;
  for (int t = 0; t < s->nk; t++) b += kernel_bytes(g, &s->k[t]);
  return b;
}

/* ---- building and timing ---- */

static int build(const Graph *g, const CmdArgs *a, Variant *v, DlcErr *e) {
  v->g = pass_clone(g);
  if (pass_pipeline(&v->g, &v->po, &v->s, &v->p, e) || plan_check(v->g, v->s, v->p, e)) return -1;
  CmdArgs va = *a;
  va.micro = v->micro;
  SplitBuild sp;
  CgenSplit cs;
  if (cmd_load_split(&va, g, &sp, e)) return -1;
  if (sp.why[0] && !strcmp(v->name, "parts")) fprintf(stderr, "dlc: note: parts: the batch runs whole: %s\n", sp.why);
  v->parts = sp.g ? sp.total / sp.part : 1;
  CgenProfile prof = !a->profile ? CGEN_PROFILE_NONE : a->cpu_clock ? CGEN_PROFILE_CPU : CGEN_PROFILE_WALL;
  JitOptions jo = {.cflags = a->cflags ? a->cflags : BENCH_CFLAGS, .cpu = a->cpu, .keep = a->keep, .cuda = a->cuda,
                   .threads = a->threads, .passes = &v->po, .split = split_cgen(&sp, &cs), .profile = prof};
  v->m = jit_build_plan(v->g, v->s, v->p, &jo, e);
  split_free(&sp);
  if (!v->m) return -1;
  if (a->profile && !(v->prof = jit_profile(v->m, &v->nprof)))
    fprintf(stderr, "dlc: note: %s: --profile times the kernels of a batch run whole on the CPU; this variant has none\n",
            v->name);
  if (a->keep) fprintf(stderr, "dlc: note: %s: generated code kept in %s\n", v->name, jit_dir(v->m));
  v->moved = moved_bytes(v->g, v->s);
  v->us = dlc_calloc((size_t)a->runs, sizeof(double));
  v->kus = dlc_calloc((size_t)a->runs, sizeof(double));
  return v->us && v->kus ? 0 : dlc_errf(e, "out of memory");
}

uint64_t cmd_thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int time_one(Variant *v, bool cpu, void **in, void **out, double *us, DlcErr *e) {
  uint64_t t0 = cpu ? cmd_thread_cpu_ns() : rt_now_ns();
  int r = jit_run(v->m, (const void *const *)in, out, e);
  *us = (double)((cpu ? cmd_thread_cpu_ns() : rt_now_ns()) - t0) / 1e3;
  return r;
}

static int time_kernels(Variant *v, bool cpu, double *us, DlcErr *e) {
  uint64_t t0 = cpu ? cmd_thread_cpu_ns() : rt_now_ns();
  int r = jit_launch(v->m, e);
  *us = (double)((cpu ? cmd_thread_cpu_ns() : rt_now_ns()) - t0) / 1e3;
  return r;
}

static int measure(Variant *v, int nv, const CmdArgs *a, void **in, void **out, DlcErr *e) {
  double us;
  for (int w = 0; w < a->warmup; w++)
    for (int i = 0; i < nv; i++)
      if (time_one(&v[i], a->cpu_clock, in, out, &us, e) || (a->cuda && time_kernels(&v[i], a->cpu_clock, &us, e)))
        return -1;
  for (int i = 0; i < nv; i++)
    if (v[i].prof) memset(v[i].prof, 0, sizeof *v[i].prof * (size_t)v[i].nprof);
  for (int r = 0; r < a->runs; r++)
    for (int i = 0; i < nv; i++)
      if (time_one(&v[i], a->cpu_clock, in, out, &v[i].us[r], e) ||
          (a->cuda && time_kernels(&v[i], a->cpu_clock, &v[i].kus[r], e)))
        return -1;
  return 0;
}

/* ---- reporting ---- */

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

typedef struct Summary {
  double median, min, max;
  double kernels; /* --target cuda: the median of the kernels alone */
} Summary;

static double median_of(double *us, int n) {
  qsort(us, (size_t)n, sizeof *us, cmp_double);
  return n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2;
}

static Summary summarise(Variant *v, int n) {
  double med = median_of(v->us, n);
  return (Summary){med, v->us[0], v->us[n - 1], median_of(v->kus, n)};
}

/* The arena of the plan that runs: a part's (one thread's) when the batch runs in parts. */
static int64_t arena_of(const Variant *v) { return v->parts > 1 ? jit_part_arena(v->m) : v->p->arena_bytes; }

static void report_table(const Variant *v, const Summary *s, int nv, const CmdArgs *a) {
  const CpuTarget *cpu = cgen_cpu_resolve(a->cpu);
  printf("%s: batch %lld, %d thread%s, %d runs after %d warm-up, %s time, cflags '%s %s', cpu %s\n", a->model,
         (long long)(a->load.batch ? a->load.batch : 1), a->threads > 1 ? a->threads : 1,
         a->threads > 1 ? "s" : "", a->runs, a->warmup, a->cpu_clock ? "thread CPU" : "wall",
         a->cflags ? a->cflags : BENCH_CFLAGS, a->cuda ? "" : cgen_cpu_cflags(a->cpu), cpu ? cpu->name : "?");
  printf("%-9s %12s %12s %12s %8s %8s %14s %14s %6s%s\n", "variant", "median_us", "min_us", "max_us",
         "ratio", "kernels", "arena_bytes", "bytes_moved", "parts", a->cuda ? "   kernels_us  ratio" : "");
  for (int i = 0; i < nv; i++) {
    printf("%-9s %12.1f %12.1f %12.1f %8.2f %8d %14lld %14lld %6lld", v[i].name, s[i].median, s[i].min,
           s[i].max, s[i].median / s[0].median, v[i].s->nk, (long long)arena_of(&v[i]),
           (long long)v[i].moved, (long long)v[i].parts);
    if (a->cuda) printf(" %12.1f %6.2f", s[i].kernels, s[i].kernels / s[0].kernels);
    printf("\n");
  }
  if (a->cuda)
    printf("median_us: a whole run, inputs copied in and outputs out; kernels_us: the kernels alone "
           "(NAME_launch)\n");
}

static void json_profile(const Variant *v, const CmdArgs *a);

static void report_json(const Variant *v, const Summary *s, int nv, const CmdArgs *a) {
  printf("[\n");
  for (int i = 0; i < nv; i++) {
    printf("  {\"variant\": \"%s\", \"median_us\": %.3f, \"min_us\": %.3f, \"max_us\": %.3f, "
           "\"kernels\": %d, \"arena_bytes\": %lld, \"bytes_moved\": %lld, \"runs\": %d, "
           "\"batch\": %lld, \"threads\": %d, \"clock\": \"%s\", \"target\": \"%s\", \"kernels_us\": %.3f, "
           "\"parts\": %lld",
           v[i].name, s[i].median, s[i].min, s[i].max, v[i].s->nk, (long long)arena_of(&v[i]),
           (long long)v[i].moved, a->runs, (long long)(a->load.batch ? a->load.batch : 1),
           a->threads > 1 ? a->threads : 1, a->cpu_clock ? "cpu" : "wall", a->cuda ? "cuda" : "c",
           a->cuda ? s[i].kernels : s[i].median, (long long)v[i].parts);
    if (v[i].prof) json_profile(&v[i], a);
    printf("}%s\n", i + 1 < nv ? "," : "");
  }
  printf("]\n");
}

/* --profile: a kernel's ops ("conv+add+max"), its result ("f32[1,64,56,56]") and, for
 * a convolution or product at its head, the work's shape ("3x3/2 64<-3", "1x1/1 256<-64
 * groups 4"; "[64,400] @ [120,400]^T"). */
static void kernel_what(const Graph *g, const Kernel *k, char *ops, size_t nops, char *res, size_t nres, char *head,
                        size_t nhead) {
  size_t at = 0;
  ops[0] = 0;
  for (int j = 0; j < k->n && at + 1 < nops; j++) {
    int w = snprintf(ops + at, nops - at, "%s%s", j ? "+" : "", ir_ops[g->nodes[k->nodes[j]]->op].name);
    at = w < 0 ? nops : at + (size_t)w;
  }
  const Node *last = g->nodes[k->nodes[k->n - 1]], *h = g->nodes[k->nodes[0]];
  char shape[160];
  shape_str(&last->shape, shape, sizeof shape);
  snprintf(res, nres, "%s%s", dtype_name(last->dtype), shape);
  head[0] = 0;
  if (h->op == OP_CONV && h->nin >= 2 && g->nodes[h->in[1]]->shape.rank == 4) {
    const Shape *w = &g->nodes[h->in[1]]->shape;
    const int64_t *st = node_ints(h, A_STRIDES, NULL);
    int64_t groups = node_int(h, A_GROUPS);
    snprintf(head, nhead, "%lldx%lld/%lld %lld<-%lld", (long long)w->d[2], (long long)w->d[3], (long long)st[0],
             (long long)w->d[0], (long long)(w->d[1] * groups));
    if (groups > 1) snprintf(head + strlen(head), nhead - strlen(head), " groups %lld", (long long)groups);
  } else if (h->op == OP_MATMUL && h->nin >= 2) {
    char a[160], b[160];
    shape_str(&g->nodes[h->in[0]]->shape, a, sizeof a);
    shape_str(&g->nodes[h->in[1]]->shape, b, sizeof b);
    snprintf(head, nhead, "%s%s @ %s%s", a, node_int(h, A_TRANS_A) ? "^T" : "", b, node_int(h, A_TRANS_B) ? "^T" : "");
  }
}

static double prof_us(const Variant *v, int t, int runs) { return (double)v->prof[t] / 1e3 / runs; }

static void report_profile(const Variant *v, int nv, const CmdArgs *a) {
  for (int i = 0; i < nv; i++) {
    if (!v[i].prof) continue;
    double sum = 0;
    for (int t = 0; t < v[i].nprof; t++) sum += prof_us(&v[i], t, a->runs);
    printf("\nprofile of %s: %d kernels, mean us per run over %d runs (%s time)\n", v[i].name, v[i].nprof, a->runs,
           a->cpu_clock ? "thread CPU" : "wall");
    printf("%-20s %12s %7s  %s\n", "kernel", "us", "share", "ops -> result (head)");
    for (int t = 0; t < v[i].nprof; t++) {
      char label[64], ops[200], res[200], head[400];
      cgen_kernel_label(v[i].g, &v[i].s->k[t], label, sizeof label);
      kernel_what(v[i].g, &v[i].s->k[t], ops, sizeof ops, res, sizeof res, head, sizeof head);
      double us = prof_us(&v[i], t, a->runs);
      printf("%-20s %12.1f %6.1f%%  %s -> %s%s%s%s\n", label, us, sum > 0 ? 100 * us / sum : 0.0, ops, res,
             head[0] ? " (" : "", head, head[0] ? ")" : "");
    }
    printf("%-20s %12.1f\n", "sum", sum);
  }
}

static void json_profile(const Variant *v, const CmdArgs *a) {
  printf(", \"profile\": [");
  for (int t = 0; t < v->nprof; t++) {
    char label[64], ops[200], res[200], head[400];
    cgen_kernel_label(v->g, &v->s->k[t], label, sizeof label);
    kernel_what(v->g, &v->s->k[t], ops, sizeof ops, res, sizeof res, head, sizeof head);
    printf("%s{\"kernel\": \"%s\", \"ops\": \"%s\", \"result\": \"%s\", \"head\": \"%s\", \"us\": %.3f}", t ? ", " : "",
           label, ops, res, head, prof_us(v, t, a->runs));
  }
  printf("]");
}

/* The host CPU's model name (/proc/cpuinfo), else the target's. */
static void cpu_name(const CmdArgs *a, char *buf, size_t n) {
  const CpuTarget *cpu = cgen_cpu_resolve(a->cpu);
  snprintf(buf, n, "%s", cpu ? cpu->name : "?");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) || !colon) continue;
    line[strcspn(line, "\n")] = 0;
    snprintf(buf, n, "%s (%s)", colon + 1 + (colon[1] == ' '), cpu ? cpu->name : "?");
    break;
  }
  if (f) fclose(f);
}

/* --plot: one bar per variant, the median with a whisker from min to max. */
static int report_plot(const Variant *v, const Summary *s, int nv, const CmdArgs *a, DlcErr *e) {
  RtBar bars[BENCH_MAX_VARIANTS];
  for (int i = 0; i < nv; i++) bars[i] = (RtBar){v[i].name, s[i].median, s[i].min, s[i].max};
  char cpu[160], title[640];
  cpu_name(a, cpu, sizeof cpu);
  snprintf(title, sizeof title, "%.300s: batch %lld, %d thread%s, %s%s", a->model,
           (long long)(a->load.batch ? a->load.batch : 1), a->threads > 1 ? a->threads : 1,
           a->threads > 1 ? "s" : "", a->cuda ? "GPU, host " : "", cpu);
  char ylabel[96];
  snprintf(ylabel, sizeof ylabel, "microseconds per run (median of %d, %s time)", a->runs,
           a->cpu_clock ? "thread CPU" : "wall");
  return rt_plot_bars(a->plot, title, ylabel, bars, nv, e);
}

/* ---- the command ---- */

typedef struct Bench {
  Variant v[BENCH_MAX_VARIANTS];
  int nv;
  void **in, **out;
  int ni, no;
} Bench;

static void bench_free(Bench *b) {
  for (int i = 0; i < b->nv; i++) {
    jit_free(b->v[i].m);
    ir_graph_free(b->v[i].g);
    free(b->v[i].us);
    free(b->v[i].kus);
  }
  for (int i = 0; b->in && i < b->ni; i++) free(b->in[i]);
  for (int j = 0; b->out && j < b->no; j++) free(b->out[j]);
  free(b->in);
  free(b->out);
}

static int buffers(const Graph *g, const CmdArgs *a, Bench *b, DlcErr *e) {
  b->ni = ir_num_inputs(g), b->no = g->nout;
  b->in = dlc_try_calloc((size_t)b->ni + 1, sizeof(void *));
  b->out = dlc_try_calloc((size_t)b->no + 1, sizeof(void *));
  if (!b->in || !b->out) return dlc_errf(e, "out of memory");
  for (int i = 0; i < b->ni; i++)
    if (!(b->in[i] = cmd_alloc_value(ir_node(g, ir_input_id(g, i))))) return dlc_errf(e, "out of memory");
  for (int j = 0; j < b->no; j++)
    if (!(b->out[j] = cmd_alloc_value(ir_node(g, g->out[j])))) return dlc_errf(e, "out of memory");
  return cmd_inputs(g, a, b->in, e);
}

static int bench_model(const Graph *g, const CmdArgs *a, Bench *b) {
  DlcErr e;
  if (parse_variants(a, b->v, &b->nv)) return 1;
  int nv = b->nv;
  for (int i = 0; i < nv; i++) {
    b->nv = i + 1; /* what bench_free releases */
    if (build(g, a, &b->v[i], &e)) return cmd_fail("%s: %s", b->v[i].name, e.msg);
  }
  if (buffers(g, a, b, &e) || measure(b->v, nv, a, b->in, b->out, &e)) return cmd_fail("%s", e.msg);
  Summary s[BENCH_MAX_VARIANTS];
  for (int i = 0; i < nv; i++) s[i] = summarise(&b->v[i], a->runs);
  if (a->json) report_json(b->v, s, nv, a);
  else report_table(b->v, s, nv, a), report_profile(b->v, nv, a);
  if (a->plot && report_plot(b->v, s, nv, a, &e)) return cmd_fail("--plot: %s", e.msg);
  return 0;
}

int cmd_bench(int argc, char **argv) {
  CmdArgs a;
  if (cmd_parse(&a, "bench", CMD_BENCH, argc, argv)) return 1;
  if (a.help) {
    cmd_help("bench", CMD_BENCH, "MODEL [options]",
             "Build each variant of a model and time its runs side by side on seeded random\n"
             "inputs: median, min and max microseconds per run, kernels, arena bytes and the\n"
             "bytes the kernels move per run.");
    return 0;
  }
  DlcErr e;
  if (a.ndynamic && a.profile) return cmd_fail("--profile: not with --dynamic (time one size's build without it)");
  if (a.cuda && rt_cuda_probe(&e)) return cmd_fail("--target cuda: %s", e.msg);
  if (a.ndynamic) return cmd_bench_dynamic(&a);
  Graph *g = cmd_load(&a, &e);
  if (!g) return cmd_fail("%s", e.msg);
  const char *why = a.plot ? rt_output_check(a.plot) : NULL; /* before the minutes of building */
  if (why) {
    ir_graph_free(g);
    return cmd_fail("--plot: cannot write '%s': %s", a.plot, why);
  }
  Bench b = {0};
  int r = bench_model(g, &a, &b);
  bench_free(&b);
  ir_graph_free(g);
  return r;
}

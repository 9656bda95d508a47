/* cmd_run.c — `dlc run MODEL`: compile through the jit, run once on given or random
 * inputs, show (and save) the outputs; with --check, compare them with the reference
 * interpreter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "dlcrt.h"
#include "jit.h"
#include "rt_cuda.h"

/* The input and output buffers of one run. */
typedef struct RunBufs {
  int ni, no;
  void **in, **out;
} RunBufs;

static void bufs_free(RunBufs *b) {
  for (int i = 0; b->in && i < b->ni; i++) free(b->in[i]);
  for (int j = 0; b->out && j < b->no; j++) free(b->out[j]);
  free(b->in);
  free(b->out);
}

/* The inputs' and outputs' buffers; -1 with e set when memory runs out. */
static int bufs_alloc(const Graph *g, RunBufs *b, DlcErr *e) {
  b->ni = ir_num_inputs(g), b->no = g->nout;
  b->in = dlc_calloc((size_t)(b->ni ? b->ni : 1), sizeof(void *));
  b->out = dlc_calloc((size_t)(b->no ? b->no : 1), sizeof(void *));
  bool ok = b->in && b->out;
  for (int i = 0; ok && i < b->ni; i++) ok = (b->in[i] = cmd_alloc_value(ir_node(g, ir_input_id(g, i)))) != NULL;
  for (int j = 0; ok && j < b->no; j++) ok = (b->out[j] = cmd_alloc_value(ir_node(g, g->out[j]))) != NULL;
  return ok ? 0 : dlc_errf(e, "%s: out of memory for the inputs and outputs", g->file ? g->file : "the model");
}

/* The size of run-time dimension j for this run: --dim NAME=V, else --batch for
 * `batch`, else its first size (1 for a bound). */
static int64_t run_size(const CmdArgs *a, const DynDim *dd) {
  for (int k = 0; k < a->load.ndims; k++)
    if (!strcmp(a->load.dims[k].name, dd->name)) return a->load.dims[k].value;
  if (!strcmp(dd->name, "batch") && a->load.batch) return a->load.batch;
  return dd->bound ? 1 : dd->size[0];
}

static bool given_size(const CmdArgs *a, const char *name) {
  for (int k = 0; k < a->load.ndims; k++)
    if (!strcmp(a->load.dims[k].name, name)) return true;
  return !strcmp(name, "batch") && a->load.batch;
}

/* The size of dimension j that an --input file implies: two builds that differ in j
 * alone show which axis of which input follows it (f entries per unit), and the file's
 * shape says how many.  0 when no --input says; -1 with e set when one disagrees. */
static int64_t size_from_inputs(const CmdArgs *a, const DynInfo *d, int j, DlcErr *e) {
  const DynDim *dd = &d->dim[j];
  int64_t sz[2][DYN_MAX_DIMS];
  for (int v = 0; v < 2; v++)
    for (int t = 0; t < d->ndim; t++) sz[v][t] = t == j ? (dd->bound ? v + 1 : dd->size[v]) : run_size(a, &d->dim[t]);
  if (!dd->bound && dd->n < 2) return dd->size[0];
  Graph *g[2] = {cmd_load_sizes(a, d, sz[0], e), NULL};
  if (g[0]) g[1] = cmd_load_sizes(a, d, sz[1], e);
  int64_t n = g[0] && g[1] ? 0 : -1;
  for (int i = 0; n == 0 && i < a->ninputs; i++) {
    int id = ir_find(g[0], a->inputs[i].name);
    if (id < 0 || g[0]->nodes[id]->op != OP_INPUT) continue;
    const Shape *s0 = &g[0]->nodes[id]->shape, *s1 = &g[1]->nodes[ir_find(g[1], a->inputs[i].name)]->shape;
    int axis = -1;
    for (int t = 0; t < s0->rank; t++)
      if (s0->d[t] != s1->d[t]) axis = t;
    if (axis < 0 || s0->d[axis] % sz[0][j]) continue;
    int64_t f = s0->d[axis] / sz[0][j];
    RtTensor x;
    if (rt_npy_read(a->inputs[i].path, &x, e)) {
      n = -1;
      break;
    }
    if (x.rank == s0->rank && x.dims[axis] % f == 0) n = x.dims[axis] / f;
    rt_tensor_free(&x);
  }
  ir_graph_free(g[0]);
  ir_graph_free(g[1]);
  return n;
}

/* --dynamic without --dim for a dimension: its size from the --input files, so that a
 * file of any size runs through the one build.  0, or 1 after the error. */
static int infer_sizes(CmdArgs *a) {
  DynInfo d = {.bound = -1};
  DlcErr e;
  for (int i = 0; i < a->ndynamic; i++)
    if (dyn_parse(a->dynamic[i], &d, &e)) return cmd_fail("%s", e.msg);
  for (int j = 0; j < d.ndim; j++) {
    if (given_size(a, d.dim[j].name) || !a->ninputs) continue;
    int64_t n = size_from_inputs(a, &d, j, &e);
    if (n < 0) return cmd_fail("%s", e.msg);
    if (n == 0) continue;
    if (a->load.ndims == LOAD_MAX_BIND) return cmd_fail("too many --dim");
    if (!(a->load.dims[a->load.ndims].name = cmd_keep_name(a, d.dim[j].name, strlen(d.dim[j].name))))
      return cmd_fail("--dynamic: too many names");
    a->load.dims[a->load.ndims++].value = n;
    if (!strcmp(d.dim[j].name, "batch")) a->load.batch = n;
  }
  return 0;
}

/* --dynamic: the dynamic build, run at the sizes --dim gives (g is the model at those). */
static int execute_dynamic(const CmdArgs *a, RunBufs *b, DlcErr *e) {
  DynInfo d = {0};
  Graph *dg = cmd_load_dynamic(a, &d, e);
  if (!dg) return dyn_free(&d), -1;
  int64_t dims[DYN_MAX_DIMS];
  int r = 0;
  for (int j = 0; j < d.ndim && !r; j++) {
    const DynDim *dd = &d.dim[j];
    bool ok = (dims[j] = run_size(a, dd)) >= 0 && dims[j] <= dd->max;
    if (!dd->bound && ok) {
      ok = false;
      for (int i = 0; i < dd->n; i++) ok |= dd->size[i] == dims[j];
    }
    char has[256] = "";
    for (int i = 0, k = 0; !dd->bound && i < dd->n && k < (int)sizeof has - 24; i++)
      k += snprintf(has + k, sizeof has - (size_t)k, "%s%lld", i ? ", " : "", (long long)dd->size[i]);
    if (!ok && dd->bound)
      r = dlc_errf(e, "--dynamic: %s=%lld is over its bound, %lld", dd->name, (long long)dims[j], (long long)dd->max);
    else if (!ok)
      r = dlc_errf(e, "--dynamic: %s=%lld is not one of its sizes (%s)", dd->name, (long long)dims[j], has);
  }
  if (r) {
    ir_graph_free(dg);
    dyn_free(&d);
    return -1;
  }
  JitOptions jo = {.cflags = a->cflags, .cpu = a->cpu, .keep = a->keep, .passes = &a->passes, .threads = a->threads,
                   .cuda = a->cuda, .dyn = &d};
  JitModel *m = jit_build(dg, &jo, e);
  for (int i = 0; i < dg->n && !r; i++)
    if (dg->nodes[i]->dtype == DT_STR) r = dlc_errf(e, "--dynamic: a model with str values has fixed shapes");
  r = r ? -1 : m ? jit_run_dims(m, dims, (const void *const *)b->in, b->out, e) : -1;
  if (m && a->keep) fprintf(stderr, "dlc: note: generated code kept in %s\n", jit_dir(m));
  jit_free(m);
  ir_graph_free(dg);
  dyn_free(&d);
  return r;
}

static int execute(Graph *g, const CmdArgs *a, RunBufs *b, DlcErr *e) {
  if (a->ndynamic) return execute_dynamic(a, b, e);
  SplitBuild sp;
  CgenSplit cs;
  if (cmd_load_split(a, g, &sp, e)) return -1;
  JitOptions jo = {.cflags = a->cflags, .cpu = a->cpu, .keep = a->keep, .passes = &a->passes, .cuda = a->cuda,
                   .threads = a->threads, .split = split_cgen(&sp, &cs)};
  JitModel *m = jit_build(g, &jo, e);
  split_free(&sp);
  if (!m) return -1;
  if (a->keep) fprintf(stderr, "dlc: note: generated code kept in %s\n", jit_dir(m));
  int r = jit_run(m, (const void *const *)b->in, b->out, e);
  if (!r) r = cmd_own_strings(g, b->out, e);
  jit_free(m);
  return r;
}

static void show(const Graph *g, const RunBufs *b) {
  for (int j = 0; j < g->nout; j++) {
    char name[256];
    Node view;
    void *trimmed = cmd_output_view(g, j, b->out, &view);
    cmd_print_output(cmd_output_name(g, j, name, sizeof name), &view, trimmed ? trimmed : b->out[j]);
    free(trimmed);
  }
}

static int run_model(Graph *g, const CmdArgs *a) {
  RunBufs b = {0};
  DlcErr e;
  int r = bufs_alloc(g, &b, &e) || cmd_inputs(g, a, b.in, &e) || execute(g, a, &b, &e) ? -1 : 0;
  if (!r) cmd_note_random(g, a);
  if (!r) show(g, &b);
  if (!r && a->output_dir) r = cmd_save_outputs(g, a->output_dir, b.out, &e);
  if (!r && a->check) r = cmd_check(g, b.in, b.out, &e);
  bufs_free(&b);
  if (r == 1) return cmd_fail("--check: the compiled model differs from the reference interpreter");
  return r ? cmd_fail("%s", e.msg) : 0;
}

int cmd_run(int argc, char **argv) {
  CmdArgs a;
  if (cmd_parse(&a, "run", CMD_RUN, argc, argv)) return 1;
  if (a.help) {
    cmd_help("run", CMD_RUN, "MODEL [options]",
             "Compile a model with $CC (else cc), run it once and print each output.\n"
             "Inputs not given with --input get seeded random values.  With --target cuda\n"
             "the model runs on the GPU (device $DLC_CUDA_DEVICE, default 0).  With --dynamic, the\n"
             "dynamic build runs at the sizes --dim (or --batch) gives, else at those of the\n"
             "--input files.");
    return 0;
  }
  DlcErr e;
  if (a.ndynamic && infer_sizes(&a)) return 1;
  if (a.cuda && rt_cuda_probe(&e)) return cmd_fail("--target cuda: %s", e.msg);
  Graph *g = cmd_load(&a, &e);
  if (!g) return cmd_fail("%s", e.msg);
  int r = run_model(g, &a);
  ir_graph_free(g);
  return r;
}

/* cmd_run.c — `dlc run MODEL`: compile through the jit, run once on given or random
 * inputs, show (and save) the outputs; with --check, compare them with the reference
 * interpreter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
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
                   .dyn = &d};
  JitModel *m = jit_build(dg, &jo, e);
  r = m ? jit_run_dims(m, dims, (const void *const *)b->in, b->out, e) : -1;
  if (m && a->keep) fprintf(stderr, "dlc: note: generated code kept in %s\n", jit_dir(m));
  jit_free(m);
  ir_graph_free(dg);
  dyn_free(&d);
  return r;
}

static int execute(Graph *g, const CmdArgs *a, RunBufs *b, DlcErr *e) {
  if (a->ndynamic) return execute_dynamic(a, b, e);
  JitOptions jo = {.cflags = a->cflags, .cpu = a->cpu, .keep = a->keep, .passes = &a->passes, .cuda = a->cuda,
                   .threads = a->threads};
  JitModel *m = jit_build(g, &jo, e);
  if (!m) return -1;
  if (a->keep) fprintf(stderr, "dlc: note: generated code kept in %s\n", jit_dir(m));
  int r = jit_run(m, (const void *const *)b->in, b->out, e);
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
             "dynamic build runs at the sizes --dim (or --batch) gives.");
    return 0;
  }
  DlcErr e;
  if (a.ndynamic && a.cuda) return cmd_fail("--dynamic: the CUDA backend has fixed shapes");
  if (a.cuda && rt_cuda_probe(&e)) return cmd_fail("--target cuda: %s", e.msg);
  Graph *g = cmd_load(&a, &e);
  if (!g) return cmd_fail("%s", e.msg);
  int r = run_model(g, &a);
  ir_graph_free(g);
  return r;
}

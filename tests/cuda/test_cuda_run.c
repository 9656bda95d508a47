/* test_cuda_run.c — the CUDA backend on a device: every model (the .dlc files of
 * models/ and tests/frontend/ok/, the .onnx files of models/ with the ONNX frontend) at
 * -O0 and at -O2 with each fusion mode, built by the jit for the GPU and for the CPU
 * (the C backend, the oracle) on the same seeded inputs: floats agree within 1e-4
 * relative (1e-5 absolute near zero), integers and bools exactly.  Device buffers
 * start poisoned (DLC_CUDA_POISON=1: every byte 0xff, a NaN in every float), so an
 * output element a kernel never wrote cannot agree.  Also: gather's index check on the
 * device and its error flag cleared for the next run, also through NAME_launch (the
 * kernels again on the inputs the last run left on the device).
 *
 * Skips (exit 77) with a message when there is no CUDA driver or device.  ctest runs it
 * twice: as cuda.test_cuda_run (a real GPU, where there is one) and as cuda.emulated,
 * against the CPU emulator of tests/cuda/emu (not a GPU: it checks the generated code's
 * logic, never the hardware).
 *
 * Usage: test_cuda_run ROOT [onnx]
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend.h"
#include "jit.h"
#include "cuda_check.h"
#include "rt_cuda.h"

static const char *root;
static int runs;

static void compare(const Graph *g, void **gpu, void **cpu, const char *what) {
  for (int j = 0; j < g->nout; j++) {
    const Node *n = ir_node(g, g->out[j]);
    int64_t bad = 0, first = -1;
    for (int64_t k = 0; k < shape_numel(&n->shape); k++)
      if (!agree(n->dtype, dtype_load(n->dtype, gpu[j], k), dtype_load(n->dtype, cpu[j], k)))
        bad++, first = first < 0 ? k : first;
    if (bad) {
      check_failures++;
      fprintf(stderr, "%s: output %d: %lld elements differ; first [%lld]: cuda %.9g, c %.9g\n", what, j,
              (long long)bad, (long long)first, dtype_load(n->dtype, gpu[j], first),
              dtype_load(n->dtype, cpu[j], first));
    }
  }
}

/* Builds g for the target and runs it on ins into fresh buffers; NULL on failure.
 * Weights larger than embed_max (0: the default) go to a weights file. */
static void **run(const Graph *g, const PassOptions *po, bool cuda, int64_t embed_max, void **ins,
                  const char *what) {
  JitOptions jo = {.passes = po, .cuda = cuda, .embed_max_bytes = embed_max};
  DlcErr e;
  JitModel *m = jit_build((Graph *)g, &jo, &e);
  void **outs = calloc((size_t)g->nout + 1, sizeof(void *));
  for (int j = 0; j < g->nout; j++) {
    const Node *n = ir_node(g, g->out[j]);
    outs[j] = malloc((size_t)(shape_numel(&n->shape) + 1) * (size_t)dtype_size(n->dtype));
    memset(outs[j], 0xa5, (size_t)(shape_numel(&n->shape) + 1) * (size_t)dtype_size(n->dtype));
  }
  int r = m ? jit_run(m, (const void *const *)ins, outs, &e) : -1;
  jit_free(m);
  if (!r) return outs;
  check_failures++;
  fprintf(stderr, "%s (%s): %s\n", what, cuda ? "cuda" : "c", e.msg);
  for (int j = 0; j < g->nout; j++) free(outs[j]);
  free(outs);
  return NULL;
}

static void check_level(const Graph *g, int level, FuseMode fuse, int64_t embed_max, const char *path) {
  static const char *const fuse_names[] = {"none", "op", "all"};
  char what[700];
  snprintf(what, sizeof what, "%s -O%d --fuse=%s%s", path, level, fuse_names[fuse],
           embed_max ? " (weights file)" : "");
  PassOptions po = pass_options(level);
  po.fuse = fuse;
  int ni = ir_num_inputs(g);
  void **ins = calloc((size_t)ni + 1, sizeof(void *));
  uint64_t seed = 88172645463325252ull;
  for (int i = 0; i < ni; i++) ins[i] = seeded(ir_node(g, ir_input_id(g, i)), &seed);
  void **cpu = run(g, &po, false, 0, ins, what), **gpu = cpu ? run(g, &po, true, embed_max, ins, what) : NULL;
  if (cpu && gpu) compare(g, gpu, cpu, what), runs++;
  for (int j = 0; j < g->nout; j++) {
    if (cpu) free(cpu[j]);
    if (gpu) free(gpu[j]);
  }
  for (int i = 0; i < ni; i++) free(ins[i]);
  free(cpu), free(gpu), free(ins);
}

static void check_model(const char *path) {
  LoadOptions lo = {.batch = 2};
  DlcErr e;
  Graph *g = frontend_load(path, &lo, &e);
  if (!g) {
    check_failures++;
    fprintf(stderr, "%s: %s\n", path, e.msg);
    return;
  }
  check_level(g, 0, FUSE_NONE, 0, path);
  check_level(g, 2, FUSE_OP, 0, path);
  check_level(g, 2, FUSE_ALL, 0, path);
  if (strstr(path, "lenet")) check_level(g, 2, FUSE_ALL, 1024, path); /* NAME_init reads the file */
  ir_graph_free(g);
}

static void check_folder(const char *sub, const char *ext) {
  char dir[600];
  snprintf(dir, sizeof dir, "%s/%s", root, sub);
  struct dirent **list;
  int n = scandir(dir, &list, NULL, alphasort);
  if (n < 0) {
    check_failures++;
    fprintf(stderr, "cannot read %s\n", dir);
    return;
  }
  for (int i = 0; i < n; i++) {
    const char *name = list[i]->d_name;
    size_t len = strlen(name), el = strlen(ext);
    if (len > el && !strcmp(name + len - el, ext)) {
      char path[1300];
      snprintf(path, sizeof path, "%s/%s", dir, name);
      check_model(path);
    }
    free(list[i]);
  }
  free(list);
}

/* gather with an index out of range: NAME_ERR_INDEX; then a good run succeeds. */
static void check_gather_flag(void) {
  Graph *g = ir_graph_new("gather_check");
  int x = ir_input(g, "x", DT_F32, shape_make(2, (int64_t[]){4, 3}));
  int idx = ir_input(g, "idx", DT_I64, shape_make(1, (int64_t[]){2}));
  Attr ax = attr_int(A_AXIS, 0);
  int y = ir_add(g, OP_GATHER, (int[]){x, idx}, 2, &ax, 1);
  DLC_ASSERT(y >= 0 && ir_output(g, y, "y") >= 0);
  float xs[12], out[6];
  for (int i = 0; i < 12; i++) xs[i] = (float)i;
  int64_t bad[2] = {1, 7}, good[2] = {-1, 2};
  JitOptions jo = {.cuda = true};
  DlcErr e;
  JitModel *m = jit_build(g, &jo, &e);
  if (!m) {
    check_failures++;
    fprintf(stderr, "gather check: %s\n", e.msg);
  } else {
    const void *in_bad[2] = {xs, bad}, *in_good[2] = {xs, good};
    void *outs[1] = {out};
    CHECK(jit_run(m, in_bad, outs, &e) == -1 && strstr(e.msg, "out of range"));
    /* NAME_launch runs the kernels again on the inputs already on the device */
    CHECK(jit_launch(m, &e) == -1 && strstr(e.msg, "out of range"));
    CHECK(jit_run(m, in_good, outs, &e) == 0);
    CHECK(jit_launch(m, &e) == 0);
    CHECK(out[0] == 9 && out[2] == 11 && out[3] == 6 && out[5] == 8);
  }
  jit_free(m);
  ir_graph_free(g);
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: %s ROOT [onnx]\n", argv[0]), 2;
  root = argv[1];
  bool onnx = argc > 2 && !strcmp(argv[2], "onnx");
  DlcErr e;
  if (rt_cuda_probe(&e)) {
    fprintf(stderr, "SKIP: no GPU to run on: %s\n", e.msg);
    return 77;
  }
  setenv("DLC_CUDA_POISON", "1", 1);
  check_gather_flag();
  check_folder("models", ".dlc");
  if (onnx) check_folder("models", ".onnx");
  check_folder("tests/frontend/ok", ".dlc");
  check_folder("tests/cuda/graphs", ".dlc");
  printf("%d model runs compared with the C backend\n", runs);
  return check_report("test_cuda_run");
}

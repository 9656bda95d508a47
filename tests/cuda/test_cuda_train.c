/* test_cuda_train.c — the training steps of the CUDA backend against the C backend's
 * (the oracle).  Every model of models/ (.dlc) with its training step (its own training
 * statements, else cross-entropy with Adam), at -O0 and at -O2 --fuse=all, built by the
 * jit for the device and for the CPU from the same initial weights:
 *
 *   - every step of the model in turn, updating, on the same seeded batch, twice: the
 *     losses agree within 1e-4 relative (1e-5 absolute near zero);
 *   - then every PARAM of the graph (weights and optimizer state, through NAME_param)
 *     agrees, and the loss-only face (NAME_<step>_loss) gives the same loss on both
 *     and changes nothing on the device;
 *   - the model's outputs through NAME_run agree;
 *   - NAME_save on the device and NAME_load into the C model give the C model the
 *     device's parameters exactly; a truncated file is refused by the device model's
 *     NAME_load, which changes nothing.
 *
 * Device buffers start poisoned (DLC_CUDA_POISON=1), so a parameter or optimizer state
 * the model fails to initialise shows as NaN.  Skips (exit 77) with a message when
 * there is no CUDA driver or device.  ctest runs it as cuda.test_cuda_train (a GPU) and
 * as cuda.emulated_train (the CPU emulator of tests/cuda/emu).
 *
 * Usage: test_cuda_train ROOT [NAME]   (NAME: only the models whose file name holds it) */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cuda_check.h"
#include "jit.h"
#include "rt_cuda.h"
#include "train_graph.h"

static const char *root;
static int compared;

typedef struct Pair {
  JitModel *cuda, *c;
} Pair;

static void pair_free(Pair *p) { jit_free(p->cuda), jit_free(p->c); }

static int build(const Graph *g, int level, FuseMode fuse, Pair *p, const char *what) {
  PassOptions po = pass_options(level);
  po.fuse = fuse, po.training = true, po.verify = true;
  /* The C reference as plain C at -O2 (--cpu generic: no -march, so no fused multiply-add),
   * the arithmetic the emulator runs; with the host's FMAs the encoder's outputs after
   * two rounds of training steps drift 3.5e-4 relative from it. */
  JitOptions jc = {.passes = &po, .cpu = "generic"}, jg = {.passes = &po, .cuda = true};
  DlcErr e;
  p->c = jit_build((Graph *)g, &jc, &e);
  p->cuda = p->c ? jit_build((Graph *)g, &jg, &e) : NULL;
  if (p->c && p->cuda) return 0;
  check_failures++;
  fprintf(stderr, "%s: %s\n", what, e.msg);
  pair_free(p);
  return -1;
}

static int64_t bytes_of(const Node *n) { return shape_numel(&n->shape) * dtype_size(n->dtype); }

/* Every PARAM of g: the device's values against the CPU's, within the tolerance, or
 * exactly. */
static void compare_params(const Graph *g, Pair *p, bool exact, const char *what) {
  for (int i = 0; i < g->n; i++) {
    const Node *n = g->nodes[i];
    if (n->op != OP_PARAM || !n->name) continue;
    const void *c = jit_param(p->c, n->name);
    void *d = jit_param(p->cuda, n->name);
    if (!c || !d) {
      if (c || d) {
        check_failures++;
        fprintf(stderr, "%s: parameter '%s' is known to the %s model alone\n", what, n->name, c ? "C" : "CUDA");
      }
      continue;
    }
    int64_t bad = 0, first = -1;
    for (int64_t k = 0; k < shape_numel(&n->shape); k++) {
      double a = dtype_load(n->dtype, d, k), b = dtype_load(n->dtype, c, k);
      if (exact ? memcmp(&a, &b, sizeof a) != 0 : !agree(n->dtype, a, b)) bad++, first = first < 0 ? k : first;
    }
    compared++;
    if (bad) {
      check_failures++;
      fprintf(stderr, "%s: parameter '%s': %lld of %lld elements differ; first [%lld]: cuda %.9g, c %.9g\n", what,
              n->name, (long long)bad, (long long)shape_numel(&n->shape), (long long)first,
              dtype_load(n->dtype, d, first), dtype_load(n->dtype, c, first));
    }
  }
}

/* One step on both; the losses must agree. */
static void step_both(Pair *p, int k, bool update, void **ins, const char *what) {
  float lc = 0, lg = 0;
  DlcErr e;
  if (jit_step(p->c, k, update, (const void *const *)ins, &lc, &e) ||
      jit_step(p->cuda, k, update, (const void *const *)ins, &lg, &e)) {
    check_failures++;
    fprintf(stderr, "%s: %s\n", what, e.msg);
    return;
  }
  if (!agree(DT_F32, lg, lc) || lc != lc) {
    check_failures++;
    fprintf(stderr, "%s: step %s%s: loss cuda %.9g, c %.9g\n", what, jit_step_name(p->c, k),
            update ? "" : " (loss only)", lg, lc);
  }
}

/* NAME_run after training: the model's outputs. */
static void compare_outputs(const Graph *g, Pair *p, void **ins, const char *what) {
  int no = ir_num_model_outputs(g);
  void *oc[16] = {0}, *og[16] = {0};
  DLC_ASSERT(no <= 16);
  for (int j = 0; j < no; j++) {
    const Node *n = ir_node(g, g->out[j]);
    oc[j] = calloc((size_t)bytes_of(n) + 1, 1), og[j] = calloc((size_t)bytes_of(n) + 1, 1);
    DLC_ASSERT(oc[j] && og[j]);
  }
  DlcErr e;
  if (jit_run(p->c, (const void *const *)ins, oc, &e) || jit_run(p->cuda, (const void *const *)ins, og, &e)) {
    check_failures++;
    fprintf(stderr, "%s: run: %s\n", what, e.msg);
  } else {
    for (int j = 0; j < no; j++) {
      const Node *n = ir_node(g, g->out[j]);
      for (int64_t k = 0; k < shape_numel(&n->shape); k++)
        if (!agree(n->dtype, dtype_load(n->dtype, og[j], k), dtype_load(n->dtype, oc[j], k))) {
          check_failures++;
          fprintf(stderr, "%s: output %d [%lld]: cuda %.9g, c %.9g\n", what, j, (long long)k,
                  dtype_load(n->dtype, og[j], k), dtype_load(n->dtype, oc[j], k));
          break;
        }
    }
  }
  for (int j = 0; j < no; j++) free(oc[j]), free(og[j]);
}

/* The device's parameters through a file into the C model: then equal exactly.  A
 * truncated copy of the file is refused by the device model and changes nothing. */
static void save_load(const Graph *g, Pair *p, const char *what) {
  char path[64], cut[80], cmd[300];
  snprintf(path, sizeof path, "/tmp/dlc-cuda-train-%d.params", (int)getpid());
  snprintf(cut, sizeof cut, "%s.cut", path);
  DlcErr e;
  if (jit_save(p->cuda, path, &e) || jit_load(p->c, path, &e)) {
    check_failures++;
    fprintf(stderr, "%s: save/load: %s\n", what, e.msg);
  } else {
    compare_params(g, p, true, what);
    snprintf(cmd, sizeof cmd, "head -c 100 '%s' > '%s'", path, cut);
    CHECK(system(cmd) == 0);
    CHECK(jit_load(p->cuda, cut, &e) == -1);
    compare_params(g, p, true, what);
  }
  unlink(path), unlink(cut);
}

static void check_level(const Graph *g, int level, FuseMode fuse, const char *path) {
  char what[700];
  snprintf(what, sizeof what, "%s -O%d --fuse=%s (training)", path, level, fuse == FUSE_ALL ? "all" : "none");
  Pair p;
  if (build(g, level, fuse, &p, what)) return;
  CHECK(jit_steps(p.cuda) == g->nstep && jit_steps(p.c) == g->nstep);
  int ni = ir_num_inputs(g);
  void **ins = calloc((size_t)ni + 1, sizeof(void *));
  uint64_t seed = 88172645463325252ull;
  for (int i = 0; i < ni; i++) ins[i] = seeded(ir_node(g, ir_input_id(g, i)), &seed);
  compare_params(g, &p, false, what); /* the initial weights, and the state's zeros */
  for (int round = 0; round < 2; round++)
    for (int k = 0; k < g->nstep; k++) step_both(&p, k, true, ins, what);
  compare_params(g, &p, false, what);
  for (int k = 0; k < g->nstep; k++) step_both(&p, k, false, ins, what);
  compare_params(g, &p, false, what);
  compare_outputs(g, &p, ins, what);
  save_load(g, &p, what);
  for (int i = 0; i < ni; i++) free(ins[i]);
  free(ins);
  pair_free(&p);
}

static void check_model(const char *path) {
  DlcErr e;
  Graph *g = cuda_train_graph(path, 2, &e);
  if (!g) {
    check_failures++;
    fprintf(stderr, "%s: %s\n", path, e.msg);
    return;
  }
  check_level(g, 0, FUSE_NONE, path);
  check_level(g, 2, FUSE_ALL, path);
  ir_graph_free(g);
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: %s ROOT [NAME-PART] [shard=K/N]\n", argv[0]), 2;
  root = argv[1];
  const char *part = NULL;
  int shard = 0, nshards = 1, seen = 0; /* this run checks models shard, shard + nshards, .. */
  for (int i = 2; i < argc; i++) {
    if (strncmp(argv[i], "shard=", 6)) {
      part = argv[i];
      continue;
    }
    if (sscanf(argv[i] + 6, "%d/%d", &shard, &nshards) != 2 || nshards < 1 || shard < 0 || shard >= nshards)
      return fprintf(stderr, "%s: expected shard=K/N with 0 <= K < N\n", argv[i]), 2;
  }
  DlcErr e;
  if (rt_cuda_probe(&e)) {
    fprintf(stderr, "SKIP: no GPU to run on: %s\n", e.msg);
    return 77;
  }
  setenv("DLC_CUDA_POISON", "1", 1);
  char dir[600];
  snprintf(dir, sizeof dir, "%s/models", root);
  struct dirent **list;
  int n = scandir(dir, &list, NULL, alphasort);
  if (n < 0) return fprintf(stderr, "cannot read %s\n", dir), 1;
  for (int i = 0; i < n; i++) {
    const char *name = list[i]->d_name;
    size_t len = strlen(name);
    if (len > 4 && !strcmp(name + len - 4, ".dlc") && (!part || strstr(name, part)) && seen++ % nshards == shard) {
      char path[1300];
      snprintf(path, sizeof path, "%s/%s", dir, name);
      check_model(path);
    }
    free(list[i]);
  }
  free(list);
  printf("%d parameter comparisons of training steps with the C backend\n", compared);
  return check_report("test_cuda_train");
}

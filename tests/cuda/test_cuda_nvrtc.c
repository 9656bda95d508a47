/* test_cuda_nvrtc.c — the CUDA backend where no GPU is needed: every kernel of every
 * model (the .dlc files of models/ and tests/frontend/ok/, the .onnx files of models/
 * when the ONNX frontend is built), at -O0 and at -O2 with each fusion mode, compiled
 * by NVRTC to PTX for sm_80 and sm_90 with an empty log (a warning fails), and the
 * generated host C compiled with every warning an error, with runtime/rt_cuda.h
 * included so that its declarations of the loader must agree.  The training step of
 * every model of models/ (its training statements, else cross-entropy with Adam) goes
 * through the same at -O0 and at -O2 --fuse=all.  One model also goes through
 * --cuda-aot (PTX embedded).
 *
 * Skips (exit 77) with a message when libnvrtc cannot be opened, unless told it must
 * be there (DLC_CUDA=ON).
 *
 * Usage: test_cuda_nvrtc ROOT [onnx] [require]
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgen.h"
#include "check.h"
#include "frontend.h"
#include "passes.h"
#include "rt_cuda.h"
#include "train_graph.h"

static const char *root;
static int kernels_compiled;

#ifndef CUDA_TEST_CC
#define CUDA_TEST_CC "cc"
#endif

/* NVRTC on the kernels' source for one architecture: PTX and no log at all. */
static void check_nvrtc(const char *src, const char *arch, const char *what) {
  char *ptx = NULL, *log = NULL;
  DlcErr e;
  if (rt_nvrtc_compile(src, arch, 0, &ptx, &log, &e)) {
    check_failures++;
    fprintf(stderr, "%s (%s): %s\n", what, arch, e.msg);
    return;
  }
  if (log && log[0]) {
    check_failures++;
    fprintf(stderr, "%s (%s): NVRTC warnings:\n%s\n", what, arch, log);
  }
  CHECK(ptx != NULL);
  free(ptx);
  free(log);
}

/* The host C in a folder of its own, compiled as C99 with -Werror, then once more with
 * runtime/rt_cuda.h included (C11, as the runtime is), so a declaration that disagrees
 * with the loader's is an error. */
static void check_host(const Graph *g, const Schedule *s, const Plan *p, const CudaOptions *cu,
                       const char *what) {
  char dir[] = "/tmp/dlc-cuda-test-XXXXXX", path[600], cmd[2400];
  if (!mkdtemp(dir)) {
    check_failures++;
    fprintf(stderr, "%s: mkdtemp failed\n", what);
    return;
  }
  snprintf(path, sizeof path, "%s/model.c", dir);
  FILE *c = fopen(path, "w");
  snprintf(path, sizeof path, "%s/model.h", dir);
  FILE *h = fopen(path, "w");
  CgenOptions co = {.name = "net", .header_name = "model.h", .embed_max_bytes = 1 << 12};
  /* small weights in model.bin, which model.c links (.incbin, from the folder cc runs in) */
  snprintf(path, sizeof path, "%s/%s", dir, cgen_c_needs_weights_file(g, p, &co) ? "model.weights" : "model.bin");
  FILE *w = fopen(path, "w");
  DlcErr e;
  int r = c && h && w ? cgen_cuda(g, s, p, &co, cu, c, h, w, &e) : dlc_errf(&e, "cannot create files");
  if (c) fclose(c);
  if (h) fclose(h);
  if (w) fclose(w);
  if (r) {
    check_failures++;
    fprintf(stderr, "%s: cgen_cuda: %s\n", what, e.msg);
  } else {
    snprintf(cmd, sizeof cmd,
             "cd %s && %s -std=c99 -Wall -Wextra -pedantic -Wshadow -Werror -c model.c -o model.o "
             ">cc.log 2>&1 && %s -std=c11 -Wall -Werror -include '%s/runtime/rt_cuda.h' -I'%s/runtime' "
             "-c model.c -o model.o >>cc.log 2>&1 || { cat cc.log >&2; exit 1; }",
             dir, CUDA_TEST_CC, CUDA_TEST_CC, root, root);
    if (system(cmd)) {
      check_failures++;
      fprintf(stderr, "%s: the host C does not compile warning-free (in %s)\n", what, dir);
      return; /* kept for a look */
    }
  }
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) fprintf(stderr, "note: could not remove %s\n", dir);
}

static void check_level(const Graph *g0, int level, FuseMode fuse, const char *path) {
  static const char *const fuse_names[] = {"none", "op", "all"};
  char what[700];
  snprintf(what, sizeof what, "%s -O%d --fuse=%s", path, level, fuse_names[fuse]);
  PassOptions po = pass_options(level);
  po.fuse = fuse;
  po.verify = true;
  po.training = g0->nstep > 0;
  if (po.training) snprintf(what + strlen(what), sizeof what - strlen(what), " (training step)");
  Graph *g = pass_clone(g0);
  Schedule *s;
  Plan *p;
  DlcErr e;
  if (pass_pipeline(&g, &po, &s, &p, &e)) {
    fprintf(stderr, "%s: the pipeline fails (not the backend's doing): %s\n", what, e.msg);
    ir_graph_free(g);
    return;
  }
  char *src = NULL;
  CgenOptions co = {.name = "net", .header_name = "model.h", .embed_max_bytes = CGEN_EMBED_DEFAULT};
  if (cgen_cuda_source(g, s, p, &co, &src, &e)) {
    check_failures++;
    fprintf(stderr, "%s: cgen_cuda_source: %s\n", what, e.msg);
  } else {
    check_nvrtc(src, "sm_80", what);
    check_nvrtc(src, "sm_90", what);
    for (const char *q = src; (q = strstr(q, "__global__")); q++) kernels_compiled++;
    CudaOptions cu = {0};
    check_host(g, s, p, &cu, what);
  }
  free(src);
  ir_graph_free(g);
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
  check_level(g, 0, FUSE_NONE, path);
  check_level(g, 2, FUSE_OP, path);
  check_level(g, 2, FUSE_ALL, path);
  ir_graph_free(g);
}

static void check_train(const char *path) {
  DlcErr e;
  Graph *g = cuda_train_graph(path, 2, &e);
  if (!g) {
    check_failures++;
    fprintf(stderr, "%s (training): %s\n", path, e.msg);
    return;
  }
  check_level(g, 0, FUSE_NONE, path);
  check_level(g, 2, FUSE_ALL, path);
  ir_graph_free(g);
}

static int shard, nshards = 1, seen; /* this run checks files shard, shard + nshards, .. */

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
    if (len > el && !strcmp(name + len - el, ext) && seen++ % nshards == shard) {
      char path[1300];
      snprintf(path, sizeof path, "%s/%s", dir, name);
      check_model(path);
      if (!strcmp(sub, "models") && !strcmp(ext, ".dlc")) check_train(path);
    }
    free(list[i]);
  }
  free(list);
}

/* --cuda-aot: the PTX for sm_80 embedded in the host C, which still compiles. */
static void check_aot(void) {
  char path[600];
  snprintf(path, sizeof path, "%s/models/mlp.dlc", root);
  LoadOptions lo = {.batch = 2};
  DlcErr e;
  Graph *g = frontend_load(path, &lo, &e);
  Schedule *s;
  Plan *p;
  PassOptions po = pass_options(2);
  if (!g || pass_pipeline(&g, &po, &s, &p, &e)) {
    check_failures++;
    fprintf(stderr, "aot: %s\n", e.msg);
  } else {
    CudaOptions cu = {.aot_arch = "sm_80"};
    check_host(g, s, p, &cu, "mlp.dlc --cuda-aot");
  }
  ir_graph_free(g);
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: %s ROOT [onnx] [require] [shard=K/N]\n", argv[0]), 2;
  root = argv[1];
  bool onnx = false, require = false;
  for (int i = 2; i < argc; i++) {
    onnx |= !strcmp(argv[i], "onnx"), require |= !strcmp(argv[i], "require");
    if (!strncmp(argv[i], "shard=", 6) &&
        (sscanf(argv[i] + 6, "%d/%d", &shard, &nshards) != 2 || nshards < 1 || shard < 0 || shard >= nshards))
      return fprintf(stderr, "%s: bad %s\n", argv[0], argv[i]), 2;
  }
  DlcErr e;
  if (rt_nvrtc_load(&e)) {
    fprintf(stderr, "%s: %s\n", require ? "FAIL (DLC_CUDA=ON)" : "SKIP: no NVRTC here, the CUDA tests need it", e.msg);
    return require ? 1 : 77;
  }
  check_folder("models", ".dlc");
  if (onnx) check_folder("models", ".onnx");
  check_folder("tests/frontend/ok", ".dlc");
  check_folder("tests/cuda/graphs", ".dlc");
  if (shard == 0) check_aot();
  printf("%d kernels compiled by NVRTC for sm_80 and sm_90\n", kernels_compiled);
  return check_report("test_cuda_nvrtc");
}

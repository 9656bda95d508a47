/* test_passes_models.c — every model (the .dlc files of models/ and tests/frontend/ok/,
 * and the .onnx files of models/ when the ONNX frontend is built) through each pass alone
 * and through the pipeline at -O0, -O1, -O2 with every fusion mode, compared with the
 * interpreter on the original graph; the .dlc models also compiled through the jit at
 * -O2.
 *
 * Usage: test_passes_models ROOT [onnx]
 */
#include <dirent.h>

#include "frontend.h"
#include "jit.h"
#include "passes_util.h"

static int models_seen;

/* The jit at -O2 on the graph, against the interpreter's outputs want. */
static void check_jit(const Graph *g, const PtVals *in, const PtVals *want, const char *what) {
  PassOptions o = pass_options(2);
  o.verify = true;
  JitOptions jo = {.passes = &o};
  DlcErr e;
  JitModel *m = jit_build((Graph *)g, &jo, &e);
  if (!m) {
    check_failures++;
    fprintf(stderr, "%s: jit: %s\n", what, e.msg);
    return;
  }
  int ni = in->n, no = g->nout;
  void **ib = calloc((size_t)ni + 1, sizeof(void *)), **ob = calloc((size_t)no + 1, sizeof(void *));
  PtVals got;
  pt_alloc(&got, no);
  for (int i = 0; i < ni; i++) {
    const Node *n = ir_node(g, ir_input_id(g, i));
    ib[i] = calloc((size_t)in->numel[i] + 1, (size_t)dtype_size(n->dtype));
    for (int64_t k = 0; k < in->numel[i]; k++) dtype_store(n->dtype, ib[i], k, in->v[i][k]);
  }
  for (int j = 0; j < no; j++) {
    const Node *n = ir_node(g, g->out[j]);
    ob[j] = calloc((size_t)shape_numel(&n->shape) + 1, (size_t)dtype_size(n->dtype));
    pt_buf(&got, j, n);
  }
  if (jit_run(m, (const void *const *)ib, ob, &e)) {
    check_failures++;
    fprintf(stderr, "%s: jit run: %s\n", what, e.msg);
  } else {
    for (int j = 0; j < no; j++)
      for (int64_t k = 0; k < got.numel[j]; k++) got.v[j][k] = dtype_load(ir_node(g, g->out[j])->dtype, ob[j], k);
    pt_compare(g, &got, want, what);
  }
  for (int i = 0; i < ni; i++) free(ib[i]);
  for (int j = 0; j < no; j++) free(ob[j]);
  free(ib), free(ob), pt_free(&got), jit_free(m);
}

static void check_model(const char *path, bool jit) {
  LoadOptions lo = {.batch = 2};
  DlcErr e;
  Graph *g = frontend_load(path, &lo, &e);
  if (!g) {
    check_failures++;
    fprintf(stderr, "%s: %s\n", path, e.msg);
    return;
  }
  models_seen++;
  PtVals in = pt_inputs(g, 7), want;
  if (pt_interp(g, &in, &want, &e)) {
    check_failures++;
    fprintf(stderr, "%s: the interpreter failed on the original: %s\n", path, e.msg);
    pt_free(&in), ir_graph_free(g);
    return;
  }
  static const struct {
    const char *name;
    PtPass pass;
  } passes[] = {{"freeze", pass_freeze}, {"fold", pass_fold}, {"cse", pass_cse}, {"dce", pass_dce}, {"bnfold", pass_bnfold}};
  char what[600];
  for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
    snprintf(what, sizeof what, "%.400s: %s alone", path, passes[i].name);
    pt_check_pass(g, passes[i].pass, &in, &want, what, NULL);
  }
  for (int level = 0; level <= 2; level++)
    for (int f = FUSE_NONE; f <= FUSE_ALL; f++) {
      PassOptions o = pass_options(level);
      o.fuse = (FuseMode)f;
      snprintf(what, sizeof what, "%.400s: -O%d fuse %d", path, level, f);
      pt_check_pipeline(g, o, &in, &want, what);
    }
  if (jit) {
    snprintf(what, sizeof what, "%.400s: jit -O2", path);
    check_jit(g, &in, &want, what);
  }
  pt_free(&in), pt_free(&want), ir_graph_free(g);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int shard, nshards = 1; /* this run checks files shard, shard + nshards, .. */

/* Every file in dir ending in ext, in name order (those of this shard). */
static void check_dir(const char *root, const char *dir, const char *ext, bool jit) {
  char path[4096], *names[256];
  int n = 0;
  snprintf(path, sizeof path, "%s/%s", root, dir);
  DIR *d = opendir(path);
  if (!d) {
    check_failures++;
    fprintf(stderr, "cannot open %s\n", path);
    return;
  }
  for (struct dirent *de; (de = readdir(d)) && n < 256;) {
    size_t len = strlen(de->d_name), el = strlen(ext);
    if (len > el && !strcmp(de->d_name + len - el, ext)) names[n++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], by_name);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s/%s", root, dir, names[i]);
    if (i % nshards == shard) check_model(path, jit);
    free(names[i]);
  }
}

/* ROOT PART [K/N]: PART is models (the .dlc files of models/, also through the jit), ok
 * (tests/frontend/ok) or onnx (the .onnx files of models/); K/N checks every Nth file from the Kth,
 * so that ctest runs the slow parts side by side. */
int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: test_passes_models ROOT models|ok|onnx [K/N]\n"), 2;
  if (argc > 3 && (sscanf(argv[3], "%d/%d", &shard, &nshards) != 2 || nshards < 1 || shard < 0 || shard >= nshards))
    return fprintf(stderr, "test_passes_models: bad shard '%s'\n", argv[3]), 2;
  if (!strcmp(argv[2], "models")) check_dir(argv[1], "models", ".dlc", true);
  else if (!strcmp(argv[2], "ok")) check_dir(argv[1], "tests/frontend/ok", ".dlc", false);
  else if (!strcmp(argv[2], "onnx")) check_dir(argv[1], "models", ".onnx", false);
  else return fprintf(stderr, "test_passes_models: unknown part '%s'\n", argv[2]), 2;
  CHECK(models_seen >= 1);
  printf("%d models\n", models_seen);
  return check_report("test_passes_models");
}

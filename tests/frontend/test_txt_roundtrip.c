/* test_txt_roundtrip.c — parse(print(g)) == g and print(parse(print(g))) == print(g)
 * for every bundled model and every file of tests/frontend/ok.
 * Usage: test_txt_roundtrip REPO_ROOT */
#include "txt_util.h"

/* The ok/ files also feed the compiled-against-interpreter tests, which draw inputs in
 * [-1, 1): check that such inputs give finite outputs everywhere. */
static void finite_outputs(const Graph *g, const char *path) {
  int ni = ir_num_inputs(g);
  double **in = calloc((size_t)ni + 1, sizeof *in), **out = calloc((size_t)g->nout, sizeof *out);
  uint64_t r = 88172645463325252ull;
  for (int i = 0; i < ni; i++) {
    int64_t n = shape_numel(&g->nodes[ir_input_id(g, i)]->shape);
    in[i] = malloc(sizeof(double) * (size_t)n);
    for (int64_t k = 0; k < n; k++) {
      r ^= r << 13, r ^= r >> 7, r ^= r << 17;
      in[i][k] = (double)(float)((double)(r >> 11) / 9007199254740992.0 * 2 - 1);
    }
  }
  for (int j = 0; j < g->nout; j++)
    out[j] = malloc(sizeof(double) * (size_t)shape_numel(&g->nodes[g->out[j]]->shape));
  DlcErr e = {{0}};
  int rc = interp_run(g, (const double *const *)in, out, &e);
  if (rc) fprintf(stderr, "%s: interpreter: %s\n", path, e.msg);
  CHECK(rc == 0);
  for (int j = 0; !rc && j < g->nout; j++) {
    int64_t n = shape_numel(&g->nodes[g->out[j]]->shape), bad = 0;
    for (int64_t k = 0; k < n; k++) bad += !isfinite(out[j][k]);
    if (bad) fprintf(stderr, "%s: output %s has %lld non-finite values\n", path, g->out_name[j], (long long)bad);
    CHECK(bad == 0);
  }
  for (int i = 0; i < ni; i++) free(in[i]);
  for (int j = 0; j < g->nout; j++) free(out[j]);
  free(in);
  free(out);
}

static void roundtrip(const char *path, bool ok_file) {
  DlcErr e = {{0}};
  char *src = util_read(path, NULL);
  CHECK(src != NULL);
  if (!src) return;
  Graph *g1 = util_parse(src, path, NULL, &e);
  if (!g1) fprintf(stderr, "%s\n", e.msg);
  CHECK(g1 != NULL);
  if (g1) {
    CHECK(ir_verify(g1, &e) == 0);
    if (ok_file) finite_outputs(g1, path);
    char *t1 = util_print(g1);
    Graph *g2 = util_parse(t1, "printed.dlc", NULL, &e);
    if (!g2) fprintf(stderr, "%s: the printed text does not parse: %s\n%s", path, e.msg, t1);
    CHECK(g2 != NULL);
    if (g2) {
      CHECK(util_graph_diff(g1, g2, path) == 0);
      char *t2 = util_print(g2);
      if (strcmp(t1, t2)) fprintf(stderr, "%s: printing is not a fixpoint:\n%s---\n%s", path, t1, t2);
      CHECK(strcmp(t1, t2) == 0);
      free(t2);
      ir_graph_free(g2);
    }
    free(t1);
    ir_graph_free(g1);
  }
  free(src);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s REPO_ROOT\n", argv[0]);
    return 2;
  }
  const char *dirs[2] = {"models", "tests/frontend/ok"};
  int total = 0;
  for (int d = 0; d < 2; d++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", argv[1], dirs[d]);
    int n;
    char **files = util_list(dir, ".dlc", &n);
    for (int i = 0; i < n; i++) roundtrip(files[i], d == 1);
    CHECK(n > 0);
    total += n;
    util_free_list(files, n);
  }
  printf("%d files round-tripped\n", total);
  return check_report("test_txt_roundtrip");
}

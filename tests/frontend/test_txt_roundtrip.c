/* test_txt_roundtrip.c — parse(print(g)) == g and print(parse(print(g))) == print(g)
 * for every bundled model and every file of tests/frontend/ok.
 * Usage: test_txt_roundtrip REPO_ROOT */
#include "txt_util.h"

/* Also returns the verifier's verdict on the parsed graph. */
static void roundtrip(const char *path) {
  DlcErr e = {{0}};
  char *src = util_read(path, NULL);
  CHECK(src != NULL);
  if (!src) return;
  Graph *g1 = util_parse(src, path, NULL, &e);
  if (!g1) fprintf(stderr, "%s\n", e.msg);
  CHECK(g1 != NULL);
  if (g1) {
    CHECK(ir_verify(g1, &e) == 0);
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
    for (int i = 0; i < n; i++) roundtrip(files[i]);
    CHECK(n > 0);
    total += n;
    util_free_list(files, n);
  }
  printf("%d files round-tripped\n", total);
  return check_report("test_txt_roundtrip");
}

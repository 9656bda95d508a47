/* test_txt_fuzz.c — random byte mutations of the bundled models and the ok/ files.
 * Whatever the bytes, the parser must either fail with one well-formed line or build a
 * graph the verifier accepts and that survives a print/parse round trip.  Seeded, so a
 * failure reproduces; run under ASan/UBSan it also proves the absence of memory errors.
 * Usage: test_txt_fuzz REPO_ROOT [ITERATIONS] */
#include "txt_util.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

/* Bytes that matter to the grammar are tried more often than uniform noise. */
static char pick_byte(void) {
  static const char interesting[] = "()[],:=-#\n\"0123456789.xpe_ab \t";
  if (next() % 2) return (char)(next() % 256);
  return interesting[next() % (sizeof interesting - 1)];
}

/* One to four edits: replace, insert or delete a byte, or copy a span elsewhere. */
static size_t mutate(char *buf, size_t len, size_t cap) {
  int edits = 1 + (int)(next() % 4);
  for (int k = 0; k < edits && len > 0; k++) {
    size_t at = next() % len;
    switch (next() % 4) {
    case 0: buf[at] = pick_byte(); break;
    case 1:
      if (len + 1 >= cap) break;
      memmove(buf + at + 1, buf + at, len - at);
      buf[at] = pick_byte();
      len++;
      break;
    case 2:
      memmove(buf + at, buf + at + 1, len - at - 1);
      len--;
      break;
    default: {
      size_t from = next() % len, n = 1 + next() % 16;
      if (from + n > len) n = len - from;
      if (len + n >= cap) break;
      memmove(buf + at + n, buf + at, len - at);
      memmove(buf + at, from >= at ? buf + from + n : buf + from, n);
      len += n;
    }
    }
  }
  return len;
}

static int accepted, rejected;

static void one(const char *src, size_t len) {
  DlcErr e = {{0}};
  const char *name = "fuzz.dlc";
  Graph *g = txt_parse(src, len, name, NULL, &e);
  if (!g) {
    bool ok = !strncmp(e.msg, "fuzz.dlc:", 9) && !strchr(e.msg, '\n');
    if (!ok) fprintf(stderr, "badly formed error: %s\n", e.msg);
    CHECK(ok);
    rejected++;
    return;
  }
  accepted++;
  if (ir_verify(g, &e)) {
    fprintf(stderr, "accepted a graph the verifier rejects: %s\n--- input:\n%.*s\n", e.msg, (int)len, src);
    CHECK(0);
  }
  char *t1 = util_print(g);
  Graph *g2 = util_parse(t1, "printed.dlc", NULL, &e);
  CHECK(g2 != NULL);
  if (g2) CHECK(util_graph_diff(g, g2, "fuzz round trip") == 0);
  if (!g2) fprintf(stderr, "%s\n--- printed:\n%s", e.msg, t1);
  free(t1);
  ir_graph_free(g2);
  ir_graph_free(g);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s REPO_ROOT [ITERATIONS]\n", argv[0]);
    return 2;
  }
  int iters = argc > 2 ? atoi(argv[2]) : 3000;
  const char *dirs[2] = {"models", "tests/frontend/ok"};
  char *seeds[64];
  size_t lens[64];
  int ns = 0;
  for (int d = 0; d < 2; d++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", argv[1], dirs[d]);
    int n;
    char **files = util_list(dir, ".dlc", &n);
    for (int i = 0; i < n && ns < 64; i++) seeds[ns] = util_read(files[i], &lens[ns]), ns++;
    util_free_list(files, n);
  }
  CHECK(ns > 0);
  for (int it = 0; ns && it < iters; it++) {
    int s = (int)(next() % (uint64_t)ns);
    size_t cap = 2 * lens[s] + 64;
    char *buf = malloc(cap);
    memcpy(buf, seeds[s], lens[s]);
    size_t len = mutate(buf, lens[s], cap);
    one(buf, len);
    free(buf);
  }
  for (int i = 0; i < ns; i++) free(seeds[i]);
  printf("%d mutants: %d accepted, %d rejected\n", iters, accepted, rejected);
  return check_report("test_txt_fuzz");
}

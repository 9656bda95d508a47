/* test_txt_bad.c — every file of tests/frontend/bad must fail to parse with one line
 * "PATH:LINE:COL: message" (or "PATH: message" for what concerns the whole file) that
 * contains the text of its first line "# expect: TEXT".  TEXT usually begins with
 * LINE:COL, so the location is checked too.
 * Usage: test_txt_bad REPO_ROOT */
#include <ctype.h>

#include "txt_util.h"

/* The text after "# expect: " on the first line, in buf; false if there is none. */
static bool expectation(const char *src, char *buf, size_t n) {
  const char *tag = "# expect: ";
  if (strncmp(src, tag, strlen(tag))) return false;
  const char *s = src + strlen(tag), *eol = strchr(s, '\n');
  size_t len = eol ? (size_t)(eol - s) : strlen(s);
  if (len == 0 || len >= n) return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return true;
}

/* "PATH: ..." or "PATH:LINE:COL: ..." with LINE and COL positive, one line. */
static bool well_formed(const char *msg, const char *path) {
  size_t n = strlen(path);
  if (strncmp(msg, path, n) || msg[n] != ':' || strchr(msg, '\n')) return false;
  const char *s = msg + n + 1;
  if (*s == ' ') return true;
  for (int part = 0; part < 2; part++) {
    if (!isdigit((unsigned char)*s) || *s == '0') return false;
    while (isdigit((unsigned char)*s)) s++;
    if (*s++ != ':') return false;
  }
  return *s == ' ';
}

static void bad_file(const char *path) {
  size_t len;
  char *src = util_read(path, &len), want[512];
  CHECK(src != NULL);
  if (!src) return;
  bool has = expectation(src, want, sizeof want);
  if (!has) fprintf(stderr, "%s: no '# expect: ' line\n", path);
  CHECK(has);
  DlcErr e = {{0}};
  Graph *g = txt_parse(src, len, path, NULL, &e);
  if (g) fprintf(stderr, "%s: parsed, but should fail with: %s\n", path, want);
  CHECK(g == NULL);
  ir_graph_free(g);
  if (!g && has) {
    bool ok = well_formed(e.msg, path) && strstr(e.msg, want);
    if (!ok) fprintf(stderr, "%s:\n  got:  %s\n  want: %s\n", path, e.msg, want);
    CHECK(ok);
  }
  free(src);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s REPO_ROOT\n", argv[0]);
    return 2;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/frontend/bad", argv[1]);
  int n;
  char **files = util_list(dir, ".dlc", &n);
  for (int i = 0; i < n; i++) bad_file(files[i]);
  CHECK(n >= 25);
  printf("%d malformed files rejected\n", n);
  util_free_list(files, n);
  return check_report("test_txt_bad");
}

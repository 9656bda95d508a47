/* replay.c — a main for a fuzz target, so any compiler can run it over files without
 * libFuzzer: `replay FILE|DIR...` feeds every file (a folder's files, not recursively)
 * to LLVMFuzzerTestOneInput.  The test suite runs it over the seeds and the inputs
 * that once crashed (regress/), under the sanitizers in that build. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (!buf) {
    fprintf(stderr, "%s: out of memory\n", path);
    return 1;
  }
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

static int run_path(const char *path, int *count) {
  struct stat st;
  if (stat(path, &st)) {
    perror(path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) return ++*count, run_file(path);
  DIR *d = opendir(path);
  if (!d) {
    perror(path);
    return 1;
  }
  int bad = 0;
  for (struct dirent *de; (de = readdir(d));) {
    char sub[4096];
    if (de->d_name[0] == '.') continue;
    snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
    if (!stat(sub, &st) && S_ISREG(st.st_mode)) bad |= (++*count, run_file(sub));
  }
  closedir(d);
  return bad;
}

int main(int argc, char **argv) {
  int bad = 0, count = 0;
  for (int i = 1; i < argc; i++) bad |= run_path(argv[i], &count);
  printf("replayed %d inputs\n", count);
  return bad || !count;
}

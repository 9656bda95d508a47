/* test_util.h — tiny helpers shared by the runtime tests: checks that count failures,
 * a private temporary folder, and writing raw bytes to a file. */
#ifndef DLC_TEST_UTIL_H
#define DLC_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(c)                                                     \
  do {                                                               \
    if (!(c)) {                                                      \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
      test_failures++;                                               \
    }                                                                \
  } while (0)

/* A fresh folder under $TMPDIR (or /tmp); each test program gets its own, so ctest -j
 * runs never share files. */
static inline const char *test_tmpdir(void) {
  static char dir[512];
  const char *base = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/dlc-rt-test-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    exit(2);
  }
  return dir;
}

static inline void test_path(char *buf, size_t n, const char *dir, const char *name) {
  snprintf(buf, n, "%s/%s", dir, name);
}

static inline void test_write(const char *path, const void *bytes, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(bytes, 1, n, f) != n || fclose(f)) {
    perror(path);
    exit(2);
  }
}

/* Removes the folder and the files the test put in it. */
static inline void test_cleanup(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
}

#endif

/* test_arena.c — the arena (ir/arena.c): zeroed, 16-byte aligned memory, small and large
 * requests, copies; run it under ASan to see that one arena_free releases everything. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static void test_small(void) {
  Arena *a = arena_new();
  unsigned char *prev = NULL;
  for (int i = 0; i < 20000; i++) {
    size_t n = (size_t)(i % 97) + 1;
    unsigned char *p = arena_alloc(a, n);
    CHECK(((uintptr_t)p & 15) == 0);
    bool zero = true;
    for (size_t k = 0; k < n; k++) zero &= p[k] == 0;
    CHECK(zero);
    memset(p, 0xAB, n); /* ASan would see a write past the block */
    CHECK(p != prev);
    prev = p;
  }
  CHECK(arena_alloc(a, 0) != NULL);
  arena_free(a);
}

static void test_large(void) {
  Arena *a = arena_new();
  int *small = arena_alloc(a, sizeof(int));
  *small = 42;
  for (int i = 0; i < 4; i++) {
    size_t n = ((size_t)3 << 20) + (size_t)i; /* over a block: its own allocation */
    unsigned char *p = arena_alloc(a, n);
    CHECK(((uintptr_t)p & 15) == 0 && p[0] == 0 && p[n - 1] == 0);
    memset(p, 0xCD, n);
  }
  int *after = arena_alloc(a, sizeof(int)); /* small requests go on in the current block */
  CHECK(*small == 42 && *after == 0);
  arena_free(a);
  arena_free(NULL);
}

static void test_copies(void) {
  Arena *a = arena_new();
  char *s = arena_strdup(a, "conv");
  CHECK(s && !strcmp(s, "conv"));
  CHECK(arena_strdup(a, NULL) == NULL);
  double v[3] = {1.5, -2, 3};
  double *c = arena_memdup(a, v, sizeof v);
  CHECK(c != v && c[0] == 1.5 && c[1] == -2 && c[2] == 3);
  CHECK(arena_memdup(a, NULL, 0) != NULL);
  arena_free(a);
}

int main(void) {
  test_small();
  test_large();
  test_copies();
  return check_report("test_arena");
}

/* test_plan_sweep.c — plan_sweep (passes/plan_sweep.c), the planner's placement for
 * graphs whose buffers live at once in too many pairs for its best-fit orders: seeded
 * random buffers, checked against every pair (no two live at a common step share a
 * byte, offsets aligned, the arena holds all) and the peak of live bytes (a lower bound
 * the arena cannot beat); then a large case of nested lifetimes (an unrolled recurrence's
 * forward and backward) must finish and check by a sweep of its own. */
#include <stdio.h>
#include <stdlib.h>

#include "passes.h"

static int fails;
#define CHECK(c) ((c) ? (void)0 : (void)(fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c), fails++))

static uint64_t rng = 88172645463325252ull;
static int next(int n) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (int)(rng % (uint64_t)n);
}

static void random_case(int nb, int steps) {
  int *first = calloc((size_t)nb + 1, sizeof(int)), *last = calloc((size_t)nb + 1, sizeof(int));
  int64_t *bytes = calloc((size_t)nb + 1, sizeof(int64_t)), *off = calloc((size_t)nb + 1, sizeof(int64_t));
  if (!first || !last || !bytes || !off) abort();
  for (int i = 0; i < nb; i++) {
    first[i] = next(steps);
    last[i] = first[i] + next(1 + next(steps / 2 + 1));
    bytes[i] = 64 * (int64_t)next(9); /* a few of size 0 */
  }
  int64_t arena = plan_sweep(nb, first, last, bytes, off), peak = 0;
  for (int i = 0; i < nb; i++) {
    CHECK(off[i] % 64 == 0 && off[i] >= 0 && off[i] + bytes[i] <= arena);
    for (int j = i + 1; j < nb; j++) {
      bool live = first[i] <= last[j] && first[j] <= last[i];
      bool meet = off[i] < off[j] + bytes[j] && off[j] < off[i] + bytes[i];
      if (live && meet && bytes[i] && bytes[j]) {
        fprintf(stderr, "buffers %d and %d live at once share bytes\n", i, j);
        fails++;
      }
    }
  }
  for (int t = 0; t < 2 * steps; t++) {
    int64_t live = 0;
    for (int i = 0; i < nb; i++) live += first[i] <= t && t <= last[i] ? bytes[i] : 0;
    if (live > peak) peak = live;
  }
  CHECK(arena >= peak);
  free(first), free(last), free(bytes), free(off);
}

/* Steps 0..T-1 write h_t, read again at step 2T-1-t; 2T buffers nested like brackets. */
static void nested_case(int T) {
  int nb = 2 * T;
  int *first = calloc((size_t)nb, sizeof(int)), *last = calloc((size_t)nb, sizeof(int));
  int64_t *bytes = calloc((size_t)nb, sizeof(int64_t)), *off = calloc((size_t)nb, sizeof(int64_t));
  if (!first || !last || !bytes || !off) abort();
  for (int t = 0; t < T; t++) {
    first[t] = t, last[t] = 2 * T - 1 - t, bytes[t] = 64 * (1 + t % 3);
    first[T + t] = t, last[T + t] = t + 1, bytes[T + t] = 128; /* short-lived scratch */
  }
  int64_t arena = plan_sweep(nb, first, last, bytes, off);
  /* at step T all the long-lived ones are live: they must be disjoint */
  int64_t *ends = calloc((size_t)arena / 64 + 1, sizeof(int64_t)), sum = 0;
  if (!ends) abort();
  for (int t = 0; t < T; t++) {
    sum += bytes[t];
    for (int64_t a = off[t] / 64; a < (off[t] + bytes[t]) / 64; a++) CHECK(!ends[a]++);
  }
  CHECK(arena >= sum);
  free(ends), free(first), free(last), free(bytes), free(off);
}

int main(void) {
  for (int k = 0; k < 40; k++) random_case(1 + next(400), 1 + next(200));
  random_case(0, 1);
  nested_case(200000);
  if (fails) fprintf(stderr, "%d checks failed\n", fails);
  else printf("plan_sweep: every case sound\n");
  return fails != 0;
}

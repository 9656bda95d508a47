/* micro_reduce_lanes.c — the loops dlc generates for a global average pool's fused sum,
 * before (one chain of dependent double adds per channel) and after (8 partial sums over
 * the last axis, codegen/c/fused_reduce.c), timed alternately: median of 100 runs each,
 * thread CPU time.  SqueezeNet's 1000x13x13 after a ReLU, and MobileNetV2's 1280x7x7
 * after its bias and ReLU6.  A benchmark: it asserts only that both agree bit for bit.
 *
 *   cc -O3 -march=native tools/bench/micro_reduce_lanes.c -o /tmp/red && /tmp/red */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* y[c] = sum over H x W of f(x[c, h, w]); lanes: 8 partial sums over w */
#define KERNEL(NAME, C, H, W, ELEM, LANES)                                                                \
  __attribute__((noinline)) static void NAME(const float *restrict a0, const float *restrict b,           \
                                             float *restrict y) {                                         \
    (void)b;                                                                                              \
    for (int64_t c = 0; c < C; c++) {                                                                     \
      double acc = 0, part[8] = {0};                                                                      \
      for (int64_t h = 0; h < H; h++) {                                                                   \
        if (!LANES) {                                                                                     \
          for (int64_t w = 0; w < W; w++) acc = acc + ELEM;                                               \
          continue;                                                                                       \
        }                                                                                                 \
        for (int64_t rl = 0; rl < W / 8 * 8; rl += 8)                                                     \
          for (int64_t l = 0; l < 8; l++) {                                                               \
            const int64_t w = rl + l;                                                                     \
            part[l] += ELEM;                                                                              \
          }                                                                                               \
        for (int64_t w = W / 8 * 8; w < W; w++) part[w - W / 8 * 8] += ELEM;                              \
      }                                                                                                   \
      if (LANES) acc = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7])); \
      y[c] = (float)acc;                                                                                  \
    }                                                                                                     \
  }

#define RELU(v) ((v) < 0 ? 0 : (v))
#define RELU6(v) ((v) < 0 ? 0 : (v) > 6 ? 6 : (v))
KERNEL(sq_chain, 1000, 13, 13, RELU(a0[c * 169 + h * 13 + w]), 0)
KERNEL(sq_lanes, 1000, 13, 13, RELU(a0[c * 169 + h * 13 + w]), 1)
KERNEL(mb_chain, 1280, 7, 7, RELU6(a0[c * 49 + h * 7 + w] + b[c]), 0)
KERNEL(mb_lanes, 1280, 7, 7, RELU6(a0[c * 49 + h * 7 + w] + b[c]), 1)

typedef void (*Fn)(const float *, const float *, float *);

static void pair(const char *what, Fn chain, Fn lanes, int64_t n, int64_t c) {
  float *x = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)c);
  float *y1 = malloc(sizeof(float) * (size_t)c), *y2 = malloc(sizeof(float) * (size_t)c);
  for (int64_t i = 0; i < n; i++) x[i] = (float)((i * 79) % 1000) / 100 - 5;
  for (int64_t i = 0; i < c; i++) b[i] = 0.1f;
  double ta[100], tb[100];
  for (int r = 0; r < 100; r++) {
    double t = now();
    chain(x, b, y1);
    ta[r] = now() - t;
    t = now();
    lanes(x, b, y2);
    tb[r] = now() - t;
  }
  for (int i = 0; i < 100; i++)
    for (int j = i + 1; j < 100; j++) {
      if (ta[j] < ta[i]) { double q = ta[i]; ta[i] = ta[j]; ta[j] = q; }
      if (tb[j] < tb[i]) { double q = tb[i]; tb[i] = tb[j]; tb[j] = q; }
    }
  int differ = 0;
  for (int64_t i = 0; i < c; i++) differ += y1[i] != y2[i];
  printf("%s: one chain %.1f us, 8 lanes %.1f us (medians of 100, alternating), %d results differ\n", what,
         ta[50] * 1e6, tb[50] * 1e6, differ);
  free(x), free(b), free(y1), free(y2);
}

int main(void) {
  pair("1000x13x13 after relu", sq_chain, sq_lanes, 1000 * 169, 1000);
  pair("1280x7x7 after bias, relu6", mb_chain, mb_lanes, 1280 * 49, 1280);
  return 0;
}

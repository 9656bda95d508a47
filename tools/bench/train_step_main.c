/* train_step_main.c — times one generated training step (tools/bench/train_bench.py).
 *
 * Built with the code of `dlc compile MODEL --train --name bench`; the sizes of the
 * inputs come as -DIN_BYTES="{a, b, ...}" and -DNIN=n.  Float inputs get values in
 * [0, 1), the others zeros (class 0).  Prints the median, min and max wall and
 * thread-CPU microseconds of RUNS steps after WARMUP.  With -DBENCH_CUDA the code is
 * `--target cuda`'s, linked with libdlcrt.  -DTHREADS=n (built with -fopenmp) runs the
 * step's kernels on n threads (NAME_set_threads); the CPU time is then the process's,
 * all threads together. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

#ifndef RUNS
#define RUNS 100
#endif
#ifndef WARMUP
#define WARMUP 10
#endif

static const long long in_bytes[NIN] = IN_BYTES;
static const int in_float[NIN] = IN_FLOAT;

static double now_us(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int fail(int st) {
  fprintf(stderr, "%s\n", bench_strerror(st));
#ifdef BENCH_CUDA
  if (st == BENCH_ERR_DEVICE) fprintf(stderr, "%s\n", bench_device_error());
#endif
  return 1;
}

int main(void) {
  static double wall[RUNS], cpu[RUNS];
  const void *in[NIN];
  bench *m;
  float loss = 0;
  int i;
  for (i = 0; i < NIN; i++) {
    float *p = calloc((size_t)in_bytes[i] + 4, 1);
    long long k;
    for (k = 0; in_float[i] && k < in_bytes[i] / 4; k++) p[k] = (float)((k * 2654435761u) % 1000) / 1000.0f;
    in[i] = p;
  }
  if ((i = bench_init(&m, NULL)) != 0) return fail(i);
#ifdef THREADS
  bench_set_threads(THREADS);
#define CPU_CLOCK CLOCK_PROCESS_CPUTIME_ID
#else
#define CPU_CLOCK CLOCK_THREAD_CPUTIME_ID
#endif
  for (i = 0; i < WARMUP + RUNS; i++) {
    double w0 = now_us(CLOCK_MONOTONIC), c0 = now_us(CPU_CLOCK);
    int st = bench_step(m, 0, 1, in, &loss); /* on a GPU it waits for the loss: the whole step */
    if (st) return fail(st);
    if (i >= WARMUP) wall[i - WARMUP] = now_us(CLOCK_MONOTONIC) - w0, cpu[i - WARMUP] = now_us(CPU_CLOCK) - c0;
  }
  qsort(wall, RUNS, sizeof wall[0], cmp);
  qsort(cpu, RUNS, sizeof cpu[0], cmp);
  printf("{\"wall_us\": %.1f, \"wall_min_us\": %.1f, \"cpu_us\": %.1f, \"cpu_min_us\": %.1f, \"loss\": %.4f}\n",
         wall[RUNS / 2], wall[0], cpu[RUNS / 2], cpu[0], loss);
  bench_free(m);
  return 0;
}

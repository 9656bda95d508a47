/*
 * fma_peak.c: the measured fp32 FMA peak of this CPU, the limit beside every figure of
 * tools/bench/real_models.py.
 *
 *     cc -O2 -march=native -pthread tools/bench/fma_peak.c -o fma_peak && ./fma_peak [THREADS..]
 *
 * Each thread runs independent chains of fused multiply-adds over vector accumulators
 * held in registers (16 zmm chains for AVX-512, 12 ymm chains for AVX2: enough to cover
 * an FMA latency of 4 cycles on 2 pipes and more), so the loop is bound by FMA
 * throughput alone.  A variant runs only where the CPU reports its ISA
 * (__builtin_cpu_supports) and the compiler was given it (-march=native).  For each
 * variant and thread count (default 1 and 2) it prints one JSON line: the best of 5
 * repetitions, as GFLOP/s by the wall clock (all threads together) and per thread by
 * the thread's CPU time (which still reads true on a machine busy with other work).
 * An FMA counts as 2 FLOPs per lane.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 20000000L
#define REPS 5

static volatile float g_sink; /* keeps the chains' results alive */

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
  long iters;
  double cpu_s; /* the thread's CPU time */
  float sink;   /* keeps the result alive */
  int isa;      /* 512 or 256 */
} job;

#if defined(__AVX512F__)
#define HAVE_512 1
static float chains512(long n) {
  __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  __m512 c0 = _mm512_set1_ps(0.f), c1 = _mm512_set1_ps(1.f), c2 = _mm512_set1_ps(2.f), c3 = _mm512_set1_ps(3.f);
  __m512 c4 = _mm512_set1_ps(4.f), c5 = _mm512_set1_ps(5.f), c6 = _mm512_set1_ps(6.f), c7 = _mm512_set1_ps(7.f);
  __m512 c8 = _mm512_set1_ps(8.f), c9 = _mm512_set1_ps(9.f), c10 = _mm512_set1_ps(10.f), c11 = _mm512_set1_ps(11.f);
  __m512 c12 = _mm512_set1_ps(12.f), c13 = _mm512_set1_ps(13.f), c14 = _mm512_set1_ps(14.f), c15 = _mm512_set1_ps(15.f);
  for (long i = 0; i < n; i++) {
    c0 = _mm512_fmadd_ps(c0, a, b);
    c1 = _mm512_fmadd_ps(c1, a, b);
    c2 = _mm512_fmadd_ps(c2, a, b);
    c3 = _mm512_fmadd_ps(c3, a, b);
    c4 = _mm512_fmadd_ps(c4, a, b);
    c5 = _mm512_fmadd_ps(c5, a, b);
    c6 = _mm512_fmadd_ps(c6, a, b);
    c7 = _mm512_fmadd_ps(c7, a, b);
    c8 = _mm512_fmadd_ps(c8, a, b);
    c9 = _mm512_fmadd_ps(c9, a, b);
    c10 = _mm512_fmadd_ps(c10, a, b);
    c11 = _mm512_fmadd_ps(c11, a, b);
    c12 = _mm512_fmadd_ps(c12, a, b);
    c13 = _mm512_fmadd_ps(c13, a, b);
    c14 = _mm512_fmadd_ps(c14, a, b);
    c15 = _mm512_fmadd_ps(c15, a, b);
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                           _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                                     _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
  return _mm512_reduce_add_ps(s);
}
#define CHAINS512 16
#else
#define HAVE_512 0
#endif

#if defined(__AVX2__) && defined(__FMA__)
#define HAVE_256 1
static float chains256(long n) {
  __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  __m256 c0 = _mm256_set1_ps(0.f), c1 = _mm256_set1_ps(1.f), c2 = _mm256_set1_ps(2.f), c3 = _mm256_set1_ps(3.f);
  __m256 c4 = _mm256_set1_ps(4.f), c5 = _mm256_set1_ps(5.f), c6 = _mm256_set1_ps(6.f), c7 = _mm256_set1_ps(7.f);
  __m256 c8 = _mm256_set1_ps(8.f), c9 = _mm256_set1_ps(9.f), c10 = _mm256_set1_ps(10.f), c11 = _mm256_set1_ps(11.f);
  for (long i = 0; i < n; i++) {
    c0 = _mm256_fmadd_ps(c0, a, b);
    c1 = _mm256_fmadd_ps(c1, a, b);
    c2 = _mm256_fmadd_ps(c2, a, b);
    c3 = _mm256_fmadd_ps(c3, a, b);
    c4 = _mm256_fmadd_ps(c4, a, b);
    c5 = _mm256_fmadd_ps(c5, a, b);
    c6 = _mm256_fmadd_ps(c6, a, b);
    c7 = _mm256_fmadd_ps(c7, a, b);
    c8 = _mm256_fmadd_ps(c8, a, b);
    c9 = _mm256_fmadd_ps(c9, a, b);
    c10 = _mm256_fmadd_ps(c10, a, b);
    c11 = _mm256_fmadd_ps(c11, a, b);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                           _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  float v[8];
  _mm256_storeu_ps(v, s);
  return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}
#define CHAINS256 12
#else
#define HAVE_256 0
#endif

static void *worker(void *p) {
  job *j = p;
  double t0 = now(CLOCK_THREAD_CPUTIME_ID);
#if HAVE_512
  if (j->isa == 512) j->sink = chains512(j->iters);
#endif
#if HAVE_256
  if (j->isa == 256) j->sink = chains256(j->iters);
#endif
  j->cpu_s = now(CLOCK_THREAD_CPUTIME_ID) - t0;
  return NULL;
}

/* One variant at one thread count: the best of REPS repetitions. */
static void measure(const char *name, int isa, int lanes, int chains, int threads) {
  double best_wall = 0, best_cpu = 0;
  for (int r = 0; r < REPS; r++) {
    pthread_t t[64];
    job j[64];
    double w0 = now(CLOCK_MONOTONIC);
    for (int i = 0; i < threads; i++) {
      j[i] = (job){.iters = ITERS, .isa = isa};
      if (pthread_create(&t[i], NULL, worker, &j[i])) {
        fprintf(stderr, "fma_peak: cannot start thread %d\n", i);
        exit(1);
      }
    }
    double cpu = 0;
    for (int i = 0; i < threads; i++) {
      pthread_join(t[i], NULL);
      cpu += j[i].cpu_s;
      g_sink += j[i].sink;
    }
    double wall = now(CLOCK_MONOTONIC) - w0;
    double flop = 2.0 * lanes * chains * (double)ITERS;
    double gw = flop * threads / wall / 1e9, gc = flop * threads / cpu / 1e9;
    if (gw > best_wall) best_wall = gw;
    if (gc > best_cpu) best_cpu = gc;
  }
  printf("{\"isa\": \"%s\", \"threads\": %d, \"chains\": %d, \"gflops_wall\": %.1f, "
         "\"gflops_per_thread_cpu\": %.1f}\n",
         name, threads, chains, best_wall, best_cpu);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int counts[16] = {1, 2}, n = 2;
  if (argc > 1) {
    n = 0;
    for (int i = 1; i < argc && n < 16; i++) {
      counts[n] = atoi(argv[i]);
      if (counts[n] < 1 || counts[n] > 64) {
        fprintf(stderr, "fma_peak: thread count '%s' is not in 1..64\n", argv[i]);
        return 1;
      }
      n++;
    }
  }
  int any = 0;
  __builtin_cpu_init();
#if HAVE_512
  if (__builtin_cpu_supports("avx512f")) {
    for (int i = 0; i < n; i++) measure("avx512", 512, 16, CHAINS512, counts[i]);
    any = 1;
  }
#endif
#if HAVE_256
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    for (int i = 0; i < n; i++) measure("avx2", 256, 8, CHAINS256, counts[i]);
    any = 1;
  }
#endif
  if (!any) {
    fprintf(stderr, "fma_peak: neither AVX-512 nor AVX2 with FMA here (or not given to the compiler)\n");
    return 1;
  }
  return 0;
}

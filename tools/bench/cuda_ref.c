/* cuda_ref.c — the GPU's own yardsticks for docs/CUDA.md (tools/bench/cuda_report.sh):
 *
 *   cuda_ref copy BYTES   a device-to-device copy of BYTES (cuMemcpyDtoDAsync): the
 *                         bandwidth an elementwise kernel that reads and writes as
 *                         many bytes could reach;
 *   cuda_ref sgemm N      cuBLAS's single-precision N x N x N product (cublasSgemm_v2,
 *                         default math mode: FP32, no TF32), the reference for dlc's
 *                         matmul.
 *
 * A benchmark: prints one JSON line with the median of 20 timed calls (after 3
 * warm-up calls), each waited for, and asserts nothing.  The device is opened through
 * libdlcrt's loader (runtime/rt_cuda.h); cuBLAS is opened with dlopen (libcublas.so,
 * .so.13, .so.12) and shares the device's primary context.
 *
 * Build: cc -O2 tools/bench/cuda_ref.c -Iruntime build/runtime/libdlcrt.a -ldl -lpthread */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_cuda.h"

#define WARMUP 3
#define RUNS 20

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int fail(const char *what) {
  fprintf(stderr, "cuda_ref: %s: %s\n", what, rt_cuda_last_error());
  return 1;
}

/* ---- cuBLAS, opened at run time ---- */

typedef int (*CreateFn)(void **h);
typedef int (*DestroyFn)(void *h);
typedef int (*SgemmFn)(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
                       const float *b, int ldb, const float *beta, float *c, int ldc);

typedef struct Blas {
  void *so, *h;
  CreateFn create;
  DestroyFn destroy;
  SgemmFn sgemm;
} Blas;

static int blas_open(Blas *b) {
  static const char *const names[] = {"libcublas.so", "libcublas.so.13", "libcublas.so.12"};
  for (size_t i = 0; i < sizeof names / sizeof names[0] && !b->so; i++) b->so = dlopen(names[i], RTLD_NOW);
  if (!b->so) return fprintf(stderr, "cuda_ref: no cuBLAS (tried libcublas.so, .so.13, .so.12)\n"), -1;
  *(void **)&b->create = dlsym(b->so, "cublasCreate_v2");
  *(void **)&b->destroy = dlsym(b->so, "cublasDestroy_v2");
  *(void **)&b->sgemm = dlsym(b->so, "cublasSgemm_v2");
  if (!b->create || !b->destroy || !b->sgemm) return fprintf(stderr, "cuda_ref: cuBLAS lacks its entry points\n"), -1;
  int st = b->create(&b->h);
  return st ? fprintf(stderr, "cuda_ref: cublasCreate_v2 failed (status %d)\n", st), -1 : 0;
}

/* ---- the two measurements ---- */

typedef struct Run {
  RtCuda *cu;
  unsigned long long a, b, c;
  long long n;
  Blas blas;
} Run;

static int once(Run *r, bool sgemm) {
  if (!sgemm) return rt_cuda_copy(r->cu, r->b, r->a, (size_t)r->n);
  const float one = 1, zero = 0;
  int n = (int)r->n;
  int st = r->blas.sgemm(r->blas.h, 0, 0, n, n, n, &one, (const float *)(size_t)r->a, n,
                         (const float *)(size_t)r->b, n, &zero, (float *)(size_t)r->c, n);
  if (st) fprintf(stderr, "cuda_ref: cublasSgemm_v2 failed (status %d)\n", st);
  return st ? -1 : 0;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "copy") && strcmp(argv[1], "sgemm")))
    return fprintf(stderr, "usage: cuda_ref copy BYTES | cuda_ref sgemm N\n"), 2;
  bool sgemm = !strcmp(argv[1], "sgemm");
  Run r = {.n = atoll(argv[2])};
  if (r.n <= 0) return fprintf(stderr, "cuda_ref: '%s' is not a positive size\n", argv[2]), 2;
  static const char *const src[] = {"extern \"C\" __global__ void dlc_ref_nop(void) {}\n"};
  static const char *const names[] = {"dlc_ref_nop"};
  if (!(r.cu = rt_cuda_open(src, 1, NULL, 0, names, 1))) return fail("opening the device");
  size_t bytes = sgemm ? (size_t)r.n * (size_t)r.n * sizeof(float) : (size_t)r.n;
  if (rt_cuda_alloc(r.cu, bytes, &r.a) || rt_cuda_alloc(r.cu, bytes, &r.b) ||
      (sgemm && rt_cuda_alloc(r.cu, bytes, &r.c)))
    return fail("allocating");
  if (sgemm && blas_open(&r.blas)) return 1;
  double us[RUNS];
  for (int i = 0; i < WARMUP + RUNS; i++) {
    double t0 = now_us();
    if (once(&r, sgemm) || rt_cuda_sync(r.cu)) return fail(argv[1]);
    if (i >= WARMUP) us[i - WARMUP] = now_us() - t0;
  }
  qsort(us, RUNS, sizeof us[0], cmp);
  double med = us[RUNS / 2];
  if (sgemm)
    printf("{\"op\": \"sgemm\", \"n\": %lld, \"median_us\": %.1f, \"tflops\": %.3f, \"device\": \"%s\"}\n", r.n, med,
           2.0 * (double)r.n * (double)r.n * (double)r.n / med / 1e6, rt_cuda_device_name(r.cu));
  else
    printf("{\"op\": \"copy\", \"bytes\": %lld, \"median_us\": %.1f, \"gb_per_s\": %.1f, \"device\": \"%s\"}\n", r.n,
           med, 2.0 * (double)r.n / med / 1e3, rt_cuda_device_name(r.cu));
  if (sgemm) r.blas.destroy(r.blas.h);
  rt_cuda_close(r.cu);
  return 0;
}

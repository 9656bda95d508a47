/* micro_pool_rows.c — the loops dlc generated for ResNet's 3x3/2 max pool with padding 1
 * on 64x112x112: a test per tap, a row of outputs per tap (codegen/c/pool.c pool_rows),
 * and each input row's maxima once (pool_max_sep), timed alternately: median of 60 runs
 * each, thread CPU time.  A benchmark: it asserts only that all give the same bytes.
 *
 *   cc -O3 -march=native tools/bench/micro_pool_rows.c -o /tmp/pool && /tmp/pool
 *   cc -O3 -march=x86-64-v3 tools/bench/micro_pool_rows.c -o /tmp/pool && /tmp/pool */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void){struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t); return t.tv_sec+1e-9*t.tv_nsec;}
__attribute__((noinline)) static void oldp(const float *restrict a0, float *restrict y) {
  for (int64_t c = 0; c < 64; c++) {
    const float *xc = a0 + c * 12544; float *yc = y + c * 3136;
    for (int64_t q0 = 0; q0 < 56; q0++)
      for (int64_t q1 = 0; q1 < 56; q1++) {
        float acc = -INFINITY;
        for (int64_t k0 = 0; k0 < 3; k0++) {
          const int64_t p0 = q0 * 2 - 1 + k0 * 1;
          if (p0 < 0 || p0 >= 112) continue;
          for (int64_t k1 = 0; k1 < 3; k1++) {
            const int64_t p1 = q1 * 2 - 1 + k1 * 1;
            if (p1 < 0 || p1 >= 112) continue;
            acc = acc < xc[p0 * 112 + p1] ? xc[p0 * 112 + p1] : acc;
          }
        }
        yc[q0 * 56 + q1] = acc;
      }
  }
}
__attribute__((noinline)) static void newp(const float *restrict a0, float *restrict y) {
  for (int64_t c = 0; c < 64; c++) {
    const float *xc = a0 + c * 12544; float *yc = y + c * 3136;
    for (int64_t q0 = 0; q0 < 56; q0++) {
      float acc[56];
      for (int64_t q1 = 0; q1 < 56; q1++) acc[q1] = -INFINITY;
      for (int64_t k0 = 0; k0 < 3; k0++) {
        const int64_t p0 = q0 * 2 - 1 + k0;
        if (p0 < 0 || p0 >= 112) continue;
        const float *xr = xc + p0 * 112;
        for (int64_t q1 = 1; q1 < 56; q1++) acc[q1] = acc[q1] < xr[q1 * 2 - 1] ? xr[q1 * 2 - 1] : acc[q1];
        for (int64_t q1 = 0; q1 < 56; q1++) acc[q1] = acc[q1] < xr[q1 * 2 + 0] ? xr[q1 * 2 + 0] : acc[q1];
        for (int64_t q1 = 0; q1 < 56; q1++) acc[q1] = acc[q1] < xr[q1 * 2 + 1] ? xr[q1 * 2 + 1] : acc[q1];
      }
      for (int64_t q1 = 0; q1 < 56; q1++) yc[q0 * 56 + q1] = acc[q1];
    }
  }
}
__attribute__((noinline)) static void sepp(const float *restrict a0, float *restrict y) {
  for (int64_t c = 0; c < 64; c++) {
    const float *xc = a0 + c * 12544;
    float *yc = y + c * 3136;
    float h[3][56], ninf[56];
    int64_t hrow[3];
    for (int64_t r = 0; r < 3; r++) hrow[r] = -1;
    for (int64_t q1 = 0; q1 < 56; q1++) ninf[q1] = -INFINITY;
    for (int64_t q0 = 0; q0 < 56; q0++) {
      const float *rows[3];
      for (int64_t k0 = 0; k0 < 3; k0++) {
        const int64_t p0 = q0 * 2 - 1 + k0;
        rows[k0] = ninf;
        if (p0 < 0 || p0 >= 112) continue;
        float *hr = h[p0 % 3];
        rows[k0] = hr;
        if (hrow[p0 % 3] != p0) { /* row p0's maxima, once */
          const float *xr = xc + p0 * 112;
          hrow[p0 % 3] = p0;
          for (int64_t q1 = 1; q1 < 56; q1++) {
            float m = -INFINITY;
            m = m < xr[q1 * 2 - 1] ? xr[q1 * 2 - 1] : m;
            m = m < xr[q1 * 2 + 0] ? xr[q1 * 2 + 0] : m;
            m = m < xr[q1 * 2 + 1] ? xr[q1 * 2 + 1] : m;
            hr[q1] = m;
          }
          for (int64_t q1 = 0; q1 < 1; q1++) {
            float m = -INFINITY;
            for (int64_t k1 = 0; k1 < 3; k1++) {
              const int64_t p1 = q1 * 2 - 1 + k1;
              if (p1 >= 0 && p1 < 112) m = m < xr[p1] ? xr[p1] : m;
            }
            hr[q1] = m;
          }
        }
      }
      for (int64_t q1 = 0; q1 < 56; q1++) {
        float m = -INFINITY;
        m = m < rows[0][q1] ? rows[0][q1] : m;
        m = m < rows[1][q1] ? rows[1][q1] : m;
        m = m < rows[2][q1] ? rows[2][q1] : m;
        yc[q0 * 56 + q1] = m;
      }
    }
  }
}
int main(void) {
  float *x = malloc(64*12544*4), *y = malloc(64*3136*4), *y2 = malloc(64*3136*4), *y3 = malloc(64*3136*4);
  for (int i = 0; i < 64*12544; i++) x[i] = (float)((i * 7919u) % 1000u) - 500;
  double ta[60], tb[60], tc[60];
  for (int r = 0; r < 60; r++) {
    memset(x, 0, 4); double t = now(); oldp(x, y); ta[r] = now() - t;
    memset(x, 0, 4); t = now(); newp(x, y2); tb[r] = now() - t;
    memset(x, 0, 4); t = now(); sepp(x, y3); tc[r] = now() - t; }
  for (int i=0;i<60;i++) for (int j=i+1;j<60;j++) { if (ta[j]<ta[i]) {double q=ta[i];ta[i]=ta[j];ta[j]=q;} if (tb[j]<tb[i]) {double q=tb[i];tb[i]=tb[j];tb[j]=q;} if (tc[j]<tc[i]) {double q=tc[i];tc[i]=tc[j];tc[j]=q;} }
  printf("a test per tap %.1f us, rows %.1f us, rows' maxima once %.1f us (medians of 60, alternating), same %d\n",
         ta[30]*1e6, tb[30]*1e6, tc[30]*1e6, !memcmp(y, y2, 64*3136*4) && !memcmp(y, y3, 64*3136*4));
}

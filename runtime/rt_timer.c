/* rt_timer.c — a monotonic clock for benchmarks and progress reports. */
#include <time.h>

#include "dlcrt.h"

uint64_t rt_now_ns(void) {
  struct timespec ts;
  /* CLOCK_MONOTONIC never jumps with wall-clock changes, so differences are durations. */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

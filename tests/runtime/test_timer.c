/* test_timer.c — the monotonic clock never runs backwards and measures a sleep of
 * 20 ms as at least 20 ms (and, generously, under 10 s). */
#include <time.h>

#include "dlcrt.h"
#include "test_util.h"

int main(void) {
  uint64_t prev = rt_now_ns();
  for (int i = 0; i < 100000; i++) {
    uint64_t now = rt_now_ns();
    CHECK(now >= prev);
    prev = now;
  }
  struct timespec ts = {0, 20 * 1000 * 1000};
  uint64_t t0 = rt_now_ns();
  nanosleep(&ts, NULL);
  uint64_t dt = rt_now_ns() - t0;
  CHECK(dt >= 20u * 1000 * 1000 && dt < 10ull * 1000 * 1000 * 1000);
  return test_failures != 0;
}

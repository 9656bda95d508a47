/* cuda_check.h — what the CUDA run tests share: seeded inputs, and when a value from
 * the device agrees with the C backend's (floats within 1e-4 relative, 1e-5 absolute
 * near zero; NaN with NaN; integers and bools exactly). */
#ifndef DLC_TESTS_CUDA_CHECK_H
#define DLC_TESTS_CUDA_CHECK_H

#include <math.h>
#include <stdlib.h>

#include "ir.h"

/* Seeded values: floats in [-2, 2], integers in [0, 3], bools. */
static inline void *seeded(const Node *n, uint64_t *s) {
  int64_t count = shape_numel(&n->shape);
  void *b = calloc((size_t)(count ? count : 1), (size_t)dtype_size(n->dtype));
  DLC_ASSERT(b);
  for (int64_t k = 0; k < count; k++) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    double u = (double)((*s * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
    double v = dtype_is_float(n->dtype) ? 4 * u - 2 : n->dtype == DT_BOOL ? u < 0.5 : (double)(int)(4 * u);
    dtype_store(n->dtype, b, k, v);
  }
  return b;
}

static inline bool agree(DType t, double a, double b) {
  if (!dtype_is_float(t)) return a == b;
  if (a != a || b != b) return a != a && b != b;
  if (a == b) return true; /* also equal infinities */
  return fabs(a - b) <= 1e-5 + 1e-4 * fabs(b);
}

#endif

/* checked.h — shape, size and offset arithmetic that cannot overflow silently.
 *
 * Each returns true when the exact result does not fit in int64_t (and leaves *r
 * unspecified), so a rule reads `if (ck_mul(a, b, &r)) return fail(...)`.  Every
 * shape rule, frontend builder and planner computes sizes from user-given values
 * with these, never with bare + - * on int64_t. */
#ifndef DLC_CHECKED_H
#define DLC_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

static inline bool ck_add(int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r); }
static inline bool ck_sub(int64_t a, int64_t b, int64_t *r) { return __builtin_sub_overflow(a, b, r); }
static inline bool ck_mul(int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r); }
/* a*b + c */
static inline bool ck_muladd(int64_t a, int64_t b, int64_t c, int64_t *r) {
  return ck_mul(a, b, r) || ck_add(*r, c, r);
}
/* The product of n values; overflow when it does not fit. */
static inline bool ck_prod(const int64_t *v, int n, int64_t *r) {
  *r = 1;
  for (int i = 0; i < n; i++)
    if (ck_mul(*r, v[i], r)) return true;
  return false;
}

#endif

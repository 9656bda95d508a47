/* scalar.c — what each elementwise op and reduction computes, on doubles.
 * The interpreter and the constant folder apply these; the backends emit the cexpr
 * column of ops.def, which must agree with them. */
#include <math.h>
#include <stdint.h>

#include "scalar.h"

double sc_neg(const double *x) { return -x[0]; }
double sc_abs(const double *x) { return fabs(x[0]); }
double sc_exp(const double *x) { return exp(x[0]); }
double sc_log(const double *x) { return log(x[0]); }
double sc_sqrt(const double *x) { return sqrt(x[0]); }
double sc_rsqrt(const double *x) { return 1 / sqrt(x[0]); }
double sc_recip(const double *x) { return 1 / x[0]; }
double sc_tanh(const double *x) { return tanh(x[0]); }
double sc_erf(const double *x) { return erf(x[0]); }
double sc_sin(const double *x) { return sin(x[0]); }
double sc_cos(const double *x) { return cos(x[0]); }
double sc_tan(const double *x) { return tan(x[0]); }
double sc_asin(const double *x) { return asin(x[0]); }
double sc_acos(const double *x) { return acos(x[0]); }
double sc_atan(const double *x) { return atan(x[0]); }
double sc_sinh(const double *x) { return sinh(x[0]); }
double sc_cosh(const double *x) { return cosh(x[0]); }
double sc_asinh(const double *x) { return asinh(x[0]); }
double sc_acosh(const double *x) { return acosh(x[0]); }
double sc_atanh(const double *x) { return atanh(x[0]); }
double sc_floor(const double *x) { return floor(x[0]); }
double sc_ceil(const double *x) { return ceil(x[0]); }
double sc_round(const double *x) { return nearbyint(x[0]); }
double sc_sign(const double *x) { return (x[0] > 0) - (x[0] < 0); }
double sc_not(const double *x) { return !x[0]; }

double sc_add(const double *x) { return x[0] + x[1]; }
double sc_sub(const double *x) { return x[0] - x[1]; }
double sc_mul(const double *x) { return x[0] * x[1]; }
double sc_div(const double *x) { return x[0] / x[1]; }
double sc_mod(const double *x) { return fmod(x[0], x[1]); }
double sc_pow(const double *x) { return pow(x[0], x[1]); }
double sc_max(const double *x) { return x[0] < x[1] ? x[1] : x[0]; }
double sc_min(const double *x) { return x[1] < x[0] ? x[1] : x[0]; }
double sc_eq(const double *x) { return x[0] == x[1]; }
double sc_ne(const double *x) { return x[0] != x[1]; }
double sc_lt(const double *x) { return x[0] < x[1]; }
double sc_le(const double *x) { return x[0] <= x[1]; }
double sc_gt(const double *x) { return x[0] > x[1]; }
double sc_ge(const double *x) { return x[0] >= x[1]; }
double sc_and(const double *x) { return x[0] && x[1]; }
double sc_or(const double *x) { return x[0] || x[1]; }
double sc_xor(const double *x) { return (x[0] != 0) != (x[1] != 0); }
double sc_select(const double *x) { return x[0] ? x[1] : x[2]; }

/* Bitwise ops on the integer values the doubles hold (exact up to 2^53): the bits of
 * their two's complement in 64 bits; the result is signed when an operand is (the
 * interpreter then wraps it to the dtype). */
static uint64_t bits(double v) { return v < 0 ? (uint64_t)(int64_t)v : (uint64_t)v; }
static double from_bits(uint64_t r, const double *x) {
  return x[0] < 0 || x[1] < 0 ? (double)(int64_t)r : (double)r;
}
double sc_bitand(const double *x) { return from_bits(bits(x[0]) & bits(x[1]), x); }
double sc_bitor(const double *x) { return from_bits(bits(x[0]) | bits(x[1]), x); }
double sc_bitxor(const double *x) { return from_bits(bits(x[0]) ^ bits(x[1]), x); }
double sc_bitnot(const double *x) { return -x[0] - 1; } /* wrapped to an unsigned dtype: its ~ */
/* A count of the width or more: x * 2^count wraps to 0 in every dtype narrower than 64
 * bits; 64 and more is 0 directly.  shr is floor division, arithmetic for negatives. */
double sc_shl(const double *x) { return x[1] < 0 || x[1] >= 64 ? 0 : x[0] * ldexp(1, (int)x[1]); }
double sc_shr(const double *x) {
  if (x[1] < 0 || x[1] >= 64) return x[0] < 0 ? -1 : 0;
  return floor(x[0] / ldexp(1, (int)x[1]));
}

/* Integer division and remainder as the backends do them (DLC_IDIV, DLC_IMOD):
 * truncating, and 0 where C would be undefined. */
double sc_idiv(double a, double b) { return b == 0 ? 0 : trunc(a / b); }
double sc_imod(double a, double b) { return b == 0 || b == -1 ? 0 : fmod(a, b); }

/* dtype.c — element types and shapes. */
#include <math.h>
#include <string.h>

#include "ir.h"

static const struct {
  const char *name, *ctype;
  int size;
} dtypes[DT_COUNT] = {
#define X(id, name, ctype, size) {name, ctype, size},
    DLC_DTYPES(X)
#undef X
};

const char *dtype_name(DType t) { return dtypes[t].name; }
const char *dtype_ctype(DType t) { return dtypes[t].ctype; }
int dtype_size(DType t) { return dtypes[t].size; }
int dtype_bits(DType t) {
  if (t == DT_I4 || t == DT_U4 || t == DT_F4E2M1) return 4;
  return t == DT_I2 || t == DT_U2 ? 2 : 8 * dtypes[t].size;
}
bool dtype_is_narrow(DType t) { return t >= DT_F8E4M3FN && t <= DT_U2; }
bool dtype_is_storage(DType t) { return t == DT_F16 || t == DT_BF16 || dtype_is_narrow(t); }
bool dtype_is_float(DType t) {
  return t == DT_F32 || t == DT_F64 || t == DT_F16 || t == DT_BF16 || (dtype_is_narrow(t) && t <= DT_F4E2M1);
}
bool dtype_is_int(DType t) { return !dtype_is_float(t) && t != DT_BOOL && t != DT_STR; }
bool dtype_is_str(DType t) { return t == DT_STR; }
bool dtype_is_unsigned(DType t) {
  return t == DT_U8 || t == DT_U16 || t == DT_U32 || t == DT_U64 || t == DT_U4 || t == DT_U2;
}

int dtype_parse(const char *s, size_t n, DType *t) {
  for (int i = 0; i < DT_COUNT; i++)
    if (strlen(dtypes[i].name) == n && !memcmp(dtypes[i].name, s, n)) {
      *t = (DType)i;
      return 0;
    }
  return -1;
}

double dtype_lowest(DType t) {
  switch (t) {
  case DT_F32: case DT_F64: case DT_F16: case DT_BF16: return -INFINITY;
  case DT_F8E4M3FN: case DT_F8E4M3FNUZ: case DT_F8E5M2: case DT_F8E5M2FNUZ: case DT_F4E2M1: return -INFINITY;
  case DT_F8E8M0: return 0;
  case DT_I4: return -8;
  case DT_I2: return -2;
  case DT_U4: case DT_U2: return 0;
  case DT_I8: return INT8_MIN;
  case DT_I16: return INT16_MIN;
  case DT_I32: return INT32_MIN;
  case DT_I64: return (double)INT64_MIN;
  case DT_U8: case DT_BOOL: case DT_U16: case DT_U32: case DT_U64: return 0;
  case DT_STR: case DT_COUNT: break;
  }
  DLC_ASSERT(!"bad dtype");
}

double dtype_highest(DType t) {
  switch (t) {
  case DT_F32: case DT_F64: case DT_F16: case DT_BF16: return INFINITY;
  case DT_F8E4M3FN: case DT_F8E4M3FNUZ: case DT_F8E5M2: case DT_F8E5M2FNUZ: case DT_F4E2M1: case DT_F8E8M0:
    return INFINITY;
  case DT_I4: return 7;
  case DT_U4: return 15;
  case DT_I2: return 1;
  case DT_U2: return 3;
  case DT_I8: return INT8_MAX;
  case DT_I16: return INT16_MAX;
  case DT_I32: return INT32_MAX;
  case DT_I64: return (double)INT64_MAX;
  case DT_U8: return UINT8_MAX;
  case DT_U16: return UINT16_MAX;
  case DT_U32: return UINT32_MAX;
  case DT_U64: return 18446744073709551615.0;
  case DT_BOOL: return 1;
  case DT_STR: case DT_COUNT: break;
  }
  DLC_ASSERT(!"bad dtype");
}

/* Integer results wrap like the C the backends emit; float to integer conversion
 * (the cast op) saturates before it gets here. */
static double wrap(double v, double lo, double span) {
  if (!isfinite(v)) return 0;
  v = trunc(v);
  if (v < lo || v >= lo + span) v = fmod(fmod(v - lo, span) + span, span) + lo;
  return v;
}

/* u64 in a double is exact below 2^53 only; a small negative value wraps to a number
 * that rounds to 2^64, as the C value 2^64 - k converts to double. */
static double wrap_u64(double v) {
  if (!isfinite(v)) return 0;
  v = trunc(v);
  if (v >= 18446744073709551616.0) return fmod(v, 18446744073709551616.0);
  if (v < 0) return fmod(v, 18446744073709551616.0) + 18446744073709551616.0;
  return v;
}

/* ---- f16 and bf16: 16 bits, the sign on top, then `15 - man` exponent bits ---- */

/* v rounded to nearest, ties to even, in the 16-bit format with `man` fraction bits
 * and exponent bias `bias` (f16: 10, 15; bf16: 7, 127), subnormals included; too large
 * gives the infinity, NaN a quiet NaN of the same sign.  Works on v's bits: the
 * significand with its implicit bit is shifted right, and what falls off rounds. */
static uint16_t half_bits(double v, int man, int bias) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  uint16_t s = (uint16_t)((u >> 48) & 0x8000), inf = (uint16_t)(0x7fff & ~((1u << man) - 1));
  int e = (int)((u >> 52) & 0x7ff), emin = 1 - bias;
  uint64_t f = u & 0xfffffffffffffull;
  if (e == 0x7ff) return (uint16_t)(s | inf | (f ? 1u << (man - 1) : 0));
  if (e == 0) return s; /* f64 subnormals are far below half the smallest subnormal here */
  int E = e - 1023, shift = 52 - man + (E < emin ? emin - E : 0);
  if (E > bias) return s | inf;
  if (shift > 53) return s;
  uint64_t sig = f | 1ull << 52, q = sig >> shift, rem = sig & ((1ull << shift) - 1), half = 1ull << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) q++;
  /* a normal q holds the implicit bit, which adds one to the biased exponent E+bias-1;
   * a carry out of the fraction moves into the exponent the same way */
  uint64_t bits = E < emin ? q : ((uint64_t)(E + bias - 1) << man) + q;
  return (uint16_t)(s | (bits >= inf ? inf : bits));
}

static double half_value(uint16_t h, int man, int bias) {
  int emax = (1 << (15 - man)) - 1, e = (h & 0x7fff) >> man;
  uint32_t f = h & ((1u << man) - 1);
  double v = e == emax ? (f ? NAN : INFINITY)
             : e == 0  ? ldexp(f, 1 - bias - man)
                       : ldexp(f | 1u << man, e - bias - man);
  return h & 0x8000 ? -v : v;
}

/* f64 to bf16 rounds to f32 first, as ml_dtypes (ONNX's reference) and ONNX Runtime do;
 * f64 to f16 rounds once, as numpy does. */
static uint16_t to_half(DType t, double v) {
  return t == DT_F16 ? half_bits(v, 10, 15) : half_bits((double)(float)v, 7, 127);
}
static double from_half(DType t, uint16_t h) { return t == DT_F16 ? half_value(h, 10, 15) : half_value(h, 7, 127); }

/* ---- the narrow types: one byte per element ---- */

/* The 8- and 4-bit floats: `man` fraction bits, exponent bias `bias`, `maxcode` the
 * largest finite magnitude's bits; `kind` what lies beyond it and how zero and NaN are
 * written (ml_dtypes' conventions, which ONNX's reference uses):
 *   MINI_FN   e4m3fn: no infinity; overflow and NaN give NaN, 0x7f with the sign;
 *   MINI_UZ   the fnuz types: no infinity, no -0 (it is 0); overflow and NaN give 0x80;
 *   MINI_IEEE e5m2: overflow gives the infinity, NaN 0x7e with the sign;
 *   MINI_SAT  f4e2m1: no infinity, no NaN; overflow and infinities saturate to +-6, NaN
 *             gives the zero of the other sign (0x8 for +NaN), as ml_dtypes converts it. */
enum { MINI_FN, MINI_UZ, MINI_IEEE, MINI_SAT };
typedef struct {
  int man, bias, maxcode, kind, sign; /* sign: the sign bit */
} Mini;

static const Mini *mini(DType t) {
  static const Mini f8e4m3fn = {3, 7, 0x7e, MINI_FN, 0x80}, f8e4m3fnuz = {3, 8, 0x7f, MINI_UZ, 0x80},
                    f8e5m2 = {2, 15, 0x7b, MINI_IEEE, 0x80}, f8e5m2fnuz = {2, 16, 0x7f, MINI_UZ, 0x80},
                    f4e2m1 = {1, 1, 0x7, MINI_SAT, 0x8};
  return t == DT_F8E4M3FN   ? &f8e4m3fn
       : t == DT_F8E4M3FNUZ ? &f8e4m3fnuz
       : t == DT_F8E5M2     ? &f8e5m2
       : t == DT_F8E5M2FNUZ ? &f8e5m2fnuz
       : t == DT_F4E2M1     ? &f4e2m1
                            : NULL;
}

/* v rounded to nearest, ties to even (from v's f32 value, as ml_dtypes converts a
 * double), the steps of half_bits with the exponent unbounded above, so that the
 * code's magnitude can be compared with the largest finite one. */
static uint8_t mini_bits(double v, const Mini *m) {
  v = (double)(float)v;
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  int s = u >> 63 ? m->sign : 0, zero = m->kind == MINI_UZ ? 0 : s;
  int e = (int)((u >> 52) & 0x7ff), emin = 1 - m->bias;
  uint64_t f = u & 0xfffffffffffffull;
  int nan = m->kind == MINI_FN ? 0x7f | s : m->kind == MINI_UZ ? 0x80 : m->kind == MINI_IEEE ? 0x7e | s : 0x8 ^ s;
  int over = m->kind == MINI_IEEE ? 0x7c | s : m->kind == MINI_SAT ? m->maxcode | s : nan;
  if (e == 0x7ff) return (uint8_t)(f ? nan : over);
  if (e == 0) return (uint8_t)zero; /* f64 subnormals: zero (and never reached through f32) */
  int E = e - 1023, shift = 52 - m->man + (E < emin ? emin - E : 0);
  if (shift > 53) return (uint8_t)zero;
  uint64_t sig = f | 1ull << 52, q = sig >> shift, rem = sig & ((1ull << shift) - 1), half = 1ull << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) q++;
  uint64_t bits = E < emin ? q : ((uint64_t)(E + m->bias - 1) << m->man) + q;
  if (bits > (uint64_t)m->maxcode) return (uint8_t)over;
  return (uint8_t)(bits ? bits | (uint64_t)s : (uint64_t)zero);
}

static double mini_value(uint8_t b, const Mini *m) {
  int mag = b & (m->sign - 1), e = mag >> m->man, f = mag & ((1 << m->man) - 1);
  bool neg = (b & m->sign) != 0;
  if (m->kind == MINI_UZ && b == 0x80) return NAN;
  if (m->kind == MINI_FN && mag == 0x7f) return neg ? -NAN : NAN;
  if (m->kind == MINI_IEEE && mag >= 0x7c) return mag == 0x7c ? (neg ? -INFINITY : INFINITY) : (neg ? -NAN : NAN);
  double v = e == 0 ? ldexp(f, 1 - m->bias - m->man) : ldexp(f | 1 << m->man, e - m->bias - m->man);
  return neg ? -v : v;
}

double dtype_narrow_max(DType t) {
  const Mini *m = mini(t);
  return m ? mini_value((uint8_t)m->maxcode, m) : t == DT_F8E8M0 ? ldexp(1, 127) : dtype_highest(t);
}

/* f8e8m0: the biased exponent of an f32 (2^(b-127)), 0xff NaN; no sign, no zero.  The
 * rounding works on the f32's bits as ONNX's to_float8e8m0 does: up adds one when any
 * fraction bit is set, nearest when the guard bit is set and the round bit, a lower bit
 * or the exponent (a normal's implicit one) is; saturating never goes past 0xfe. */
static uint8_t e8m0_bits(double v, int mode) {
  float x = (float)v;
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  uint32_t e = (u >> 23) & 0xff, frac = u & 0x7fffff, up = 0;
  if (e == 0xff) return 0xff;
  if ((mode & 3) == DTYPE_E8M0_UP) up = frac != 0;
  else if ((mode & 3) == DTYPE_E8M0_NEAREST)
    up = (u >> 22 & 1) && ((u >> 21 & 1) || (u & 0x1fffff) || e > 0);
  if (up && e == 0xfe && !(mode & DTYPE_E8M0_NOSAT)) up = 0;
  return (uint8_t)(e + up);
}

static double e8m0_value(uint8_t b) { return b == 0xff ? NAN : ldexp(1, b - 127); }

double dtype_e8m0_round(double v, int mode) { return e8m0_value(e8m0_bits(v, mode)); }

/* i4, u4, i2, u2: as ml_dtypes converts, a float truncates toward zero (NaN and the
 * infinities give 0) and every value wraps modulo 2^bits; the byte holds the low bits. */
static int narrow_int_bits(DType t) { return t == DT_I4 || t == DT_U4 ? 4 : 2; }

static uint8_t int_bits(DType t, double v) {
  if (!isfinite(v)) return 0;
  double span = t == DT_I4 || t == DT_U4 ? 16 : 4, r = fmod(trunc(v), span);
  return (uint8_t)(r < 0 ? r + span : r);
}

static double int_value(DType t, uint8_t b) {
  int bits = narrow_int_bits(t), k = b & ((1 << bits) - 1);
  return (t == DT_I4 || t == DT_I2) && k >> (bits - 1) ? k - (1 << bits) : k;
}

/* Storing into f8e8m0 rounds up, except 2^-127, byte 0's value: an f32 subnormal,
 * which a cast rounds up to 2^-126 (ONNX's rule) but a stored value must keep. */
static uint8_t to_narrow(DType t, double v) {
  const Mini *m = mini(t);
  if (t == DT_F8E8M0 && v == 0x1p-127) return 0;
  return m ? mini_bits(v, m) : t == DT_F8E8M0 ? e8m0_bits(v, DTYPE_E8M0_UP) : int_bits(t, v);
}

static double from_narrow(DType t, uint8_t b) {
  const Mini *m = mini(t);
  return m ? mini_value(b, m) : t == DT_F8E8M0 ? e8m0_value(b) : int_value(t, b);
}

double dtype_round(DType t, double v) {
  switch (t) {
  case DT_F16: case DT_BF16: return from_half(t, to_half(t, v));
  case DT_F8E4M3FN: case DT_F8E4M3FNUZ: case DT_F8E5M2: case DT_F8E5M2FNUZ: case DT_F8E8M0: case DT_F4E2M1:
  case DT_I4: case DT_U4: case DT_I2: case DT_U2: return from_narrow(t, to_narrow(t, v));
  case DT_F32: return (double)(float)v;
  case DT_F64: return v;
  case DT_I8: return wrap(v, -128.0, 256.0);
  case DT_I16: return wrap(v, -32768.0, 65536.0);
  case DT_I32: return wrap(v, -2147483648.0, 4294967296.0);
  case DT_I64: return isfinite(v) ? trunc(v) : 0;
  case DT_U8: return wrap(v, 0, 256.0);
  case DT_U16: return wrap(v, 0, 65536.0);
  case DT_U32: return wrap(v, 0, 4294967296.0);
  case DT_U64: return wrap_u64(v);
  case DT_BOOL: return v != 0;
  case DT_STR: return v; /* a pointer's address (dtype_load) */
  case DT_COUNT: break;
  }
  DLC_ASSERT(!"bad dtype");
}

double dtype_load(DType t, const void *p, int64_t i) {
  switch (t) {
  case DT_F16: case DT_BF16: return from_half(t, ((const uint16_t *)p)[i]);
  case DT_F8E4M3FN: case DT_F8E4M3FNUZ: case DT_F8E5M2: case DT_F8E5M2FNUZ: case DT_F8E8M0: case DT_F4E2M1:
  case DT_I4: case DT_U4: case DT_I2: case DT_U2: return from_narrow(t, ((const uint8_t *)p)[i]);
  case DT_F32: return ((const float *)p)[i];
  case DT_F64: return ((const double *)p)[i];
  case DT_I8: return ((const int8_t *)p)[i];
  case DT_I16: return ((const int16_t *)p)[i];
  case DT_I32: return ((const int32_t *)p)[i];
  case DT_I64: return (double)((const int64_t *)p)[i];
  case DT_U8: return ((const uint8_t *)p)[i];
  case DT_U16: return ((const uint16_t *)p)[i];
  case DT_U32: return ((const uint32_t *)p)[i];
  case DT_U64: return (double)((const uint64_t *)p)[i];
  case DT_BOOL: return ((const uint8_t *)p)[i] != 0;
  case DT_STR: { /* the address, exact in a double: user-space pointers are under 2^53 */
    uintptr_t a = (uintptr_t)((const char *const *)p)[i];
    DLC_ASSERT((uint64_t)a < ((uint64_t)1 << 53));
    return (double)a;
  }
  case DT_COUNT: break;
  }
  DLC_ASSERT(!"bad dtype");
}

void dtype_store(DType t, void *p, int64_t i, double v) {
  if (dtype_is_narrow(t)) {
    ((uint8_t *)p)[i] = to_narrow(t, v);
    return;
  }
  if (dtype_is_storage(t)) {
    ((uint16_t *)p)[i] = to_half(t, v);
    return;
  }
  v = dtype_round(t, v);
  switch (t) {
  case DT_F32: ((float *)p)[i] = (float)v; return;
  case DT_F64: ((double *)p)[i] = v; return;
  case DT_I8: ((int8_t *)p)[i] = (int8_t)v; return;
  case DT_I16: ((int16_t *)p)[i] = (int16_t)v; return;
  case DT_I32: ((int32_t *)p)[i] = (int32_t)v; return;
  case DT_I64:
    ((int64_t *)p)[i] = v >= 9223372036854775807.0 ? INT64_MAX : v <= -9223372036854775808.0 ? INT64_MIN : (int64_t)v;
    return;
  case DT_U8: ((uint8_t *)p)[i] = (uint8_t)v; return;
  case DT_U16: ((uint16_t *)p)[i] = (uint16_t)v; return;
  case DT_U32: ((uint32_t *)p)[i] = (uint32_t)v; return;
  case DT_U64: ((uint64_t *)p)[i] = v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v; return;
  case DT_BOOL: ((uint8_t *)p)[i] = v != 0; return;
  case DT_STR: ((const char **)p)[i] = (const char *)(uintptr_t)v; return;
  case DT_F16: case DT_BF16: case DT_COUNT: break;
  case DT_F8E4M3FN: case DT_F8E4M3FNUZ: case DT_F8E5M2: case DT_F8E5M2FNUZ: case DT_F8E8M0: case DT_F4E2M1:
  case DT_I4: case DT_U4: case DT_I2: case DT_U2: break;
  }
  DLC_ASSERT(!"bad dtype");
}

int64_t shape_numel(const Shape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= s->d[i];
  return n;
}

bool shape_eq(const Shape *a, const Shape *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->d[i] != b->d[i]) return false;
  return true;
}

Shape shape_make(int rank, const int64_t *d) {
  Shape s = {0};
  DLC_ASSERT(rank >= 0 && rank <= IR_MAX_RANK);
  s.rank = rank;
  for (int i = 0; i < rank; i++) s.d[i] = d[i];
  return s;
}

int shape_str(const Shape *s, char *buf, size_t n) {
  size_t k = 0;
  k += (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < s->rank; i++)
    k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "%s%lld", i ? "," : "",
                          (long long)s->d[i]);
  k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "]");
  return (int)k;
}

void shape_strides(const Shape *s, int64_t *strides) {
  int64_t st = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    strides[i] = st;
    st *= s->d[i];
  }
}

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
bool dtype_is_float(DType t) { return t == DT_F32 || t == DT_F64 || dtype_is_storage(t); }
bool dtype_is_storage(DType t) { return t == DT_F16 || t == DT_BF16; }
bool dtype_is_int(DType t) { return !dtype_is_float(t) && t != DT_BOOL; }
bool dtype_is_unsigned(DType t) { return t == DT_U8 || t == DT_U16 || t == DT_U32 || t == DT_U64; }

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
  case DT_I8: return INT8_MIN;
  case DT_I16: return INT16_MIN;
  case DT_I32: return INT32_MIN;
  case DT_I64: return (double)INT64_MIN;
  case DT_U8: case DT_BOOL: case DT_U16: case DT_U32: case DT_U64: return 0;
  case DT_COUNT: break;
  }
  DLC_ASSERT(!"bad dtype");
}

double dtype_highest(DType t) {
  switch (t) {
  case DT_F32: case DT_F64: case DT_F16: case DT_BF16: return INFINITY;
  case DT_I8: return INT8_MAX;
  case DT_I16: return INT16_MAX;
  case DT_I32: return INT32_MAX;
  case DT_I64: return (double)INT64_MAX;
  case DT_U8: return UINT8_MAX;
  case DT_U16: return UINT16_MAX;
  case DT_U32: return UINT32_MAX;
  case DT_U64: return 18446744073709551615.0;
  case DT_BOOL: return 1;
  case DT_COUNT: break;
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

double dtype_round(DType t, double v) {
  switch (t) {
  case DT_F16: case DT_BF16: return from_half(t, to_half(t, v));
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
  case DT_COUNT: break;
  }
  DLC_ASSERT(!"bad dtype");
}

double dtype_load(DType t, const void *p, int64_t i) {
  switch (t) {
  case DT_F16: case DT_BF16: return from_half(t, ((const uint16_t *)p)[i]);
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
  case DT_COUNT: break;
  }
  DLC_ASSERT(!"bad dtype");
}

void dtype_store(DType t, void *p, int64_t i, double v) {
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
  case DT_F16: case DT_BF16: case DT_COUNT: break;
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

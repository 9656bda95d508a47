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
bool dtype_is_float(DType t) { return t == DT_F32 || t == DT_F64; }
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
  case DT_F32: case DT_F64: return -INFINITY;
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
  case DT_F32: case DT_F64: return INFINITY;
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

double dtype_round(DType t, double v) {
  switch (t) {
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
  case DT_COUNT: break;
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

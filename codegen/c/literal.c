/* literal.c — values as exact C literals, for weights, pad values and identities. */
#include <inttypes.h>
#include <math.h>

#include "cgen_c.h"

/* Hex floats round-trip exactly; NaN and the infinities have no literal. */
static void float_literal(double v, bool f32, char *buf, size_t n) {
  if (isnan(v)) snprintf(buf, n, "NAN");
  else if (isinf(v)) snprintf(buf, n, "%sINFINITY", v < 0 ? "-" : "");
  else snprintf(buf, n, "%a%s", v, f32 ? "f" : "");
}

/* The most negative value of a signed type has no literal: "-2147483648" is the
 * negation of a constant that does not fit. */
static void int_literal(double v, DType t, char *buf, size_t n) {
  if (t == DT_I64) cgen_literal_i64(v <= -9223372036854775808.0 ? INT64_MIN
                                    : v >= 9223372036854775807.0 ? INT64_MAX : (int64_t)v,
                                    buf, n);
  else if (t == DT_I32 && v <= -2147483648.0) snprintf(buf, n, "(-INT32_MAX - 1)");
  else if (t == DT_U64 || t == DT_U32)
    snprintf(buf, n, "UINT64_C(%" PRIu64 ")", v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v);
  else snprintf(buf, n, "%" PRId64, (int64_t)v);
}

void cgen_literal_i64(int64_t v, char *buf, size_t n) {
  if (v == INT64_MIN) snprintf(buf, n, "(-INT64_MAX - 1)");
  else snprintf(buf, n, "INT64_C(%" PRId64 ")", v);
}

void cgen_literal(DType t, double v, char *buf, size_t n) {
  uint16_t h; /* the storage dtypes: their bits */
  uint8_t b;
  if (dtype_is_narrow(t)) dtype_store(t, &b, 0, v), snprintf(buf, n, "0x%02x", (unsigned)b);
  else if (dtype_is_storage(t)) dtype_store(t, &h, 0, v), snprintf(buf, n, "0x%04x", (unsigned)h);
  else if (dtype_is_float(t)) float_literal(v, t == DT_F32, buf, n);
  else int_literal(dtype_round(t, v), t, buf, n);
}

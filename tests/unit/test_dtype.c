/* test_dtype.c — dtypes (ir/dtype.c): names, sizes, ranges, how each type stores a value
 * (f32 rounding, integer wrap, bool), and the Shape helpers that live beside them. */
#include <float.h>
#include <stdint.h>

#include "check.h"

static void test_names(void) {
  const int sizes[DT_COUNT] = {[DT_F32] = 4, [DT_F64] = 8, [DT_I8] = 1, [DT_I16] = 2,
                               [DT_I32] = 4, [DT_I64] = 8, [DT_U8] = 1, [DT_BOOL] = 1,
                               [DT_U16] = 2, [DT_U32] = 4, [DT_U64] = 8, [DT_F16] = 2,
                               [DT_BF16] = 2, [DT_F8E4M3FN] = 1, [DT_F8E4M3FNUZ] = 1, [DT_F8E5M2] = 1,
                               [DT_F8E5M2FNUZ] = 1, [DT_F8E8M0] = 1, [DT_F4E2M1] = 1, [DT_I4] = 1,
                               [DT_U4] = 1, [DT_I2] = 1, [DT_U2] = 1, [DT_STR] = 8};
  for (int t = 0; t < DT_COUNT; t++) {
    DType back = DT_COUNT;
    const char *name = dtype_name((DType)t);
    CHECK(dtype_parse(name, strlen(name), &back) == 0 && back == (DType)t);
    CHECK(dtype_size((DType)t) == sizes[t]);
    CHECK(dtype_ctype((DType)t) != NULL);
    CHECK(dtype_is_float((DType)t) + dtype_is_int((DType)t) + (t == DT_BOOL) + dtype_is_str((DType)t) == 1);
  }
  DType t;
  CHECK(dtype_parse("f8", 2, &t) == -1 && dtype_parse("f3", 2, &t) == -1);
  CHECK(dtype_parse("f16", 3, &t) == 0 && t == DT_F16 && dtype_parse("bf16", 4, &t) == 0 && t == DT_BF16);
  CHECK(dtype_is_storage(DT_F16) && dtype_is_storage(DT_BF16) && !dtype_is_storage(DT_F32));
  CHECK(dtype_is_narrow(DT_F8E4M3FN) && dtype_is_narrow(DT_U2) && !dtype_is_narrow(DT_BF16));
  CHECK(dtype_is_float(DT_F4E2M1) && dtype_is_int(DT_I4) && dtype_is_unsigned(DT_U2));
  /* a few values (every pattern is checked against ml_dtypes by narrow_oracle.py) */
  CHECK(dtype_round(DT_F8E4M3FN, 470) != dtype_round(DT_F8E4M3FN, 470)); /* overflow: NaN */
  CHECK(dtype_round(DT_F8E5M2, 1e6) == INFINITY && dtype_round(DT_F4E2M1, 1e6) == 6);
  CHECK(dtype_round(DT_I4, -9) == 7 && dtype_round(DT_U2, 5.9) == 1 && dtype_round(DT_I4, NAN) == 0);
  CHECK(dtype_round(DT_F8E8M0, 3) == 4 && dtype_e8m0_round(3, DTYPE_E8M0_DOWN) == 2);
  CHECK(dtype_parse("f32x", 3, &t) == 0 && t == DT_F32); /* only the first n characters count */
  CHECK(!strcmp(dtype_ctype(DT_I64), "int64_t") && !strcmp(dtype_name(DT_BOOL), "bool"));
}

static void test_ranges(void) {
  CHECK(dtype_lowest(DT_I8) == -128 && dtype_highest(DT_I8) == 127);
  CHECK(dtype_lowest(DT_I16) == -32768 && dtype_highest(DT_I16) == 32767);
  CHECK(dtype_lowest(DT_I32) == -2147483648.0 && dtype_highest(DT_I32) == 2147483647.0);
  CHECK(dtype_lowest(DT_I64) == -9223372036854775808.0);
  CHECK(dtype_lowest(DT_U8) == 0 && dtype_highest(DT_U8) == 255);
  CHECK(dtype_lowest(DT_BOOL) == 0 && dtype_highest(DT_BOOL) == 1);
  CHECK(dtype_lowest(DT_U16) == 0 && dtype_highest(DT_U16) == 65535);
  CHECK(dtype_lowest(DT_U32) == 0 && dtype_highest(DT_U32) == 4294967295.0);
  CHECK(dtype_lowest(DT_U64) == 0 && dtype_highest(DT_U64) == 18446744073709551615.0);
  CHECK(dtype_is_unsigned(DT_U8) && dtype_is_unsigned(DT_U64) && !dtype_is_unsigned(DT_I64) &&
        !dtype_is_unsigned(DT_BOOL));
  /* wrapping against C's own conversions of values that fit a double exactly */
  CHECK(dtype_round(DT_U16, -1) == (double)(uint16_t)-1 && dtype_round(DT_U16, 65536) == 0);
  CHECK(dtype_round(DT_U32, -1) == (double)(uint32_t)-1 && dtype_round(DT_U32, 4294967296.0) == 0);
  CHECK(dtype_round(DT_U64, 12345) == 12345 && dtype_round(DT_U64, -1) == (double)(uint64_t)-1);
  CHECK(isinf(dtype_lowest(DT_F32)) && dtype_lowest(DT_F32) < 0 && isinf(dtype_highest(DT_F64)));
}

static void test_round(void) {
  CHECK(dtype_round(DT_F32, 0.1) == (double)0.1f);
  CHECK(dtype_round(DT_F32, 0.1) != 0.1);
  CHECK(dtype_round(DT_F64, 0.1) == 0.1);
  CHECK(dtype_round(DT_F32, 1e300) == INFINITY);
  CHECK(dtype_round(DT_F32, 16777217.0) == 16777216.0); /* 2^24 + 1 is not a float */
  /* integers truncate toward zero, then wrap modulo 2^bits */
  CHECK(dtype_round(DT_I8, 127) == 127 && dtype_round(DT_I8, 128) == -128);
  CHECK(dtype_round(DT_I8, -129) == 127 && dtype_round(DT_I8, 255.9) == -1);
  CHECK(dtype_round(DT_I8, -2.7) == -2 && dtype_round(DT_I8, 2.7) == 2);
  CHECK(dtype_round(DT_I8, 1000) == 1000 - 4 * 256);
  CHECK(dtype_round(DT_I16, 32768) == -32768 && dtype_round(DT_I16, -32769) == 32767);
  CHECK(dtype_round(DT_I32, 2147483648.0) == -2147483648.0);
  CHECK(dtype_round(DT_I32, -2147483649.0) == 2147483647.0);
  CHECK(dtype_round(DT_U8, 256) == 0 && dtype_round(DT_U8, -1) == 255 && dtype_round(DT_U8, 511) == 255);
  CHECK(dtype_round(DT_I64, -3.9) == -3 && dtype_round(DT_I64, 1e15 + 0.5) == 1e15);
  CHECK(dtype_round(DT_I32, NAN) == 0 && dtype_round(DT_I64, INFINITY) == 0);
  CHECK(dtype_round(DT_BOOL, 0.5) == 1 && dtype_round(DT_BOOL, -3) == 1 && dtype_round(DT_BOOL, 0) == 0);
  /* exhaustive over i8 and u8 against C's own modular conversion to unsigned */
  for (int v = -1000; v <= 1000; v++) {
    CHECK(dtype_round(DT_U8, v) == (double)(uint8_t)(unsigned)v);
    uint8_t b = (uint8_t)(unsigned)v;
    CHECK(dtype_round(DT_I8, v) == (double)(b < 128 ? b : b - 256));
  }
}

/* store then load gives the rounded value, in the type's own bytes */
static void test_store_load(void) {
  const double vals[] = {0, 1, -1, 0.1, 127.9, -128.5, 300, 65535, 1e10, -7.25};
  for (int t = 0; t < DT_COUNT; t++)
    for (size_t i = 0; t != DT_STR && i < sizeof vals / sizeof vals[0]; i++) {
      unsigned char buf[3 * 8] = {0};
      dtype_store((DType)t, buf, 1, vals[i]);
      double got = dtype_load((DType)t, buf, 1), want = dtype_round((DType)t, vals[i]);
      CHECK(got == want || (got != got && want != want)); /* 1e10 in e4m3fn is NaN */
      if (t == DT_F8E8M0) continue; /* byte 0 is 2^-127: e8m0 has no zero */
      CHECK(dtype_load((DType)t, buf, 0) == 0 && dtype_load((DType)t, buf, 2) == 0);
    }
  float f[2];
  dtype_store(DT_F32, f, 1, 2.5);
  CHECK(f[1] == 2.5f);
  int16_t s[1];
  dtype_store(DT_I16, s, 0, 40000);
  CHECK(s[0] == 40000 - 65536);
  int64_t big[1];
  dtype_store(DT_I64, big, 0, 9223372036854775807.0);
  CHECK(big[0] == INT64_MAX);
}

static void test_shapes(void) {
  Shape s = SHP(2, 3, 4), z = {0};
  CHECK(shape_numel(&s) == 24 && shape_numel(&z) == 1);
  Shape e = SHP(3, 0);
  CHECK(shape_numel(&e) == 0);
  int64_t st[IR_MAX_RANK];
  shape_strides(&s, st);
  CHECK(st[0] == 12 && st[1] == 4 && st[2] == 1);
  char buf[64];
  Shape m = SHP(1, 784);
  CHECK(shape_str(&m, buf, sizeof buf) == 7 && !strcmp(buf, "[1,784]"));
  CHECK(shape_str(&z, buf, sizeof buf) == 2 && !strcmp(buf, "[]"));
  char tiny[4];
  CHECK(shape_str(&m, tiny, sizeof tiny) == 7 && !strcmp(tiny, "[1,"));
  CHECK(shape_eq(&s, &(Shape){3, {2, 3, 4}}) && !shape_eq(&s, &m) && !shape_eq(&e, &(Shape){2, {3, 1}}));
}

int main(void) {
  test_names();
  test_ranges();
  test_round();
  test_store_load();
  test_shapes();
  return check_report("test_dtype");
}

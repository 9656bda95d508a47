/* half.c — f16, bf16 and the one-byte types (float8, f4e2m1, i4, u4, i2, u2) in
 * generated code.  They are storage dtypes (ir/ir.h): a cast is the only op that reads
 * or gives them, and it converts through these helpers, plain bit manipulation on
 * uint16_t and uint8_t (no _Float16, no compiler extension), written into the prelude
 * only when a kernel calls them.  The CUDA backend writes the same text with
 * __device__ and CUDA's bit casts.  f16 and bf16 round from f32, except f64 to f16,
 * which rounds once from the f64 (numpy's way; bf16 rounds through f32, ml_dtypes').
 * The one-byte types round from f32 as ir/dtype.c does (the same steps) and are read
 * through a table of their 256 patterns' f32 bits. */
#include <string.h>

#include "cgen_c.h"

/* f64 to f16: v rounded to nearest, ties to even, into a 16-bit float with `man`
 * fraction bits and exponent bias `bias`, subnormals included (ir/dtype.c half_bits,
 * the same steps). */
static const char *const f64_to_half[] = {
    "(double v, int man, int bias) {",
    "  uint64_t u = DLC_F64_BITS(v), f = u & 0xfffffffffffffULL, sig, q, rem, half, bits;",
    "  uint16_t s = (uint16_t)((u >> 48) & 0x8000), inf = (uint16_t)(0x7fff & ~((1u << man) - 1));",
    "  int e = (int)((u >> 52) & 0x7ff), emin = 1 - bias, E = e - 1023, shift;",
    "  if (e == 0x7ff) return (uint16_t)(s | inf | (f ? 1u << (man - 1) : 0));",
    "  if (e == 0 || E > bias) return e ? (uint16_t)(s | inf) : s;",
    "  shift = 52 - man + (E < emin ? emin - E : 0);",
    "  if (shift > 53) return s;",
    "  sig = f | 1ULL << 52, q = sig >> shift, rem = sig & ((1ULL << shift) - 1), half = 1ULL << (shift - 1);",
    "  if (rem > half || (rem == half && (q & 1))) q++;",
    "  bits = E < emin ? q : ((uint64_t)(E + bias - 1) << man) + q;",
    "  return (uint16_t)(s | (bits >= inf ? inf : bits));",
    "}",
};

/* f32 to f16 without branches that stop a loop vectorising: every case is computed and
 * one selected with integer masks (a ?: would become a branch).  Normals add 0xfff plus the kept bit's parity before the shift (round to
 * nearest even); 65520 and up overflow; below 2^-14 the significand, implicit bit
 * included, is shifted right by 126 - exponent and rounds the same way (half the
 * dropped unit less one, plus the kept bit's parity, carries exactly when it should). */
static const char *const f32_to_f16[] = {
    "(float x) {",
    "  uint32_t u = DLC_F32_BITS(x), s = (u >> 16) & 0x8000u, a = u & 0x7fffffffu, m, sub, nrm, h, c;",
    "  int32_t sh = 126 - (int32_t)(a >> 23);",
    "  sh = sh < 14 ? 14 : sh > 31 ? 31 : sh;",
    "  m = (a & 0x7fffffu) | 0x800000u;",
    "  sub = (m + (1u << (sh - 1)) - 1 + ((m >> sh) & 1)) >> sh;",
    "  nrm = (a - 0x38000000u + 0xfffu + ((a >> 13) & 1)) >> 13;",
    "  c = 0u - (uint32_t)(a < 0x38800000u), h = (sub & c) | (nrm & ~c);",
    "  c = 0u - (uint32_t)(a >= 0x477ff000u), h = (0x7c00u & c) | (h & ~c);",
    "  c = 0u - (uint32_t)(a > 0x7f800000u), h = (0x7e00u & c) | (h & ~c);",
    "  return (uint16_t)(s | h);",
    "}",
};

/* f32 to bf16: the top half, rounded to nearest even on the bits (subnormals and the
 * overflow to infinity come out right); NaN a quiet NaN of the same sign. */
static const char *const f32_to_bf16[] = {
    "(float x) {",
    "  uint32_t u = DLC_F32_BITS(x), r = (u + 0x7fffu + ((u >> 16) & 1)) >> 16;",
    "  uint32_t c = 0u - (uint32_t)((u & 0x7fffffffu) > 0x7f800000u);",
    "  return (uint16_t)(((((u >> 16) & 0x8000u) | 0x7fc0u) & c) | (r & ~c));",
    "}",
};

/* f16 to f32: normals rebias, infinities and NaN keep their fraction, subnormals
 * (f * 2^-24) convert exactly as an integer times a power of two. */
static const char *const f16_to_f32[] = {
    "(uint16_t h) {",
    "  uint32_t s = (uint32_t)(h & 0x8000) << 16, em = h & 0x7fffu;",
    "  uint32_t big = ((em + 0x1c000u) << 13) + ((0u - (uint32_t)(em >= 0x7c00u)) & 0x38000000u);",
    "  uint32_t sub = DLC_F32_BITS((float)(int32_t)em * 0x1p-24f), c = 0u - (uint32_t)(em < 0x400u);",
    "  return DLC_F32_OF_BITS(((sub & c) | (big & ~c)) | s);",
    "}",
};

static const char *const c_bits[] = {
    "DLC_HALF_INLINE uint64_t dlc_f64_bits(double v) {",
    "  uint64_t u;",
    "  memcpy(&u, &v, sizeof u);",
    "  return u;",
    "}",
    "DLC_HALF_INLINE uint32_t dlc_f32_bits(float v) {",
    "  uint32_t u;",
    "  memcpy(&u, &v, sizeof u);",
    "  return u;",
    "}",
    "DLC_HALF_INLINE float dlc_f32_of_bits(uint32_t u) {",
    "  float f;",
    "  memcpy(&f, &u, sizeof f);",
    "  return f;",
    "}",
    "DLC_HALF_INLINE double dlc_f64_of_bits(uint64_t u) {",
    "  double f;",
    "  memcpy(&f, &u, sizeof f);",
    "  return f;",
    "}",
};

/* ---- the one-byte types (ir/dtype.c mini_bits, e8m0_bits, int_bits: the same steps) ---- */

/* f32 to an 8- or 4-bit float: `kind` 0 e4m3fn (overflow and NaN give NaN), 1 fnuz
 * (no -0; NaN 0x80), 2 e5m2 (IEEE), 3 f4e2m1 (saturates; NaN the other sign's 0); the code computed
 * with the exponent unbounded above and compared with the largest finite one. */
static const char *const f32_to_mini[] = {
    "(float x, int man, int bias, int maxcode, int kind, int sign) {",
    "  double v = x;",
    "  uint64_t u = DLC_F64_BITS(v), f = u & 0xfffffffffffffULL, sig, q, rem, half, bits;",
    "  int s = (u >> 63) ? sign : 0, zero = kind == 1 ? 0 : s, e = (int)((u >> 52) & 0x7ff), emin = 1 - bias;",
    "  int E = e - 1023, shift, nan = kind == 0 ? 0x7f | s : kind == 1 ? 0x80 : kind == 2 ? 0x7e | s : 0x8 ^ s;",
    "  int over = kind == 2 ? 0x7c | s : kind == 3 ? maxcode | s : nan;",
    "  if (e == 0x7ff) return (uint8_t)(f ? nan : over);",
    "  if (e == 0) return (uint8_t)zero;",
    "  shift = 52 - man + (E < emin ? emin - E : 0);",
    "  if (shift > 53) return (uint8_t)zero;",
    "  sig = f | 1ULL << 52, q = sig >> shift, rem = sig & ((1ULL << shift) - 1), half = 1ULL << (shift - 1);",
    "  if (rem > half || (rem == half && (q & 1))) q++;",
    "  bits = E < emin ? q : ((uint64_t)(E + bias - 1) << man) + q;",
    "  if (bits > (uint64_t)maxcode) return (uint8_t)over;",
    "  return (uint8_t)(bits ? bits | (uint64_t)s : (uint64_t)zero);",
    "}",
};

/* f32 to f8e8m0 by `mode` (ir.h DTYPE_E8M0_*: 0 up, 1 down, 2 nearest, +4 not
 * saturating), on the f32's bits as ONNX's to_float8e8m0 rounds. */
static const char *const f32_to_e8m0[] = {
    "(float x, int mode) {",
    "  uint32_t u = DLC_F32_BITS(x), e = (u >> 23) & 0xffu, up = 0;",
    "  if (e == 0xffu) return 0xff;",
    "  if ((mode & 3) == 0) up = (u & 0x7fffffu) != 0;",
    "  else if ((mode & 3) == 2) up = ((u >> 22) & 1u) && (((u >> 21) & 1u) || (u & 0x1fffffu) || e > 0);",
    "  if (up && e == 0xfeu && !(mode & 4)) up = 0;",
    "  return (uint8_t)(e + up);",
    "}",
};

/* A float to i4, u4, i2, u2 (ml_dtypes' way): truncated, wrapped modulo 2^bits (span);
 * NaN and the infinities give 0.  Integers wrap by masking. */
static const char *const float_to_wrap[] = {
    "(double x, double span) {",
    "  double r;",
    "  if (!(x - x == 0)) return 0;",
    "  r = fmod(trunc(x), span);",
    "  return (uint8_t)(r < 0 ? r + span : r);",
    "}",
};

static int mini_args(DType t, char *buf, size_t n) {
  switch ((int)t) {
  case DT_F8E4M3FN: return snprintf(buf, n, "3, 7, 0x7e, 0, 0x80");
  case DT_F8E4M3FNUZ: return snprintf(buf, n, "3, 8, 0x7f, 1, 0x80");
  case DT_F8E5M2: return snprintf(buf, n, "2, 15, 0x7b, 2, 0x80");
  case DT_F8E5M2FNUZ: return snprintf(buf, n, "2, 16, 0x7f, 1, 0x80");
  default: return snprintf(buf, n, "1, 1, 0x7, 3, 0x8");
  }
}

const char *cgen_half_from(DType t) {
  static const char *const names[DT_COUNT] = {
#define X(id, name, ctype, size) [DT_##id] = "dlc_" name "_to_f32",
      DLC_DTYPES(X)
#undef X
  };
  return names[t];
}

/* The call that rounds an operand of dtype `from`, written `x`, to t; `round` is a
 * cast to f8e8m0's mode. */
void cgen_half_to(DType from, DType t, int round, const char *x, char *buf, size_t size) {
  char args[48];
  if (t == DT_F16 && from == DT_F64) snprintf(buf, size, "dlc_f64_to_f16(%s)", x);
  else if (t == DT_F16 || t == DT_BF16) snprintf(buf, size, "dlc_f32_to_%s((float)%s)", t == DT_F16 ? "f16" : "bf16", x);
  else if (t == DT_F8E8M0) snprintf(buf, size, "dlc_f32_to_f8e8m0((float)%s, %d)", x, round);
  else if (t == DT_I4 || t == DT_U4 || t == DT_I2 || t == DT_U2) {
    int mask = t == DT_I4 || t == DT_U4 ? 15 : 3;
    if (dtype_is_float(from)) snprintf(buf, size, "dlc_float_wrap((double)%s, %d.0)", x, mask + 1);
    else snprintf(buf, size, "(uint8_t)((uint64_t)%s & %du)", x, mask);
  } else {
    mini_args(t, args, sizeof args);
    snprintf(buf, size, "dlc_f32_to_mini((float)%s, %s)", x, args);
  }
}

static void lines(CEmit *ce, const char *head, const char *const *l, size_t n) {
  cgen_printf(ce, "%s%s\n", head, l[0]);
  for (size_t i = 1; i < n; i++) cgen_printf(ce, "%s\n", l[i]);
}

/* What the graph's casts call: bit casts, then each helper. */
enum {
  H_F64_BITS, H_F32_BITS, H_F32_OF_BITS, H_F64_OF_BITS, H_F64_F16, H_F32_F16, H_F32_BF16, H_F16_F32, H_BF16_F32,
  H_MINI, H_E8M0, H_WRAP, H_COUNT
};

static void half_needed(const CEmit *ce, bool *need) {
  for (int k = 0; k < ce->s->nk; k++)
    for (int j = 0; j < ce->s->k[k].n; j++) {
      const Node *n = ce->g->nodes[ce->s->k[k].nodes[j]];
      if (n->op != OP_CAST && n->op != OP_BITCAST) continue;
      DType from = cgen_in(ce, n, 0)->dtype, to = n->dtype;
      if (n->op == OP_BITCAST) { /* a float's bits through memcpy (C) or CUDA's bit casts */
        need[H_F32_BITS] |= from == DT_F32, need[H_F64_BITS] |= from == DT_F64;
        need[H_F32_OF_BITS] |= to == DT_F32, need[H_F64_OF_BITS] |= to == DT_F64;
        continue;
      }
      if (from == DT_F16) need[H_F16_F32] = need[H_F32_OF_BITS] = need[H_F32_BITS] = true;
      if (from == DT_BF16) need[H_BF16_F32] = need[H_F32_OF_BITS] = true;
      if (to == DT_F16 && from == DT_F64) need[H_F64_F16] = need[H_F64_BITS] = true;
      else if (to == DT_F16) need[H_F32_F16] = need[H_F32_BITS] = true;
      if (to == DT_BF16) need[H_F32_BF16] = need[H_F32_BITS] = true;
      if (dtype_is_narrow(from)) need[H_COUNT + from] = need[H_F32_OF_BITS] = true;
      if (to == DT_F8E8M0) need[H_E8M0] = need[H_F32_BITS] = true;
      else if (dtype_is_narrow(to) && dtype_is_float(to)) need[H_MINI] = need[H_F64_BITS] = true;
      else if (dtype_is_narrow(to) && dtype_is_float(from)) need[H_WRAP] = true;
    }
}

/* A one-byte type to f32: a table of the 256 patterns' f32 bits, made by ir/dtype.c. */
static void narrow_table(CEmit *ce, const char *qual, DType t) {
  cgen_printf(ce, "%s const uint32_t dlc_%s_table[256] = {", strstr(qual, "__device__") ? "static __device__" : "static",
              dtype_name(t));
  for (int b = 0; b < 256; b++) {
    uint8_t byte = (uint8_t)b;
    float f = (float)dtype_load(t, &byte, 0);
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if (f != f) u = (u & 0x80000000u) | 0x7fc00000u;
    cgen_printf(ce, "%s0x%08xu", b % 8 ? ", " : b ? ",\n  " : "\n  ", (unsigned)u);
  }
  cgen_printf(ce, "};\n%s float dlc_%s_to_f32(uint8_t b) { return DLC_F32_OF_BITS(dlc_%s_table[b]); }\n", qual,
              dtype_name(t), dtype_name(t));
}

static void helper(CEmit *ce, const char *qual, const char *ret_name, const char *const *l, size_t n) {
  char head[96];
  snprintf(head, sizeof head, "%s %s", qual, ret_name);
  lines(ce, head, l, n);
}

void cgen_half_helpers(CEmit *ce, const char *qual) {
  bool need[H_COUNT + DT_COUNT] = {0}, device = !strcmp(qual, "static __device__");
  half_needed(ce, need);
  if (!need[H_F64_BITS] && !need[H_F32_BITS] && !need[H_F32_OF_BITS] && !need[H_F64_OF_BITS] && !need[H_WRAP]) return;
  cgen_printf(ce, "\n/* The storage dtypes (f16, bf16, the float8, float4, int4, int2 types) are stored as\n"
                  " * their bits; casts convert them (round to nearest even), inlined. */\n");
  if (!device)
    cgen_printf(ce, "#if defined(__GNUC__)\n#define DLC_HALF_INLINE static inline __attribute__((always_inline))\n"
                    "#else\n#define DLC_HALF_INLINE static inline\n#endif\n");
  if (!device) qual = "DLC_HALF_INLINE";
  static const char *const macro[] = {"DLC_F64_BITS(v)", "DLC_F32_BITS(v)", "DLC_F32_OF_BITS(u)", "DLC_F64_OF_BITS(u)"};
  static const char *const cuda[] = {"((uint64_t)__double_as_longlong(v))", "((uint32_t)__float_as_uint(v))",
                                     "__uint_as_float(u)", "__longlong_as_double((long long)(u))"};
  static const char *const c[] = {"dlc_f64_bits(v)", "dlc_f32_bits(v)", "dlc_f32_of_bits(u)", "dlc_f64_of_bits(u)"};
  for (int b = 0; b < 4; b++) {
    if (!need[b]) continue;
    if (!device) lines(ce, "", c_bits + 5 * b, 5);
    cgen_printf(ce, "#define %s %s\n", macro[b], device ? cuda[b] : c[b]);
  }
  if (need[H_F64_F16]) {
    helper(ce, qual, "uint16_t dlc_half_bits", f64_to_half, sizeof f64_to_half / sizeof f64_to_half[0]);
    cgen_printf(ce, "%s uint16_t dlc_f64_to_f16(double v) { return dlc_half_bits(v, 10, 15); }\n", qual);
  }
  if (need[H_F32_F16]) helper(ce, qual, "uint16_t dlc_f32_to_f16", f32_to_f16, sizeof f32_to_f16 / sizeof f32_to_f16[0]);
  if (need[H_F32_BF16]) helper(ce, qual, "uint16_t dlc_f32_to_bf16", f32_to_bf16, sizeof f32_to_bf16 / sizeof f32_to_bf16[0]);
  if (need[H_F16_F32]) helper(ce, qual, "float dlc_f16_to_f32", f16_to_f32, sizeof f16_to_f32 / sizeof f16_to_f32[0]);
  if (need[H_BF16_F32])
    cgen_printf(ce, "%s float dlc_bf16_to_f32(uint16_t h) { return DLC_F32_OF_BITS((uint32_t)h << 16); }\n", qual);
  if (need[H_MINI]) helper(ce, qual, "uint8_t dlc_f32_to_mini", f32_to_mini, sizeof f32_to_mini / sizeof f32_to_mini[0]);
  if (need[H_E8M0]) helper(ce, qual, "uint8_t dlc_f32_to_f8e8m0", f32_to_e8m0, sizeof f32_to_e8m0 / sizeof f32_to_e8m0[0]);
  if (need[H_WRAP]) helper(ce, qual, "uint8_t dlc_float_wrap", float_to_wrap, sizeof float_to_wrap / sizeof float_to_wrap[0]);
  for (int t = 0; t < DT_COUNT; t++)
    if (need[H_COUNT + t]) narrow_table(ce, qual, (DType)t);
}

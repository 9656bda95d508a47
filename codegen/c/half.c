/* half.c — f16 and bf16 in generated code.  They are storage dtypes (ir/ir.h): a cast
 * is the only op that reads or gives them, and it converts through these helpers, plain
 * bit manipulation on uint16_t (no _Float16, no compiler extension), written into the
 * prelude only when a kernel calls them.  The CUDA backend writes the same text with
 * __device__ and CUDA's bit casts. */
#include <string.h>

#include "cgen_c.h"

/* v rounded to nearest, ties to even, into a 16-bit float with `man` fraction bits and
 * exponent bias `bias`, subnormals included (ir/dtype.c half_bits, the same steps);
 * bf16 rounds an f64 to f32 first, as ir/dtype.c does. */
static const char *const to_half[] = {
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

static const char *const f16_to_f32[] = {
    "(uint16_t h) {",
    "  uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31u, f = h & 1023u;",
    "  if (e == 31) return DLC_F32_OF_BITS(s | 0x7f800000u | f << 13);",
    "  if (e) return DLC_F32_OF_BITS(s | (e + 112) << 23 | f << 13);",
    "  if (!f) return DLC_F32_OF_BITS(s);",
    "  for (e = 113; !(f & 1024); e--) f <<= 1; /* a subnormal: normalise */",
    "  return DLC_F32_OF_BITS(s | e << 23 | (f & 1023) << 13);",
    "}",
};

static const char *const c_bits[] = {
    "static uint64_t dlc_f64_bits(double v) {",
    "  uint64_t u;",
    "  memcpy(&u, &v, sizeof u);",
    "  return u;",
    "}",
    "static float dlc_f32_of_bits(uint32_t u) {",
    "  float f;",
    "  memcpy(&f, &u, sizeof f);",
    "  return f;",
    "}",
};

const char *cgen_half_from(DType t) { return t == DT_F16 ? "dlc_f16_to_f32" : "dlc_bf16_to_f32"; }
const char *cgen_half_to(DType t) { return t == DT_F16 ? "dlc_to_f16" : "dlc_to_bf16"; }

static void lines(CEmit *ce, const char *head, const char *const *l, size_t n) {
  cgen_printf(ce, "%s%s\n", head, l[0]);
  for (size_t i = 1; i < n; i++) cgen_printf(ce, "%s\n", l[i]);
}

void cgen_half_helpers(CEmit *ce, const char *qual) {
  bool from[DT_COUNT] = {0}, to[DT_COUNT] = {0};
  for (int k = 0; k < ce->s->nk; k++)
    for (int j = 0; j < ce->s->k[k].n; j++) {
      const Node *n = ce->g->nodes[ce->s->k[k].nodes[j]];
      if (n->op != OP_CAST) continue;
      from[cgen_in(ce, n, 0)->dtype] = true;
      to[n->dtype] = true;
    }
  bool any_from = from[DT_F16] || from[DT_BF16], any_to = to[DT_F16] || to[DT_BF16];
  if (!any_from && !any_to) return;
  bool device = !strcmp(qual, "static __device__");
  cgen_printf(ce, "\n/* f16 and bf16 are stored as their bits; casts convert them (round to nearest even). */\n");
  if (device) {
    if (any_to) cgen_printf(ce, "#define DLC_F64_BITS(v) ((uint64_t)__double_as_longlong(v))\n");
    if (any_from) cgen_printf(ce, "#define DLC_F32_OF_BITS(u) __uint_as_float(u)\n");
  } else {
    if (any_to) lines(ce, "", c_bits, 5);
    if (any_from) lines(ce, "", c_bits + 5, 5);
    if (any_to) cgen_printf(ce, "#define DLC_F64_BITS(v) dlc_f64_bits(v)\n");
    if (any_from) cgen_printf(ce, "#define DLC_F32_OF_BITS(u) dlc_f32_of_bits(u)\n");
  }
  char head[64];
  if (any_to) {
    snprintf(head, sizeof head, "%s uint16_t dlc_half_bits", qual);
    lines(ce, head, to_half, sizeof to_half / sizeof to_half[0]);
  }
  if (to[DT_F16]) cgen_printf(ce, "%s uint16_t dlc_to_f16(double v) { return dlc_half_bits(v, 10, 15); }\n", qual);
  if (to[DT_BF16]) cgen_printf(ce, "%s uint16_t dlc_to_bf16(double v) { return dlc_half_bits((double)(float)v, 7, 127); }\n", qual);
  if (from[DT_F16]) {
    snprintf(head, sizeof head, "%s float dlc_f16_to_f32", qual);
    lines(ce, head, f16_to_f32, sizeof f16_to_f32 / sizeof f16_to_f32[0]);
  }
  if (from[DT_BF16])
    cgen_printf(ce, "%s float dlc_bf16_to_f32(uint16_t h) { return DLC_F32_OF_BITS((uint32_t)h << 16); }\n", qual);
}

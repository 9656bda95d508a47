/* vecmath.c — dlc's own f32 exp, log, tanh, erf and sqrt, written into the generated .c for
 * the kernels that call them: the '@' of ops.def's cexpr column ("@tanh$(%0)" is
 * dlc_tanhf(x) for f32 in the C backend, tanhf or tanh elsewhere).
 *
 * Why: a call to libm's tanhf keeps its loop scalar (the MLP at batch 64 spent 37% of
 * its time in tanhf, docs/PERFORMANCE.md).  These are branch-free C99 that gcc -O3 and
 * clang vectorise in the kernels' loops.  Against double-precision libm over all 2^32
 * floats they are within 1.02 ulp of the correctly rounded result (exp), 0.87 (log),
 * 1.07 (tanh), 1.32 (erf), and sqrt is correctly rounded, with inf, NaN, -0 and the
 * denormals as libm gives them (`tests/codegen/test_cgen_math 1`; the test itself
 * sweeps every 97th float).
 *
 * How they stay branch-free: gcc turns a ?: on floats into a branch, moves the
 * arithmetic of each side into it, and then will not run that arithmetic on every
 * element (float arithmetic may trap), so the loop stays scalar.  Selects are therefore
 * integer masks (dlc_selectf) and limits an unsigned min of bit patterns (dlc_clampf).
 * They are always inlined where the compiler allows it (DLC_INLINE): in a model with
 * hundreds of call sites gcc's inliner gives up on `static inline` alone, and a call
 * keeps the loop around it scalar (an ONNX GRU spent a third of its time in calls to
 * dlc_expf). */
#include <string.h>

#include "cgen_c.h"

static const char *const helpers[] = {
    "/* dlc's f32 exp, log, tanh, erf and sqrt: branch-free, so that the loops calling them",
    " * vectorise; within 1.4 ulp of the correctly rounded results.  A ?: on floats",
    " * would become a branch that keeps a loop scalar: selects are integer masks. */",
    "#if defined(__GNUC__)",
    "#define DLC_INLINE static inline __attribute__((always_inline, unused)) /* a call keeps its loop scalar; */",
    "/* unused: dlc_sqrtf without fused multiply-adds calls sqrtf, and no helper */",
    "#else",
    "#define DLC_INLINE static inline",
    "#endif",
    "DLC_INLINE float dlc_selectf(int c, float a, float b) { /* c ? a : b */",
    "  uint32_t ua, ub, m = 0u - (uint32_t)c;",
    "  memcpy(&ua, &a, sizeof ua);",
    "  memcpy(&ub, &b, sizeof ub);",
    "  ua = (ua & m) | (ub & ~m);",
    "  memcpy(&a, &ua, sizeof a);",
    "  return a;",
    "}",
    "",
    "/* |x| limited to hi > 0, the sign kept; NaN gives hi.  Non-negative floats order as",
    " * their bit patterns do, and an unsigned min is no branch. */",
    "DLC_INLINE float dlc_clampf(float x, float hi) {",
    "  uint32_t u, h, m;",
    "  memcpy(&u, &x, sizeof u);",
    "  memcpy(&h, &hi, sizeof h);",
    "  m = u & 0x7fffffffu;",
    "  m = (m < h ? m : h) | (u & 0x80000000u);",
    "  memcpy(&x, &m, sizeof x);",
    "  return x;",
    "}",
};

static const char *const expf_text[] = {
    "/* exp(x) = 2^n exp(r), x = n ln2 + r, |r| <= ln2/2, with ln2 in two parts so that",
    " * n ln2 is exact; exp(r) = 1 + r + r^2 P(r), P minimax.  |x| <= 104 keeps n in",
    " * [-150, 150], read from the low bits of a float past 2^23; 2^n is two normal",
    " * factors, so a result rounds once, overflows to inf and underflows through the",
    " * denormals to 0. */",
    "DLC_INLINE float dlc_expf(float x) {",
    "  float c = dlc_clampf(x, 104.0f), t = c * 1.44269502f + 12582912.0f, fn, r, p, s1, s2;",
    "  uint32_t tb, b1, b2;",
    "  int32_t n, h;",
    "  memcpy(&tb, &t, sizeof tb);",
    "  n = (int32_t)(tb - (0x4b400000u - 150u)) - 150; /* round(c / ln2) */",
    "  h = n / 2;",
    "  fn = (float)n;",
    "  r = c - fn * 0.693359375f + fn * 0.000212194442f;",
    "  p = 1.0f + (r + r * r * (0.49999994f + r * (0.166665167f + r * (0.0416684262f",
    "      + r * (0.00836912356f + r * 0.00138137559f)))));",
    "  b1 = (uint32_t)(h + 127) << 23;",
    "  b2 = (uint32_t)(n - h + 127) << 23;",
    "  memcpy(&s1, &b1, sizeof s1);",
    "  memcpy(&s2, &b2, sizeof s2);",
    "  return dlc_selectf(x != x, x, p * s1 * s2);",
    "}",
};

static const char *const logf_text[] = {
    "/* log(x) = k ln2 + log(1 + f), x = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2));",
    " * log(1 + f) = f - f^2/2 + f^3 P(f), P minimax.  Denormals are scaled by 2^23 first;",
    " * log(+-0) = -inf, log(x < 0) = NaN, log(inf) = inf. */",
    "DLC_INLINE float dlc_logf(float x) {",
    "  float xs = x * 8388608.0f, k, m, f, z, y;",
    "  uint32_t bx, bs, tiny, b;",
    "  memcpy(&bx, &x, sizeof bx);",
    "  memcpy(&bs, &xs, sizeof bs);",
    "  tiny = 0u - (uint32_t)(bx < 0x00800000u); /* +0 and the denormals */",
    "  b = ((bs & tiny) | (bx & ~tiny)) + (0x3f800000u - 0x3f3504f3u);",
    "  k = (float)((int32_t)(b >> 23) - 127 - (int32_t)(tiny & 23u));",
    "  b = (b & 0x007fffffu) + 0x3f3504f3u;",
    "  memcpy(&m, &b, sizeof m);",
    "  f = m - 1.0f;",
    "  z = f * f;",
    "  y = f * z * (0.333333313f + f * (-0.250008374f + f * (0.200012922f + f * (-0.166227654f",
    "      + f * (0.14199695f + f * (-0.131641865f + f * (0.127791151f + f * -0.0764610469f)))))));",
    "  y = k * -0.000212194442f + y - 0.5f * z + f + k * 0.693359375f;",
    "  y = dlc_selectf(x == 0.0f, -INFINITY, y);",
    "  y = dlc_selectf(x < 0.0f, NAN, y);",
    "  y = dlc_selectf(x == INFINITY, x, y);",
    "  return dlc_selectf(x != x, x, y);",
    "}",
};

static const char *const tanhf_text[] = {
    "/* tanh(x) = sign(x) (|x| + |x|^3 R(x^2)) below 0.75, R minimax, else",
    " * sign(x) (1 - 2 / (exp(2|x|) + 1)), |x| limited to 9.5, past which it rounds to 1.",
    " * NaN takes the first form, which keeps it. */",
    "DLC_INLINE float dlc_tanhf(float x) {",
    "  float a = fabsf(x), z = a * a;",
    "  float s = a + a * z * (-0.333333164f + z * (0.133326948f + z * (-0.0538927242f",
    "      + z * (0.0214520339f + z * (-0.00765725505f + z * 0.00173693569f)))));",
    "  float l = 1.0f - 2.0f / (dlc_expf(2.0f * dlc_clampf(a, 9.5f)) + 1.0f);",
    "  return copysignf(dlc_selectf(a >= 0.75f, l, s), x);",
    "}",
};

static const char *const erff_text[] = {
    "/* erf(x) = sign(x) (|x| + |x| R(x^2)) below 1, R minimax, else",
    " * sign(x) (1 - exp(-x^2) Q(|x|)), Q a minimax fit of erfc(x) exp(x^2) around 2.5,",
    " * |x| limited to 4, past which erf rounds to 1.  NaN takes the first form. */",
    "DLC_INLINE float dlc_erff(float x) {",
    "  float a = fabsf(x), z = a * a, c = dlc_clampf(a, 4.0f), u = c - 2.5f;",
    "  float s = a + a * (0.128379166f + z * (-0.37612626f + z * (0.112835854f",
    "      + z * (-0.0268538129f + z * (0.00518832775f + z * (-0.000801019371f",
    "      + z * 7.85386146e-05f))))));",
    "  float q = 0.210811019f + u * (-0.0742712989f + u * (0.025166098f + u * (-0.00802125875f",
    "      + u * (0.00144550262f + u * (-0.00247802958f + u * (-0.00103963341f",
    "      + u * -0.000431746565f))))));",
    "  float l = 1.0f - dlc_expf(-c * c) * q;",
    "  return copysignf(dlc_selectf(a >= 1.0f, l, s), x);",
    "}",
};

static const char *const sqrtf_text[] = {
    "/* sqrt(x), correctly rounded (the same bits as sqrtf), where the target fuses",
    " * multiply-adds; libm's sqrtf may set errno, which keeps its loop scalar (Adam's",
    " * update).  1/sqrt(s) from the bit pattern and two Newton steps, s r and one fused",
    " * correction (within an ulp), then Tuckerman's test: y up (y + ulp) < s exactly",
    " * (an FMA's sign) means y is one ulp low, y dn >= s one high.  Below 2^-100, s = x",
    " * 2^50 keeps that residue normal; 0, +inf and NaN keep their value, x < 0 gives NaN. */",
    "#if defined(__GNUC__)",
    "#define DLC_NOINLINE __attribute__((noinline)) /* the kernels that call it (kernel.c) */",
    "#else",
    "#define DLC_NOINLINE",
    "#endif",
    "DLC_INLINE float dlc_sqrtf(float x) {",
    "#ifdef FP_FAST_FMAF",
    "  int finite = (x > 0.0f) & (x <= 0x1.fffffep127f), tiny = x < 0x1p-100f;",
    "  float s = dlc_selectf(finite, x, 1.0f) * dlc_selectf(tiny, 0x1p50f, 1.0f), r, y, up, dn;",
    "  uint32_t u;",
    "  memcpy(&u, &s, sizeof u);",
    "  u = 0x5f375a86u - (u >> 1);",
    "  memcpy(&r, &u, sizeof r);",
    "  r = r * (1.5f - 0.5f * s * r * r);",
    "  r = r * (1.5f - 0.5f * s * r * r);",
    "  y = s * r;",
    "  y = fmaf(fmaf(-y, y, s), 0.5f * r, y);",
    "  memcpy(&u, &y, sizeof u);",
    "  u += 1u;",
    "  memcpy(&up, &u, sizeof up);",
    "  u -= 2u;",
    "  memcpy(&dn, &u, sizeof dn);",
    "  y = dlc_selectf(fmaf(y, up, -s) < 0.0f, up, dlc_selectf(fmaf(y, dn, -s) >= 0.0f, dn, y));",
    "  y *= dlc_selectf(tiny, 0x1p-25f, 1.0f);",
    "  return dlc_selectf(finite, y, dlc_selectf(x >= 0.0f, x, NAN));",
    "#else",
    "  return sqrtf(x);",
    "#endif",
    "}",
};

/* In the order they are written: each after the ones it calls. */
typedef struct VecFn {
  const char *name;      /* the word after '@' in the cexpr column: dlc_<name>f */
  unsigned needs;        /* mask of the entries it calls */
  const char *const *text;
  size_t lines;
} VecFn;

#define LINES(a) a, sizeof a / sizeof a[0]
enum { VEC_HELPERS = 1u << 0, VEC_EXP = 1u << 1 };
static const VecFn fns[] = {
    {"", 0, LINES(helpers)},
    {"exp", VEC_HELPERS, LINES(expf_text)},
    {"log", VEC_HELPERS, LINES(logf_text)},
    {"tanh", VEC_HELPERS | VEC_EXP, LINES(tanhf_text)},
    {"erf", VEC_HELPERS | VEC_EXP, LINES(erff_text)},
    {"sqrt", VEC_HELPERS, LINES(sqrtf_text)},
};
#undef LINES
enum { VEC_COUNT = sizeof fns / sizeof fns[0] };

bool cgen_vecmath_used(const CEmit *ce, const Node *n) {
  const char *t = ir_ops[n->op].cexpr;
  return !ce->device && n->nin > 0 && t && strchr(t, '@') &&
         cgen_in(ce, n, n->nin - 1)->dtype == DT_F32;
}

/* The entry named by the word after '@' in node n's template. */
static unsigned fn_bit(const Node *n) {
  const char *w = strchr(ir_ops[n->op].cexpr, '@') + 1;
  for (int i = 1; i < VEC_COUNT; i++) {
    size_t len = strlen(fns[i].name);
    if (!strncmp(w, fns[i].name, len) && w[len] == '$') return 1u << i;
  }
  DLC_ASSERT(!"ops.def marks with '@' a function vecmath.c lacks");
  return 0;
}

void cgen_c_vecmath(CEmit *ce) {
  unsigned need = 0;
  for (int t = 0; t < ce->s->nk; t++)
    for (int j = 0; j < ce->s->k[t].n; j++) {
      const Node *n = ce->g->nodes[ce->s->k[t].nodes[j]];
      if (cgen_vecmath_used(ce, n)) need |= fn_bit(n);
    }
  for (int i = VEC_COUNT - 1; i >= 0; i--)
    if (need & 1u << i) need |= fns[i].needs;
  for (int i = 0; i < VEC_COUNT; i++) {
    if (!(need & 1u << i)) continue;
    cgen_printf(ce, "\n");
    cgen_lines(ce, fns[i].text, fns[i].lines);
  }
}

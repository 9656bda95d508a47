/* target.c — the CPUs the C backend writes code for: one row each (BLIS's "context").
 *
 * A row gives the register tile of the f32 products (MR rows by NR columns, NR a
 * whole number of vectors), the vector operations the tile is written with (Intel's
 * or Arm's intrinsics, or plain C loops that the compiler vectorises), the function
 * attribute that lets the kernels use the ISA whatever flags the file is built with,
 * and the run-time test that NAME_init makes before any kernel runs, so that a CPU
 * without the ISA gets a status instead of an illegal instruction.
 *
 * The tiles follow the register files: AVX-512 has 32 vector registers, so 8 rows by
 * two 16-float vectors keep 16 sums, two panel vectors and a broadcast live; AVX2 and
 * SSE have 16, so 6 rows by two vectors (12 sums, BLIS's Haswell shape); NEON has 32
 * of 4 floats, 8 rows by two.  AVX2's matmul (not conv) runs 3 rows by two panels
 * instead (3 x 32: 12 sums still, but 3 broadcasts and 4 panel loads per k for 6 and
 * 2, and three streams of A for six), about 15% faster on the transformers' products
 * on Zen 4 (docs/PERFORMANCE.md); the convolutions' narrow panels lose with it.  Intrinsics rather than vector extensions: they pin
 * the vector width (gcc's znver1 tuning would otherwise split 256-bit loops into
 * 128-bit ones) and the fused multiply-add (ISO C modes forbid contracting a * b + c).
 * Either way every sum is the same chain of roundings as the plain C tile's DLC_FMAF
 * (fused where the target has FMA, a multiply and an add where it has not), so the
 * targets differ in speed, not in results. */
#include <stdlib.h>
#include <string.h>

#include "cgen_c.h"

static const char *const v_sse[] = {
    "#include <immintrin.h>",
    "#define DLC_VF __m128",
    "#define DLC_VZERO() _mm_setzero_ps()",
    "#define DLC_VLOAD(p) _mm_loadu_ps(p)",
    "#define DLC_VSET1(x) _mm_set1_ps(x)",
    "#define DLC_VFMA(a, b, c) _mm_add_ps(_mm_mul_ps(a, b), c) /* no FMA before x86-64-v3 */",
    "#define DLC_VSTORE(p, v) _mm_storeu_ps(p, v)",
};

static const char *const v_avx2[] = {
    "#include <immintrin.h>",
    "#define DLC_VF __m256",
    "#define DLC_VZERO() _mm256_setzero_ps()",
    "#define DLC_VLOAD(p) _mm256_loadu_ps(p)",
    "#define DLC_VSET1(x) _mm256_set1_ps(x)",
    "#define DLC_VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)",
    "#define DLC_VSTORE(p, v) _mm256_storeu_ps(p, v)",
};

static const char *const v_avx512[] = {
    "#include <immintrin.h>",
    "#define DLC_VF __m512",
    "#define DLC_VZERO() _mm512_setzero_ps()",
    "#define DLC_VLOAD(p) _mm512_loadu_ps(p)",
    "#define DLC_VSET1(x) _mm512_set1_ps(x)",
    "#define DLC_VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)",
    "#define DLC_VSTORE(p, v) _mm512_storeu_ps(p, v)",
};

static const char *const v_neon[] = {
    "#include <arm_neon.h>",
    "#define DLC_VF float32x4_t",
    "#define DLC_VZERO() vdupq_n_f32(0.0f)",
    "#define DLC_VLOAD(p) vld1q_f32(p)",
    "#define DLC_VSET1(x) vdupq_n_f32(x)",
    "#define DLC_VFMA(a, b, c) vfmaq_f32(c, a, b)",
    "#define DLC_VSTORE(p, v) vst1q_f32(p, v)",
};

#define N(a) (int)(sizeof a / sizeof a[0])
#define X86 "defined(__GNUC__) && defined(__x86_64__)"

static const CpuTarget targets[] = {
    {"generic", "portable C: loops the compiler vectorises for whatever it targets", "", NULL, NULL, NULL,
     0, 6, 8, NULL, 0, 1},
    {"x86-64-v2", "SSE4.2 (128-bit vectors, no FMA)", "-march=x86-64-v2", X86, "sse4.2",
     "__builtin_cpu_supports(\"sse4.2\")", 4, 6, 8, v_sse, N(v_sse), 1},
    {"x86-64-v3", "AVX2 and FMA (256-bit vectors, 16 registers)", "-march=x86-64-v3", X86, "avx2,fma",
     "__builtin_cpu_supports(\"avx2\") && __builtin_cpu_supports(\"fma\")", 8, 6, 16, v_avx2, N(v_avx2), 2},
    {"x86-64-v4", "AVX-512 F/BW/DQ/VL (512-bit vectors, 32 registers)", "-march=x86-64-v4", X86,
     "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma",
     "__builtin_cpu_supports(\"avx512f\") && __builtin_cpu_supports(\"avx512bw\") && "
     "__builtin_cpu_supports(\"avx512dq\") && __builtin_cpu_supports(\"avx512vl\") && "
     "__builtin_cpu_supports(\"fma\")",
     16, 8, 32, v_avx512, N(v_avx512), 1},
    /* x86-64-v4 does not imply VNNI (Skylake-X lacks it): the int8 products' vpdpbusd
     * (matmul_int.c) has a row of its own, checked at init like the others */
    {"x86-64-v4-vnni", "x86-64-v4 with AVX512_VNNI (int8 dot products: Cascade Lake, Ice Lake, Zen 4)",
     "-march=x86-64-v4 -mavx512vnni", X86, "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma",
     "__builtin_cpu_supports(\"avx512f\") && __builtin_cpu_supports(\"avx512bw\") && "
     "__builtin_cpu_supports(\"avx512dq\") && __builtin_cpu_supports(\"avx512vl\") && "
     "__builtin_cpu_supports(\"avx512vnni\") && __builtin_cpu_supports(\"fma\")",
     16, 8, 32, v_avx512, N(v_avx512), 1},
    {"aarch64", "Armv8-A with NEON (128-bit vectors, 32 registers)", "", "defined(__aarch64__)", NULL, NULL,
     4, 8, 8, v_neon, N(v_neon), 1},
};

const CpuTarget *cgen_cpu_find(const char *name) {
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    if (!strcmp(targets[i].name, name)) return &targets[i];
  return NULL;
}

/* The row for the CPU this process runs on. */
const CpuTarget *cgen_cpu_native(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma"))
    return cgen_cpu_find(__builtin_cpu_supports("avx512vnni") ? "x86-64-v4-vnni" : "x86-64-v4");
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return cgen_cpu_find("x86-64-v3");
  if (__builtin_cpu_supports("sse4.2")) return cgen_cpu_find("x86-64-v2");
  return cgen_cpu_find("generic");
#elif defined(__aarch64__)
  return cgen_cpu_find("aarch64");
#else
  return cgen_cpu_find("generic");
#endif
}

const CpuTarget *cgen_cpu_resolve(const char *name) {
  if (!name || !*name) name = getenv("DLC_CPU");
  return !name || !*name || !strcmp(name, "native") ? cgen_cpu_native() : cgen_cpu_find(name);
}

const char *cgen_cpu_cflags(const char *name) {
  if (!name || !*name) name = getenv("DLC_CPU");
  if (!name || !*name || !strcmp(name, "native")) return "-march=native";
  const CpuTarget *t = cgen_cpu_find(name);
  return t ? t->cflags : "";
}

/* x86 rows in order of what they need: each runs where the next one does. */
static int x86_level(const CpuTarget *t) {
  static const char *const order[] = {"generic", "x86-64-v2", "x86-64-v3", "x86-64-v4", "x86-64-v4-vnni"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(t->name, order[i])) return i;
  return -1;
}

bool cgen_cpu_runs_here(const CpuTarget *t) {
  const CpuTarget *host = cgen_cpu_native();
  if (!strcmp(t->name, "generic") || t == host) return true;
  return x86_level(t) > 0 && x86_level(host) >= x86_level(t);
}

void cgen_cpu_list(FILE *f) {
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    fprintf(f, "  %-10s %s\n", targets[i].name, targets[i].desc);
}

/* ---- in the generated file ---- */

/* After the includes: what the compiler must be, the vector macros, the kernels'
 * attribute and the CPU test. */
void cgen_cpu_prelude(CEmit *ce) {
  const CpuTarget *t = ce->cpu;
  cgen_printf(ce, "\n/* Target CPU: %s, %s (dlc --cpu). */\n", t->name, t->desc);
  if (t->guard) {
    cgen_printf(ce, "#if !(%s)\n#error \"this file was generated for %s (dlc --cpu %s): build it with gcc "
                    "or clang for that architecture, or generate it again with --cpu generic\"\n#endif\n",
                t->guard, t->name, t->name);
  }
  if (t->nvmacros) cgen_lines(ce, t->vmacros, (size_t)t->nvmacros);
  if (t->attr) cgen_printf(ce, "#define DLC_KERNEL __attribute__((target(\"%s\")))\n", t->attr);
  else cgen_printf(ce, "#define DLC_KERNEL\n");
  cgen_printf(ce, "#define DLC_CPU_OK() (%s)\n", t->check ? t->check : "1");
}

/* The int8 products' kernels (matmul_int.c): VNNI's vpdpbusd, else AVX-512's or AVX2's
 * vpmaddwd on values widened to 16 bits, else plain C. */
CgenInt8 cgen_int8_isa(const CEmit *ce) {
  const CpuTarget *t = ce->cpu;
  if (t->attr && strstr(t->attr, "avx512vnni")) return INT8_VNNI;
  if (t->attr && t->vw == 16) return INT8_MADD512;
  if (t->attr && t->vw == 8) return INT8_MADD256;
  return INT8_PLAIN;
}

bool cgen_tile_vector(const CEmit *ce, DType t) { return t == DT_F32 && ce->cpu->vw > 0; }

int cgen_tile_mr(const CEmit *ce, DType t) { return t == DT_F32 ? ce->cpu->mr : 4; }

int cgen_tile_nr(const CEmit *ce, DType t) { return t == DT_F32 ? ce->cpu->nr : 8; }

int cgen_tile_nr_narrow(const CEmit *ce, DType t) {
  int vw = ce->cpu->vw;
  return cgen_tile_vector(ce, t) && vw > 0 && cgen_tile_nr(ce, t) > vw && cgen_tile_nr(ce, t) % vw == 0 ? vw : 0;
}

int cgen_tile_wide(const CEmit *ce, DType t) {
  int w = ce->cpu->mm_wide;
  return cgen_tile_vector(ce, t) && w > 1 && ce->cpu->mr % w == 0 ? w : 1;
}

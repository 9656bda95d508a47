/* test_cgen_math.c — the C backend's own f32 exp, log, tanh, erf and sqrt (codegen/c/vecmath.c)
 * and sigmoid as the frontends build it (recip(1 + exp(-x))), as generated and built by
 * the jit, against double-precision libm: every 97th bit pattern of the 2^32 floats and
 * the edge cases (+-0, +-inf, NaN, denormals, the overflow and underflow thresholds).
 * The error is counted in ulps of the correctly rounded result; sqrt must give it
 * exactly (and rsqrt 1 / it).  The code is built
 * twice: under the strict flags of the other tests, and at -O3 -march=native
 * -ffp-contract=fast, where the loops vectorise and products may fuse into FMAs.
 *
 * `test_cgen_math STRIDE` sweeps every STRIDE-th pattern instead (1: all of them). */
#include <float.h>

#include "cgen_util.h"

enum { CHUNK = 1 << 16, NFN = 7, NBUILD = 2 };

typedef struct Fn {
  const char *name;
  double (*ref)(double);
  double max_ulp;  /* for results of normal size */
  double tiny_abs; /* for results below FLT_MIN: the largest absolute error */
  bool exact;      /* the correctly rounded float, bit for bit */
} Fn;

static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* 1 / the correctly rounded sqrt, as the generated code divides. */
static double rsqrt_f(double x) { return (double)(1.0f / (float)sqrt(x)); }

/* sigmoid's exp(-x) overflows below -88.7, where its true value is a denormal: 0. */
static const Fn fns[NFN] = {
    {"exp", exp, 1.5, 0x1p-149, false},
    {"log", log, 1.5, 0x1p-149, false},
    {"tanh", tanh, 1.5, 0x1p-149, false},
    {"erf", erf, 1.5, 0x1p-149, false},
    {"sigmoid", sigmoid, 3, FLT_MIN, false},
    {"sqrt", sqrt, 0.5, 0, true},
    {"rsqrt", rsqrt_f, 0, 0, true},
};

typedef struct Worst {
  double ulp, rel; /* the largest seen, and where */
  float at_ulp, at_rel;
  int bad;
} Worst;

static Graph *math_graph(DType t) {
  Graph *g = ir_graph_new("math");
  int x = ir_input(g, "x", t, SHP(CHUNK));
  cg_out(g, ir_unary(g, OP_EXP, x));
  cg_out(g, ir_unary(g, OP_LOG, x));
  cg_out(g, ir_unary(g, OP_TANH, x));
  cg_out(g, ir_unary(g, OP_ERF, x));
  int e = ir_unary(g, OP_EXP, ir_unary(g, OP_NEG, x));
  cg_out(g, ir_unary(g, OP_RECIP, ir_binary(g, OP_ADD, ir_scalar(g, t, 1), e)));
  cg_out(g, ir_unary(g, OP_SQRT, x));
  cg_out(g, ir_unary(g, OP_RSQRT, x));
  return g;
}

static bool file_has(const char *dir, const char *needle) {
  char p[4200], line[4096];
  snprintf(p, sizeof p, "%s/model.c", dir);
  FILE *f = fopen(p, "r");
  bool found = false;
  while (f && !found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
  if (f) fclose(f);
  return found;
}

/* The model, with dlc's functions in its source (f32) or libm's (f64). */
static JitModel *build(Graph *g, const char *cflags, bool own) {
  DlcErr e = {{0}};
  JitOptions o = {.cflags = cflags, .keep = true};
  JitModel *m = jit_build(g, &o, &e);
  if (!m) {
    fprintf(stderr, "jit_build (%s) failed: %s\n", cflags, e.msg);
    check_failures++;
    return NULL;
  }
  static const char *const names[] = {"dlc_expf(", "dlc_logf(", "dlc_tanhf(", "dlc_erff(", "dlc_sqrtf("};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (file_has(jit_dir(m), names[i]) != own) {
      fprintf(stderr, "%s: %s %s\n", jit_dir(m), own ? "lacks" : "has", names[i]);
      check_failures++;
    }
  return m;
}

static void drop(JitModel *m) {
  if (!m) return;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", jit_dir(m));
  jit_free(m);
  cg_remove_dir(dir);
}

/* The ulp of a finite float: 2^-23 of its power of two, 2^-149 below FLT_MIN. */
static double ulp_of(float f) {
  uint32_t u;
  float p;
  memcpy(&u, &f, sizeof u);
  u &= 0x7f800000u;
  memcpy(&p, &u, sizeof p);
  return u ? p * 0x1p-23 : 0x1p-149;
}

static void report_bad(const Fn *f, Worst *w, float x, float got, double want, const char *why) {
  if (w->bad++ < 5) fprintf(stderr, "%s(%a) = %a, want %a (%s)\n", f->name, x, got, want, why);
}

static void compare(const Fn *f, Worst *w, float x, float got, double want) {
  float wf = (float)want;
  if (f->exact && memcmp(&got, &wf, sizeof got) && !(isnan(got) && isnan(wf))) report_bad(f, w, x, got, want, "not exact");
  /* correctly rounded: within 0.5 ulp and 2^-24 relative, below the worst already seen */
  if (got == wf && wf != 0 && w->ulp >= 0.5 && w->rel >= 0x1p-24) return;
  if (isnan(want) || isnan(got)) {
    if (!(isnan(want) && isnan(got))) report_bad(f, w, x, got, want, "NaN");
  } else if (isinf(wf) || isinf(got)) {
    if (wf != got) report_bad(f, w, x, got, want, "overflow");
  } else if (want == 0 || got == 0) {
    if (fabs(got - want) > f->tiny_abs || (got == wf && !signbit(got) != !signbit(wf)))
      report_bad(f, w, x, got, want, "zero");
  } else if (fabs(want) < FLT_MIN) {
    if (fabs(got - want) > f->tiny_abs) report_bad(f, w, x, got, want, "denormal");
  } else {
    double err = fabs(got - want), u = err / ulp_of(wf), rel = err / fabs(want);
    if (u > w->ulp) w->ulp = u, w->at_ulp = x;
    if (rel > w->rel) w->rel = rel, w->at_rel = x;
  }
}

/* Zeros, infinities, NaNs, the ends of the normals and denormals; where exp overflows,
 * turns denormal, reaches the smallest denormal and rounds to 0; where tanh and erf
 * change form and reach 1; the ends of log's range of 1 + f. */
static const float edges[] = {
    0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MIN, -FLT_MIN, 0x1p-149f, -0x1p-149f,
    0x1.fffffcp-127f, FLT_MAX, -FLT_MAX, 1.0f, -1.0f,
    0x1.62e42ep+6f, 0x1.62e430p+6f, -0x1.5d58a0p+6f, -0x1.9d1da0p+6f, -0x1.9fe368p+6f, -0x1.9fe36ap+6f,
    -104.0f, 104.0f, 0.75f, -0.75f, 0x1.7ffffep-1f, 9.01f, 9.5f, -9.5f, 1e-4f,
    4.0f, -4.0f, 0x1.fffffep-1f, 0x1.6a09e6p-1f, 0x1.6a09e8p-1f, 0x1.6a09e6p+0f};

/* Fills x from pattern *next on (the edges first), every stride-th; the count. */
static int fill(float *x, uint64_t *next, uint64_t stride, int *edge) {
  int n = 0;
  for (; *edge < (int)(sizeof edges / sizeof edges[0]) && n < CHUNK; ++*edge) x[n++] = edges[*edge];
  for (; *next < 0x100000000ull && n < CHUNK; *next += stride) {
    uint32_t u = (uint32_t)*next;
    memcpy(&x[n++], &u, sizeof u);
  }
  return n;
}

static void sweep(uint64_t stride) {
  static const char *const flags[NBUILD] = {CGEN_STRICT, "-O3 -march=native -ffp-contract=fast"};
  static float x[CHUNK], y[NBUILD][NFN][CHUNK];
  Graph *g = math_graph(DT_F32);
  JitModel *m[NBUILD];
  Worst w[NBUILD][NFN] = {{{0}}};
  for (int b = 0; b < NBUILD; b++) m[b] = build(g, flags[b], true);
  uint64_t next = 0;
  int edge = 0, n;
  while (m[0] && m[1] && (n = fill(x, &next, stride, &edge)) > 0) {
    for (int i = n; i < CHUNK; i++) x[i] = 1; /* the last chunk's tail */
    for (int b = 0; b < NBUILD; b++) {
      DlcErr e = {{0}};
      const void *in[1] = {x};
      void *out[NFN] = {y[b][0], y[b][1], y[b][2], y[b][3], y[b][4], y[b][5], y[b][6]};
      if (jit_run(m[b], in, out, &e)) fprintf(stderr, "jit_run: %s\n", e.msg), check_failures++;
    }
    for (int f = 0; f < NFN; f++)
      for (int i = 0; i < n; i++) {
        double want = fns[f].ref((double)x[i]);
        for (int b = 0; b < NBUILD; b++) compare(&fns[f], &w[b][f], x[i], y[b][f][i], want);
      }
  }
  for (int b = 0; b < NBUILD; b++)
    for (int f = 0; f < NFN; f++) {
      const Worst *v = &w[b][f];
      printf("%-8s %-42s max %.3f ulp at %a, max relative %.3g at %a\n", fns[f].name, flags[b], v->ulp,
             v->at_ulp, v->rel, v->at_rel);
      if (v->bad || (!fns[f].exact && v->ulp > fns[f].max_ulp) || v->rel > 2e-7) {
        fprintf(stderr, "%s (%s): %d wrong special values, %.3f ulp (bound %.1f)\n", fns[f].name,
                flags[b], v->bad, v->ulp, fns[f].max_ulp);
        check_failures++;
      }
    }
  for (int b = 0; b < NBUILD; b++) drop(m[b]);
  ir_graph_free(g);
}

/* f64 keeps libm's functions. */
static void f64_uses_libm(void) {
  Graph *g = math_graph(DT_F64);
  drop(build(g, CGEN_STRICT, false));
  ir_graph_free(g);
}

int main(int argc, char **argv) {
  uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 97;
  sweep(stride ? stride : 1);
  f64_uses_libm();
  return check_report("test_cgen_math");
}

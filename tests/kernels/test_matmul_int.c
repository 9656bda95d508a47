/* test_matmul_int.c — the int8 product (matmul_int, codegen/c/matmul_int.c) against the
 * reference interpreter, exactly: every pairing of u8 and i8 operands, shapes around the
 * tile (ragged M, N and K, K of 1, K not a multiple of the tile's group of 4 or 2, rows
 * over several blocks), broadcast batches, B baked into the code or packed while the
 * kernel runs (a weights file), threads, and deep products of extreme values whose
 * sums come near the i32 range.  The target CPU comes from $DLC_CPU (CMakeLists.txt
 * runs it for each x86 row that has its own int8 tile). */
#include "cgen.h"
#include "kern_util.h"

static uint64_t seed = 5;

/* Operand values: a third at the type's extremes, the rest uniform over its range. */
static void fill(DType t, void *typed, double *dbl, int64_t n, uint64_t *s) {
  double lo = dtype_lowest(t), hi = dtype_highest(t);
  for (int64_t k = 0; k < n; k++) {
    double u = rnd_unit(s), v = u < 1.0 / 6 ? lo : u < 1.0 / 3 ? hi : floor(lo + (hi - lo + 1) * rnd_unit(s));
    dtype_store(t, typed, k, v);
    dbl[k] = dtype_load(t, typed, k);
  }
}

/* A weight of dtype t, uniform over [lo, hi] (lo == hi: constant). */
static int weight(Graph *g, DType t, Shape s, double lo, double hi) {
  char name[32];
  snprintf(name, sizeof name, "w%d", g->n);
  return ir_param(g, name, t, s, (Init){INIT_UNIFORM, lo, hi, seed++});
}

static int input(Graph *g, DType t, Shape s) {
  char name[32];
  snprintf(name, sizeof name, "x%d", g->n);
  return ir_input(g, name, t, s);
}

/* Builds, runs and compares every output with the interpreter, exactly. */
static void check(Graph *g, const char *what, int64_t embed_max, int threads) {
  DlcErr e = {{0}};
  int ni = ir_num_inputs(g), no = g->nout, before = check_failures;
  void **in = calloc((size_t)ni + 1, sizeof(void *)), **out = calloc((size_t)no + 1, sizeof(void *));
  double **din = calloc((size_t)ni + 1, sizeof(double *)), **dout = calloc((size_t)no + 1, sizeof(double *));
  uint64_t s = 17;
  for (int k = 0; k < ni; k++) {
    const Node *n = g->nodes[ir_input_id(g, k)];
    int64_t cnt = shape_numel(&n->shape);
    in[k] = malloc((size_t)cnt + 1), din[k] = malloc(sizeof(double) * ((size_t)cnt + 1));
    fill(n->dtype, in[k], din[k], cnt, &s);
  }
  for (int j = 0; j < no; j++) {
    int64_t cnt = shape_numel(&g->nodes[g->out[j]]->shape);
    out[j] = calloc((size_t)cnt + 1, 4), dout[j] = calloc((size_t)cnt + 1, sizeof(double));
  }
  if (ir_verify(g, &e) || interp_run(g, (const double *const *)din, dout, &e)) {
    fprintf(stderr, "%s: %s\n", what, e.msg);
    check_failures++;
  } else {
    JitOptions o = {.cflags = getenv("DLC_TEST_O3") ? CGEN_STRICT " -O3" : CGEN_STRICT, .embed_max_bytes = embed_max,
                    .keep = true, .threads = threads};
    JitModel *m = jit_build(g, &o, &e);
    if (!m || jit_run(m, (const void *const *)in, out, &e)) {
      fprintf(stderr, "%s: %s\n", what, e.msg);
      check_failures++;
    } else {
      KCase c = {.g = g};
      for (int j = 0; j < no; j++) ku_compare(&c, j, out[j], dout[j], what);
      cg_clang(jit_dir(m), what);
    }
    if (m) {
      char dir[4096];
      snprintf(dir, sizeof dir, "%s", jit_dir(m));
      jit_free(m);
      if (check_failures == before) cg_remove_dir(dir);
      else fprintf(stderr, "%s: generated code kept in %s\n", what, dir);
    }
  }
  for (int k = 0; k < ni; k++) free(in[k]), free(din[k]);
  for (int j = 0; j < no; j++) free(out[j]), free(dout[j]);
  free(in), free(din), free(out), free(dout);
  ir_graph_free(g);
}

/* Around the tiles (8 or 6 or 4 rows; 32, 16 or 8 columns; K in groups of 4, 2 or 1),
 * and rows over several blocks of 48 or 64. */
static const int64_t mkn[][3] = {{1, 1, 1},   {1, 5, 16},  {2, 3, 17},   {7, 16, 15}, {8, 9, 33},
                                 {9, 17, 32}, {6, 2, 31},  {17, 64, 40}, {1, 7, 133}, {67, 20, 70},
                                 {130, 9, 48}, {3, 1, 65}, {13, 6, 8}};

static double lo_of(DType t) { return dtype_lowest(t); }
static double hi_of(DType t) { return dtype_highest(t); }

/* Every shape of mkn with A of dtype ta and B of tb; B a weight or an input. */
static void shapes(DType ta, DType tb, bool weight_b, int64_t embed_max, const char *what) {
  Graph *g = ir_graph_new("mmint");
  for (size_t s = 0; s < sizeof mkn / sizeof mkn[0]; s++) {
    int64_t m = mkn[s][0], k = mkn[s][1], n = mkn[s][2];
    int a = input(g, ta, SHP(m, k));
    int b = weight_b ? weight(g, tb, SHP(k, n), lo_of(tb), hi_of(tb)) : input(g, tb, SHP(k, n));
    cg_out(g, ir_matmul_int(g, a, b));
  }
  check(g, what, embed_max, 0);
}

/* Batches: folded ([.., M, K] x [K, N]), broadcast on both sides, and B per matrix. */
static void batches(DType ta, DType tb) {
  Graph *g = ir_graph_new("mmintb");
  int a = input(g, ta, SHP(2, 3, 5, 7)), b = weight(g, tb, SHP(7, 9), lo_of(tb), hi_of(tb));
  cg_out(g, ir_matmul_int(g, a, b));
  a = input(g, ta, SHP(2, 1, 4, 6)), b = input(g, tb, SHP(3, 6, 35));
  cg_out(g, ir_matmul_int(g, a, b));
  a = input(g, ta, SHP(4, 10, 11)), b = weight(g, tb, SHP(4, 11, 19), lo_of(tb), hi_of(tb));
  cg_out(g, ir_matmul_int(g, a, b));
  char what[64];
  snprintf(what, sizeof what, "matmul_int batches %s x %s", dtype_name(ta), dtype_name(tb));
  check(g, what, 0, 0);
}

/* Deep sums of the extremes: K = 8000 of 255 * -128, -128 * -128, 255 * 255, ...  (all
 * within i32), beside random operands of the same depth, rows over threads. */
static void deep(void) {
  static const DType t[2] = {DT_U8, DT_I8};
  Graph *g = ir_graph_new("mmintdeep");
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      for (int ea = 0; ea < 2; ea++) {
        double va = ea ? hi_of(t[i]) : lo_of(t[i]), vb = ea ? lo_of(t[j]) : hi_of(t[j]);
        int a = weight(g, t[i], SHP(3, 8000), va, va), b = weight(g, t[j], SHP(8000, 5), vb, vb);
        cg_out(g, ir_matmul_int(g, a, b));
        b = weight(g, t[j], SHP(8000, 5), va < 0 && t[j] == DT_I8 ? va : hi_of(t[j]),
                   va < 0 && t[j] == DT_I8 ? va : hi_of(t[j]));
        cg_out(g, ir_matmul_int(g, a, b));
      }
      int a = input(g, t[i], SHP(70, 3001)), b = input(g, t[j], SHP(3001, 37));
      cg_out(g, ir_matmul_int(g, a, b));
    }
  check(g, "matmul_int deep sums", 0, 0);
}

/* Enough rows and depth for the row blocks to be shared among threads. */
static void threaded(void) {
  Graph *g = ir_graph_new("mmintpar");
  int a = input(g, DT_U8, SHP(200, 130)), b = weight(g, DT_I8, SHP(130, 70), -128, 127);
  cg_out(g, ir_matmul_int(g, a, b));
  a = input(g, DT_I8, SHP(150, 99)), b = input(g, DT_U8, SHP(99, 45));
  cg_out(g, ir_matmul_int(g, a, b));
  check(g, "matmul_int threaded", 0, 2);
}

int main(void) {
  const CpuTarget *cpu = cgen_cpu_resolve(NULL);
  if (!cpu || !cgen_cpu_runs_here(cpu)) {
    printf("%s: skipped: this CPU cannot run code for %s\n", "test_matmul_int", getenv("DLC_CPU"));
    return 77;
  }
  printf("%s: target CPU %s\n", "test_matmul_int", cpu->name);
  static const DType t[2] = {DT_U8, DT_I8};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      char what[96];
      snprintf(what, sizeof what, "matmul_int %s x %s, B baked", dtype_name(t[i]), dtype_name(t[j]));
      shapes(t[i], t[j], true, 0, what);
      snprintf(what, sizeof what, "matmul_int %s x %s, B an input", dtype_name(t[i]), dtype_name(t[j]));
      shapes(t[i], t[j], false, 0, what);
      batches(t[i], t[j]);
    }
  shapes(DT_I8, DT_U8, true, 1, "matmul_int i8 x u8, B from a weights file");
  deep();
  threaded();
  return check_report("test_matmul_int");
}

/* test_cgen_strings.c — str values through the C backend, from C: inputs of our own
 * (UTF-8, empty strings, bytes that would break a careless C literal) and constants
 * holding hostile strings, every str op, the movement ops on strings, at -O0 and -O2,
 * each output compared with the reference interpreter (strcmp for str); the generated
 * code built with every warning an error (and by clang); the run-time statuses of a
 * full string heap and of a split over its bound; the interpreter's and the shape
 * rules' refusals.  Under the sanitizer build the jit instruments the generated code. */
#include "cgen_util.h"

static const char *const A[6] = {"ab", "", "héllo wörld", "?\?/", "a b  c", "Привет\tмир\n"};
static const char *const B[3] = {"", " ?", "é"};
static const char *const K[3] = {"?\?/\"*/\\", "\x01\x7f end", "ÀÉ and \xd0\x96"};

static int str_const(Graph *g, const char *s) { return ir_const(g, NULL, DT_STR, (Shape){0}, &s); }

static int op(Graph *g, Op o, int a, int b, const Attr *at, int nat) {
  int in[2] = {a, b};
  return ir_add(g, o, in, b < 0 ? 1 : 2, at, nat);
}

/* Every str op on a [2,3], b [3] and the constant k [3]. */
static Graph *model(void) {
  Graph *g = ir_graph_new("strs");
  int a = ir_input(g, "a", DT_STR, SHP(2, 3)), b = ir_input(g, "b", DT_STR, SHP(3));
  int k = ir_const(g, "k", DT_STR, SHP(3), K);
  Attr up[2] = {attr_int(A_UPPER, 1), attr_int(A_ASCII, 0)}, low[2] = {attr_int(A_UPPER, 0), attr_int(A_ASCII, 1)};
  int ab = op(g, OP_STR_CONCAT, a, b, NULL, 0), kab = op(g, OP_STR_CONCAT, k, ab, NULL, 0);
  cg_out(g, ab);
  cg_out(g, kab);
  cg_out(g, op(g, OP_STR_EQ, a, b, NULL, 0));
  cg_out(g, op(g, OP_STR_EQ, kab, kab, NULL, 0));
  int u = op(g, OP_STR_CASE, a, -1, up, 2);
  cg_out(g, u);
  cg_out(g, op(g, OP_STR_CASE, u, -1, low, 2));
  for (int part = 0; part < 2; part++)
    for (int most = -1; most < 2; most++) {
      Attr s[4] = {attr_int(A_MAXSPLIT, most), attr_int(A_PART, part), attr_int(A_BOUND, 8),
                   attr_dtype(A_DTYPE, part ? DT_I64 : DT_STR)};
      cg_out(g, op(g, OP_STR_SPLIT, a, str_const(g, ""), s, 4));
      cg_out(g, op(g, OP_STR_SPLIT, kab, str_const(g, "?"), s, 4));
    }
  cg_out(g, op(g, OP_STR_MATCH, a, str_const(g, "^[a-z ]*$"), NULL, 0));
  cg_out(g, op(g, OP_STR_MATCH, ab, str_const(g, "^(a|\\?)+.*$"), NULL, 0)); /* byte by byte: no ascii check */
  int64_t perm[2] = {1, 0};
  cg_out(g, ir_transpose(g, kab, perm));
  cg_out(g, ir_select(g, op(g, OP_STR_EQ, a, b, NULL, 0), k, a));
  Attr ax = attr_int(A_AXIS, 1);
  int idx = ir_const(g, NULL, DT_I64, SHP(2), (int64_t[]){2, -1}), in[2] = {kab, idx};
  cg_out(g, ir_add(g, OP_GATHER, in, 2, &ax, 1));
  Attr cat = attr_int(A_AXIS, 0);
  int both[2] = {a, ab};
  cg_out(g, ir_add(g, OP_CONCAT, both, 2, &cat, 1));
  /* numbers read from strings made at run time ("12", "3 ?", "4.5e1é": a number, then
   * text) and written back, with INF and NaN made from them */
  static const char *const N[3] = {"12", "3", "4.5e1"};
  int txt = op(g, OP_STR_CONCAT, ir_const(g, "n", DT_STR, SHP(3), N), b, NULL, 0);
  static const DType reads[4] = {DT_F32, DT_F64, DT_I64, DT_U64};
  int parsed[4];
  for (int t = 0; t < 4; t++) {
    Attr d = attr_dtype(A_DTYPE, reads[t]);
    cg_out(g, parsed[t] = op(g, OP_STR_PARSE, txt, -1, &d, 1));
    cg_out(g, op(g, OP_STR_FORMAT, parsed[t], -1, NULL, 0));
  }
  int inf = ir_binary(g, OP_MUL, parsed[0], ir_scalar(g, DT_F32, INFINITY));
  cg_out(g, op(g, OP_STR_FORMAT, inf, -1, NULL, 0));
  cg_out(g, op(g, OP_STR_FORMAT, ir_binary(g, OP_SUB, inf, inf), -1, NULL, 0));
  cg_out(g, op(g, OP_STR_FORMAT, ir_binary(g, OP_GT, parsed[2], ir_scalar(g, DT_I64, 3)), -1, NULL, 0));
  cg_out(g, op(g, OP_STR_FORMAT, ir_binary(g, OP_DIV, parsed[1], ir_scalar(g, DT_F64, 7)), -1, NULL, 0));
  return g;
}

/* Builds g at the passes given, runs it on A and B, compares with the interpreter. */
static void check_model(Graph *g, const PassOptions *po, const char *what) {
  DlcErr e = {{0}};
  const void *in[2] = {A, B};
  double da[6], db[3];
  for (int i = 0; i < 6; i++) da[i] = dtype_load(DT_STR, A, i);
  for (int i = 0; i < 3; i++) db[i] = dtype_load(DT_STR, B, i);
  const double *din[2] = {da, db};
  void *out[64];
  double *dout[64];
  CHECK(g->nout <= 64);
  for (int j = 0; j < g->nout; j++) {
    int64_t c = shape_numel(&g->nodes[g->out[j]]->shape);
    out[j] = calloc((size_t)c + 1, 8), dout[j] = calloc((size_t)c + 1, sizeof(double));
  }
  if (interp_run(g, din, dout, &e)) fprintf(stderr, "%s: interp: %s\n", what, e.msg), check_failures++;
  JitOptions o = {.cflags = CGEN_STRICT, .keep = true, .passes = po};
  JitModel *m = jit_build(g, &o, &e);
  if (!m) fprintf(stderr, "%s: %s\n", what, e.msg);
  CHECK(m != NULL);
  int before = check_failures, ran = m && !jit_run(m, in, out, &e);
  if (m && !ran) fprintf(stderr, "%s: %s\n", what, e.msg), check_failures++;
  for (int j = 0; ran && check_failures == before && j < g->nout; j++) {
    const Node *n = g->nodes[g->out[j]];
    for (int64_t i = 0; i < shape_numel(&n->shape); i++) {
      if (n->dtype != DT_STR) {
        CHECK(dtype_load(n->dtype, out[j], i) == dout[j][i]);
        continue;
      }
      const char *got = ((const char **)out[j])[i], *want = (const char *)(uintptr_t)dout[j][i];
      if (strcmp(got, want))
        fprintf(stderr, "%s: output %s[%lld]: got \"%s\", want \"%s\"\n", what, g->out_name[j], (long long)i, got, want),
            check_failures++;
    }
  }
  if (m) cg_clang(jit_dir(m), what);
  if (m) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", jit_dir(m));
    jit_free(m);
    if (check_failures == before) cg_remove_dir(dir);
  }
  for (int j = 0; j < g->nout; j++) free(out[j]), free(dout[j]);
}

/* A run that must fail with NAME_ERR_STRINGS: a heap too small, a split over its bound. */
static void check_fails(Graph *g, const char *what) {
  DlcErr e = {{0}};
  const void *in[1] = {A};
  void *out[4] = {0};
  for (int j = 0; j < g->nout; j++) out[j] = calloc((size_t)shape_numel(&g->nodes[g->out[j]]->shape) + 1, 8);
  JitOptions o = {.cflags = CGEN_STRICT};
  JitModel *m = jit_build(g, &o, &e);
  CHECK(m != NULL);
  int r = m ? jit_run(m, in, out, &e) : 0;
  if (!(r == -1 && strstr(e.msg, "string heap is full")))
    fprintf(stderr, "%s: expected the run to fail with ERR_STRINGS, got %d \"%s\"\n", what, r, e.msg), check_failures++;
  jit_free(m);
  for (int j = 0; j < g->nout; j++) free(out[j]);
}

static void failures(void) {
  int64_t heap = ir_limits.string_heap;
  ir_limits.string_heap = 24; /* "héllo wörld" twice is 27 bytes */
  Graph *g = ir_graph_new("heap");
  int a = ir_input(g, "a", DT_STR, SHP(2, 3));
  cg_out(g, op(g, OP_STR_CONCAT, a, a, NULL, 0));
  check_fails(g, "heap full");
  ir_graph_free(g);
  ir_limits.string_heap = heap;
  g = ir_graph_new("bound");
  a = ir_input(g, "a", DT_STR, SHP(2, 3));
  Attr s[4] = {attr_int(A_MAXSPLIT, -1), attr_int(A_PART, 0), attr_int(A_BOUND, 2), attr_dtype(A_DTYPE, DT_STR)};
  cg_out(g, op(g, OP_STR_SPLIT, a, str_const(g, ""), s, 4)); /* "a b  c" has 3 pieces */
  check_fails(g, "split bound");
  DlcErr e = {{0}};
  double da[6], dy[24];
  for (int i = 0; i < 6; i++) da[i] = dtype_load(DT_STR, A, i);
  const double *din[1] = {da};
  double *dout[1] = {dy};
  CHECK(interp_run(g, din, dout, &e) == -1 && strstr(e.msg, "over the bound of 2"));
  ir_graph_free(g);
  /* what the builders refuse */
  g = ir_graph_new("refused");
  a = ir_input(g, "a", DT_STR, SHP(2));
  int x = ir_input(g, "x", DT_F32, SHP(2));
  CHECK_FAILS(g, ir_binary(g, OP_ADD, a, a), "operand 1 is str");
  CHECK_FAILS(g, ir_cast(g, a, DT_F32), "operand 1 is str");
  CHECK_FAILS(g, ir_cast(g, x, DT_STR), "cannot give str");
  CHECK_FAILS(g, op(g, OP_STR_EQ, a, x, NULL, 0), "operand 2 is f32");
  CHECK_FAILS(g, op(g, OP_STR_MATCH, a, a, NULL, 0), "one constant string");
  CHECK_FAILS(g, op(g, OP_STR_MATCH, a, str_const(g, "a("), NULL, 0), "no POSIX extended regular expression");
  CHECK_FAILS(g, op(g, OP_STR_FORMAT, a, -1, NULL, 0), "x is str already");
  CHECK_FAILS(g, op(g, OP_STR_FORMAT, ir_cast(g, x, DT_F16), -1, NULL, 0), "cast it to f32 first");
  Attr d8 = attr_dtype(A_DTYPE, DT_I8);
  CHECK_FAILS(g, op(g, OP_STR_PARSE, a, -1, &d8, 1), "dtype is f32, f64, i64 or u64");
  ir_graph_free(g);
}

int main(void) {
  Graph *g = model();
  DlcErr e = {{0}};
  if (ir_verify(g, &e)) fprintf(stderr, "verify: %s\n", e.msg), check_failures++;
  check_model(g, NULL, "strings -O0");
  PassOptions o2 = pass_options(2);
  check_model(g, &o2, "strings -O2");
  ir_graph_free(g);
  failures();
  return check_report("test_cgen_strings");
}

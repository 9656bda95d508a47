/* test_rows.c — the row kernels (codegen/c/fused_row.c) against the reference
 * interpreter: softmax, log-softmax and layer norm over rows shorter than one group
 * of lanes, at and around a group (16) and a block (256), and long rows with a
 * remainder, in f32 and f64, fused as the pipeline fuses them (--fuse=all); and the
 * same inputs give the same bits on a second run. */
#include "cgen.h"
#include "kern_util.h"

static const int64_t lengths[] = {5, 16, 17, 31, 128, 255, 256, 257, 768, 1000, 3001};

static int last_axis(const Graph *g, int x) { return g->nodes[x]->shape.rank - 1; }

/* exp(x - max) / sum, with the max and the sum over the last axis. */
static int softmax(Graph *g, int x) {
  int64_t ax = last_axis(g, x);
  int mx = ir_reduce(g, OP_REDUCE_MAX, x, &ax, 1, true);
  int e = ir_unary(g, OP_EXP, ir_binary(g, OP_SUB, x, mx));
  return ir_binary(g, OP_DIV, e, ir_reduce(g, OP_REDUCE_SUM, e, &ax, 1, true));
}

/* x - max - log(sum exp(x - max)). */
static int log_softmax(Graph *g, int x) {
  int64_t ax = last_axis(g, x);
  int s = ir_binary(g, OP_SUB, x, ir_reduce(g, OP_REDUCE_MAX, x, &ax, 1, true));
  int sum = ir_reduce(g, OP_REDUCE_SUM, ir_unary(g, OP_EXP, s), &ax, 1, true);
  return ir_binary(g, OP_SUB, s, ir_unary(g, OP_LOG, sum));
}

/* (x - mean) / sqrt(var + eps) * (1 + x) : a mean that cancels, then a variance. */
static int layernorm(Graph *g, int x, DType t) {
  int64_t ax = last_axis(g, x), c = g->nodes[x]->shape.d[ax];
  int n = ir_scalar(g, t, (double)c);
  int mean = ir_binary(g, OP_DIV, ir_reduce(g, OP_REDUCE_SUM, x, &ax, 1, true), n);
  int d = ir_binary(g, OP_SUB, x, mean);
  int var = ir_binary(g, OP_DIV, ir_reduce(g, OP_REDUCE_SUM, ir_binary(g, OP_MUL, d, d), &ax, 1, true), n);
  int r = ir_unary(g, OP_RSQRT, ir_binary(g, OP_ADD, var, ir_scalar(g, t, 1e-5)));
  return ir_binary(g, OP_MUL, ir_binary(g, OP_MUL, d, r), ir_binary(g, OP_ADD, x, ir_scalar(g, t, 1)));
}

static bool has_rows(const Schedule *s) {
  for (int i = 0; i < s->nk; i++)
    if (s->k[i].kind == KERNEL_ROW) return true;
  return false;
}

/* Builds g fused, runs it twice, compares with the interpreter and the runs with each
 * other. */
static void check_fused(Graph *g, int64_t depth, const char *what) {
  DlcErr e = {{0}};
  KBufs b;
  KCase c = {.g = g, .depth = depth};
  ku_bufs(g, &b, 5);
  Schedule *s = NULL;
  Plan *p = NULL;
  JitModel *m = NULL;
  if (ir_verify(g, &e) || interp_run(g, (const double *const *)b.din, b.dout, &e)) {
    fprintf(stderr, "%s: %s\n", what, e.msg);
    check_failures++;
  } else if (!(s = pass_fuse(g, FUSE_ALL)) || schedule_check(g, s, &e) || !(p = pass_plan(g, s)) ||
             plan_check(g, s, p, &e)) {
    fprintf(stderr, "%s: schedule or plan: %s\n", what, e.msg);
    check_failures++;
  } else {
    CHECK(has_rows(s));
    JitOptions o = {.cflags = getenv("DLC_TEST_O3") ? CGEN_STRICT " -O3" : CGEN_STRICT, .keep = true};
    m = jit_build_plan(g, s, p, &o, &e);
    if (!m || jit_run(m, (const void *const *)b.in, b.out, &e)) {
      fprintf(stderr, "%s: %s\n", what, e.msg);
      check_failures++;
    } else {
      for (int j = 0; j < b.no; j++) ku_compare(&c, j, b.out[j], b.dout[j], what);
      for (int j = 0; j < b.no; j++) { /* a second run: the same bits */
        const Node *n = g->nodes[g->out[j]];
        size_t bytes = (size_t)shape_numel(&n->shape) * (size_t)dtype_size(n->dtype);
        void *first = malloc(bytes ? bytes : 1);
        memcpy(first, b.out[j], bytes);
        CHECK(!jit_run(m, (const void *const *)b.in, b.out, &e));
        CHECK(!memcmp(first, b.out[j], bytes));
        free(first);
      }
      cg_clang(jit_dir(m), what);
    }
  }
  if (m) jit_free(m);
  ku_bufs_free(&b);
  ir_graph_free(g);
}

static void rows(DType t) {
  for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
    int64_t c = lengths[i];
    char what[64];
    snprintf(what, sizeof what, "rows of %lld, %s", (long long)c, dtype_name(t));
    Graph *g = ir_graph_new("rows");
    int x = ir_input(g, "x", t, SHP(3, c));
    cg_out(g, softmax(g, x));
    cg_out(g, log_softmax(g, x));
    cg_out(g, layernorm(g, x, t));
    check_fused(g, c, what);
  }
}

int main(void) {
  const CpuTarget *cpu = cgen_cpu_resolve(NULL);
  if (!cpu || !cgen_cpu_runs_here(cpu)) {
    printf("%s: skipped: this CPU cannot run code for %s\n", "test_rows", getenv("DLC_CPU"));
    return 77;
  }
  printf("%s: target CPU %s\n", "test_rows", cpu->name);
  rows(DT_F32);
  rows(DT_F64);
  return check_report("test_rows");
}

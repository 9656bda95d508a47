/* test_fuse_decisions.c — fusion decisions and plans on small graphs whose answer is
 * known by hand: which nodes share a kernel, of what kind; which values need no buffer,
 * which compute in place; and that schedule_check and plan_check refuse broken
 * schedules and plans.  Every graph is also built and run under each fusion mode and
 * compared with the interpreter. */
#include "frontend.h"
#include "fuse_util.h"

static Graph *parse(const char *src) {
  DlcErr e;
  LoadOptions lo = {0};
  Graph *g = txt_parse(src, strlen(src), "test.dlc", &lo, &e);
  if (!g) fprintf(stderr, "parse: %s\n", e.msg), check_failures++;
  return g;
}

/* The id of the node named `name`, or of the output named so. */
static int named(const Graph *g, const char *name) {
  for (int j = 0; j < g->nout; j++)
    if (!strcmp(g->out_name[j], name)) return g->out[j];
  for (int i = 0; i < g->n; i++)
    if (g->nodes[i]->name && !strcmp(g->nodes[i]->name, name)) return i;
  return -1;
}

static const Kernel *kernel_of(const Schedule *s, int id) {
  for (int t = 0; t < s->nk; t++)
    for (int j = 0; j < s->k[t].n; j++)
      if (s->k[t].nodes[j] == id) return &s->k[t];
  return NULL;
}

static Schedule *fuse(Graph *g, FuseMode mode) {
  Schedule *s = pass_fuse(g, mode);
  DlcErr e;
  if (schedule_check(g, s, &e)) fprintf(stderr, "schedule_check: %s\n", e.msg), check_failures++;
  return s;
}

/* Built and compared with the interpreter at -O0 under every mode. */
static void runs(const Graph *g, const char *what) {
  DlcErr e;
  PtVals in = pt_inputs(g, 3), want;
  if (pt_interp(g, &in, &want, &e)) {
    fprintf(stderr, "%s: interp: %s\n", what, e.msg), check_failures++;
    return;
  }
  for (int mode = FUSE_NONE; mode <= FUSE_ALL; mode++) {
    FuseStats st;
    fu_check(g, 0, (FuseMode)mode, &in, &want, &st, what);
  }
  pt_free(&in), pt_free(&want);
}

/* The kernel holding output `name` under mode: its kind and node count. */
static void expect(Graph *g, FuseMode mode, const char *name, KernelKind kind, int n, int nk) {
  Schedule *s = fuse(g, mode);
  const Kernel *k = kernel_of(s, named(g, name));
  CHECK(k && k->kind == kind && k->n == n);
  CHECK(s->nk == nk);
  if (k && (k->kind != kind || k->n != n || s->nk != nk))
    fprintf(stderr, "  %s --fuse=%s: kind %d of %d nodes, %d kernels; want kind %d of %d, %d kernels\n",
            name, fuse_mode_name[mode], k->kind, k->n, s->nk, kind, n, nk);
}

static void elementwise_chain(void) {
  Graph *g = parse("model t\ninput x: f32[4, 8]\ninput b: f32[8]\n"
                   "h = add(x, b)\nh = relu(h)\ny = mul(h, 3)\noutput y\n");
  if (!g) return;
  expect(g, FUSE_ALL, "y", KERNEL_ELEMWISE, 3, 1);
  expect(g, FUSE_OP, "y", KERNEL_SINGLE, 1, 3);
  expect(g, FUSE_NONE, "y", KERNEL_SINGLE, 1, 3);
  Plan *p = pass_plan(g, fuse(g, FUSE_ALL));
  CHECK(p->loc[named(g, "h")].kind == LOC_NONE && p->arena_bytes == 0);
  runs(g, "add-relu-mul");
  ir_graph_free(g);
}

static void dense_epilogue(void) {
  Graph *g = parse("model t\ninput x: f32[4, 8]\ninput w: f32[8, 16]\ninput b: f32[16]\n"
                   "h = add(matmul(x, w), b)\ny = relu(h)\noutput y\n");
  if (!g) return;
  expect(g, FUSE_ALL, "y", KERNEL_EPILOGUE, 3, 1);
  expect(g, FUSE_OP, "h", KERNEL_EPILOGUE, 2, 2);
  Schedule *s = fuse(g, FUSE_ALL);
  CHECK(g->nodes[s->k[0].nodes[0]]->op == OP_MATMUL);
  runs(g, "matmul-add-relu");
  ir_graph_free(g);
}

static void row_patterns(void) {
  Graph *g = parse("model t\ninput x: f32[4, 10]\ny = softmax(x)\nz = log_softmax(x)\n"
                   "n = layernorm(x)\noutput y\noutput z\noutput n\n");
  if (!g) return;
  expect(g, FUSE_ALL, "y", KERNEL_ROW, 5, 3);
  expect(g, FUSE_ALL, "z", KERNEL_ROW, 6, 3);
  expect(g, FUSE_ALL, "n", KERNEL_ROW, 13, 3);
  expect(g, FUSE_OP, "y", KERNEL_ROW, 5, 3);
  expect(g, FUSE_OP, "n", KERNEL_ROW, 13, 3);
  Schedule *s = fuse(g, FUSE_ALL);
  Plan *p = pass_plan(g, s);
  const Kernel *k = kernel_of(s, named(g, "y"));
  for (int j = 0; k && j + 1 < k->n; j++) CHECK(p->loc[k->nodes[j]].kind == LOC_NONE);
  runs(g, "softmax, log_softmax, layernorm");
  ir_graph_free(g);
}

/* Cross-entropy: log-softmax, the label mask and the per-row sum are one row kernel. */
static void cross_entropy(void) {
  Graph *g = parse("model t\ninput x: f32[4, 10]\ninput t: f32[4, 10]\nl = log_softmax(x)\n"
                   "r = reduce_sum(mul(l, t), axes=[1])\ny = neg(reduce_sum(r, axes=[0]))\noutput y\n");
  if (!g) return;
  Schedule *s = fuse(g, FUSE_ALL);
  const Kernel *k = kernel_of(s, named(g, "r"));
  CHECK(k && k->kind == KERNEL_ROW && k->n == 8);
  runs(g, "cross-entropy");
  ir_graph_free(g);
}

/* A node with two users in different kernels, or that is an output, stays apart. */
static void used_twice(void) {
  Graph *g = parse("model t\ninput x: f32[4, 8]\ne = exp(x)\ny1 = add(e, 1)\ny2 = mul(e, 2)\n"
                   "f = neg(x)\ny3 = abs(f)\noutput y1\noutput y2\noutput y3\noutput f\n");
  if (!g) return;
  Schedule *s = fuse(g, FUSE_ALL);
  CHECK(s->nk == 5);
  const Kernel *k = kernel_of(s, named(g, "e"));
  CHECK(k && k->n == 1);
  k = kernel_of(s, named(g, "f"));
  CHECK(k && k->n == 1);
  runs(g, "used twice");
  ir_graph_free(g);
}

static void reduce_prologue(void) {
  Graph *g = parse("model t\ninput x: f32[6, 5]\ny = reduce_sum(mul(x, x), axes=[0])\n"
                   "z = reduce_max(exp(x), axes=[1], keepdims=1)\noutput y\noutput z\n");
  if (!g) return;
  expect(g, FUSE_ALL, "y", KERNEL_REDUCE, 2, 2);
  expect(g, FUSE_ALL, "z", KERNEL_REDUCE, 2, 2);
  runs(g, "reduce prologue");
  ir_graph_free(g);
}

/* Fused float sums whose last reduced axis is x's last keep 8 lanes (fused_reduce.c): a
 * global average pool's 13x13 (a run of 8 and a tail of 5 per row), 40 whole runs, 7
 * (tail only), and a sum over the middle axis (no lanes), each against the interpreter. */
static void reduce_lanes(void) {
  Graph *g = parse("model t\ninput x: f32[2, 3, 13, 13]\ninput b: f32[1, 3, 1, 1]\ninput w: f32[3, 40]\n"
                   "input v: f32[5, 7, 7]\n"
                   "p = reduce_sum(relu(add(x, b)), axes=[2, 3])\nq = reduce_sum(mul(x, x), axes=[0, 1, 3], keepdims=1)\n"
                   "r = reduce_sum(exp(w), axes=[1])\ns = reduce_sum(neg(v), axes=[1, 2])\n"
                   "t = reduce_sum(relu(x), axes=[2])\n"
                   "output p\noutput q\noutput r\noutput s\noutput t\n");
  if (!g) return;
  expect(g, FUSE_ALL, "p", KERNEL_REDUCE, 3, 5);
  runs(g, "reduce lanes");
  ir_graph_free(g);
}

/* A layernorm over a middle axis fits no loop-fused kind: one SEQ under --fuse=op. */
static void seq_fallback(void) {
  Graph *g = parse("model t\ninput x: f32[2, 3, 4]\ny = layernorm(x, axis=1)\noutput y\n");
  if (!g) return;
  expect(g, FUSE_OP, "y", KERNEL_SEQ, 13, 1);
  runs(g, "layernorm over axis 1");
  ir_graph_free(g);
}

/* Unfused: neg overwrites exp's buffer (exp dies there), flatten aliases relu's. */
static void in_place(void) {
  Graph *g = parse("model t\ninput x: f32[2, 3, 4, 4]\na = exp(x)\nb = neg(a)\nc = relu(b)\n"
                   "f = flatten(c)\ny = mul(f, 2)\noutput y\n");
  if (!g) return;
  Schedule *s = fuse(g, FUSE_NONE);
  Plan *p = pass_plan(g, s);
  DlcErr e;
  CHECK(plan_check(g, s, p, &e) == 0);
  int a = named(g, "a"), b = named(g, "b"), c = named(g, "c"), f = named(g, "f");
  CHECK(p->loc[a].kind == LOC_ARENA && p->loc[b].offset == p->loc[a].offset);
  CHECK(p->loc[c].offset == p->loc[a].offset && p->loc[f].offset == p->loc[c].offset);
  CHECK(p->arena_bytes == 2 * 3 * 4 * 4 * 4 && p->peak_bytes == p->arena_bytes);
  runs(g, "in place");
  ir_graph_free(g);
}

/* The checkers refuse what breaks their promises. */
static void checkers_refuse(void) {
  Graph *g = parse("model t\ninput x: f32[4, 8]\na = exp(x)\nb = neg(x)\ny = add(a, b)\noutput y\n");
  if (!g) return;
  DlcErr e;
  Schedule *s = fuse(g, FUSE_NONE);
  Plan *p = pass_plan(g, s);
  int a = named(g, "a"), b = named(g, "b");
  CHECK(plan_check(g, s, p, &e) == 0);
  int64_t keep = p->loc[b].offset;
  p->loc[b].offset = p->loc[a].offset; /* both live at the add */
  CHECK(plan_check(g, s, p, &e) == -1 && strstr(e.msg, "overlap"));
  p->loc[b].offset = keep;
  p->loc[b].kind = LOC_NONE; /* not internal to any kernel */
  CHECK(plan_check(g, s, p, &e) == -1);
  Kernel t = s->k[0];
  s->k[0] = s->k[2], s->k[2] = t; /* the add before its operands */
  CHECK(schedule_check(g, s, &e) == -1 && strstr(e.msg, "before"));
  Schedule *f = fuse(g, FUSE_ALL);
  CHECK(f->nk == 1 && f->k[0].kind == KERNEL_ELEMWISE);
  f->k[0].kind = KERNEL_REDUCE; /* its last node is no reduction */
  CHECK(schedule_check(g, f, &e) == -1);
  ir_graph_free(g);
}

int main(void) {
  elementwise_chain();
  dense_epilogue();
  row_patterns();
  cross_entropy();
  used_twice();
  reduce_prologue();
  reduce_lanes();
  seq_fallback();
  in_place();
  checkers_refuse();
  return check_report("test_fuse_decisions");
}

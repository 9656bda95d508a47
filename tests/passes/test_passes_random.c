/* test_passes_random.c — seeded random graphs through every pass and the pipeline.
 *
 * Each graph is a chain of random elementwise (with broadcasting), reduction, reshape,
 * transpose, matmul, conv, concat, slice, pad, broadcast and cast steps over small
 * shapes, salted with what the passes look for: constants to fold, x+0 and x*1, double
 * negations and transposes, duplicated nodes, dead nodes, per-channel affine chains
 * after a matmul or conv.  Each graph goes through each pass alone and through the
 * pipeline at -O0, -O1 and -O2, checked by the verifier and compared with the
 * interpreter on the original graph; every 50th also through the jit at -O2.  Ops with
 * jumps (floor, comparisons of computed values) are left out, since bnfold may move a
 * value by a rounding step and a jump would turn that into a real difference.
 *
 * Usage: test_passes_random [ROOT] [GRAPHS] [SEED]
 */
#include "jit.h"
#include "passes_util.h"

enum { MAX_VALS = 128 };

typedef struct Gen {
  Graph *g;
  uint64_t s;
  int val[MAX_VALS]; /* f32 values to build on */
  int nv;
  int nparam;
} Gen;

static int rnd(Gen *q, int n) { return pt_randint(&q->s, n); }
static double rndf(Gen *q, double lo, double hi) { return lo + (hi - lo) * rnd_unit(&q->s); }
static const Node *node(Gen *q, int id) { return q->g->nodes[id]; }
static const Shape *shape(Gen *q, int id) { return &q->g->nodes[id]->shape; }

/* A recent value more often than an old one. */
static int pick(Gen *q) { return q->val[rnd(q, 2) ? q->nv - 1 : rnd(q, q->nv)]; }

static int keep(Gen *q, int id) {
  if (id >= 0 && q->nv < MAX_VALS && node(q, id)->dtype == DT_F32) q->val[q->nv++] = id;
  return id;
}

/* ---- sources ---- */

/* A CONST of shape s: random values, or all `fill` when fill is not NaN. */
static int konst(Gen *q, Shape s, double fill) {
  int64_t n = shape_numel(&s);
  float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = (float)(isnan(fill) ? rndf(q, -2, 2) : fill);
  int id = ir_const(q->g, NULL, DT_F32, s, v);
  free(v);
  return id;
}

static int param(Gen *q, Shape s) {
  char name[32];
  snprintf(name, sizeof name, "p%d", q->nparam++);
  return ir_param(q->g, name, DT_F32, s, (Init){.kind = INIT_UNIFORM, .a = -1, .b = 1, .seed = q->s});
}

/* A weight-like operand: CONST or PARAM, random, zeros or ones. */
static int operand(Gen *q, Shape s) {
  int k = rnd(q, 6);
  if (k == 0) return param(q, s);
  return konst(q, s, k == 1 ? 0 : k == 2 ? 1 : NAN);
}

/* A shape that broadcasts to s: a suffix of it with some dimensions 1. */
static Shape bshape(Gen *q, const Shape *s) {
  Shape b = {.rank = s->rank - rnd(q, s->rank + 1)};
  for (int i = 0; i < b.rank; i++) b.d[i] = rnd(q, 3) ? s->d[s->rank - b.rank + i] : 1;
  return b;
}

/* ---- steps; each returns the new value or -1 ---- */

static int st_unary(Gen *q) {
  static const Op ops[] = {OP_NEG, OP_ABS, OP_TANH, OP_SIN, OP_COS};
  return ir_unary(q->g, ops[rnd(q, 5)], pick(q));
}

static int st_binary(Gen *q) {
  static const Op ops[] = {OP_ADD, OP_SUB, OP_MUL, OP_MAX, OP_MIN, OP_ADD, OP_MUL};
  int a = pick(q), b = rnd(q, 2) ? pick(q) : operand(q, bshape(q, shape(q, a)));
  return rnd(q, 4) ? ir_binary(q->g, ops[rnd(q, 7)], a, b) : ir_binary(q->g, ops[rnd(q, 7)], b, a);
}

static int st_div(Gen *q) {
  static const double ks[] = {1, 2, 0.5, -4};
  return ir_binary(q->g, OP_DIV, pick(q), konst(q, (Shape){0}, ks[rnd(q, 4)]));
}

static int st_reduce(Gen *q) {
  static const Op ops[] = {OP_REDUCE_SUM, OP_REDUCE_MAX, OP_REDUCE_MIN};
  int x = pick(q), r = shape(q, x)->rank, na = 0;
  int64_t ax[IR_MAX_RANK];
  for (int i = 0; i < r; i++)
    if (rnd(q, 2)) ax[na++] = i;
  return ir_reduce(q->g, ops[rnd(q, 3)], x, ax, na, rnd(q, 2));
}

/* Merges two neighbouring dimensions, splits one off as 1, or flattens. */
static int st_reshape(Gen *q) {
  int x = pick(q);
  Shape s = *shape(q, x);
  int k = rnd(q, 3);
  if (k == 0 && s.rank >= 2) {
    int i = rnd(q, s.rank - 1);
    s.d[i] *= s.d[i + 1];
    memmove(&s.d[i + 1], &s.d[i + 2], sizeof(int64_t) * (size_t)(s.rank - i - 2));
    s.rank--;
  } else if (k == 1 && s.rank < 4) {
    int i = rnd(q, s.rank + 1);
    memmove(&s.d[i + 1], &s.d[i], sizeof(int64_t) * (size_t)(s.rank - i));
    s.d[i] = 1, s.rank++;
  } else {
    s = SHP(shape_numel(&s));
  }
  return ir_reshape(q->g, x, s.d, s.rank);
}

static int st_transpose(Gen *q) {
  int x = pick(q), r = shape(q, x)->rank;
  int64_t p[IR_MAX_RANK];
  for (int i = 0; i < r; i++) p[i] = i;
  for (int i = r - 1; i > 0; i--) {
    int j = rnd(q, i + 1);
    int64_t t = p[i];
    p[i] = p[j], p[j] = t;
  }
  int y = ir_transpose(q->g, x, p);
  return rnd(q, 3) || y < 0 ? y : ir_transpose(q->g, y, p); /* sometimes twice */
}

/* y*c, y+c, y-c, y/c with per-channel c along axis: what bnfold folds. */
static int affine_tail(Gen *q, int y, int axis) {
  const Shape *s = shape(q, y);
  Shape c = {.rank = s->rank - axis};
  for (int i = 0; i < c.rank; i++) c.d[i] = i ? 1 : s->d[axis];
  static const Op ops[] = {OP_MUL, OP_ADD, OP_SUB, OP_DIV};
  for (int k = 1 + rnd(q, 3); k > 0 && y >= 0; k--) {
    Op op = ops[rnd(q, 4)];
    int cv = op == OP_DIV ? konst(q, c, 2.5) : rnd(q, 2) ? param(q, c) : konst(q, c, NAN);
    y = op == OP_SUB && rnd(q, 2) ? ir_binary(q->g, op, cv, y) : ir_binary(q->g, op, y, cv);
  }
  return y;
}

static int st_matmul(Gen *q) {
  int x = pick(q);
  const Shape *s = shape(q, x);
  if (s->rank < 2) return -1;
  int64_t k = s->d[s->rank - 1], n = 1 + rnd(q, 4);
  bool tb = rnd(q, 2);
  int w = operand(q, tb ? SHP(n, k) : SHP(k, n));
  int y = ir_matmul(q->g, x, w, false, tb);
  return y < 0 ? y : affine_tail(q, y, shape(q, y)->rank - 1);
}

static int st_conv(Gen *q) {
  int x = pick(q);
  const Shape *s = shape(q, x);
  if (s->rank != 4 || s->d[2] < 2 || s->d[3] < 2) return -1;
  int w = param(q, SHP(1 + rnd(q, 3), s->d[1], 2, 2));
  int y = w < 0 ? -1 : ir_add(q->g, OP_CONV, (int[]){x, w}, 2, NULL, 0);
  return y < 0 ? y : affine_tail(q, y, 1);
}

static int st_concat(Gen *q) {
  int a = pick(q), b = rnd(q, 2) ? a : pick(q), r = shape(q, a)->rank;
  if (r == 0) return -1;
  Attr ax = attr_int(A_AXIS, rnd(q, r));
  return ir_add(q->g, OP_CONCAT, (int[]){a, b}, 2, &ax, 1);
}

static int st_slice(Gen *q) {
  int x = pick(q);
  const Shape *s = shape(q, x);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  bool whole = rnd(q, 3) == 0;
  for (int i = 0; i < s->rank; i++) {
    int64_t d = s->d[i];
    sp[i] = whole ? 1 : rnd(q, 3) == 0 ? -1 : 1 + rnd(q, 2);
    st[i] = whole ? 0 : sp[i] > 0 ? rnd(q, (int)d) : d - 1 - rnd(q, (int)d);
    en[i] = whole || sp[i] < 0 ? (sp[i] < 0 ? -1 : d) : st[i] + 1 + rnd(q, (int)(d - st[i]));
  }
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank), attr_ints(A_STEPS, sp, s->rank)};
  return ir_add(q->g, OP_SLICE, &x, 1, a, 3);
}

static int st_pad(Gen *q) {
  int x = pick(q), r = shape(q, x)->rank;
  int64_t p[2 * IR_MAX_RANK];
  bool none = rnd(q, 3) == 0;
  for (int i = 0; i < 2 * r; i++) p[i] = none ? 0 : rnd(q, 3) - (shape(q, x)->d[i % r] > 2);
  Attr a[2] = {attr_ints(A_PADS, p, 2 * r), attr_float(A_VALUE, rnd(q, 2) ? 0 : 1.5)};
  return ir_add(q->g, OP_PAD, &x, 1, a, 2);
}

static int st_broadcast(Gen *q) {
  int x = pick(q);
  Shape s = *shape(q, x);
  if (rnd(q, 2) && s.rank < 4) {
    memmove(&s.d[1], &s.d[0], sizeof(int64_t) * (size_t)s.rank);
    s.d[0] = 2, s.rank++;
  }
  Attr a = attr_ints(A_SHAPE, s.d, s.rank);
  return ir_add(q->g, OP_BROADCAST, &x, 1, &a, 1);
}

static int st_cast(Gen *q) {
  static const DType via[] = {DT_F32, DT_F64, DT_I32};
  int y = ir_cast(q->g, pick(q), via[rnd(q, 3)]);
  return y < 0 ? y : ir_cast(q->g, y, DT_F32);
}

/* select with a constant condition, or one computed from an input alone */
static int st_select(Gen *q) {
  int a = pick(q), b = pick(q), c;
  if (rnd(q, 2)) {
    bool v = rnd(q, 2);
    c = ir_const(q->g, NULL, DT_BOOL, (Shape){0}, &v);
  } else {
    c = ir_binary(q->g, OP_LT, q->val[0], konst(q, (Shape){0}, 0));
  }
  return c < 0 ? -1 : ir_select(q->g, c, a, b);
}

/* What fold and cse look for. */
static int st_salt(Gen *q) {
  int x = pick(q), k = rnd(q, 5);
  const Node *n = node(q, x);
  if (k == 0) return ir_unary(q->g, OP_NEG, ir_unary(q->g, OP_NEG, x));
  if (k == 1) {
    int z = konst(q, (Shape){0}, 0);
    return ir_binary(q->g, OP_MAX, ir_binary(q->g, OP_MAX, x, z), konst(q, (Shape){0}, 0));
  }
  if (k == 2) { /* constants only, then used */
    int c = ir_unary(q->g, OP_TANH, ir_binary(q->g, OP_ADD, konst(q, (Shape){0}, NAN), konst(q, SHP(2), NAN)));
    return ir_binary(q->g, OP_MUL, x, ir_reduce(q->g, OP_REDUCE_SUM, c, (int64_t[]){0}, 1, false));
  }
  if (k == 3 && n->nin > 0 && n->op != OP_CONCAT && n->nin <= 3) /* a duplicate */
    return ir_add(q->g, n->op, n->in, n->nin, n->attr, n->nattr);
  ir_unary(q->g, OP_SIN, x); /* dead */
  return ir_binary(q->g, rnd(q, 2) ? OP_ADD : OP_SUB, x, konst(q, (Shape){0}, -0.0));
}

typedef int (*StepFn)(Gen *q);
static const StepFn steps[] = {st_unary, st_binary, st_binary, st_div, st_reduce, st_reshape,
                               st_transpose, st_matmul, st_matmul, st_conv, st_conv, st_concat, st_slice,
                               st_pad, st_broadcast, st_cast, st_select, st_salt, st_salt};

/* Values are kept small: a step that would make more than 512 elements is dropped. */
static Graph *random_graph(uint64_t seed) {
  Gen q = {.g = ir_graph_new("random"), .s = seed * 0x9E3779B97F4A7C15ull + 1};
  int ni = 1 + rnd(&q, 2);
  bool image = rnd(&q, 3) == 0; /* the first input [N, C, H, W], for conv */
  for (int i = 0; i < ni; i++) {
    Shape s = {.rank = image && !i ? 4 : 1 + rnd(&q, 4)};
    for (int k = 0; k < s.rank; k++) s.d[k] = 1 + rnd(&q, 4) + (image && !i && k >= 2);
    char name[16];
    snprintf(name, sizeof name, "x%d", i);
    keep(&q, ir_input(q.g, name, DT_F32, s));
  }
  for (int n = 4 + rnd(&q, 20), tries = 0; n > 0 && tries < 200; tries++) {
    int y = steps[rnd(&q, (int)(sizeof steps / sizeof steps[0]))](&q);
    if (y >= 0 && shape_numel(shape(&q, y)) <= 512) keep(&q, y), n--;
  }
  ir_output(q.g, q.val[q.nv - 1], "y");
  for (int j = rnd(&q, 3); j > 0; j--) {
    char name[16];
    snprintf(name, sizeof name, "z%d", j);
    ir_output(q.g, pick(&q), name);
  }
  return q.g;
}

/* ---- checking ---- */

/* per pass alone, beyond what dce removes: nodes removed, graphs changed */
static long removed[4], changed[4];

static void check_jit(const Graph *g, const PtVals *in, const PtVals *want, const char *what) {
  PassOptions o = pass_options(2);
  o.verify = true;
  JitOptions jo = {.passes = &o};
  DlcErr e;
  JitModel *m = jit_build((Graph *)g, &jo, &e);
  void *ib[4] = {0}, *ob[4] = {0};
  PtVals got;
  pt_alloc(&got, g->nout);
  for (int i = 0; i < in->n; i++) {
    ib[i] = calloc((size_t)in->numel[i] + 1, sizeof(float));
    for (int64_t k = 0; k < in->numel[i]; k++) ((float *)ib[i])[k] = (float)in->v[i][k];
  }
  for (int j = 0; j < g->nout; j++) ob[j] = calloc((size_t)shape_numel(&ir_node(g, g->out[j])->shape) + 1, sizeof(float));
  if (!m || jit_run(m, (const void *const *)ib, ob, &e)) {
    check_failures++;
    fprintf(stderr, "%s: jit: %s\n", what, e.msg);
  } else {
    for (int j = 0; j < g->nout; j++) {
      double *v = pt_buf(&got, j, ir_node(g, g->out[j]));
      for (int64_t k = 0; k < got.numel[j]; k++) v[k] = ((float *)ob[j])[k];
    }
    pt_compare(g, &got, want, what);
  }
  for (int i = 0; i < 4; i++) free(ib[i]), free(ob[i]);
  pt_free(&got), jit_free(m);
}

static int check_graph(uint64_t seed, bool jit) {
  Graph *g = random_graph(seed);
  DlcErr e;
  if (ir_verify(g, &e)) {
    check_failures++;
    fprintf(stderr, "graph %llu: the generator made a bad graph: %s\n", (unsigned long long)seed, e.msg);
    return ir_graph_free(g), 0;
  }
  PtVals in = pt_inputs(g, seed), want;
  CHECK(!pt_interp(g, &in, &want, &e));
  char what[96];
  static const PtPass passes[] = {pass_fold, pass_cse, pass_dce, pass_bnfold};
  static const char *const names[] = {"fold", "cse", "dce", "bnfold"};
  bool ok = true;
  int after[4];
  for (int i = 0; i < 4; i++) {
    snprintf(what, sizeof what, "graph %llu: %s alone", (unsigned long long)seed, names[i]);
    ok &= pt_check_pass(g, passes[i], &in, &want, what, &after[i]);
  }
  for (int i = 0; i < 4; i++) /* beyond what dce alone removes */
    removed[i] += after[2] - after[i], changed[i] += after[i] < after[2];
  for (int level = 0; level <= 2; level++) {
    snprintf(what, sizeof what, "graph %llu: -O%d", (unsigned long long)seed, level);
    ok &= pt_check_pipeline(g, pass_options(level), &in, &want, what);
  }
  if (jit) {
    snprintf(what, sizeof what, "graph %llu: jit -O2", (unsigned long long)seed);
    check_jit(g, &in, &want, what);
  }
  if (!ok) ir_print(stderr, g);
  int n = g->n;
  pt_free(&in), pt_free(&want), ir_graph_free(g);
  return n;
}

int main(int argc, char **argv) {
  int graphs = argc > 2 ? atoi(argv[2]) : 400;
  uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
  if (graphs < 1) return fprintf(stderr, "usage: test_passes_random [ROOT] [GRAPHS >= 1] [SEED]\n"), 2;
  long nodes = 0;
  for (int i = 0; i < graphs; i++) nodes += check_graph(seed + (uint64_t)i, i % 50 == 0);
  printf("%d random graphs, %ld nodes\n", graphs, nodes);
  static const char *const names[] = {"fold", "cse", "dce", "bnfold"};
  for (int i = 0; i < 4; i++) {
    if (i == 2) continue;
    printf("  %-6s alone changed %ld graphs, removed %ld nodes more than dce\n", names[i], changed[i], removed[i]);
    CHECK(changed[i] >= graphs / 20); /* the generator gives each pass work to do */
  }
  return check_report("test_passes_random");
}

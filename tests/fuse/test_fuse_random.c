/* test_fuse_random.c — seeded random graphs made for the fuse pass and the planner:
 * chains of elementwise ops with broadcast operands, comparisons and selects (bool
 * values inside kernels), reductions over the last axis and over the first, reshapes
 * (views), values used twice and outputs in the middle of chains, half of them grouped
 * in pairs of steps as a frontend's operators.  Each graph runs under every fusion mode
 * through the jit and is compared with the interpreter; the schedule and plan are
 * checked; some steps are run-time Ifs, nested up to two deep (guarded nodes merged
 * by select).  The ops keep values bounded (tanh before exp,
 * divisors of 1 or more), so float differences stay within the tolerance.
 *
 * Usage: test_fuse_random [GRAPHS [FIRST_SEED]]   (graph k is seed FIRST_SEED + k, default 1)
 */
#include <stdlib.h>

#include "fuse_util.h"

typedef struct Gen {
  Graph *g;
  uint64_t seed;
  int pool[256];
  int n;
  Shape s, sc; /* the base shape [A, B, C] and its per-row shape [A, B, 1] */
  int outs;
} Gen;

static int pick(Gen *r) { return r->pool[pt_randint(&r->seed, r->n)]; }

static void keep(Gen *r, int id) {
  if (id < 0) {
    fprintf(stderr, "random graph: %s\n", r->g->err.msg), check_failures++;
    return;
  }
  if (r->n < 256) r->pool[r->n++] = id;
}

static const Shape *shape_of(Gen *r, int id) { return &r->g->nodes[id]->shape; }

static void unary(Gen *r) {
  static const Op ops[] = {OP_NEG, OP_ABS, OP_TANH, OP_EXP};
  int x = pick(r);
  Op op = ops[pt_randint(&r->seed, 4)];
  if (op == OP_EXP) x = ir_unary(r->g, OP_TANH, x);
  keep(r, ir_unary(r->g, op, x));
}

/* An operand for a: a value of the pool whose shape broadcasts with a's, else a scalar. */
static int partner(Gen *r, int a) {
  Shape out;
  for (int t = 0; t < 6; t++) {
    int b = pick(r);
    if (!shape_broadcast2(shape_of(r, a), shape_of(r, b), &out) && shape_numel(&out) <= 512) return b;
  }
  return ir_scalar(r->g, DT_F32, 0.5 + rnd_unit(&r->seed));
}

static void binary(Gen *r) {
  static const Op ops[] = {OP_ADD, OP_SUB, OP_MUL, OP_MAX, OP_MIN, OP_DIV};
  int a = pick(r), b = partner(r, a);
  Op op = ops[pt_randint(&r->seed, 6)];
  if (op == OP_DIV) b = ir_binary(r->g, OP_ADD, ir_unary(r->g, OP_ABS, b), ir_scalar(r->g, DT_F32, 1));
  if (op == OP_MUL) b = ir_unary(r->g, OP_TANH, b);
  keep(r, ir_binary(r->g, op, a, b));
}

static void choose(Gen *r) {
  int a = pick(r), b = partner(r, a);
  int c = ir_binary(r->g, rnd_unit(&r->seed) < 0.5 ? OP_GT : OP_LE, a, b);
  keep(r, ir_select(r->g, c, a, b));
}

/* Over the last axis (keepdims, a row pattern) or the first; sums are scaled down. */
static void reduce(Gen *r) {
  int x = pick(r);
  const Shape *s = shape_of(r, x);
  if (s->rank == 0) return;
  bool last = rnd_unit(&r->seed) < 0.7;
  int64_t axis = last ? s->rank - 1 : 0;
  bool sum = rnd_unit(&r->seed) < 0.5;
  int y = ir_reduce(r->g, sum ? OP_REDUCE_SUM : OP_REDUCE_MAX, x, &axis, 1, last || rnd_unit(&r->seed) < 0.5);
  if (sum && y >= 0) y = ir_binary(r->g, OP_MUL, y, ir_scalar(r->g, DT_F32, 1.0 / (double)s->d[axis]));
  keep(r, y);
}

/* Drops or adds a trailing 1, or flattens the leading dimensions. */
static void reshape(Gen *r) {
  int x = pick(r);
  Shape s = *shape_of(r, x);
  if (s.rank >= 2 && s.d[s.rank - 1] == 1) s.rank--;
  else if (s.rank >= 3) s.d[1] *= s.d[0], memmove(s.d, s.d + 1, sizeof(int64_t) * (size_t)--s.rank);
  else if (s.rank < IR_MAX_RANK) s.d[s.rank++] = 1;
  keep(r, ir_reshape(r->g, x, s.d, s.rank));
}

/* A run-time If (ir.h: Node.guard): a condition from a pool value, a few steps under
 * it, a few under its negation, the two merged by select; inside a branch, sometimes a
 * branch again, guarded by and(outer, inner).  What a branch computes leaves the pool
 * with it, so no later node reads it unguarded. */
static void step(Gen *r, int depth);

static int side(Gen *r, int guard, int depth, int like) {
  int mark = r->n, outer = r->g->guard;
  r->g->guard = guard;
  int steps = 1 + pt_randint(&r->seed, 4);
  for (int i = 0; i < steps; i++) step(r, depth);
  int v = r->n > mark ? r->pool[r->n - 1] : ir_unary(r->g, OP_NEG, like);
  r->g->guard = outer;
  r->n = mark;
  return v;
}

static void branch(Gen *r, int depth) {
  int x = pick(r), outer = r->g->guard;
  const Shape *s = shape_of(r, x);
  int64_t all[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) all[i] = i;
  int c = ir_binary(r->g, OP_GT, ir_reduce(r->g, OP_REDUCE_MAX, x, all, s->rank, false),
                    ir_scalar(r->g, DT_F32, rnd_unit(&r->seed) - 0.5));
  int nc = ir_unary(r->g, OP_NOT, c); /* under the outer guard, as c is */
  r->g->guard = -1; /* a guard is computed unguarded: and(outer, c) when nested */
  int then_g = outer >= 0 ? ir_binary(r->g, OP_AND, outer, c) : c;
  int else_g = outer >= 0 ? ir_binary(r->g, OP_AND, outer, nc) : nc;
  r->g->guard = outer;
  int t = side(r, then_g, depth + 1, x), e = side(r, else_g, depth + 1, x);
  Shape out;
  if (shape_broadcast2(shape_of(r, t), shape_of(r, e), &out)) e = x; /* shapes that do not meet */
  if (shape_broadcast2(shape_of(r, t), shape_of(r, e), &out)) t = x;
  keep(r, ir_select(r->g, c, t, e));
}

static void output(Gen *r, int id, int k) {
  char name[16];
  snprintf(name, sizeof name, "o%d", k);
  ir_output(r->g, id, name);
}

static void step(Gen *r, int depth) {
  double u = rnd_unit(&r->seed);
  if (u < 0.25) unary(r);
  else if (u < 0.55) binary(r);
  else if (u < 0.65) choose(r);
  else if (u < 0.8) reduce(r);
  else if (u < 0.88) reshape(r);
  else if (u < 0.95 && depth < 2) branch(r, depth);
  else if (r->n > 4 && r->g->guard < 0) output(r, pick(r), r->outs++);
}

static Graph *random_graph(uint64_t seed) {
  Gen r = {.g = ir_graph_new("rnd"), .seed = seed * 0x9E3779B97F4A7C15ull + 1};
  int64_t d[3] = {1 + pt_randint(&r.seed, 4), 1 + pt_randint(&r.seed, 4), 2 + pt_randint(&r.seed, 6)};
  r.s = shape_make(3, d), r.sc = r.s, r.sc.d[2] = 1;
  keep(&r, ir_input(r.g, "x", DT_F32, r.s));
  keep(&r, ir_input(r.g, "y", DT_F32, r.s));
  keep(&r, ir_input(r.g, "rows", DT_F32, r.sc));
  keep(&r, ir_input(r.g, "cols", DT_F32, shape_make(1, d + 2)));
  int steps = 20 + pt_randint(&r.seed, 30);
  r.outs = 0;
  for (int i = 0; i < steps; i++) {
    r.g->group = rnd_unit(&r.seed) < 0.5 ? i / 2 : -1; /* source operators for --fuse=op */
    step(&r, 0);
  }
  int outs = r.outs;
  for (int j = 0; j < 3 && r.n > 4; j++) output(&r, r.pool[r.n - 1 - j], outs++);
  return r.g;
}

int main(int argc, char **argv) {
  int graphs = argc > 1 ? atoi(argv[1]) : 8;
  uint64_t first = argc > 2 ? strtoull(argv[2], NULL, 10) : 1; /* tests/fuzz/diff.sh walks on */
  for (int i = 0; i < graphs; i++) {
    uint64_t seed = first + (uint64_t)i;
    Graph *g = random_graph(seed);
    char what[64];
    snprintf(what, sizeof what, "random graph %llu", (unsigned long long)seed);
    DlcErr e;
    PtVals in = pt_inputs(g, seed - 1), want;
    if (ir_verify(g, &e) || pt_interp(g, &in, &want, &e)) {
      fprintf(stderr, "%s: %s\n", what, e.msg), check_failures++;
      ir_graph_free(g);
      continue;
    }
    printf("%s: %d nodes; kernels", what, g->n);
    for (int mode = FUSE_NONE; mode <= FUSE_ALL; mode++) {
      FuseStats st = {0};
      fu_check(g, 0, (FuseMode)mode, &in, &want, &st, what);
      printf(" %s %d", fuse_mode_name[mode], st.kernels);
    }
    printf("\n");
    pt_free(&in), pt_free(&want);
    ir_graph_free(g);
  }
  return check_report("test_fuse_random");
}

/* fused_row.c — KERNEL_ROW: a row-wise pattern (softmax, log-softmax, layernorm,
 * cross-entropy) as one kernel that finishes each row before the next.
 *
 * Needs: the ROW contract of passes.h.  The row domain is vec = [P.., C]; the row
 * loops walk P with i0.., and each pass over a row walks C with the last variable.
 * Per-row scalars (shape sc = [P.., 1]) are locals computed once per row; each
 * reduction is one pass that computes the row vectors it needs on the fly; a
 * row-vector result gets one more pass that stores it.  A row vector needed by two
 * passes is kept in a row buffer on the stack (when the row is small enough) instead
 * of being computed twice: softmax's exp runs once per element.  A pass that calls
 * one of dlc's f32 functions (vecmath.c) and reduces a buffered row vector is two loops:
 * the values into the buffer, which vectorises, then the sum in order, which does not. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgen_c.h"

/* Row buffers larger than this are recomputed instead. */
#define ROW_BUF_MAX_BYTES (16 << 10)

typedef struct Row {
  CEmit *ce;
  const Kernel *k;
  Shape vec, sc;
  int r;          /* rank of vec; variable i<r-1> walks a row */
  int64_t c;      /* row length */
  bool *buffered; /* per position in k */
  int *need;      /* per position, in one pass: 0 no, 1 compute, 2 load from its buffer */
  int *first;     /* per position: the pass that first computed it, or -1 */
  int *computed;  /* per position: passes that compute it */
} Row;

static const Node *at(const Row *w, int j) { return w->ce->g->nodes[w->k->nodes[j]]; }
static bool is_reduce(const Node *n) { return !strcmp(ir_ops[n->op].impl, "reduce"); }

static int pos_of(const Row *w, int id) {
  for (int j = 0; j < w->k->n; j++)
    if (w->k->nodes[j] == id) return j;
  return -1;
}

static bool is_vec(const Row *w, int j) {
  const Node *n = at(w, j);
  return op_is_elementwise(n->op) && shape_eq(&n->shape, &w->vec) && !cgen_is_view(w->ce, w->k, n->id);
}

/* Marks the row vectors pass p needs to compute value id; a buffered one computed in
 * an earlier pass is loaded instead. */
static void cone(Row *w, int id, int p) {
  int j = pos_of(w, id);
  if (j < 0 || !is_vec(w, j) || w->need[j]) return;
  if (w->buffered[j] && w->first[j] >= 0 && w->first[j] < p) {
    w->need[j] = 2;
    return;
  }
  w->need[j] = 1;
  for (int i = 0; i < at(w, j)->nin; i++) cone(w, at(w, j)->in[i], p);
}

/* The value pass p works toward: a reduction's operand, or the row-vector result. */
static int pass_target(const Row *w, int p, const Node **red) {
  int q = 0;
  *red = NULL;
  for (int j = 0; j < w->k->n; j++) {
    if (!is_reduce(at(w, j))) continue;
    if (q++ == p) return *red = at(w, j), at(w, j)->in[0];
  }
  return w->k->nodes[w->k->n - 1];
}

static int npasses(const Row *w) {
  int n = 0;
  for (int j = 0; j < w->k->n; j++) n += is_reduce(at(w, j));
  return n + is_vec(w, w->k->n - 1);
}

/* Runs pass p's cone; the first pass to compute a node is noted. */
static void pass_cone(Row *w, int p) {
  const Node *red;
  memset(w->need, 0, sizeof(int) * (size_t)w->k->n);
  cone(w, pass_target(w, p, &red), p);
  for (int j = 0; j < w->k->n; j++)
    if (w->need[j] == 1 && w->first[j] < 0) w->first[j] = p;
}

static void simulate(Row *w) {
  int np = npasses(w);
  for (int j = 0; j < w->k->n; j++) w->first[j] = -1, w->computed[j] = 0;
  for (int p = 0; p < np; p++) {
    pass_cone(w, p);
    for (int j = 0; j < w->k->n; j++) w->computed[j] += w->need[j] == 1;
  }
}

/* Buffers, highest node first, each row vector still computed by two passes, while
 * they fit in ROW_BUF_MAX_BYTES together. */
static void choose_buffers(Row *w) {
  int64_t room = ROW_BUF_MAX_BYTES;
  simulate(w);
  for (int j = w->k->n - 1; j >= 0; j--) {
    int64_t bytes = w->c * dtype_size(at(w, j)->dtype);
    if (!is_vec(w, j) || w->computed[j] < 2 || bytes > room) continue;
    room -= bytes;
    w->buffered[j] = true;
    simulate(w);
  }
  for (int j = 0; j < w->k->n; j++) w->first[j] = -1;
}

static void row_values(Row *w, int depth) {
  char ix[16];
  CgenSpace sp = {.shape = &w->vec, .var = "i"};
  snprintf(ix, sizeof ix, "i%d", w->r - 1);
  for (int j = 0; j < w->k->n; j++) {
    const Node *n = at(w, j);
    if (w->need[j] == 2) cgen_line(w->ce, depth, "const %s v%d = rb%d[%s];", cgen_ctype(n), n->id, n->id, ix);
    if (w->need[j] != 1) continue;
    cgen_fused_value(w->ce, w->k, n, &sp, depth);
    if (w->buffered[j]) cgen_line(w->ce, depth, "rb%d[%s] = v%d;", n->id, ix, n->id);
  }
}

/* Whether the pass whose cone w->need marks reduces a row vector it buffers, and
 * calls one of vecmath.c's functions on the way: then it is two loops, so that the one
 * with the calls vectorises (the in-order sum of the reduction keeps a loop scalar). */
static bool split_pass(const Row *w, const Node *red) {
  int j = pos_of(w, red->in[0]);
  if (j < 0 || w->need[j] != 1 || !w->buffered[j]) return false;
  for (int i = 0; i < w->k->n; i++)
    if (w->need[i] == 1 && cgen_vecmath_used(w->ce, at(w, i))) return true;
  return false;
}

static void open_row_loop(const Row *w, int depth) {
  cgen_line(w->ce, depth, "for (int64_t i%d = 0; i%d < %" PRId64 "; i%d++) {", w->r - 1, w->r - 1, w->c, w->r - 1);
}

/* acc combined with the reduction's operand: its value, or (split) its buffer. */
static void accumulate(const Row *w, const Node *red, bool split, int depth) {
  char x[CGEN_EXPR_MAX + 32], comb[3 * CGEN_EXPR_MAX];
  CgenSpace sp = {.shape = &w->vec, .var = "i"};
  if (split) snprintf(x, sizeof x, "rb%d[i%d]", red->in[0], w->r - 1);
  else cgen_fused_operand(w->ce, w->k, red, 0, &sp, x, sizeof x);
  cgen_fused_acc_combine(red, x, comb, sizeof comb);
  cgen_line(w->ce, depth, "acc = %s;", comb);
}

/* ---- reductions in lanes ----
 *
 * A sum, max or min over a row of at least LANES elements runs in LANES independent
 * chains: element i goes to lane i % LANES, so the loop over a group of LANES elements
 * is one vector operation and nothing is reassociated within a chain.  The lanes are
 * of the element type (a max or min is exact in it).  A sum of a row longer than
 * LANE_BLOCK sums each block of that many in such lanes and adds each block's lanes
 * into lanes of double: a float chain is at most LANE_BLOCK / LANES long, whatever the
 * row.  The elements after the last whole group go straight into the outer lanes,
 * which are then combined pairwise (lane l with l + 8, then + 4, ..).
 * The order is fixed by the row length alone: the same for every run and thread. */
#define LANES 16
#define LANE_BLOCK 256

static bool lanes_fit(const Row *w, const Node *red) {
  return (red->op == OP_REDUCE_SUM || red->op == OP_REDUCE_MAX || red->op == OP_REDUCE_MIN) &&
         (red->dtype == DT_F32 || red->dtype == DT_F64) && w->c >= LANES;
}

/* dst = dst (op) x, through the combine of the op table. */
static void lane_combine(const Row *w, const Node *red, const char *type, const char *dst, const char *x,
                         int depth) {
  char comb[3 * CGEN_EXPR_MAX];
  cgen_fused_acc_combine(red, x, comb, sizeof comb);
  cgen_line(w->ce, depth, "{ const %s acc = %s; %s = %s; }", type, dst, dst, comb);
}

/* The statements that give element i<r-1> of the reduction's operand as x: its row
 * values (or, split, its buffer). */
static void lane_element(Row *w, const Node *red, bool split, char *x, size_t n, int depth) {
  CgenSpace sp = {.shape = &w->vec, .var = "i"};
  if (split) {
    snprintf(x, n, "rb%d[i%d]", red->in[0], w->r - 1);
    return;
  }
  row_values(w, depth);
  cgen_fused_operand(w->ce, w->k, red, 0, &sp, x, n);
}

/* Lanes of the element type over one block (a max or min, or a sum of a row of one
 * block): the elements of [ib, ie) in groups of LANES into lanes `l`. */
static void lane_groups(Row *w, const Node *red, bool split, const char *l, const char *ib, const char *ie,
                        int depth) {
  char x[CGEN_EXPR_MAX + 32], dst[32];
  snprintf(dst, sizeof dst, "%s[ln]", l);
  cgen_line(w->ce, depth, "for (int64_t iv = %s; iv < %s; iv += %d)", ib, ie, LANES);
  cgen_line(w->ce, depth + 1, "for (int ln = 0; ln < %d; ln++) {", LANES);
  cgen_line(w->ce, depth + 2, "const int64_t i%d = iv + ln;", w->r - 1);
  lane_element(w, red, split, x, sizeof x, depth + 2);
  lane_combine(w, red, cgen_ctype(red), dst, x, depth + 2);
  cgen_line(w->ce, depth + 1, "}");
}

static void lane_pass(Row *w, const Node *red, bool split, int depth) {
  const char *t = cgen_ctype(red);
  bool blocks = red->op == OP_REDUCE_SUM && w->c > LANE_BLOCK; /* lanes of double over blocks */
  const char *lt = blocks ? cgen_fused_acc_type(red->dtype) : t;
  char id[64], x[CGEN_EXPR_MAX + 32], cvs[32], dst[64];
  int iv = w->r - 1;
  int64_t cv = w->c - w->c % LANES;
  snprintf(cvs, sizeof cvs, "%" PRId64, cv);
  cgen_fused_acc_identity(red, id, sizeof id);
  cgen_line(w->ce, depth, "%s lo[%d];", lt, LANES);
  cgen_line(w->ce, depth, "for (int ln = 0; ln < %d; ln++) lo[ln] = (%s)%s;", LANES, lt, id);
  if (blocks) {
    cgen_line(w->ce, depth, "for (int64_t ib = 0; ib < %" PRId64 "; ib += %d) {", cv, LANE_BLOCK);
    cgen_line(w->ce, depth + 1, "const int64_t ie = ib + %d < %" PRId64 " ? ib + %d : %" PRId64 ";", LANE_BLOCK,
              cv, LANE_BLOCK, cv);
    cgen_line(w->ce, depth + 1, "%s lf[%d];", t, LANES);
    cgen_line(w->ce, depth + 1, "for (int ln = 0; ln < %d; ln++) lf[ln] = (%s)%s;", LANES, t, id);
    lane_groups(w, red, split, "lf", "ib", "ie", depth + 1);
    cgen_line(w->ce, depth + 1, "for (int ln = 0; ln < %d; ln++)", LANES);
    lane_combine(w, red, lt, "lo[ln]", "lf[ln]", depth + 2);
    cgen_line(w->ce, depth, "}");
  } else {
    lane_groups(w, red, split, "lo", "0", cvs, depth);
  }
  if (cv < w->c) {
    cgen_line(w->ce, depth, "for (int64_t i%d = %" PRId64 "; i%d < %" PRId64 "; i%d++) {", iv, cv, iv, w->c, iv);
    lane_element(w, red, split, x, sizeof x, depth + 1);
    snprintf(dst, sizeof dst, "lo[i%d - %" PRId64 "]", iv, cv);
    lane_combine(w, red, lt, dst, x, depth + 1);
    cgen_line(w->ce, depth, "}");
  }
  for (int h = LANES / 2; h >= 1; h /= 2) {
    cgen_line(w->ce, depth, "for (int ln = 0; ln < %d; ln++)", h);
    snprintf(x, sizeof x, "lo[ln + %d]", h);
    lane_combine(w, red, lt, "lo[ln]", x, depth + 1);
  }
  cgen_line(w->ce, depth, "v%d = (%s)lo[0];", red->id, t);
}

/* One pass over the row: a reduction into v<id>, or the store of the result. */
static void emit_pass(Row *w, int p, int depth) {
  const Node *red, *y = at(w, w->k->n - 1);
  char id[64], yi[CGEN_EXPR_MAX];
  CgenSpace sp = {.shape = &w->vec, .var = "i"};
  pass_cone(w, p);
  pass_target(w, p, &red);
  bool split = red && split_pass(w, red);
  if (red && lanes_fit(w, red)) {
    cgen_line(w->ce, depth, "%s v%d;", cgen_ctype(red), red->id);
    cgen_line(w->ce, depth, "{");
    if (split) {
      open_row_loop(w, depth + 1);
      row_values(w, depth + 2);
      cgen_line(w->ce, depth + 1, "}");
    }
    lane_pass(w, red, split, depth + 1);
    cgen_line(w->ce, depth, "}");
    return;
  }
  if (red) {
    cgen_fused_acc_identity(red, id, sizeof id);
    cgen_line(w->ce, depth, "%s v%d;", cgen_ctype(red), red->id);
    cgen_line(w->ce, depth, "{");
    cgen_line(w->ce, ++depth, "%s acc = %s;", cgen_fused_acc_type(red->dtype), id);
  }
  open_row_loop(w, depth);
  row_values(w, depth + 1);
  if (red && !split) accumulate(w, red, false, depth + 1);
  if (!red) {
    cgen_space_index(&sp, &w->vec, yi, sizeof yi);
    cgen_line(w->ce, depth + 1, "y[%s] = v%d;", yi, y->id);
  }
  cgen_line(w->ce, depth, "}");
  if (!red) return;
  if (split) {
    open_row_loop(w, depth);
    accumulate(w, red, true, depth + 1);
    cgen_line(w->ce, depth, "}");
  }
  cgen_line(w->ce, depth, "v%d = (%s)acc;", red->id, cgen_ctype(red));
  cgen_line(w->ce, depth - 1, "}");
}

/* The body inside the row loops: per-row scalars in order, a pass per reduction. */
static void row_body(Row *w, int depth) {
  CgenSpace sc = {.shape = &w->sc, .var = "i"};
  int p = 0;
  for (int j = 0; j < w->k->n; j++) {
    const Node *n = at(w, j);
    if (is_reduce(n)) emit_pass(w, p++, depth);
    else if (!is_vec(w, j) && !cgen_is_view(w->ce, w->k, n->id)) cgen_fused_value(w->ce, w->k, n, &sc, depth);
  }
  if (is_vec(w, w->k->n - 1)) {
    emit_pass(w, p, depth);
    return;
  }
  char yi[CGEN_EXPR_MAX];
  cgen_space_index(&sc, &w->sc, yi, sizeof yi);
  cgen_line(w->ce, depth, "y[%s] = v%d;", yi, w->k->nodes[w->k->n - 1]);
}

/* The operand of the first reduction, else the result (a row vector). */
static Shape row_domain(const CEmit *ce, const Kernel *k) {
  for (int j = 0; j < k->n; j++)
    if (is_reduce(ce->g->nodes[k->nodes[j]])) return cgen_in(ce, ce->g->nodes[k->nodes[j]], 0)->shape;
  return ce->g->nodes[k->nodes[k->n - 1]]->shape;
}

int cgen_fused_row(CEmit *ce, const Kernel *k) {
  size_t n = (size_t)k->n;
  Row w = {.ce = ce, .k = k, .vec = row_domain(ce, k), .buffered = dlc_calloc(n, sizeof(bool)),
           .need = dlc_calloc(n, sizeof(int)), .first = dlc_calloc(n, sizeof(int)), .computed = dlc_calloc(n, sizeof(int))};
  DLC_ASSERT(w.buffered && w.need && w.first && w.computed);
  w.r = w.vec.rank, w.c = w.vec.d[w.r - 1], w.sc = w.vec, w.sc.d[w.r - 1] = 1;
  choose_buffers(&w);
  /* threads share the rows; each then has its own row buffers, inside the loop */
  Shape rows = shape_make(w.r - 1, w.vec.d);
  bool par = cgen_par_dim(&rows) >= 0 && cgen_par_elems(shape_numel(&w.vec), CGEN_PAR_COPY + 4.0 * k->n);
  int depth = par ? 1 + rows.rank : 1;
  if (par) cgen_loops_open_par(ce, &rows, "i", 1, true);
  for (int j = 0; j < k->n; j++)
    if (w.buffered[j]) cgen_line(ce, depth, "%s rb%d[%" PRId64 "];", cgen_ctype(at(&w, j)), k->nodes[j], w.c);
  if (!par) depth = cgen_loops_open(ce, &rows, "i", 1);
  row_body(&w, depth);
  cgen_loops_close(ce, rows.rank, 1);
  free(w.buffered), free(w.need), free(w.first), free(w.computed);
  return 0;
}

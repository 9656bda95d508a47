/* onnx_ops_text.c — TfIdfVectorizer over token ids or strings, as core ops.
 *
 * The pool of n-grams is an attribute, so it is a table known at compile time.  For
 * each n-gram length k the node reads and each skip distance d, every window of X
 * (positions s, s+d, ..., s+(k-1)d of a row) is compared with every pool n-gram of
 * length k at once: k slices of X against k constant token rows, eq and and-ed into
 * [N, windows, n-grams], summed over the windows.  The counts of all lengths go to
 * their output coordinates (ngram_indexes) through scatter_add, and the mode weighs
 * them.  What ONNX's reference and ONNX Runtime do, rule by rule:
 *   - 1-grams are counted at distance 1 only; longer ones at every distance 1..S+1
 *     (S = max_skip_count);
 *   - only lengths in [min_gram_length, max_gram_length] count;
 *   - an n-gram twice in the pool at such a length is an error (ONNX Runtime's rule;
 *     ONNX's reference counts the last);
 *   - weights are the pool n-grams' (the specification's and ONNX Runtime's reading;
 *     ONNX's reference indexes them by output coordinate, which differs when
 *     ngram_indexes is not 0, 1, 2, ...): TFIDF sums weight * count at a coordinate,
 *     IDF gives a coordinate its n-grams' weight where any is found (they must agree);
 *     TF ignores them.
 * String n-grams (pool_strings, X strings) are counted as ids: the pool's distinct
 * strings get ids 0, 1, .. and each string of X the id of the pool string it equals
 * (byte for byte), or -1, which no n-gram holds. */
#include <stdlib.h>
#include <string.h>

#include "onnx_fe.h"

typedef struct TfIdf {
  int64_t *pool, *counts, *coords;
  const char **strs;                     /* pool_strings' distinct strings (id i: strs[i]), or NULL */
  int nstrs;
  double *weights;
  int npool, ncounts, ncoords, nweights; /* nweights -1: absent */
  int64_t min_len, max_len, skip, out;   /* out: the output length, max(ngram_indexes) + 1 */
  int mode;                              /* 0 TF, 1 IDF, 2 TFIDF */
} TfIdf;

/* An INTS attribute copied into the arena: its count, -1 when absent. */
static int ints_attr(OnnxCtx *c, OnnxNode *n, const char *name, int64_t **out) {
  int cnt = onnx_attr_ints(n, name, NULL, 0);
  *out = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(cnt > 0 ? cnt : 1));
  if (cnt > 0) onnx_attr_ints(n, name, *out, cnt);
  return cnt;
}

/* pool_strings as ids: each string the id of its first copy among the distinct ones. */
static int string_pool(OnnxCtx *c, OnnxNode *n, TfIdf *t) {
  const char **ps;
  int np = onnx_attr_strs(c, n, "pool_strings", &ps);
  if (np == -2) return -1;
  if (onnx_attr(n, "pool_int64s")) return onnx_fail(c, n, "both pool_strings and pool_int64s are given");
  t->npool = np;
  t->pool = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(np > 0 ? np : 1));
  t->strs = arena_alloc(c->g->arena, sizeof(char *) * (size_t)(np > 0 ? np : 1));
  t->nstrs = 0;
  int *first = arena_alloc(c->g->arena, sizeof(int) * (size_t)(np > 0 ? np : 1));
  onnx_first_copies(c, ps, NULL, np, first);
  for (int i = 0; i < np; i++) { /* ids in the order of first copies: a repeat takes its first copy's */
    if (first[i] == i) t->strs[t->nstrs] = ps[i], t->pool[i] = t->nstrs++;
    else t->pool[i] = t->pool[first[i]];
  }
  return 0;
}

/* X's strings as the ids of string_pool, -1 for a string not in the pool. */
static int string_ids(OnnxCtx *c, const TfIdf *t, int x) {
  const Shape *s = shape_of(c, x);
  int64_t d[IR_MAX_RANK], axis = s->rank;
  for (int i = 0; i < s->rank; i++) d[i] = s->d[i];
  d[s->rank] = 1;
  int keys = ir_const(c->g, NULL, DT_STR, (Shape){.rank = 1, .d = {t->nstrs}}, t->strs);
  int64_t *ord = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(t->nstrs > 0 ? t->nstrs : 1));
  for (int i = 0; i < t->nstrs; i++) ord[i] = i + 1;
  int hit = bin(c, OP_STR_EQ, reshape(c, x, d, s->rank + 1), keys);
  hit = hit < 0 ? -1 : ir_cast(c->g, hit, DT_I64);
  int sum = bin(c, OP_MUL, hit, ir_const(c->g, NULL, DT_I64, (Shape){.rank = 1, .d = {t->nstrs}}, ord));
  sum = sum < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_SUM, sum, &axis, 1, false); /* at most one pool string matches */
  return bin(c, OP_SUB, sum, ir_scalar(c->g, DT_I64, 1));
}

static int read_attrs(OnnxCtx *c, OnnxNode *n, TfIdf *t) {
  t->strs = NULL, t->nstrs = 0;
  const char *mode = onnx_attr_str(c, n, "mode", NULL);
  if (!mode) return onnx_fail(c, n, "needs the attribute 'mode' (TF, IDF or TFIDF)");
  t->mode = !strcmp(mode, "TF") ? 0 : !strcmp(mode, "IDF") ? 1 : !strcmp(mode, "TFIDF") ? 2 : -1;
  if (t->mode < 0) return onnx_fail(c, n, "attribute 'mode' is '%.64s', not TF, IDF or TFIDF", mode);
  t->min_len = onnx_attr_int(n, "min_gram_length", 0);
  t->max_len = onnx_attr_int(n, "max_gram_length", 0);
  t->skip = onnx_attr_int(n, "max_skip_count", -1);
  if (t->min_len < 1 || t->max_len < t->min_len)
    return onnx_fail(c, n, "attributes 'min_gram_length' %lld and 'max_gram_length' %lld: need 1 <= min <= max",
                     (long long)t->min_len, (long long)t->max_len);
  if (t->skip < 0 || t->skip > 1 << 20)
    return onnx_fail(c, n, "attribute 'max_skip_count' is %lld, not in [0, 2^20] (absent?)", (long long)t->skip);
  if (onnx_attr(n, "pool_strings")) {
    if (string_pool(c, n, t)) return -1;
  } else
    t->npool = ints_attr(c, n, "pool_int64s", &t->pool);
  t->ncounts = ints_attr(c, n, "ngram_counts", &t->counts);
  t->ncoords = ints_attr(c, n, "ngram_indexes", &t->coords);
  if (t->npool < 0) return onnx_fail(c, n, "needs the attribute 'pool_int64s' (or 'pool_strings')");
  if (t->ncounts < 1) return onnx_fail(c, n, "needs the attribute 'ngram_counts' (where each n-gram length starts)");
  if (t->ncoords < 1) return onnx_fail(c, n, "needs the attribute 'ngram_indexes'");
  t->nweights = onnx_attr_floats(n, "weights", NULL, 0);
  t->weights = arena_alloc(c->g->arena, sizeof(double) * (size_t)(t->nweights > 0 ? t->nweights : 1));
  if (t->nweights > 0) onnx_attr_floats(n, "weights", t->weights, t->nweights);
  return 0;
}

/* Where the n-grams of length k (k = i+1) start and end in the pool. */
static void segment(const TfIdf *t, int i, int64_t *from, int64_t *to) {
  *from = t->counts[i];
  *to = i + 1 < t->ncounts ? t->counts[i + 1] : t->npool;
}

typedef struct Gram {
  const int64_t *tok;
  int k;
  int j; /* its index among all the pool's n-grams */
} Gram;

static int gram_cmp(const void *a, const void *b) {
  const Gram *x = a, *y = b;
  for (int i = 0; i < x->k; i++)
    if (x->tok[i] != y->tok[i]) return x->tok[i] < y->tok[i] ? -1 : 1;
  return (x->j > y->j) - (x->j < y->j);
}

/* The n-grams of segment i (length k = i+1), the first being n-gram first_j: their count. */
static int grams_of(const TfIdf *t, int i, int first_j, Gram *g) {
  int64_t from, to;
  segment(t, i, &from, &to);
  int k = i + 1, m = (int)((to - from) / k);
  for (int q = 0; q < m; q++) g[q] = (Gram){t->pool + from + (int64_t)q * k, k, first_j + q};
  return m;
}

/* An n-gram twice in the pool, at a length that counts, is an error (ONNX Runtime's
 * rule; the specification says nothing of it). */
static int check_unique(OnnxCtx *c, OnnxNode *n, const TfIdf *t) {
  for (int i = 0, first_j = 0; i < t->ncounts; i++) {
    int64_t from, to;
    segment(t, i, &from, &to);
    Gram *g = arena_alloc(c->g->arena, sizeof(Gram) * (size_t)((to - from) / (i + 1) + 1));
    int m = grams_of(t, i, first_j, g);
    first_j += m;
    if (i + 1 < t->min_len || i + 1 > t->max_len) continue;
    qsort(g, (size_t)m, sizeof *g, gram_cmp);
    int rep = -1; /* the repeat earliest in the pool, with the n-gram it repeats */
    for (int q = 0; q + 1 < m; q++)
      if (!memcmp(g[q].tok, g[q + 1].tok, sizeof(int64_t) * (size_t)(i + 1)) && (rep < 0 || g[q + 1].j < g[rep + 1].j))
        rep = q;
    if (rep >= 0)
      return onnx_fail(c, n, "attribute 'pool_int64s': n-grams %d and %d are the same %d-gram", g[rep].j,
                       g[rep + 1].j, i + 1);
  }
  return 0;
}

/* ngram_counts must cut the pool into whole n-grams; ngram_indexes gives each one a
 * coordinate, and weights (when given) a weight. */
static int check_pool(OnnxCtx *c, OnnxNode *n, TfIdf *t) {
  int64_t grams = 0;
  for (int i = 0; i < t->ncounts; i++) {
    int64_t from, to, lo = i ? t->counts[i - 1] : 0;
    segment(t, i, &from, &to);
    if (from < lo || from > t->npool)
      return onnx_fail(c, n, "attribute 'ngram_counts': entry %d (%lld) is not in [%lld, %d] (the pool's length)", i,
                       (long long)from, (long long)lo, t->npool);
    if ((to - from) % (i + 1))
      return onnx_fail(c, n, "attribute 'ngram_counts': the %lld values of the %d-grams are not whole %d-grams",
                       (long long)(to - from), i + 1, i + 1);
    grams += (to - from) / (i + 1);
  }
  if (grams != t->ncoords)
    return onnx_fail(c, n, "attribute 'ngram_indexes' has %d entries, the pool holds %lld n-grams", t->ncoords,
                     (long long)grams);
  t->out = 0;
  for (int j = 0; j < t->ncoords; j++) {
    if (t->coords[j] < 0 || t->coords[j] >= 1 << 24)
      return onnx_fail(c, n, "attribute 'ngram_indexes': entry %d is %lld, not in [0, 2^24)", j, (long long)t->coords[j]);
    if (t->coords[j] + 1 > t->out) t->out = t->coords[j] + 1;
  }
  if (t->nweights >= 0 && t->nweights != t->ncoords)
    return onnx_fail(c, n, "attribute 'weights' has %d values, the pool holds %d n-grams", t->nweights, t->ncoords);
  return check_unique(c, n, t);
}

/* x [N, C] i64, columns [from, from + p), as [N, p, 1]. */
static int columns(OnnxCtx *c, int x, int64_t from, int64_t p) {
  const Shape *s = shape_of(c, x);
  int64_t st[2] = {0, from}, en[2] = {s->d[0], from + p}, sp[2] = {1, 1}, r[3] = {s->d[0], p, 1};
  Attr a[3] = {attr_ints(A_STARTS, st, 2), attr_ints(A_ENDS, en, 2), attr_ints(A_STEPS, sp, 2)};
  return reshape(c, ir_add(c->g, OP_SLICE, &x, 1, a, 3), r, 3);
}

/* How often each n-gram of g[0..m) (length k) appears in each row of x [N, C] at
 * distance d: [N, m] f32, or -2 when no window fits. */
static int count_at(OnnxCtx *c, int x, const Gram *g, int m, int k, int64_t d) {
  int64_t cols = shape_of(c, x)->d[1], p = cols - (int64_t)(k - 1) * d;
  if (p <= 0) return -2;
  int hit = -1;
  int64_t *row = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)m);
  for (int i = 0; i < k; i++) {
    for (int q = 0; q < m; q++) row[q] = g[q].tok[i];
    int tok = ir_const(c->g, NULL, DT_I64, (Shape){3, {1, 1, m}}, row);
    int eq = bin(c, OP_EQ, columns(c, x, i * d, p), tok);
    hit = i ? bin(c, OP_AND, hit, eq) : eq;
  }
  int64_t ax = 1;
  hit = hit < 0 ? -1 : ir_cast(c->g, hit, DT_F32);
  return hit < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_SUM, hit, &ax, 1, false);
}

/* The counts of the n-grams of length k = i+1 in each row of x, over every distance
 * they are counted at: [N, m] (-2: none fits).  Their indices in the pool go to gj. */
static int count_length(OnnxCtx *c, const TfIdf *t, int x, int i, int first_j, int64_t *gj, int *m) {
  int64_t from, to;
  segment(t, i, &from, &to);
  int k = i + 1, total = -2;
  Gram *g = arena_alloc(c->g->arena, sizeof(Gram) * (size_t)((to - from) / k + 1));
  *m = grams_of(t, i, first_j, g);
  if (!*m) return -2;
  for (int q = 0; q < *m; q++) gj[q] = g[q].j;
  for (int64_t d = 1; d <= (k == 1 ? 1 : t->skip + 1); d++) {
    int y = count_at(c, x, g, *m, k, d);
    if (y < 0) return y == -1 ? -1 : total; /* no window fits at d, nor at any longer distance */
    total = total == -2 ? y : bin(c, OP_ADD, total, y);
    if (total == -1) return -1;
  }
  return total;
}

/* A [n] constant of v, or of v indexed by the n-grams gj. */
static int table(OnnxCtx *c, DType dt, const double *v, const int64_t *gj, int64_t n) {
  void *d = arena_alloc(c->g->arena, (size_t)(8 * n + 8));
  for (int64_t q = 0; q < n; q++) {
    double e = gj ? v[gj[q]] : v[q];
    if (dt == DT_F32) ((float *)d)[q] = (float)e;
    else ((int64_t *)d)[q] = (int64_t)e;
  }
  return ir_const(c->g, NULL, dt, (Shape){1, {n}}, d);
}

/* y [N, m] summed into coordinates: [N, out]. */
static int to_coords(OnnxCtx *c, const TfIdf *t, int y, const int64_t *gj, int m) {
  double *cd = arena_alloc(c->g->arena, sizeof(double) * (size_t)m);
  for (int q = 0; q < m; q++) cd[q] = (double)t->coords[gj[q]];
  int ix = table(c, DT_I64, cd, NULL, m);
  int64_t shape[2] = {shape_of(c, y)->d[0], t->out};
  Attr sa[2] = {attr_ints(A_SHAPE, shape, 2), attr_int(A_AXIS, 1)};
  int in[2] = {y, ix};
  return y < 0 || ix < 0 ? -1 : ir_add(c->g, OP_SCATTER_ADD, in, 2, sa, 2);
}

/* TF: the counts summed at each coordinate; TFIDF: each n-gram's count times its
 * weight, summed; IDF: where any n-gram of a coordinate is found, its weight (one per
 * coordinate, check_idf) or 1.  all [N, m] holds the counts of n-grams gj. */
static int weigh(OnnxCtx *c, const TfIdf *t, int all, const int64_t *gj, int m) {
  if (t->mode == 0 || (t->mode == 2 && t->nweights < 0)) return to_coords(c, t, all, gj, m);
  if (t->mode == 2) return to_coords(c, t, bin(c, OP_MUL, all, table(c, DT_F32, t->weights, gj, m)), gj, m);
  int found = bin(c, OP_GT, to_coords(c, t, all, gj, m), ir_scalar(c->g, DT_F32, 0));
  if (found < 0) return -1;
  if (t->nweights < 0) return ir_cast(c->g, found, DT_F32);
  double *wc = arena_alloc(c->g->arena, sizeof(double) * (size_t)t->out);
  for (int q = 0; q < m; q++) wc[t->coords[gj[q]]] = t->weights[gj[q]];
  return ir_select(c->g, found, table(c, DT_F32, wc, NULL, t->out), ir_scalar(c->g, DT_F32, 0));
}

/* IDF gives one weight per coordinate: the n-grams (of counted lengths) that share one
 * must agree on it (which one ONNX Runtime gives otherwise depends on the order of the
 * matches). */
static int check_idf(OnnxCtx *c, OnnxNode *n, const TfIdf *t, const int64_t *gj, int m) {
  int *first = arena_alloc(c->g->arena, sizeof(int) * (size_t)t->out);
  for (int64_t q = 0; q < t->out; q++) first[q] = -1;
  for (int q = 0; t->mode == 1 && t->nweights >= 0 && q < m; q++) {
    int64_t co = t->coords[gj[q]];
    if (first[co] >= 0 && t->weights[first[co]] != t->weights[gj[q]])
      return onnx_fail(c, n, "attribute 'weights': n-grams %d and %d share coordinate %lld but not their weight, "
                       "which IDF mode needs", first[co], (int)gj[q], (long long)co);
    if (first[co] < 0) first[co] = (int)gj[q];
  }
  return 0;
}

/* The weighed counts of every pool n-gram that counts, at its coordinate: [N, out] f32. */
static int count_all(OnnxCtx *c, OnnxNode *n, const TfIdf *t, int x) {
  int64_t rows = shape_of(c, x)->d[0], *gj = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)t->ncoords);
  int *part = arena_alloc(c->g->arena, sizeof(int) * (size_t)t->ncounts), np = 0, m = 0, first_j = 0;
  for (int i = 0; i < t->ncounts; i++) {
    int64_t from, to;
    segment(t, i, &from, &to);
    int mi = 0;
    if (i + 1 >= t->min_len && i + 1 <= t->max_len) {
      int y = count_length(c, t, x, i, first_j, gj + m, &mi);
      if (y == -1) return onnx_fail_ir(c, n);
      if (y >= 0) part[np++] = y, m += mi;
    }
    first_j += (int)((to - from) / (i + 1));
  }
  if (check_idf(c, n, t, gj, m)) return -1;
  if (!np) {
    float *zero = arena_alloc(c->g->arena, sizeof(float) * (size_t)(rows * t->out + 1));
    int z = ir_const(c->g, NULL, DT_F32, (Shape){2, {rows, t->out}}, zero);
    return z < 0 ? onnx_fail_ir(c, n) : z;
  }
  Attr ax = attr_int(A_AXIS, 1);
  int all = np == 1 ? part[0] : ir_add(c->g, OP_CONCAT, part, np, &ax, 1);
  int y = all < 0 ? -1 : weigh(c, t, all, gj, m);
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

int onnx_TfIdfVectorizer(OnnxCtx *c, OnnxNode *n) {
  TfIdf t;
  if (need(c, n, 1) || read_attrs(c, n, &t) || check_pool(c, n, &t)) return -1;
  int x = n->in[0];
  DType dt = dtype_of(c, x);
  const Shape *s = shape_of(c, x);
  if (dt != DT_I32 && dt != DT_I64 && dt != DT_STR)
    return onnx_fail(c, n, "X is %s, not int32 or int64 token ids or strings", dtype_name(dt));
  if ((dt == DT_STR) != (t.strs != NULL))
    return onnx_fail(c, n, "X is %s, but the pool is %s", dtype_name(dt), t.strs ? "pool_strings" : "pool_int64s");
  if (s->rank > 2 || (s->rank == 2 && s->d[0] < 1))
    return onnx_fail(c, n, "X must be [C] or [N, C] with N > 0");
  int64_t rows = s->rank == 2 ? s->d[0] : 1, cols = s->rank ? s->d[s->rank - 1] : 1, m[2] = {rows, cols};
  if (dt == DT_I32) x = ir_cast(c->g, x, DT_I64); /* a pool value outside int32 then matches nothing */
  if (dt == DT_STR) x = string_ids(c, &t, x);
  if (x < 0) return onnx_fail_ir(c, n);
  x = reshape(c, x, m, 2);
  if (x < 0) return onnx_fail_ir(c, n);
  int y = count_all(c, n, &t, x);
  if (y < 0) return -1;
  if (s->rank < 2) y = reshape(c, y, &t.out, 1);
  ONNX_TRY(c, n, n->out[0] = y);
  return 0;
}

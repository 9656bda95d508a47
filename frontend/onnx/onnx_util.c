/* onnx_util.c — small builders the operator files share. */
#include <stdlib.h>
#include <string.h>

#include "onnx_fe.h"

int onnx_scalar_like(OnnxCtx *c, int like, double v) {
  DType t = c->g->nodes[like]->dtype;
  if (dtype_is_int(t)) /* a float attribute meeting an integer tensor may not fit: saturate */
    v = v != v ? 0 : v < dtype_lowest(t) ? dtype_lowest(t) : v > dtype_highest(t) ? dtype_highest(t) : v;
  return ir_scalar(c->g, t, v);
}

int onnx_round_to(OnnxCtx *c, int x, DType t) {
  if (x < 0 || !dtype_is_storage(t)) return x;
  int y = ir_cast(c->g, x, t);
  return y < 0 ? -1 : ir_cast(c->g, y, DT_F32);
}

/* x[j:j+1] along axis. */
static int slice_at(OnnxCtx *c, int x, int64_t axis, int64_t j) {
  const Shape *s = &c->g->nodes[x]->shape;
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) st[i] = 0, en[i] = s->d[i], sp[i] = 1;
  st[axis] = j, en[axis] = j + 1;
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank), attr_ints(A_STEPS, sp, s->rank)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

int onnx_sum_as(OnnxCtx *c, int x, int64_t axis, DType t) {
  if (x < 0) return -1;
  int64_t n = c->g->nodes[x]->shape.d[axis];
  if (t != DT_BF16 || n < 2 || n > ONNX_SEQ_SUM_MAX) return onnx_round_to(c, ir_reduce(c->g, OP_REDUCE_SUM, x, &axis, 1, true), t);
  int acc = slice_at(c, x, axis, 0);
  for (int64_t j = 1; j < n && acc >= 0; j++) {
    int e = slice_at(c, x, axis, j);
    acc = onnx_round_to(c, e < 0 ? -1 : ir_binary(c->g, OP_ADD, acc, e), t);
  }
  return acc;
}

/* onnx_first_copies: the entries sorted by value, then by position, so that each run of
 * equal values starts at its first copy: O(n log n) whatever the list (a hostile model
 * may give millions, where comparing every pair would take hours). */
typedef struct Entry {
  const char *s; /* string entries, else NULL */
  int64_t v;
  int at;
} Entry;
static int entry_cmp(const void *a, const void *b) {
  const Entry *p = a, *q = b;
  int d = p->s ? strcmp(p->s, q->s) : (p->v > q->v) - (p->v < q->v);
  return d ? d : (p->at > q->at) - (p->at < q->at);
}

void onnx_first_copies(OnnxCtx *c, const char *const *s, const int64_t *v, int n, int *first) {
  Entry *e = arena_alloc(c->g->arena, sizeof(Entry) * (size_t)(n > 0 ? n : 1));
  for (int i = 0; i < n; i++) e[i] = (Entry){s ? s[i] : NULL, s ? 0 : v[i], i};
  qsort(e, (size_t)n, sizeof *e, entry_cmp);
  for (int i = 0, lead = 0; i < n; i++) {
    if (s ? strcmp(e[lead].s, e[i].s) : e[lead].v != e[i].v) lead = i;
    first[e[i].at] = e[lead].at;
  }
}

int onnx_first_repeat(OnnxCtx *c, const char *const *s, const int64_t *v, int n, int *first) {
  int *f = arena_alloc(c->g->arena, sizeof(int) * (size_t)(n > 0 ? n : 1));
  onnx_first_copies(c, s, v, n, f);
  for (int i = 0; i < n; i++)
    if (f[i] != i) {
      if (first) *first = f[i];
      return i;
    }
  return -1;
}

int onnx_axis(OnnxCtx *c, const OnnxNode *n, int64_t axis, int rank, int64_t *out) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (!rank) /* ONNX's range [-r, r-1] is empty: a builder would read a dimension a scalar lacks */
    return onnx_fail(c, n, "axis %lld: the input is a scalar (rank 0), which has no axis", (long long)axis);
  if (a < 0 || a >= rank)
    return onnx_fail(c, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
  *out = a;
  return 0;
}

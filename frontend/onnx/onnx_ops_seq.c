/* onnx_ops_seq.c — ONNX sequences and optionals, as compile-time structures.
 *
 * A sequence is a list of tensor ids whose length is known at compile time, or a list
 * of at most n whose length is a node (OnnxSeq.count: a Loop or If with a run-time
 * condition merged two lengths; elements from count on are padding); an optional is
 * empty or holds one tensor or sequence.  Neither exists in the IR: the operators
 * below rearrange lists of ids, and only the tensors in them become nodes.  A graph
 * input or output that is a sequence or optional follows the convention of
 * docs/ONNX.md: the elements of sequence NAME are the tensors NAME.0, NAME.1, ... */
#include <stdio.h>
#include <string.h>

#include "onnx_fe.h"

int onnx_seq_make(OnnxCtx *c, OnnxSeqKind kind, const int *v, int n, int dtype) {
  if (c->nseqs == c->seqcap)
    c->seqs = arena_grow(c->g->arena, c->seqs, c->nseqs, c->seqcap, sizeof(OnnxSeq)), c->seqcap = arena_grown(c->seqcap);
  OnnxSeq *s = &c->seqs[c->nseqs];
  s->kind = kind;
  s->n = n;
  s->v = arena_alloc(c->g->arena, sizeof(int) * (size_t)(n ? n : 1));
  if (n) memcpy(s->v, v, sizeof(int) * (size_t)n);
  s->dtype = dtype;
  s->count = -1;
  return -2 - c->nseqs++;
}

void onnx_seq_set_count(OnnxCtx *c, int id, int count) {
  if (ONNX_IS_SEQ(id) && -2 - id < c->nseqs) c->seqs[-2 - id].count = count;
}

int onnx_seq_length(OnnxCtx *c, const OnnxSeq *s) { return s->count >= 0 ? s->count : ir_scalar(c->g, DT_I64, s->n); }

const OnnxSeq *onnx_seq_get(const OnnxCtx *c, int id) {
  return ONNX_IS_SEQ(id) && -2 - id < c->nseqs ? &c->seqs[-2 - id] : NULL;
}

const char *onnx_seq_kind_word(const OnnxSeq *s, int id) {
  if (id == -1) return "absent";
  if (!s) return "a tensor";
  return s->kind == ONNX_SEQ ? "a sequence" : s->kind == ONNX_OPT ? "an optional" : "a sequence of maps";
}

/* ---- operands ---- */

static const char *kind_word(const OnnxCtx *c, int id) {
  const OnnxSeq *s = onnx_seq_get(c, id);
  return onnx_seq_kind_word(s, id);
}

/* Operand i as a tensor id. */
static int tensor_in(OnnxCtx *c, OnnxNode *n, int i, int *id) {
  if (i >= n->nin || n->in[i] < 0)
    return onnx_fail(c, n, "input %d must be a tensor, but is %s", i + 1, kind_word(c, i < n->nin ? n->in[i] : -1));
  *id = n->in[i];
  return 0;
}

/* Operand i as a sequence. */
static const OnnxSeq *seq_in(OnnxCtx *c, OnnxNode *n, int i) {
  const OnnxSeq *s = i < n->nin ? onnx_seq_get(c, n->in[i]) : NULL;
  if (!s || s->kind != ONNX_SEQ) {
    onnx_fail(c, n, "input %d must be a sequence, but is %s", i + 1, kind_word(c, i < n->nin ? n->in[i] : -1));
    return NULL;
  }
  return s;
}

int onnx_fail_unless(OnnxCtx *c, int x, int ok) {
  int one = ir_scalar(c->g, DT_I64, 1), zero = ir_scalar(c->g, DT_I64, 0), idx = -1, w = -1, r = -1;
  DType dt = c->g->nodes[x]->dtype;
  if (one >= 0 && zero >= 0 && (idx = ir_select(c->g, ok, zero, one)) >= 0 && (w = onnx_storage_wide(c, x)) >= 0) {
    const Shape *xs = &c->g->nodes[w]->shape;
    int64_t d[IR_MAX_RANK + 1];
    d[0] = 1;
    memcpy(d + 1, xs->d, sizeof(int64_t) * (size_t)xs->rank);
    Attr a = attr_int(A_AXIS, 0);
    int in[2] = {ir_reshape(c->g, w, d, xs->rank + 1), idx};
    if (in[0] >= 0 && (r = ir_add(c->g, OP_GATHER, in, 2, &a, 1)) >= 0) r = onnx_storage_narrow(c, r, dt);
  }
  if (r >= 0) onnx_dyn_follow(c, x, r, onnx_dyn_axis(c, x)); /* a padded value stays padded */
  return r;
}

/* Sequence s, which operator n reads only when its length is known at compile time. */
static int static_length(OnnxCtx *c, OnnxNode *n, const OnnxSeq *s, int i) {
  if (s->count < 0) return 0;
  return onnx_fail(c, n, "input %d is a sequence whose length is known only at run time (at most %d, from a Loop or If "
                   "whose condition is); %s reads it only %s", i + 1, s->n, n->p->op_type,
                   "when its length is known at compile time (SequenceLength, ConcatFromSequence, SequenceAt at a "
                   "constant position and SequenceInsert at the end read any)");
}

/* An optional position operand (an integer scalar known at compile time) in
 * [lo, hi] after adding len to a negative one; def when absent. */
static int position(OnnxCtx *c, OnnxNode *n, int i, int64_t def, int64_t lo, int64_t hi, int len, int64_t *out) {
  *out = def;
  if (i >= n->nin || n->in[i] == -1) return 0;
  int64_t v;
  if (ONNX_IS_SEQ(n->in[i]) || onnx_const_ints(c, n->in[i], &v, 1) != 1)
    return onnx_fail(c, n, "input %d (position) must be a scalar constant known at compile time", i + 1);
  if (v < 0) v += len;
  if (v < lo || v > hi)
    return onnx_fail(c, n, "position %lld is out of range for a sequence of length %d", (long long)v, len);
  *out = v;
  return 0;
}


static int check_dtype(OnnxCtx *c, OnnxNode *n, int want, int id) {
  if (want >= 0 && (int)dtype_of(c, id) != want)
    return onnx_fail(c, n, "a %s tensor cannot join a sequence of %s", dtype_name((DType)dtype_of(c, id)),
                     dtype_name((DType)want));
  return 0;
}

/* ---- building blocks ---- */

static int unsqueeze(OnnxCtx *c, int x, int axis) {
  const Shape *s = &c->g->nodes[x]->shape;
  int64_t d[IR_MAX_RANK + 1];
  for (int i = 0, k = 0; i <= s->rank; i++) d[i] = i == axis ? 1 : s->d[k++];
  return ir_reshape(c->g, x, d, s->rank + 1);
}

/* x[start:end] along axis. */
static int slice_axis(OnnxCtx *c, int x, int axis, int64_t start, int64_t end) {
  const Shape *s = &c->g->nodes[x]->shape;
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) st[i] = 0, en[i] = s->d[i], sp[i] = 1;
  st[axis] = start, en[axis] = end;
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank), attr_ints(A_STEPS, sp, s->rank)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

/* ---- operators ---- */

int onnx_SequenceConstruct(OnnxCtx *c, OnnxNode *n) {
  int v[ONNX_MAX_IO];
  for (int i = 0; i < n->nin; i++)
    if (tensor_in(c, n, i, &v[i]) || check_dtype(c, n, dtype_of(c, v[0]), v[i])) return -1;
  if (!n->nin) return onnx_fail(c, n, "needs at least one input");
  n->out[0] = onnx_seq_make(c, ONNX_SEQ, v, n->nin, dtype_of(c, v[0]));
  return 0;
}

int onnx_SequenceEmpty(OnnxCtx *c, OnnxNode *n) {
  DType dt;
  int64_t t = onnx_attr_int(n, "dtype", 1 /* FLOAT */);
  n->out[0] = onnx_seq_make(c, ONNX_SEQ, NULL, 0, onnx_dtype((int32_t)t, &dt) ? -1 : (int)dt);
  return 0;
}

int onnx_SequenceAt(OnnxCtx *c, OnnxNode *n) {
  const OnnxSeq *s = seq_in(c, n, 0);
  int64_t pos;
  if (!s) return -1;
  if (n->nin < 2 || n->in[1] == -1) return onnx_fail(c, n, "needs input 2 (position)");
  if (s->count >= 0) { /* a length known only at run time: a position from the front, checked when it runs */
    int64_t v;
    if (ONNX_IS_SEQ(n->in[1]) || onnx_const_ints(c, n->in[1], &v, 1) != 1 || v < 0 || v >= s->n)
      return onnx_fail(c, n, "input 1 is a sequence whose length is known only at run time (at most %d): the position "
                       "must be a constant in [0, %d]", s->n, s->n - 1);
    /* the element where v < count; where it is not, the run fails (NAME_ERR_INDEX) */
    int k = ir_scalar(c->g, DT_I64, (double)v), ok = k < 0 ? -1 : ir_binary(c->g, OP_LT, k, s->count);
    ONNX_TRY(c, n, n->out[0] = ok < 0 ? -1 : onnx_fail_unless(c, s->v[v], ok));
    return 0;
  }
  if (position(c, n, 1, 0, 0, s->n - 1, s->n, &pos)) return -1;
  n->out[0] = s->v[pos];
  return 0;
}

int onnx_SequenceInsert(OnnxCtx *c, OnnxNode *n) {
  const OnnxSeq *s = seq_in(c, n, 0);
  int x = -1;
  int64_t pos;
  if (!s || tensor_in(c, n, 1, &x) || check_dtype(c, n, s->dtype, x)) return -1;
  if (s->count >= 0) { /* a length known only at run time: at the end only, element i = x where i == count */
    if (n->nin > 2 && n->in[2] != -1) return static_length(c, n, s, 0);
    int *v = arena_alloc(c->g->arena, sizeof(int) * (size_t)(s->n + 1)), one = -1, cnt = -1;
    const Shape *xs = &c->g->nodes[x]->shape;
    for (int i = 0; i < s->n; i++) {
      const Node *e = c->g->nodes[s->v[i]];
      if (!shape_eq(&e->shape, xs))
        return onnx_fail(c, n, "the sequence's length is known only at run time, so the new element goes where the "
                         "count says: it must have the shape of every element");
      int at = ir_scalar(c->g, DT_I64, i), here = at < 0 ? -1 : ir_binary(c->g, OP_EQ, at, s->count);
      int xw = onnx_storage_wide(c, x), ew = onnx_storage_wide(c, s->v[i]);
      int r = here < 0 || xw < 0 || ew < 0 ? -1 : ir_select(c->g, here, xw, ew);
      if ((v[i] = onnx_storage_narrow(c, r, dtype_of(c, x))) < 0) return onnx_fail_ir(c, n);
    }
    v[s->n] = x;
    int count = s->count; /* s may move when the sequence is made */
    n->out[0] = onnx_seq_make(c, ONNX_SEQ, v, s->n + 1, dtype_of(c, x));
    if ((one = ir_scalar(c->g, DT_I64, 1)) < 0 || (cnt = ir_binary(c->g, OP_ADD, count, one)) < 0)
      return onnx_fail_ir(c, n);
    onnx_seq_set_count(c, n->out[0], cnt);
    return 0;
  }
  if (position(c, n, 2, s->n, 0, s->n, s->n, &pos)) return -1;
  int *v = arena_alloc(c->g->arena, sizeof(int) * (size_t)(s->n + 1));
  for (int i = 0, k = 0; i <= s->n; i++) v[i] = i == pos ? x : s->v[k++];
  n->out[0] = onnx_seq_make(c, ONNX_SEQ, v, s->n + 1, dtype_of(c, x));
  return 0;
}

int onnx_SequenceErase(OnnxCtx *c, OnnxNode *n) {
  const OnnxSeq *s = seq_in(c, n, 0);
  int64_t pos;
  if (!s || static_length(c, n, s, 0)) return -1;
  if (!s->n) return onnx_fail(c, n, "the sequence is empty: there is nothing to erase");
  if (position(c, n, 1, s->n - 1, 0, s->n - 1, s->n, &pos)) return -1;
  int *v = arena_alloc(c->g->arena, sizeof(int) * (size_t)s->n);
  for (int i = 0, k = 0; i < s->n; i++)
    if (i != pos) v[k++] = s->v[i];
  n->out[0] = onnx_seq_make(c, ONNX_SEQ, v, s->n - 1, s->dtype);
  return 0;
}

int onnx_SequenceLength(OnnxCtx *c, OnnxNode *n) {
  const OnnxSeq *s = seq_in(c, n, 0);
  if (!s) return -1;
  ONNX_TRY(c, n, n->out[0] = onnx_seq_length(c, s));
  return 0;
}

int onnx_SplitToSequence(OnnxCtx *c, OnnxNode *n) {
  int x = -1;
  if (tensor_in(c, n, 0, &x)) return -1;
  const Shape *xs = &c->g->nodes[x]->shape;
  int64_t axis, split[1024];
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", 0), xs->rank, &axis)) return -1;
  bool keep = onnx_attr_int(n, "keepdims", 1) != 0;
  int64_t dim = xs->d[axis];
  int ns = 0;
  bool given = n->nin > 1 && n->in[1] != -1;
  if (given) {
    if (ONNX_IS_SEQ(n->in[1]) || (ns = onnx_const_ints(c, n->in[1], split, 1024)) < 0)
      return onnx_fail(c, n, "input 2 (split) must be a constant known at compile time");
    if (ns > 1024) return onnx_fail(c, n, "more than 1024 parts");
    if (c->g->nodes[n->in[1]]->shape.rank == 0) { /* one size: equal parts, the last may be smaller */
      int64_t each = split[0];
      if (each <= 0) return onnx_fail(c, n, "split size %lld is not positive", (long long)each);
      if ((dim + each - 1) / each > 1024) return onnx_fail(c, n, "more than 1024 parts");
      ns = 0;
      for (int64_t at = 0; at < dim; at += each) split[ns++] = at + each <= dim ? each : dim - at;
    }
  } else {
    if (dim > 1024) return onnx_fail(c, n, "more than 1024 parts");
    for (int64_t i = 0; i < dim; i++) split[ns++] = 1;
  }
  int64_t total = 0;
  for (int i = 0; i < ns; i++) {
    if (split[i] < 0) return onnx_fail(c, n, "split size %lld is negative", (long long)split[i]);
    total += split[i];
  }
  if (total != dim)
    return onnx_fail(c, n, "the split sizes add up to %lld, the axis has %lld", (long long)total, (long long)dim);
  int *v = arena_alloc(c->g->arena, sizeof(int) * (size_t)(ns ? ns : 1));
  DType t = dtype_of(c, x); /* f16, bf16: split in f32, each part rounded back (exactly) */
  ONNX_TRY(c, n, x = onnx_storage_wide(c, x));
  for (int i = 0, at = 0; i < ns; at += (int)split[i], i++) {
    ONNX_TRY(c, n, v[i] = slice_axis(c, x, (int)axis, at, at + split[i]));
    if (!given && !keep) {
      int64_t d[IR_MAX_RANK];
      for (int k = 0, j = 0; k < xs->rank; k++)
        if (k != axis) d[j++] = xs->d[k];
      ONNX_TRY(c, n, v[i] = ir_reshape(c->g, v[i], d, xs->rank - 1));
    }
    ONNX_TRY(c, n, v[i] = onnx_storage_narrow(c, v[i], t));
  }
  n->out[0] = onnx_seq_make(c, ONNX_SEQ, v, ns, t);
  return 0;
}

int onnx_ConcatFromSequence(OnnxCtx *c, OnnxNode *n) {
  const OnnxSeq *s = seq_in(c, n, 0);
  if (!s) return -1;
  if (!onnx_attr(n, "axis")) return onnx_fail(c, n, "needs attribute 'axis'");
  bool new_axis = onnx_attr_int(n, "new_axis", 0) != 0;
  if (!s->n) return onnx_fail(c, n, "the sequence is empty: there is nothing to concatenate");
  int rank = c->g->nodes[s->v[0]]->shape.rank;
  int64_t axis;
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", 0), rank + new_axis, &axis)) return -1;
  /* elements of data-dependent length: all padded alike, joined along another axis
   * (or stacked), and the sequence's own length known */
  int d0 = onnx_dyn_find(c, s->v[0]), pa = d0 >= 0 ? c->dyn_axis[d0] : -1;
  for (int i = 0; i < s->n; i++) {
    int d = onnx_dyn_find(c, s->v[i]);
    if ((d >= 0 || d0 >= 0) && (d < 0 || d0 < 0 || c->dyn_axis[d] != pa || c->dyn_count[d] != c->dyn_count[d0] ||
                                s->count >= 0 || (!new_axis && pa == axis)))
      return onnx_fail(c, n, "the sequence's elements have lengths that depend on the data: ConcatFromSequence joins "
                       "them only when all are padded by the same length, along another axis than the one it joins, "
                       "in a sequence whose own length is known at compile time");
  }
  int *v = arena_alloc(c->g->arena, sizeof(int) * (size_t)s->n);
  DType t = c->g->nodes[s->v[0]]->dtype; /* f16, bf16: concatenated in f32 */
  for (int i = 0; i < s->n; i++) {
    ONNX_TRY(c, n, v[i] = onnx_storage_wide(c, s->v[i]));
    if (new_axis) ONNX_TRY(c, n, v[i] = unsqueeze(c, v[i], (int)axis));
  }
  Attr a = attr_int(A_AXIS, axis);
  if (s->n == 1) n->out[0] = v[0];
  else ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_CONCAT, v, s->n, &a, 1));
  ONNX_TRY(c, n, n->out[0] = onnx_storage_narrow(c, n->out[0], t));
  if (d0 >= 0) onnx_dyn_mark(c, n->out[0], c->dyn_count[d0], new_axis && pa >= axis ? pa + 1 : pa);
  if (s->count >= 0) { /* padded along axis: its real length is that of the first count elements; none fails */
    int zero = ir_scalar(c->g, DT_I64, 0), some = zero < 0 ? -1 : ir_binary(c->g, OP_LT, zero, s->count);
    ONNX_TRY(c, n, n->out[0] = some < 0 ? -1 : onnx_fail_unless(c, n->out[0], some));
    int64_t *at = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(s->n + 1));
    at[0] = 0;
    for (int i = 0; i < s->n; i++) at[i + 1] = at[i] + c->g->nodes[v[i]]->shape.d[axis];
    Shape ts = {.rank = 1, .d = {s->n + 1}};
    Attr ga = attr_int(A_AXIS, 0);
    int in[2] = {ir_const(c->g, NULL, DT_I64, ts, at), s->count}, len = -1;
    if (in[0] < 0 || (len = ir_add(c->g, OP_GATHER, in, 2, &ga, 1)) < 0) return onnx_fail_ir(c, n);
    onnx_dyn_mark(c, n->out[0], len, (int)axis);
  }
  return 0;
}

/* ---- optionals ---- */

int onnx_Optional(OnnxCtx *c, OnnxNode *n) {
  const Onnx__AttributeProto *t = onnx_attr(n, "type");
  if (n->nin < 1 || n->in[0] == -1) {
    if (!t || !t->tp) return onnx_fail(c, n, "an empty Optional needs attribute 'type'");
    n->out[0] = onnx_seq_make(c, ONNX_OPT, NULL, 0, -1);
    return 0;
  }
  const OnnxSeq *s = onnx_seq_get(c, n->in[0]);
  if (s && s->kind == ONNX_OPT) return onnx_fail(c, n, "input 1 is an optional: optionals do not nest");
  n->out[0] = onnx_seq_make(c, ONNX_OPT, &n->in[0], 1, s ? s->dtype : (int)dtype_of(c, n->in[0]));
  return 0;
}

int onnx_OptionalHasElement(OnnxCtx *c, OnnxNode *n) {
  const OnnxSeq *s = n->nin ? onnx_seq_get(c, n->in[0]) : NULL;
  bool has = n->nin && n->in[0] != -1 && !(s && s->kind == ONNX_OPT && !s->n);
  ONNX_TRY(c, n, n->out[0] = ir_scalar(c->g, DT_BOOL, has));
  return 0;
}

int onnx_OptionalGetElement(OnnxCtx *c, OnnxNode *n) {
  if (n->nin < 1 || n->in[0] == -1) return onnx_fail(c, n, "needs input 1");
  const OnnxSeq *s = onnx_seq_get(c, n->in[0]);
  if (s && s->kind == ONNX_OPT && !s->n) return onnx_fail(c, n, "the optional is empty: it has no element to get");
  n->out[0] = s && s->kind == ONNX_OPT ? s->v[0] : n->in[0];
  return 0;
}

/* ---- graph inputs and outputs (docs/ONNX.md) ---- */

static const Shape *shape_opt(const OnnxCtx *c, const char *name) {
  for (int i = 0; i < c->opts->nshapes; i++)
    if (!strcmp(c->opts->shapes[i].input, name)) return &c->opts->shapes[i].shape;
  return NULL;
}

static bool dim_opt(const OnnxCtx *c, const char *name) {
  for (int i = 0; i < c->opts->ndims; i++)
    if (!strcmp(c->opts->dims[i].name, name)) return true;
  return false;
}

/* Sequence input NAME: its length from --shape NAME=L, its elements the inputs NAME.K. */
static int seq_input(OnnxCtx *c, const char *name, const Onnx__TypeProto *t, int *code) {
  const Onnx__TypeProto *et = t->sequence_type ? t->sequence_type->elem_type : NULL;
  if (!et || et->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
    return onnx_fail(c, NULL, "input '%s' is a sequence of something other than tensors, which dlc does not support", name);
  const Shape *len = shape_opt(c, name);
  if (!len || len->rank != 1)
    return onnx_fail(c, NULL, "input '%s' is not a tensor but a sequence: give its length with --shape %s=L and its elements as inputs %s.0, %s.1, ...",
                     name, name, onnx_ident(c, name), onnx_ident(c, name));
  if (len->d[0] > 4096) return onnx_fail(c, NULL, "input '%s': a sequence of more than 4096 elements", name);
  int n = (int)len->d[0], *v = arena_alloc(c->g->arena, sizeof(int) * (size_t)(n ? n : 1));
  DType dt;
  int dtype = onnx_dtype(et->tensor_type ? et->tensor_type->elem_type : 0, &dt) ? -1 : (int)dt;
  for (int k = 0; k < n; k++) {
    char buf[32];
    snprintf(buf, sizeof buf, ".%d", k);
    const char *base = onnx_ident(c, name);
    char *el = arena_alloc(c->g->arena, strlen(base) + sizeof buf);
    strcpy(el, base), strcat(el, buf);
    if ((v[k] = onnx_tensor_input(c, el, el, et)) < 0) return -1;
  }
  *code = onnx_seq_make(c, ONNX_SEQ, v, n, dtype);
  return 0;
}

int onnx_seq_input(OnnxCtx *c, const Onnx__ValueInfoProto *v) {
  const Onnx__TypeProto *t = v->type;
  if (!t) return 0;
  int code;
  if (t->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
    if (seq_input(c, v->name, t, &code)) return -1;
    onnx_bind(c, v->name, code);
    return 1;
  }
  if (t->value_case != ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE) return 0;
  const Onnx__TypeProto *et = t->optional_type ? t->optional_type->elem_type : NULL;
  char empty[300];
  snprintf(empty, sizeof empty, "%s.empty", v->name);
  if (dim_opt(c, empty)) { /* --dim NAME.empty=1 */
    onnx_bind(c, v->name, onnx_seq_make(c, ONNX_OPT, NULL, 0, -1));
    return 1;
  }
  int el;
  if (et && et->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
    if (seq_input(c, v->name, et, &el)) return -1;
  } else if ((el = onnx_tensor_input(c, v->name, onnx_ident(c, v->name), et)) < 0)
    return -1;
  const OnnxSeq *s = onnx_seq_get(c, el);
  onnx_bind(c, v->name, onnx_seq_make(c, ONNX_OPT, &el, 1, s ? s->dtype : (int)dtype_of(c, el)));
  return 1;
}

/* Output `base` + `suffix` of tensor id. */
static int output_as(OnnxCtx *c, int id, const char *base, const char *suffix) {
  char *el = arena_alloc(c->g->arena, strlen(base) + strlen(suffix) + 1);
  strcpy(el, base), strcat(el, suffix);
  if (ir_output(c->g, id, el) < 0) return onnx_fail(c, NULL, "%s", c->g->err.msg);
  return 0;
}

int onnx_seq_output(OnnxCtx *c, const char *name, int id) {
  const OnnxSeq *s = onnx_seq_get(c, id);
  const char *base = onnx_ident(c, name);
  if (s->kind == ONNX_OPT) { /* empty: no output; else its element's */
    if (!s->n) return 0;
    if (!ONNX_IS_SEQ(s->v[0])) return output_as(c, s->v[0], base, "");
    s = onnx_seq_get(c, s->v[0]);
  }
  if (s->kind == ONNX_SEQ && s->count >= 0)
    return onnx_fail(c, NULL, "graph output '%s' is a sequence whose length is known only at run time (at most %d); "
                     "ConcatFromSequence makes it one output, padded, with its length beside it", name, s->n);
  if (s->kind == ONNX_MAPS) { /* the values NAME [N, C], the keys NAME.keys [C] */
    if (output_as(c, s->v[0], base, "") || output_as(c, s->v[1], base, ".keys")) return -1;
    if (ir_output_keys(c->g, c->g->nout - 2, c->g->nout - 1) < 0) return onnx_fail(c, NULL, "%s", c->g->err.msg);
    return 0;
  }
  for (int k = 0; k < s->n; k++) {
    char buf[32];
    snprintf(buf, sizeof buf, ".%d", k);
    if (output_as(c, s->v[k], base, buf)) return -1;
  }
  return 0;
}

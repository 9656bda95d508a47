/* onnx_ops_dyn.c — operators whose result's length depends on the data: NonZero and
 * Unique.  The result is padded to a bound known at compile time (NonZero: every
 * element; Unique: every slice) and its real length is a node of its own; such a value
 * may go through operators that work position by position (onnx_dyn_through: the
 * result is padded the same way) and the reductions (which fill the padding with their
 * identity, onnx_dyn_fill) and be an output of the model (wire() refuses it anywhere
 * else), which gets the count beside it as the output NAME.count, and the
 * extent (ir_output_extent) tells `dlc run` how much of it to write.  docs/ONNX.md, "Data-dependent lengths". */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"

void onnx_dyn_mark(OnnxCtx *c, int id, int count, int axis) {
  if (c->ndyn == c->dyncap) {
    c->dyn_id = arena_grow(c->g->arena, c->dyn_id, c->ndyn, c->dyncap, sizeof(int));
    c->dyn_count = arena_grow(c->g->arena, c->dyn_count, c->ndyn, c->dyncap, sizeof(int));
    c->dyn_axis = arena_grow(c->g->arena, c->dyn_axis, c->ndyn, c->dyncap, sizeof(int));
    c->dyncap = arena_grown(c->dyncap);
  }
  c->dyn_id[c->ndyn] = id, c->dyn_count[c->ndyn] = count, c->dyn_axis[c->ndyn] = axis;
  c->ndyn++;
}

int onnx_dyn_find(const OnnxCtx *c, int id) {
  for (int d = 0; d < c->ndyn; d++)
    if (c->dyn_id[d] == id) return d;
  return -1;
}

int onnx_dyn_output(OnnxCtx *c, int j, int d) {
  Graph *g = c->g;
  int count = -1;
  for (int k = 0; k < g->nout; k++)
    if (g->out[k] == c->dyn_count[d] && !strcmp(g->out_name[k] + strlen(g->out_name[k]) - (strlen(".count")), ".count"))
      count = k;
  if (count < 0) {
    size_t n = strlen(g->out_name[j]) + 8;
    char *name = arena_alloc(g->arena, n);
    snprintf(name, n, "%s.count", g->out_name[j]);
    count = ir_output(g, c->dyn_count[d], name);
    if (count < 0) return onnx_fail(c, NULL, "%s", g->err.msg);
  }
  if (ir_output_extent(g, j, count, c->dyn_axis[d])) return onnx_fail(c, NULL, "%s", g->err.msg);
  return 0;
}

/* Gather, GatherND and GatherElements read padded indices (not padded data): the result
 * is padded where the indices are (torch's x[mask]: NonZero, Transpose, GatherND).
 * Gather also reads data padded along another axis than its own.  (GatherElements'
 * data padded along another axis would need indices no longer than the real length
 * there, which only the run knows.) */
int onnx_dyn_indices(OnnxCtx *c, OnnxNode *n, const OnnxOpInfo *op, const int *din) {
  if (op->rows != onnx_rows_gather && op->rows != onnx_rows_gather_nd && op->rows != onnx_rows_gather_elements) return 0;
  if (din[0] >= 0) { /* padded data: Gather along another axis, by indices of a fixed length */
    int r0 = c->g->nodes[n->in[0]]->shape.rank;
    int64_t ax = onnx_attr_int(n, "axis", 0);
    if (op->rows != onnx_rows_gather || (n->nin > 1 && din[1] >= 0) || (ax < 0 ? ax + r0 : ax) == c->dyn_axis[din[0]])
      return onnx_fail(c, n, "input '%s' has a length that depends on the data (dlc pads it to a bound); a gather "
                       "reads such a value only as its indices, or as Gather's data along another axis", n->p->input[0]);
    return 0;
  }
  if (n->nin < 2 || din[1] < 0) return 0;
  /* the padding's indices become 0, so that what the padding held (after arithmetic,
   * anything) cannot fail the run's index check */
  int idx = n->in[1], r = onnx_dyn_fill(c, idx, din[1], ir_scalar(c->g, c->g->nodes[idx]->dtype, 0));
  if (r < 0) return onnx_fail_ir(c, n);
  n->in[1] = r;
  return 0;
}

int onnx_dyn_fill(OnnxCtx *c, int x, int d, int fill) {
  Graph *g = c->g;
  const Node *v = g->nodes[x];
  Attr a[3] = {attr_ints(A_SHAPE, v->shape.d, v->shape.rank), attr_int(A_AXIS, c->dyn_axis[d]), attr_dtype(A_DTYPE, DT_I64)};
  int pos = ir_add(g, OP_IOTA, NULL, 0, a, 3), in = pos < 0 ? -1 : ir_binary(g, OP_LT, pos, c->dyn_count[d]);
  return in < 0 || fill < 0 ? -1 : ir_select(g, in, x, fill);
}

/* The ONNX_OP_PW rows (elementwise, numpy broadcasting), the ONNX_OP_ROWS rows and
 * Identity: a padded operand gives a result padded along the matching axis with the
 * same count, whatever the padding holds; the ONNX_OP_DYN rows' builders take it.
 * SwiGLU (which halves the last axis) is not one. */
bool onnx_dyn_passes(const OnnxOpInfo *op) { return op->dyn != ONNX_DYN_NONE || !strcmp(op->name, "Identity"); }

int onnx_dyn_axis(const OnnxCtx *c, int x) {
  int d = x >= 0 ? onnx_dyn_find(c, x) : -1;
  return d >= 0 ? c->dyn_axis[d] : -1;
}

void onnx_dyn_follow(OnnxCtx *c, int x, int y, int axis) {
  int d = x >= 0 ? onnx_dyn_find(c, x) : -1;
  if (d >= 0 && y >= 0 && onnx_dyn_find(c, y) < 0) onnx_dyn_mark(c, y, c->dyn_count[d], axis);
}

/* ---- the rules of the ONNX_OP_ROWS rows (onnx_ops.def's third column) ----
 * Each reads the node after its builder, with din (each input's dyn entry, or -1), and
 * gives the axis of its results that holds the padded operand's, with its count; or -1
 * with the error where the operator would mix entries along the padded axis. */

/* The padded operand is the first; any other padded one is refused. */
static int first_only(OnnxCtx *c, OnnxNode *n, const int *din) {
  for (int i = 1; i < n->nin; i++)
    if (din[i] >= 0)
      return onnx_fail(c, n, "input '%s' has a length that depends on the data; %s reads such a value only as its "
                       "first operand", n->p->input[i], n->p->op_type);
  return din[0] >= 0 ? 0 : onnx_fail(c, n, "cannot tell which axis of the result holds the data-dependent length");
}

static int in_rank(const OnnxCtx *c, const OnnxNode *n, int i) { return c->g->nodes[n->in[i]]->shape.rank; }

/* MatMul and Gemm: rows of A, not the axis the product contracts. */
static int rows_product(OnnxCtx *c, OnnxNode *n, const int *din, bool gemm, int *axis, int *count) {
  const Graph *g = c->g;
  if (first_only(c, n, din)) return -1;
  int a = c->dyn_axis[din[0]], r0 = in_rank(c, n, 0);
  bool ta = gemm && onnx_attr_int(n, "transA", 0) != 0;
  if (r0 < 2 || a == (ta ? r0 - 2 : r0 - 1))
    return onnx_fail(c, n, "input '%s' has a length that depends on the data along the axis the product "
                     "contracts; dlc pads that axis", n->p->input[0]);
  if (ta)
    return onnx_fail(c, n, "input '%s' has a length that depends on the data; Gemm reads such a value only with "
                     "transA 0", n->p->input[0]);
  int rout = g->nodes[n->out[0]]->shape.rank, b = gemm ? 2 : 1; /* B (MatMul) or C (Gemm) broadcast over A's rows */
  if (a < r0 - 2 || gemm) {
    const Shape *s = b < n->nin && n->in[b] >= 0 ? &g->nodes[n->in[b]]->shape : NULL;
    int at = s ? a + rout - r0 - (rout - s->rank) : -1;
    if (gemm && s && s->rank == 1) at = -1; /* C of [N] */
    if (s && at >= 0 && at < s->rank && s->d[at] != 1)
      return onnx_fail(c, n, "input '%s' has %lld entries along the axis whose length depends on the data (input "
                       "'%s'); dlc pads that axis, so it can only be broadcast along it (size 1)", n->p->input[b],
                       (long long)s->d[at], n->p->input[0]);
  }
  bool vec = !gemm && in_rank(c, n, 1) == 1; /* B of [K]: the result drops A's last axis */
  *axis = vec ? a : a + rout - r0, *count = c->dyn_count[din[0]];
  return 0;
}
int onnx_rows_matmul(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  return rows_product(c, n, din, false, axis, count);
}
int onnx_rows_gemm(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  return rows_product(c, n, din, true, axis, count);
}

/* Normalizing along axis ax (one axis, or from it on): never along the padded one. */
static int rows_normalize(OnnxCtx *c, OnnxNode *n, const int *din, int64_t ax, bool from, int *axis, int *count) {
  if (first_only(c, n, din)) return -1;
  int a = c->dyn_axis[din[0]];
  ax = ax < 0 ? ax + in_rank(c, n, 0) : ax;
  if (from ? a >= ax : a == ax)
    return onnx_fail(c, n, "input '%s' has a length that depends on the data along an axis the operator "
                     "normalizes over; dlc pads that axis", n->p->input[0]);
  *axis = a, *count = c->dyn_count[din[0]];
  return 0;
}
/* Softmax, LogSoftmax, Hardmax: along one axis from opset 13, before it the axes from
 * `axis` (default 1) on. */
int onnx_rows_softmax(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  bool from = c->opset < 13;
  return rows_normalize(c, n, din, onnx_attr_int(n, "axis", from ? 1 : -1), from, axis, count);
}
int onnx_rows_layer_norm(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  return rows_normalize(c, n, din, onnx_attr_int(n, "axis", -1), true, axis, count);
}

/* Concat: every operand padded alike, joined along another axis. */
int onnx_rows_concat(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  int64_t ax = onnx_attr_int(n, "axis", 0);
  ax = ax < 0 ? ax + in_rank(c, n, 0) : ax;
  int first = -1;
  for (int i = 0; i < n->nin; i++) {
    if (n->in[i] < 0) continue;
    if (din[i] < 0 || (first >= 0 && (c->dyn_axis[din[i]] != c->dyn_axis[din[first]] ||
                                       c->dyn_count[din[i]] != c->dyn_count[din[first]])))
      return onnx_fail(c, n, "input '%s' is %s; Concat joins a value whose length depends on the data only with "
                       "others padded by the same length", n->p->input[i],
                       din[i] < 0 ? "not padded" : "padded by another data-dependent length");
    first = first < 0 ? i : first;
  }
  if (first < 0 || c->dyn_axis[din[first]] == ax)
    return onnx_fail(c, n, "joins along the axis whose length depends on the data; dlc pads that axis");
  *axis = c->dyn_axis[din[first]], *count = c->dyn_count[din[first]];
  return 0;
}

/* Sample by sample along axis 0 (N): convolutions, pools, the per-sample norms. */
int onnx_rows_batch(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  if (first_only(c, n, din)) return -1;
  int a = c->dyn_axis[din[0]];
  if (a != 0)
    return onnx_fail(c, n, "input '%s' has a length that depends on the data along axis %d; %s reads such a value "
                     "only padded along its batch axis (0)", n->p->input[0], a, n->p->op_type);
  *axis = 0, *count = c->dyn_count[din[0]];
  return 0;
}
/* BatchNormalization: sample by sample in inference mode only. */
int onnx_rows_batch_norm(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  if (onnx_rows_batch(c, n, din, axis, count)) return -1;
  if (onnx_attr_int(n, "training_mode", 0))
    return onnx_fail(c, n, "input '%s' has a length that depends on the data along the batch axis, which training "
                     "mode's statistics mix; dlc pads that axis", n->p->input[0]);
  return 0;
}

/* Expand and Tile: broadcast or repeated along other axes only, so the padded axis
 * keeps its length (a Tile's repeat there is 1; an Expand does not broadcast it from 1). */
static int rows_keep_axis(OnnxCtx *c, OnnxNode *n, const int *din, const char *verb, int *axis, int *count) {
  if (first_only(c, n, din)) return -1;
  const Shape *ys = &c->g->nodes[n->out[0]]->shape;
  int a = c->dyn_axis[din[0]], at = a + ys->rank - in_rank(c, n, 0);
  if (at < 0 || at >= ys->rank || ys->d[at] != c->g->nodes[n->in[0]]->shape.d[a])
    return onnx_fail(c, n, "would %s input '%s' along the axis whose length depends on the data; dlc pads that axis",
                     verb, n->p->input[0]);
  *axis = at, *count = c->dyn_count[din[0]];
  return 0;
}
int onnx_rows_expand(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  return rows_keep_axis(c, n, din, "broadcast", axis, count);
}
int onnx_rows_tile(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  return rows_keep_axis(c, n, din, "repeat", axis, count);
}

/* Split along another axis: each piece padded the same way. */
int onnx_rows_split(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  if (first_only(c, n, din)) return -1;
  int a = c->dyn_axis[din[0]];
  int64_t ax = onnx_attr_int(n, "axis", 0);
  if ((ax < 0 ? ax + in_rank(c, n, 0) : ax) == a)
    return onnx_fail(c, n, "splits input '%s' along the axis whose length depends on the data; dlc pads that axis",
                     n->p->input[0]);
  *axis = a, *count = c->dyn_count[din[0]];
  return 0;
}

/* Reshape and Flatten: the padded axis kept whole: some axis j of the result has its
 * length, and the axes before j hold as many elements as those before it did (so each
 * of its slices keeps its place). */
int onnx_rows_reshape(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  if (first_only(c, n, din)) return -1;
  const Shape *xs = &c->g->nodes[n->in[0]]->shape, *ys = &c->g->nodes[n->out[0]]->shape;
  int a = c->dyn_axis[din[0]];
  int64_t before = 1, p = 1;
  for (int i = 0; i < a; i++) before *= xs->d[i];
  for (int j = 0; j < ys->rank; p *= ys->d[j++])
    if (p == before && ys->d[j] == xs->d[a]) {
      *axis = j, *count = c->dyn_count[din[0]];
      return 0;
    }
  return onnx_fail(c, n, "input '%s' has a length that depends on the data along axis %d, which the new shape does "
                   "not keep whole; dlc pads that axis", n->p->input[0], a);
}

/* Gather: its data padded along another axis (onnx_dyn_indices checked it), or its
 * indices padded: their axes take the place of the data's axis. */
int onnx_rows_gather(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  int r0 = in_rank(c, n, 0);
  int64_t ax = onnx_attr_int(n, "axis", 0);
  ax = ax < 0 ? ax + r0 : ax;
  if (din[0] >= 0) {
    int a = c->dyn_axis[din[0]];
    *axis = a < ax ? a : a + in_rank(c, n, 1) - 1, *count = c->dyn_count[din[0]];
  } else {
    *axis = (int)ax + c->dyn_axis[din[1]], *count = c->dyn_count[din[1]];
  }
  return 0;
}
/* GatherND: padded indices (along a leading axis, batch_dims 0) lead the result. */
int onnx_rows_gather_nd(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  int a = din[1] >= 0 ? c->dyn_axis[din[1]] : -1;
  if (din[0] >= 0 || a < 0 || onnx_attr_int(n, "batch_dims", 0) != 0 || a == in_rank(c, n, 1) - 1)
    return onnx_fail(c, n, "indices '%s' are padded along %s; dlc reads such indices only with batch_dims 0 and "
                     "padded along a leading axis", n->p->input[1], a == in_rank(c, n, 1) - 1 ? "their last axis" : "an axis");
  *axis = a, *count = c->dyn_count[din[1]];
  return 0;
}

/* Trilu: matrices in the last two axes, the padded axis one before them. */
int onnx_rows_matrices(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  if (first_only(c, n, din)) return -1;
  int a = c->dyn_axis[din[0]];
  if (a >= in_rank(c, n, 0) - 2)
    return onnx_fail(c, n, "input '%s' has a length that depends on the data along one of the two axes of its "
                     "matrices; dlc pads that axis", n->p->input[0]);
  *axis = a, *count = c->dyn_count[din[0]];
  return 0;
}

/* GatherElements: the result has the indices' shape, padded where they are. */
int onnx_rows_gather_elements(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  (void)n;
  *axis = c->dyn_axis[din[1]], *count = c->dyn_count[din[1]];
  return 0;
}

int onnx_rows_transpose(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count) {
  int64_t p[IR_MAX_RANK];
  int rank = in_rank(c, n, 0), np = onnx_attr_ints(n, "perm", p, IR_MAX_RANK), a = c->dyn_axis[din[0]];
  *axis = -1;
  for (int j = 0; j < rank; j++)
    if ((np < 0 ? rank - 1 - j : p[j]) == a) *axis = j;
  *count = c->dyn_count[din[0]];
  return 0;
}

int onnx_dyn_through(OnnxCtx *c, OnnxNode *n, const OnnxOpInfo *op, const int *din) {
  const Graph *g = c->g;
  int raxis = -1, rcount = -1;
  if (op->rows && op->rows(c, n, din, &raxis, &rcount)) return -1;
  for (int o = 0; o < n->nout; o++) {
    int y = n->out[o];
    if (y < 0 || onnx_dyn_find(c, y) >= 0) continue; /* absent, a sequence, or passed on as it is (Identity) */
    int rank = g->nodes[y]->shape.rank, axis = raxis, count = rcount, first = -1; /* first: a padded input */
    if (!op->rows) {
      for (int i = 0; i < n->nin; i++) { /* every padded operand, aligned to the result */
        if (din[i] < 0) continue;
        int a = c->dyn_axis[din[i]] + rank - g->nodes[n->in[i]]->shape.rank;
        if (first >= 0 && (a != axis || c->dyn_count[din[i]] != count))
          return onnx_fail(c, n, "inputs '%s' and '%s' are padded by different data-dependent lengths",
                           n->p->input[first], n->p->input[i]);
        axis = a, count = c->dyn_count[din[i]], first = first < 0 ? i : first;
      }
      for (int i = 0; i < n->nin; i++) { /* the others broadcast along it */
        if (din[i] >= 0 || n->in[i] < 0) continue;
        const Shape *s = &g->nodes[n->in[i]]->shape;
        int at = axis - (rank - s->rank);
        if (at >= 0 && s->d[at] != 1)
          return onnx_fail(c, n, "input '%s' has %lld entries along the axis whose length depends on the data (input "
                           "'%s'); dlc pads that axis, so it can only be broadcast along it (size 1)",
                           n->p->input[i], (long long)s->d[at], n->p->input[first]);
      }
    }
    if (axis < 0 || axis >= rank || count < 0)
      return onnx_fail(c, n, "cannot tell which axis of output %d holds the data-dependent length of its input", o + 1);
    onnx_dyn_mark(c, y, count, axis);
  }
  return 0;
}

int onnx_count_nonzero(Graph *g, int x) {
  const Shape *s = &g->nodes[x]->shape;
  int64_t ax[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) ax[i] = i;
  int b = g->nodes[x]->dtype == DT_BOOL ? x : ir_cast(g, x, DT_BOOL);
  return ir_reduce(g, OP_REDUCE_SUM, ir_cast(g, b, DT_I64), ax, s->rank, false);
}

int onnx_dyn_count_in(OnnxCtx *c, int k, int64_t most) {
  Graph *g = c->g;
  int64_t none = 0;
  int kk = ir_reshape(g, k, &none, 0), zeros, idx, neg, got;
  if (kk < 0 || (kk = ir_cast(g, kk, DT_I64)) < 0) return -1;
  /* a table of most + 1 zeros read at k: k in [0, most] reads a 0; k over most fails the
   * run (NAME_ERR_INDEX), and so does a negative k, sent past the end */
  int64_t *z = arena_alloc(g->arena, sizeof(int64_t) * (size_t)(most + 1));
  Shape s = {.rank = 1, .d = {most + 1}};
  if ((zeros = ir_const(g, NULL, DT_I64, s, z)) < 0 || (neg = ir_binary(g, OP_LT, kk, ir_scalar(g, DT_I64, 0))) < 0 ||
      (idx = ir_select(g, neg, ir_scalar(g, DT_I64, (double)(most + 1)), kk)) < 0)
    return -1;
  Attr a = attr_int(A_AXIS, 0);
  int in[2] = {zeros, idx};
  if ((got = ir_add(g, OP_GATHER, in, 2, &a, 1)) < 0) return -1;
  return ir_binary(g, OP_ADD, kk, got);
}

/* NonZero: [rank, count] coordinates, padded to [rank, numel]. */
int onnx_NonZero(OnnxCtx *c, OnnxNode *n) {
  if (n->nin != 1 || n->in[0] < 0 || n->nout != 1) return onnx_fail(c, n, "takes one input and gives one output");
  int x = n->in[0], y, k;
  if (c->g->nodes[x]->shape.rank == 0) return onnx_fail(c, n, "the input is a scalar (NonZero of rank 0 is not supported)");
  ONNX_TRY(c, n, y = ir_add(c->g, OP_NONZERO, &x, 1, NULL, 0));
  ONNX_TRY(c, n, k = onnx_count_nonzero(c->g, x));
  onnx_dyn_mark(c, y, k, 1);
  n->out[0] = y;
  return 0;
}

/* Unique: Y (the distinct values or slices), indices, inverse_indices, counts. */
int onnx_Unique(OnnxCtx *c, OnnxNode *n) {
  if (n->nin != 1 || n->in[0] < 0 || n->nout < 1 || n->nout > 4) return onnx_fail(c, n, "takes one input and gives one to four outputs");
  int x = n->in[0];
  const Node *xn = c->g->nodes[x];
  int64_t sorted = onnx_attr_int(n, "sorted", 1), axis;
  if (sorted != 0 && sorted != 1) return onnx_fail(c, n, "attribute 'sorted' is %lld, not 0 or 1", (long long)sorted);
  if (onnx_attr(n, "axis")) {
    if (onnx_axis(c, n, onnx_attr_int(n, "axis", 0), xn->shape.rank, &axis)) return -1;
  } else { /* flattened */
    int64_t all = shape_numel(&xn->shape);
    ONNX_TRY(c, n, x = ir_reshape(c->g, x, &all, 1));
    axis = 0;
  }
  if (c->g->nodes[x]->shape.d[axis] == 0) return onnx_fail(c, n, "the input is empty along the axis");
  DType xt = c->g->nodes[x]->dtype;
  int count;
  Attr ca[4] = {attr_int(A_AXIS, axis), attr_int(A_PART, 4), attr_int(A_SORTED, sorted), attr_dtype(A_DTYPE, DT_I64)};
  ONNX_TRY(c, n, count = ir_add(c->g, OP_UNIQUE, &x, 1, ca, 4));
  for (int k = 0; k < n->nout; k++) {
    if (!n->p->output[k] || !*n->p->output[k]) continue;
    Attr a[4] = {attr_int(A_AXIS, axis), attr_int(A_PART, k), attr_int(A_SORTED, sorted), attr_dtype(A_DTYPE, k ? DT_I64 : xt)};
    ONNX_TRY(c, n, n->out[k] = ir_add(c->g, OP_UNIQUE, &x, 1, a, 4));
    if (k != 2) onnx_dyn_mark(c, n->out[k], count, k ? 0 : (int)axis); /* the inverse has x's length */
  }
  return 0;
}

/* NonMaxSuppression: [num_selected, 3] (batch, class, box), padded to
 * [B * C * min(N, max_output_boxes_per_class), 3]; max_output_boxes_per_class must be a
 * constant (it bounds the result), the thresholds may be run-time scalars. */
int onnx_NonMaxSuppression(OnnxCtx *c, OnnxNode *n) {
  Graph *g = c->g;
  if (n->nin < 2 || n->nin > 5 || n->in[0] < 0 || n->in[1] < 0 || n->nout != 1)
    return onnx_fail(c, n, "takes boxes, scores and up to three optional inputs, and gives one output");
  int64_t center = onnx_attr_int(n, "center_point_box", 0), most = 0;
  if (center != 0 && center != 1) return onnx_fail(c, n, "center_point_box is %lld, not 0 or 1", (long long)center);
  if (n->nin > 2 && n->in[2] >= 0) {
    int64_t v[2];
    if (onnx_const_ints(c, n->in[2], v, 2) != 1)
      return onnx_fail(c, n, "max_output_boxes_per_class must be a constant known at compile time (it bounds the result)");
    most = v[0] > 0 ? v[0] : 0;
  }
  DType t = g->nodes[n->in[0]]->dtype;
  if (g->nodes[n->in[1]]->dtype != t) return onnx_fail(c, n, "boxes and scores have different dtypes");
  int thr[2];
  for (int k = 0; k < 2; k++) {
    int id = n->nin > 3 + k ? n->in[3 + k] : -1;
    if (id < 0) ONNX_TRY(c, n, thr[k] = ir_scalar(g, t, k ? -INFINITY : 0)); /* no score threshold: every box */
    else {
      const Node *v = g->nodes[id];
      if (shape_numel(&v->shape) != 1) return onnx_fail(c, n, "input %d must hold one value", 4 + k);
      ONNX_TRY(c, n, thr[k] = ir_reshape(g, v->dtype == t ? id : ir_cast(g, id, t), NULL, 0));
    }
  }
  int in[4] = {n->in[0], n->in[1], thr[0], thr[1]}, y, k;
  Attr a[3] = {attr_int(A_CENTER, center), attr_int(A_MAX_OUT, most), attr_int(A_PART, 0)};
  ONNX_TRY(c, n, y = ir_add(g, OP_NMS, in, 4, a, 3));
  a[2] = attr_int(A_PART, 1);
  ONNX_TRY(c, n, k = ir_add(g, OP_NMS, in, 4, a, 3));
  onnx_dyn_mark(c, y, k, 0);
  n->out[0] = y;
  return 0;
}

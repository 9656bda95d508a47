/* onnx_ops_move.c — data movements by tables: ReverseSequence and MaxUnpool, whose
 * tables (the lengths, the indices) must be constants known at compile time and become
 * slices or one gather with a constant index table; TensorScatter, a cache update at
 * run-time positions, as selects. */
#include <string.h>

#include "onnx_fe.h"



#define MOVE_MAX_BATCH 4096       /* ReverseSequence: slices per batch entry */
#define MOVE_MAX_TABLE (1 << 24)  /* MaxUnpool: entries of the index table */

/* x[from:to:step] along axis (to -1 with a negative step runs to 0), whole elsewhere. */
static int slice_axis(OnnxCtx *c, int x, int axis, int64_t from, int64_t to, int64_t step) {
  if (x < 0) return -1;
  const Shape *s = shape_of(c, x);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) st[i] = 0, en[i] = s->d[i], sp[i] = 1;
  st[axis] = from, en[axis] = to, sp[axis] = step;
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank), attr_ints(A_STEPS, sp, s->rank)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

static int concat(OnnxCtx *c, const int *in, int k, int axis) {
  for (int i = 0; i < k; i++)
    if (in[i] < 0) return -1;
  if (k == 1) return in[0];
  Attr a = attr_int(A_AXIS, axis);
  return ir_add(c->g, OP_CONCAT, in, k, &a, 1);
}

/* ---- ReverseSequence ----------------------------------------------------------------- */

/* For each batch entry b: its first sequence_lens[b] steps along time_axis reversed. */
int onnx_ReverseSequence(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0];
  const Shape xs = *shape_of(c, x);
  int64_t ba = onnx_attr_int(n, "batch_axis", 1), ta = onnx_attr_int(n, "time_axis", 0);
  if (xs.rank < 2) return onnx_fail(c, n, "input must have rank 2 or more");
  if (!((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
    return onnx_fail(c, n, "batch_axis and time_axis must be 0 and 1 (or 1 and 0)");
  int64_t B = xs.d[ba], T = xs.d[ta];
  if (B > MOVE_MAX_BATCH) return onnx_fail(c, n, "a batch of %lld is more than %d", (long long)B, MOVE_MAX_BATCH);
  int64_t len[MOVE_MAX_BATCH];
  if (onnx_const_ints(c, n->in[1], len, MOVE_MAX_BATCH) != B)
    return onnx_fail(c, n, "sequence_lens must be a constant known at compile time, one length per batch entry");
  int *rows = arena_alloc(c->g->arena, sizeof(int) * (size_t)(B ? B : 1));
  for (int64_t b = 0; b < B; b++) {
    if (len[b] < 0 || len[b] > T) return onnx_fail(c, n, "sequence_lens[%lld] = %lld is not in 0..%lld", (long long)b, (long long)len[b], (long long)T);
    int row = slice_axis(c, x, (int)ba, b, b + 1, 1), parts[2], k = 0;
    if (len[b] > 0) parts[k++] = slice_axis(c, row, (int)ta, len[b] - 1, -1, -1);
    if (len[b] < T) parts[k++] = slice_axis(c, row, (int)ta, len[b], T, 1);
    rows[b] = concat(c, parts, k, (int)ta);
    if (rows[b] < 0) return onnx_fail_ir(c, n);
  }
  ONNX_TRY(c, n, n->out[0] = B ? concat(c, rows, (int)B, (int)ba) : x);
  return 0;
}

/* ---- MaxUnpool ----------------------------------------------------------------------- */

/* Y (zeros, of the shape the pooling attributes give, or output_shape) gets X's values at
 * the flat positions Indices holds; where positions repeat the last one wins, as in the
 * reference.  With Indices constant that is one gather from [0, X...] by a table of
 * sources (0: none, i + 1: X's element i). */
int onnx_MaxUnpool(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0];
  const Shape xs = *shape_of(c, x);
  int nsp = xs.rank - 2;
  if (nsp < 1) return onnx_fail(c, n, "X needs rank 3 or more ([N, C, spatial...])");
  int64_t k[IR_MAX_RANK], st[IR_MAX_RANK], pads[2 * IR_MAX_RANK] = {0}, out[IR_MAX_RANK];
  if (onnx_attr_ints(n, "kernel_shape", k, IR_MAX_RANK) != nsp) return onnx_fail(c, n, "kernel_shape needs %d entries", nsp);
  for (int i = 0; i < nsp; i++) st[i] = 1;
  if (onnx_attr_ints(n, "strides", st, nsp) > nsp || onnx_attr_ints(n, "pads", pads, 2 * nsp) > 2 * nsp)
    return onnx_fail(c, n, "strides and pads need %d and %d entries", nsp, 2 * nsp);
  out[0] = xs.d[0], out[1] = xs.d[1];
  for (int i = 0; i < nsp; i++) out[2 + i] = (xs.d[2 + i] - 1) * st[i] - pads[i] - pads[nsp + i] + k[i];
  Shape inferred = shape_make(xs.rank, out), ys = inferred;
  if (n->nin > 2 && n->in[2] >= 0 && onnx_const_ints(c, n->in[2], ys.d, IR_MAX_RANK) != xs.rank)
    return onnx_fail(c, n, "output_shape must be a constant known at compile time with %d entries", xs.rank);
  double total = 1, cells = 1;
  for (int i = 0; i < xs.rank; i++) {
    if (inferred.d[i] < 1 || ys.d[i] < inferred.d[i]) return onnx_fail(c, n, "the output shape is smaller than the unpooled one");
    total *= (double)ys.d[i], cells *= (double)inferred.d[i];
  }
  int64_t nx = shape_numel(&xs);
  if (total > MOVE_MAX_TABLE || nx > MOVE_MAX_TABLE) return onnx_fail(c, n, "more than %d elements", MOVE_MAX_TABLE);
  int64_t *idx = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(nx ? nx : 1));
  if (shape_numel(shape_of(c, n->in[1])) != nx || onnx_const_ints(c, n->in[1], idx, (int)nx) != nx)
    return onnx_fail(c, n, "Indices must be a constant known at compile time, with X's shape");
  int64_t nt = (int64_t)total, *src = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)nt);
  memset(src, 0, sizeof(int64_t) * (size_t)nt);
  for (int64_t i = 0; i < nx; i++) {
    if (idx[i] < 0 || (double)idx[i] >= cells) return onnx_fail(c, n, "index %lld is outside the output", (long long)idx[i]);
    int64_t p = idx[i], q = 0, m = 1; /* the position in the inferred shape, placed in ys */
    for (int d = xs.rank - 1; d >= 0; d--) {
      q += (p % inferred.d[d]) * m;
      p /= inferred.d[d], m *= ys.d[d];
    }
    src[q] = i + 1;
  }
  int64_t flat = nx, one = 1;
  int xf, z, t;
  ONNX_TRY(c, n, xf = ir_reshape(c->g, x, &flat, 1));
  ONNX_TRY(c, n, z = ir_reshape(c->g, onnx_scalar_like(c, x, 0), &one, 1));
  int both[2] = {z, xf};
  Attr ax = attr_int(A_AXIS, 0);
  ONNX_TRY(c, n, z = ir_add(c->g, OP_CONCAT, both, 2, &ax, 1));
  ONNX_TRY(c, n, t = ir_const(c->g, NULL, DT_I64, ys, src));
  int gin[2] = {z, t};
  ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_GATHER, gin, 2, &ax, 1));
  return 0;
}

/* ---- TensorScatter ------------------------------------------------------------------- */

#define SCATTER_MAX_UPDATE 4096 /* one select per updated step */

/* present = past_cache with update written along axis from write_indices[b] on (mode
 * circular: wrapping around the cache).  Cache position s of batch entry b takes
 * update step s - write_indices[b] (mod the cache's length) when that is in 0..L-1:
 * one select per update step, over the whole cache. */
int onnx_TensorScatter(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int past = n->in[0], up = n->in[1];
  const Shape ps = *shape_of(c, past), us = *shape_of(c, up);
  const char *mode = onnx_attr_str(c, n, "mode", "linear");
  bool circular = !strcmp(mode, "circular");
  if (!circular && strcmp(mode, "linear")) return onnx_fail(c, n, "mode '%s' is not linear or circular", mode);
  int64_t axis;
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", -2), ps.rank, &axis)) return -1;
  if (axis < 1) return onnx_fail(c, n, "axis must not be the batch axis 0");
  if (us.rank != ps.rank || c->g->nodes[up]->dtype != c->g->nodes[past]->dtype)
    return onnx_fail(c, n, "past_cache and update must have one rank and dtype");
  for (int i = 0; i < ps.rank; i++)
    if (i == axis ? us.d[i] > ps.d[i] : us.d[i] != ps.d[i])
      return onnx_fail(c, n, "update's shape does not fit past_cache's along axis %d", i);
  int64_t B = ps.d[0], M = ps.d[axis], L = us.d[axis];
  if (L > SCATTER_MAX_UPDATE) return onnx_fail(c, n, "an update of %lld steps is more than %d", (long long)L, SCATTER_MAX_UPDATE);
  int64_t bm[2] = {B, 1}, row[2] = {1, M}, pd[IR_MAX_RANK];
  Attr io[3] = {attr_ints(A_SHAPE, row, 2), attr_int(A_AXIS, 1), attr_dtype(A_DTYPE, DT_I64)};
  int pos = ir_add(c->g, OP_IOTA, NULL, 0, io, 3);
  if (n->nin > 2 && n->in[2] >= 0) {
    if (shape_numel(shape_of(c, n->in[2])) != B) return onnx_fail(c, n, "write_indices must hold one index per batch entry");
    int w = ir_cast(c->g, n->in[2], DT_I64);
    pos = w < 0 || pos < 0 ? -1 : ir_binary(c->g, OP_SUB, pos, ir_reshape(c->g, w, bm, 2));
  }
  if (circular && pos >= 0) {
    int m = ir_scalar(c->g, DT_I64, (double)M);
    pos = ir_binary(c->g, OP_MOD, ir_binary(c->g, OP_ADD, ir_binary(c->g, OP_MOD, pos, m), m), m);
  }
  for (int i = 0; i < ps.rank; i++) pd[i] = i == 0 && pos >= 0 ? shape_of(c, pos)->d[0] : i == axis ? M : 1;
  int y = past;
  ONNX_TRY(c, n, pos = pos < 0 ? -1 : ir_reshape(c->g, pos, pd, ps.rank));
  for (int64_t j = 0; j < L; j++) {
    int hit = ir_binary(c->g, OP_EQ, pos, ir_scalar(c->g, DT_I64, (double)j));
    int step = slice_axis(c, up, (int)axis, j, j + 1, 1);
    ONNX_TRY(c, n, y = hit < 0 || step < 0 ? -1 : ir_select(c->g, hit, step, y));
  }
  n->out[0] = y;
  return 0;
}

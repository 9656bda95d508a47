/* onnx_ops_shape.c — ONNX operators that move data or compute shapes.  Shapes are
 * static in dlc, so Shape, Size and everything computed from them become constants. */
#include <math.h>
#include <string.h>

#include "checked.h"
#include "onnx_fe.h"




/* An operand that must be known at compile time, as integers. */
static int const_ints(OnnxCtx *c, OnnxNode *n, int i, const char *what, int64_t *v, int max) {
  int cnt = i < n->nin && n->in[i] >= 0 ? onnx_const_ints(c, n->in[i], v, max) : -1;
  if (cnt < 0) return onnx_fail(c, n, "input %d (%s) must be a constant known at compile time", i + 1, what);
  if (cnt > max) return onnx_fail(c, n, "input %d (%s) has more than %d values", i + 1, what, max);
  return cnt;
}

static int const_i64(OnnxCtx *c, const int64_t *v, int cnt) {
  Shape s = {.rank = 1, .d = {cnt}};
  return ir_const(c->g, NULL, DT_I64, s, v);
}

int onnx_Identity(OnnxCtx *c, OnnxNode *n) { /* of a tensor, a sequence or an optional */
  if (n->nin < 1 || n->in[0] == -1) return onnx_fail(c, n, "needs 1 input");
  n->out[0] = n->in[0];
  return 0;
}

int onnx_Dropout(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  /* training_mode (opset 12 on) would draw a random mask; dlc compiles inference here */
  double training = 0;
  if (n->nin > 2 && n->in[2] >= 0 && onnx_const_doubles(c, n->in[2], &training, 1) != 1)
    return onnx_fail(c, n, "training_mode must be a constant known at compile time");
  double ratio = onnx_attr_float(n, "ratio", 0.5);
  onnx_attr_ignore(n, "seed"); /* draws nothing at inference */
  if (n->nin > 1 && n->in[1] >= 0 && onnx_const_doubles(c, n->in[1], &ratio, 1) != 1)
    return onnx_fail(c, n, "ratio must be a constant known at compile time");
  /* Before opset 7, is_test=0 also asked for training; like other inference runtimes, dlc
   * reads those old models as inference graphs. */
  if (training != 0 && ratio != 0)
    return onnx_fail(c, n, "training mode is not supported: dlc builds Dropout for inference (the identity)");
  n->out[0] = n->in[0]; /* inference: the identity */
  if (n->nout > 1) {
    const Node *x = c->g->nodes[n->in[0]];
    int64_t cnt = shape_numel(&x->shape);
    uint8_t *ones = arena_alloc(c->g->arena, (size_t)(cnt ? cnt : 1));
    memset(ones, 1, (size_t)cnt);
    ONNX_TRY(c, n, n->out[1] = ir_const(c->g, NULL, DT_BOOL, x->shape, ones));
  }
  return 0;
}

int onnx_Constant(OnnxCtx *c, OnnxNode *n) {
  const Onnx__AttributeProto *a = onnx_attr(n, "value");
  if (a && a->t) {
    if ((n->out[0] = onnx_tensor_node(c, a->t, NULL, false)) < 0) return -1;
    return 0;
  }
  Shape s = {0};
  if ((a = onnx_attr(n, "value_float")) && a->has_f) {
    float f = a->f;
    ONNX_TRY(c, n, n->out[0] = ir_const(c->g, NULL, DT_F32, s, &f));
  } else if ((a = onnx_attr(n, "value_int")) && a->has_i) {
    ONNX_TRY(c, n, n->out[0] = ir_const(c->g, NULL, DT_I64, s, &a->i));
  } else if ((a = onnx_attr(n, "value_floats"))) {
    float *f = arena_alloc(c->g->arena, sizeof(float) * (a->n_floats + 1));
    for (size_t i = 0; i < a->n_floats; i++) f[i] = a->floats[i];
    s.rank = 1, s.d[0] = (int64_t)a->n_floats;
    ONNX_TRY(c, n, n->out[0] = ir_const(c->g, NULL, DT_F32, s, f));
  } else if ((a = onnx_attr(n, "value_ints"))) {
    s.rank = 1, s.d[0] = (int64_t)a->n_ints;
    ONNX_TRY(c, n, n->out[0] = ir_const(c->g, NULL, DT_I64, s, a->ints));
  } else return onnx_fail(c, n, "has no value dlc supports (value, value_float(s), value_int(s))");
  return 0;
}

int onnx_Shape(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t start = onnx_attr_int(n, "start", 0), end = onnx_attr_int(n, "end", x->rank);
  if (start < 0) start += x->rank;
  if (end < 0) end += x->rank;
  start = start < 0 ? 0 : start > x->rank ? x->rank : start;
  end = end < 0 ? 0 : end > x->rank ? x->rank : end;
  int cnt = end > start ? (int)(end - start) : 0;
  ONNX_TRY(c, n, n->out[0] = const_i64(c, x->d + start, cnt));
  return 0;
}

int onnx_Size(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int64_t v = shape_numel(shape_of(c, n->in[0]));
  ONNX_TRY(c, n, n->out[0] = ir_const(c->g, NULL, DT_I64, (Shape){0}, &v));
  return 0;
}

int onnx_Reshape(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t d[IR_MAX_RANK + 1];
  int r = c->opset < 5 ? onnx_attr_ints(n, "shape", d, IR_MAX_RANK + 1) : const_ints(c, n, 1, "shape", d, IR_MAX_RANK + 1);
  if (r < 0) return c->opset < 5 ? onnx_fail(c, n, "needs attribute 'shape'") : -1;
  if (r > IR_MAX_RANK) return onnx_fail(c, n, "rank %d is over %d", r, IR_MAX_RANK);
  bool allowzero = onnx_attr_int(n, "allowzero", 0) != 0;
  for (int i = 0; i < r; i++)
    if (d[i] == 0 && !allowzero) {
      if (i >= x->rank) return onnx_fail(c, n, "shape entry %d is 0 but the input has rank %d", i, x->rank);
      d[i] = x->d[i];
    }
  ONNX_TRY(c, n, n->out[0] = ir_reshape(c->g, n->in[0], d, r));
  return 0;
}

int onnx_Flatten(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t axis = onnx_attr_int(n, "axis", 1);
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis > x->rank) return onnx_fail(c, n, "axis is out of range for rank %d", x->rank);
  int64_t d[2] = {1, 1};
  for (int i = 0; i < x->rank; i++) d[i >= axis] *= x->d[i];
  ONNX_TRY(c, n, n->out[0] = ir_reshape(c->g, n->in[0], d, 2));
  return 0;
}

/* Axes from the attribute (before opset 13) or the second input. */
/* Axes from the attribute (before opset 13) or the second input: the count, AXES_ABSENT,
 * or -1 after an error (a second input that is not a compile-time constant). */
#define AXES_ABSENT (-2)
static int axes_of(OnnxCtx *c, OnnxNode *n, int64_t *ax, int max) {
  if (c->opset < 13) {
    int k = onnx_attr_ints(n, "axes", ax, max);
    return k < 0 ? AXES_ABSENT : k;
  }
  if (n->nin < 2 || n->in[1] < 0) return AXES_ABSENT;
  return const_ints(c, n, 1, "axes", ax, max);
}

int onnx_Squeeze(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t ax[IR_MAX_RANK];
  int na = axes_of(c, n, ax, IR_MAX_RANK);
  if (na == -1) return -1;
  bool drop[IR_MAX_RANK] = {0};
  if (na == AXES_ABSENT)
    for (int i = 0; i < x->rank; i++) drop[i] = x->d[i] == 1;
  for (int i = 0; i < na; i++) {
    int64_t a;
    if (onnx_axis(c, n, ax[i], x->rank, &a)) return -1;
    if (x->d[a] != 1) return onnx_fail(c, n, "axis %lld has size %lld, not 1", (long long)ax[i], (long long)x->d[a]);
    drop[a] = true;
  }
  int64_t d[IR_MAX_RANK];
  int r = 0, pa = onnx_dyn_axis(c, n->in[0]), to = -1; /* a data-dependent length: its axis in the result */
  if (pa >= 0 && drop[pa])
    return onnx_fail(c, n, "would squeeze the axis of input '%s' whose length depends on the data", n->p->input[0]);
  for (int i = 0; i < x->rank; i++)
    if (!drop[i]) to = i == pa ? r : to, d[r++] = x->d[i];
  ONNX_TRY(c, n, n->out[0] = ir_reshape(c->g, n->in[0], d, r));
  onnx_dyn_follow(c, n->in[0], n->out[0], to);
  return 0;
}

int onnx_Unsqueeze(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t ax[IR_MAX_RANK];
  int na = axes_of(c, n, ax, IR_MAX_RANK);
  if (na == -1) return -1;
  if (na == AXES_ABSENT) return onnx_fail(c, n, "needs axes");
  int r = x->rank + na;
  if (r > IR_MAX_RANK) return onnx_fail(c, n, "rank %d is over %d", r, IR_MAX_RANK);
  bool ins[IR_MAX_RANK] = {0};
  for (int i = 0; i < na; i++) {
    int64_t a;
    if (onnx_axis(c, n, ax[i], r, &a)) return -1;
    if (ins[a]) return onnx_fail(c, n, "axis %lld is listed twice", (long long)ax[i]);
    ins[a] = true;
  }
  int64_t d[IR_MAX_RANK];
  int pa = onnx_dyn_axis(c, n->in[0]), to = -1; /* a data-dependent length: its axis in the result */
  for (int i = 0, k = 0; i < r; i++) to = !ins[i] && k == pa ? i : to, d[i] = ins[i] ? 1 : x->d[k++];
  ONNX_TRY(c, n, n->out[0] = ir_reshape(c->g, n->in[0], d, r));
  onnx_dyn_follow(c, n->in[0], n->out[0], to);
  return 0;
}

int onnx_Transpose(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t p[IR_MAX_RANK];
  int np = onnx_attr_ints(n, "perm", p, IR_MAX_RANK);
  if (np < 0) {
    np = x->rank;
    for (int i = 0; i < np; i++) p[i] = x->rank - 1 - i;
  }
  if (np != x->rank) return onnx_fail(c, n, "perm has %d entries for rank %d", np, x->rank);
  ONNX_TRY(c, n, n->out[0] = ir_transpose(c->g, n->in[0], p));
  return 0;
}

int onnx_Concat(OnnxCtx *c, OnnxNode *n) {
  int in[ONNX_MAX_IO], k = 0;
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] >= 0 && shape_numel(shape_of(c, n->in[i])) > 0) in[k++] = n->in[i];
  if (!k) return onnx_fail(c, n, "all inputs are empty");
  Attr a = attr_int(A_AXIS, onnx_attr_int(n, "axis", 0));
  if (k == 1) {
    n->out[0] = in[0];
    return 0;
  }
  ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_CONCAT, in, k, &a, 1));
  return 0;
}

/* A slice of x: per axis start, end (exclusive), step, already normalised. */
static int slice(OnnxCtx *c, int x, const int64_t *st, const int64_t *en, const int64_t *sp) {
  int r = c->g->nodes[x]->shape.rank;
  Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

int onnx_Split(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t axis;
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", 0), x->rank, &axis)) return -1;
  int64_t sizes[ONNX_MAX_IO];
  int ns = c->opset < 13 ? onnx_attr_ints(n, "split", sizes, ONNX_MAX_IO)
         : n->nin > 1 && n->in[1] >= 0 ? const_ints(c, n, 1, "split", sizes, ONNX_MAX_IO) : -1;
  if (ns < 0 && n->nin > 1 && n->in[1] >= 0 && c->opset >= 13) return -1;
  int parts = n->nout;
  if (parts < 1) return onnx_fail(c, n, "has no outputs");
  if (ns < 0) {
    int64_t nparts = onnx_attr_int(n, "num_outputs", parts);
    if (nparts != parts) return onnx_fail(c, n, "num_outputs %lld but %d outputs", (long long)nparts, parts);
    int64_t each = (x->d[axis] + parts - 1) / parts;
    for (int i = 0; i < parts; i++) {
      int64_t left = x->d[axis] - each * i;
      sizes[i] = left < each ? (left > 0 ? left : 0) : each;
    }
    ns = parts;
    if (c->opset < 18 && x->d[axis] % parts) return onnx_fail(c, n, "dimension %lld does not split evenly into %d", (long long)x->d[axis], parts);
  }
  if (ns != parts) return onnx_fail(c, n, "split has %d sizes for %d outputs", ns, parts);
  int64_t at = 0, st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int i = 0; i < parts; i++) {
    for (int d = 0; d < x->rank; d++) st[d] = 0, en[d] = x->d[d], sp[d] = 1;
    st[axis] = at, en[axis] = at + sizes[i];
    if (sizes[i] < 0 || en[axis] > x->d[axis]) return onnx_fail(c, n, "split sizes exceed the dimension");
    ONNX_TRY(c, n, n->out[i] = slice(c, n->in[0], st, en, sp));
    at += sizes[i];
  }
  if (at != x->d[axis]) return onnx_fail(c, n, "split sizes add up to %lld, not %lld", (long long)at, (long long)x->d[axis]);
  return 0;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

int onnx_Slice(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  if (x->rank == 0) return onnx_fail(c, n, "data is a scalar: Slice needs rank 1 or more");
  int64_t starts[IR_MAX_RANK], ends[IR_MAX_RANK], axes[IR_MAX_RANK], steps[IR_MAX_RANK];
  int ns, ne, na = -1, nt = -1;
  if (c->opset < 10) {
    ns = onnx_attr_ints(n, "starts", starts, IR_MAX_RANK);
    ne = onnx_attr_ints(n, "ends", ends, IR_MAX_RANK);
    na = onnx_attr_ints(n, "axes", axes, IR_MAX_RANK);
  } else {
    if ((ns = const_ints(c, n, 1, "starts", starts, IR_MAX_RANK)) < 0) return -1;
    if ((ne = const_ints(c, n, 2, "ends", ends, IR_MAX_RANK)) < 0) return -1;
    if (n->nin > 3 && n->in[3] >= 0 && (na = const_ints(c, n, 3, "axes", axes, IR_MAX_RANK)) < 0) return -1;
    if (n->nin > 4 && n->in[4] >= 0 && (nt = const_ints(c, n, 4, "steps", steps, IR_MAX_RANK)) < 0) return -1;
  }
  if (ns < 0 || ne != ns || (na >= 0 && na != ns) || (nt >= 0 && nt != ns))
    return onnx_fail(c, n, "starts, ends, axes and steps differ in length");
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int d = 0; d < x->rank; d++) st[d] = 0, en[d] = x->d[d], sp[d] = 1;
  for (int i = 0; i < ns; i++) {
    int64_t a;
    if (onnx_axis(c, n, na >= 0 ? axes[i] : i, x->rank, &a)) return -1;
    int64_t dim = x->d[a], step = nt >= 0 ? steps[i] : 1, s = starts[i], e = ends[i];
    if (step == 0) return onnx_fail(c, n, "step is 0");
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (step > 0) s = clamp(s, 0, dim), e = clamp(e, 0, dim);
    else s = clamp(s, 0, dim - 1), e = clamp(e, -1, dim - 1);
    st[a] = s, en[a] = e, sp[a] = step;
    if (step > 0 && e < s) en[a] = s;
    if (step < 0 && e > s) en[a] = s;
  }
  int pa = onnx_dyn_axis(c, n->in[0]); /* a data-dependent length: only whole along it */
  if (pa >= 0 && (st[pa] != 0 || en[pa] != x->d[pa] || sp[pa] != 1))
    return onnx_fail(c, n, "slices input '%s' along the axis whose length depends on the data; dlc pads that axis",
                     n->p->input[0]);
  ONNX_TRY(c, n, n->out[0] = slice(c, n->in[0], st, en, sp));
  onnx_dyn_follow(c, n->in[0], n->out[0], pa);
  return 0;
}

int onnx_Gather(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  Attr a = attr_int(A_AXIS, onnx_attr_int(n, "axis", 0));
  int in[2] = {n->in[0], n->in[1]};
  const Shape *x = shape_of(c, n->in[0]);
  int64_t axis;
  if (onnx_axis(c, n, a.i, x->rank, &axis)) return -1;
  if (ir_const_indices_check(c->g, n->in[1], x->d[axis], &c->g->err)) return onnx_fail_ir(c, n); /* ONNX: an error */
  ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_GATHER, in, 2, &a, 1));
  return 0;
}

int onnx_Expand(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t d[IR_MAX_RANK];
  int r = const_ints(c, n, 1, "shape", d, IR_MAX_RANK);
  if (r < 0) return -1;
  Shape want = shape_make(r, d), s;
  if (shape_broadcast2(x, &want, &s)) return onnx_fail(c, n, "the input does not broadcast to the shape");
  Attr a = attr_ints(A_SHAPE, s.d, s.rank);
  ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_BROADCAST, &n->in[0], 1, &a, 1));
  return 0;
}

int onnx_Tile(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t rep[IR_MAX_RANK];
  int r = const_ints(c, n, 1, "repeats", rep, IR_MAX_RANK);
  if (r < 0) return -1;
  if (r != x->rank) return onnx_fail(c, n, "repeats has %d entries for rank %d", r, x->rank);
  if (2 * r > IR_MAX_RANK) return onnx_fail(c, n, "rank %d is too large to tile", r);
  /* [d0, d1] -> reshape [1, d0, 1, d1] -> broadcast [r0, d0, r1, d1] -> reshape [r0*d0, r1*d1] */
  int64_t up[IR_MAX_RANK], big[IR_MAX_RANK], out[IR_MAX_RANK];
  for (int i = 0; i < r; i++) {
    if (rep[i] < 1) return onnx_fail(c, n, "repeats must be positive");
    up[2 * i] = 1, up[2 * i + 1] = x->d[i];
    big[2 * i] = rep[i], big[2 * i + 1] = x->d[i];
    if (ck_mul(rep[i], x->d[i], &out[i]))
      return onnx_fail(c, n, "repeats %lld times dimension %d overflows", (long long)rep[i], i);
  }
  int y;
  Attr a = attr_ints(A_SHAPE, big, 2 * r);
  ONNX_TRY(c, n, y = ir_reshape(c->g, n->in[0], up, 2 * r));
  ONNX_TRY(c, n, y = ir_add(c->g, OP_BROADCAST, &y, 1, &a, 1));
  ONNX_TRY(c, n, n->out[0] = ir_reshape(c->g, y, out, r));
  return 0;
}

/* A broadcast scalar: the loader folds it into a constant when it is small. */
int onnx_ConstantOfShape(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int64_t d[IR_MAX_RANK];
  int r = const_ints(c, n, 0, "shape", d, IR_MAX_RANK);
  if (r < 0) return -1;
  int v;
  DType t = DT_F32;
  const Onnx__AttributeProto *a = onnx_attr(n, "value");
  if (a && a->t) {
    int one = onnx_tensor_node(c, a->t, NULL, false);
    if (one < 0) return -1;
    if (shape_numel(shape_of(c, one)) != 1) return onnx_fail(c, n, "value must hold one element");
    t = c->g->nodes[one]->dtype; /* f16 and bf16 are broadcast as f32 and cast back */
    if (dtype_is_storage(t)) ONNX_TRY(c, n, one = ir_cast(c->g, one, DT_F32));
    ONNX_TRY(c, n, v = ir_reshape(c->g, one, d, 0));
  } else ONNX_TRY(c, n, v = ir_scalar(c->g, DT_F32, 0));
  Attr at = attr_ints(A_SHAPE, d, r);
  ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_BROADCAST, &v, 1, &at, 1));
  if (dtype_is_storage(t)) ONNX_TRY(c, n, n->out[0] = ir_cast(c->g, n->out[0], t));
  return 0;
}

int onnx_Range(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  double v[3];
  for (int i = 0; i < 3; i++)
    if (onnx_const_doubles(c, n->in[i], &v[i], 1) != 1)
      return onnx_fail(c, n, "start, limit and delta must be scalars, each a constant known at compile time");
  if (v[2] == 0) return onnx_fail(c, n, "delta is 0");
  double cnt = ceil((v[1] - v[0]) / v[2]);
  if (!(cnt <= (1 << 26))) /* in double: a count of 2^64 has no int64 */
    return onnx_fail(c, n, "a range from %g to %g by %g has %g elements, over dlc's %d", v[0], v[1], v[2], cnt, 1 << 26);
  int64_t len = cnt > 0 ? (int64_t)cnt : 0;
  DType t = c->g->nodes[n->in[0]]->dtype;
  if (t == DT_I64 && len && (fabs(v[0]) >= 0x1p63 || fabs(v[2]) >= 0x1p63))
    return onnx_fail(c, n, "a range from %g by %g leaves int64", v[0], v[2]);
  Shape s = {.rank = 1, .d = {len}};
  void *data = arena_alloc(c->g->arena, (size_t)(len * dtype_size(t)) + 1);
  for (int64_t i = 0; i < len; i++) {
    if (t != DT_I64) dtype_store(t, data, i, v[0] + (double)i * v[2]);
    else if (ck_muladd(i, (int64_t)v[2], (int64_t)v[0], &((int64_t *)data)[i]))
      return onnx_fail(c, n, "a range from %g by %g leaves int64", v[0], v[2]);
  }
  ONNX_TRY(c, n, n->out[0] = ir_const(c->g, NULL, t, s, data));
  return 0;
}

/* A slice of x along one axis: start, end (exclusive; -1 runs to 0 backwards), step. */
static int slice_axis(OnnxCtx *c, int x, int axis, int64_t start, int64_t end, int64_t step) {
  const Shape *s = shape_of(c, x);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int d = 0; d < s->rank; d++) st[d] = 0, en[d] = s->d[d], sp[d] = 1;
  st[axis] = start, en[axis] = end, sp[axis] = step;
  return slice(c, x, st, en, sp);
}

/* The pieces edge, reflect and wrap padding put before (b) and after (e) x along axis. */
static int pad_piece(OnnxCtx *c, int x, int axis, int64_t count, bool before, const char *mode) {
  int64_t d = shape_of(c, x)->d[axis];
  if (!strcmp(mode, "wrap"))
    return before ? slice_axis(c, x, axis, d - count, d, 1) : slice_axis(c, x, axis, 0, count, 1);
  if (!strcmp(mode, "reflect"))
    return before ? slice_axis(c, x, axis, count, 0, -1)
                  : slice_axis(c, x, axis, d - 2, d - 2 - count, -1);
  int one = before ? slice_axis(c, x, axis, 0, 1, 1) : slice_axis(c, x, axis, d - 1, d, 1); /* edge */
  if (one < 0) return -1;
  Shape t = *shape_of(c, one);
  t.d[axis] = count;
  Attr a = attr_ints(A_SHAPE, t.d, t.rank);
  return ir_add(c->g, OP_BROADCAST, &one, 1, &a, 1);
}

/* Edge, reflect and wrap padding, one axis at a time as numpy does: crops first, then
 * the pieces concatenated around x. */
static int pad_mode(OnnxCtx *c, OnnxNode *n, int x, const int64_t *full, const char *mode) {
  int r = shape_of(c, x)->rank;
  for (int a = 0; a < r; a++) {
    int64_t b = full[a], e = full[a + r], d = shape_of(c, x)->d[a];
    if (b < 0 || e < 0) ONNX_TRY(c, n, x = slice_axis(c, x, a, b < 0 ? -b : 0, e < 0 ? d + e : d, 1));
    d = shape_of(c, x)->d[a];
    b = b > 0 ? b : 0, e = e > 0 ? e : 0;
    int64_t most = !strcmp(mode, "reflect") ? d - 1 : !strcmp(mode, "wrap") ? d : INT64_MAX;
    if (b > most || e > most)
      return onnx_fail(c, n, "%s padding of %lld along axis %d of size %lld is not supported", mode,
                       (long long)(b > e ? b : e), a, (long long)d);
    int parts[3], k = 0;
    if (b) ONNX_TRY(c, n, parts[k++] = pad_piece(c, x, a, b, true, mode));
    parts[k++] = x;
    if (e) ONNX_TRY(c, n, parts[k++] = pad_piece(c, x, a, e, false, mode));
    if (k > 1) {
      Attr ax = attr_int(A_AXIS, a);
      ONNX_TRY(c, n, x = ir_add(c->g, OP_CONCAT, parts, k, &ax, 1));
    }
  }
  return x;
}

int onnx_Pad(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
  int np, na = -1;
  double value = 0;
  const char *mode = onnx_attr_str(c, n, "mode", "constant");
  if (strcmp(mode, "constant") && strcmp(mode, "edge") && strcmp(mode, "reflect") && strcmp(mode, "wrap"))
    return onnx_fail(c, n, "mode '%s' is not one of constant, edge, reflect, wrap", mode);
  if (c->opset < 11) {
    np = onnx_attr_ints(n, "pads", pads, 2 * IR_MAX_RANK);
    value = onnx_attr_float(n, "value", 0);
  } else {
    if ((np = const_ints(c, n, 1, "pads", pads, 2 * IR_MAX_RANK)) < 0) return -1;
    if (n->nin > 2 && n->in[2] >= 0 && onnx_const_doubles(c, n->in[2], &value, 1) < 0)
      return onnx_fail(c, n, "constant_value must be a constant known at compile time");
    if (n->nin > 3 && n->in[3] >= 0 && (na = const_ints(c, n, 3, "axes", axes, IR_MAX_RANK)) < 0) return -1;
  }
  int cnt = na >= 0 ? na : x->rank;
  if (np != 2 * cnt) return onnx_fail(c, n, "pads has %d entries, expected %d", np, 2 * cnt);
  int64_t full[2 * IR_MAX_RANK] = {0};
  for (int i = 0; i < cnt; i++) {
    int64_t a = i;
    if (na >= 0 && onnx_axis(c, n, axes[i], x->rank, &a)) return -1;
    full[a] = pads[i], full[a + x->rank] = pads[i + cnt];
  }
  int pa = onnx_dyn_axis(c, n->in[0]); /* a data-dependent length: padded along other axes only */
  if (pa >= 0 && (full[pa] || full[pa + x->rank]))
    return onnx_fail(c, n, "would pad or crop input '%s' along the axis whose length depends on the data; dlc pads "
                     "that axis", n->p->input[0]);
  if (strcmp(mode, "constant")) {
    int y = pad_mode(c, n, n->in[0], full, mode);
    if (y < 0) return -1;
    n->out[0] = y;
  } else {
    Attr at[2] = {attr_ints(A_PADS, full, 2 * x->rank), attr_float(A_VALUE, value)};
    ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_PAD, &n->in[0], 1, at, 2));
  }
  onnx_dyn_follow(c, n->in[0], n->out[0], pa);
  return 0;
}

/* Crops (centred, the odd element at the end) or zero-pads (centred, the odd element at
 * the end) each listed axis to the target size. */
int onnx_CenterCropPad(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t target[IR_MAX_RANK], axes[IR_MAX_RANK];
  int nt = const_ints(c, n, 1, "shape", target, IR_MAX_RANK);
  if (nt < 0) return -1;
  int na = onnx_attr_ints(n, "axes", axes, IR_MAX_RANK);
  if (na < 0)
    for (na = 0; na < x->rank; na++) axes[na] = na;
  if (na != nt) return onnx_fail(c, n, "shape has %d entries for %d axes", nt, na);
  int y = n->in[0];
  for (int i = 0; i < na; i++) {
    int64_t a;
    if (onnx_axis(c, n, axes[i], x->rank, &a)) return -1;
    int64_t d = shape_of(c, y)->d[a], t = target[i];
    if (t < 1) return onnx_fail(c, n, "target size %lld is not positive", (long long)t);
    if (d > t) ONNX_TRY(c, n, y = slice_axis(c, y, (int)a, (d - t) / 2, (d - t) / 2 + t, 1));
    if (d < t) {
      int64_t p[2 * IR_MAX_RANK] = {0};
      int r = shape_of(c, y)->rank;
      p[a] = (t - d) / 2, p[a + r] = t - d - (t - d) / 2;
      Attr at[2] = {attr_ints(A_PADS, p, 2 * r), attr_float(A_VALUE, 0)};
      ONNX_TRY(c, n, y = ir_add(c->g, OP_PAD, &y, 1, at, 2));
    }
  }
  n->out[0] = y;
  return 0;
}

/* Ones where column - row == k, in the input's shape (a matrix), of dtype (or the input's). */
int onnx_EyeLike(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Node *x = c->g->nodes[n->in[0]];
  if (x->shape.rank != 2) return onnx_fail(c, n, "the input must be a matrix");
  DType t = x->dtype;
  int64_t dt = onnx_attr_int(n, "dtype", -1);
  if (dt >= 0 && onnx_dtype((int32_t)dt, &t)) return onnx_fail(c, n, "dtype %s is not supported", onnx_dtype_name((int32_t)dt));
  int64_t k = onnx_attr_int(n, "k", 0);
  Attr r[3] = {attr_ints(A_SHAPE, x->shape.d, 2), attr_int(A_AXIS, 0), attr_dtype(A_DTYPE, DT_I64)};
  Attr col[3] = {attr_ints(A_SHAPE, x->shape.d, 2), attr_int(A_AXIS, 1), attr_dtype(A_DTYPE, DT_I64)};
  int ri, ci, diff, hit;
  ONNX_TRY(c, n, ri = ir_add(c->g, OP_IOTA, NULL, 0, r, 3));
  ONNX_TRY(c, n, ci = ir_add(c->g, OP_IOTA, NULL, 0, col, 3));
  ONNX_TRY(c, n, diff = ir_binary(c->g, OP_SUB, ci, ri));
  ONNX_TRY(c, n, hit = ir_binary(c->g, OP_EQ, diff, ir_scalar(c->g, DT_I64, (double)k)));
  ONNX_TRY(c, n, n->out[0] = ir_cast(c->g, hit, t));
  return 0;
}

/* onnx_ops_conv.c — Conv and ConvTranspose, built on the core conv op.
 *
 * ConvTranspose has no core op of its own: it is a stride-1 conv over the input with
 * stride-1 zeros inserted between its elements, padded by dilation*(k-1)-pad, and the
 * weight flipped in space with its in/out channels swapped per group. */
#include <string.h>

#include "checked.h"
#include "onnx_fe.h"



/* An ints attribute with one entry per spatial dimension (per begin and end for pads),
 * or `def` everywhere when absent. */
static int spatial_ints(OnnxCtx *c, OnnxNode *n, const char *name, int want, int64_t def, int64_t *v) {
  int cnt = onnx_attr_ints(n, name, v, want); /* v holds want entries: never more */
  if (cnt < 0) {
    for (int i = 0; i < want; i++) v[i] = def;
    return 0;
  }
  if (cnt != want) return onnx_fail(c, n, "%s has %d entries, expected %d", name, cnt, want);
  return 0;
}

/* Strides, dilations and pads of a sliding window over x's spatial dims (conv and
 * pooling share them), with auto_pad resolved: SAME_* pads so that out = ceil(in/stride),
 * the odd unit at the end (UPPER) or the beginning (LOWER).  Pads are begins then ends.
 * onnx_ops_pool.c uses this too. */
int onnx_window(OnnxCtx *c, OnnxNode *n, const Shape *x, const int64_t *k, int64_t *strides,
                int64_t *dil, int64_t *pads) {
  int nsp = x->rank - 2;
  if (spatial_ints(c, n, "strides", nsp, 1, strides) || spatial_ints(c, n, "dilations", nsp, 1, dil) ||
      spatial_ints(c, n, "pads", 2 * nsp, 0, pads))
    return -1;
  for (int i = 0; i < nsp; i++)
    if (strides[i] < 1 || dil[i] < 1) return onnx_fail(c, n, "strides and dilations must be 1 or more");
  const char *ap = onnx_attr_str(c, n, "auto_pad", "NOTSET");
  if (!strcmp(ap, "NOTSET")) return 0;
  bool upper = !strcmp(ap, "SAME_UPPER"), lower = !strcmp(ap, "SAME_LOWER");
  if (!upper && !lower && strcmp(ap, "VALID")) return onnx_fail(c, n, "auto_pad '%s' is not supported", ap);
  for (int i = 0; i < nsp; i++) {
    int64_t in = x->d[2 + i], out = in / strides[i] + (in % strides[i] != 0), total, span;
    if (ck_mul(out - 1, strides[i], &total) || ck_muladd(dil[i], k[i] - 1, 1, &span) || ck_add(total, span, &total))
      return onnx_fail(c, n, "auto_pad: the kernel, stride and dilation overflow along spatial axis %d", i);
    total -= in;
    if (!upper && !lower) total = 0;
    if (total < 0) total = 0;
    pads[i] = upper ? total / 2 : total - total / 2;
    pads[i + nsp] = total - pads[i];
  }
  return 0;
}

/* kernel_shape, where given, must agree with the weight's spatial dims. */
static int check_kernel(OnnxCtx *c, OnnxNode *n, const Shape *w) {
  int64_t k[IR_MAX_RANK];
  int cnt = onnx_attr_ints(n, "kernel_shape", k, IR_MAX_RANK);
  if (cnt < 0) return 0;
  bool ok = cnt == w->rank - 2;
  for (int i = 0; ok && i < cnt; i++) ok = k[i] == w->d[2 + i];
  if (!ok) return onnx_fail(c, n, "kernel_shape does not match the weight's spatial dimensions");
  return 0;
}

/* y + B as [1, O, 1, ...]; y unchanged when B is absent. */
static int add_bias(OnnxCtx *c, OnnxNode *n, int y) {
  if (n->nin < 3 || n->in[2] < 0) return y;
  const Shape *ys = shape_of(c, y), *bs = shape_of(c, n->in[2]);
  if (bs->rank != 1 || bs->d[0] != ys->d[1])
    return onnx_fail(c, n, "bias B needs %lld values, one per output channel", (long long)ys->d[1]);
  int64_t d[IR_MAX_RANK];
  for (int i = 0; i < ys->rank; i++) d[i] = i == 1 ? ys->d[1] : 1;
  int b;
  ONNX_TRY(c, n, b = ir_reshape(c->g, n->in[2], d, ys->rank));
  ONNX_TRY(c, n, y = ir_binary(c->g, OP_ADD, y, b));
  return y;
}

static int conv(OnnxCtx *c, int x, int w, const int64_t *st, const int64_t *pads, const int64_t *dil,
                int64_t groups) {
  int nsp = c->g->nodes[x]->shape.rank - 2, in[2] = {x, w};
  Attr a[4] = {attr_ints(A_STRIDES, st, nsp), attr_ints(A_PADS, pads, 2 * nsp),
               attr_ints(A_DILATIONS, dil, nsp), attr_int(A_GROUPS, groups)};
  return ir_add(c->g, OP_CONV, in, 2, a, 4);
}

static int check_ranks(OnnxCtx *c, OnnxNode *n, const Shape *x, const Shape *w) {
  if (x->rank < 3 || w->rank != x->rank)
    return onnx_fail(c, n, "X (rank %d) and W (rank %d) need the same rank, 3 or more", x->rank, w->rank);
  return check_kernel(c, n, w);
}

/* Y = conv(X, W) + B; X [N, C, S...], W [M, C/group, K...]. */
int onnx_Conv(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  const Shape *x = shape_of(c, n->in[0]), *w = shape_of(c, n->in[1]);
  if (check_ranks(c, n, x, w)) return -1;
  int64_t st[IR_MAX_RANK], dil[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
  if (onnx_window(c, n, x, w->d + 2, st, dil, pads)) return -1;
  int y;
  if (onnx_qdq_conv(c, n, st, pads, dil, &y)) return -1;
  if (y < 0) ONNX_TRY(c, n, y = conv(c, n->in[0], n->in[1], st, pads, dil, onnx_attr_int(n, "group", 1)));
  if ((y = add_bias(c, n, y)) < 0) return -1;
  n->out[0] = y;
  return 0;
}

/* ---- ConvTranspose ---- */

typedef struct Transposed {
  int nsp;
  int64_t st[IR_MAX_RANK], dil[IR_MAX_RANK], opad[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
} Transposed;

/* Pads per the operator's definition: given output_shape (or SAME_* with its implied
 * output in*stride), total = stride*(in-1) + output_padding + dilation*(k-1)+1 - out,
 * split with the odd unit at the end for SAME_UPPER and at the beginning otherwise. */
static int transposed_attrs(OnnxCtx *c, OnnxNode *n, const Shape *x, const Shape *w, Transposed *t) {
  int nsp = t->nsp = x->rank - 2;
  if (spatial_ints(c, n, "strides", nsp, 1, t->st) || spatial_ints(c, n, "dilations", nsp, 1, t->dil) ||
      spatial_ints(c, n, "output_padding", nsp, 0, t->opad) || spatial_ints(c, n, "pads", 2 * nsp, 0, t->pads))
    return -1;
  for (int i = 0; i < nsp; i++)
    if (t->st[i] < 1 || t->dil[i] < 1) return onnx_fail(c, n, "strides and dilations must be 1 or more");
  const char *ap = onnx_attr_str(c, n, "auto_pad", "NOTSET");
  bool upper = !strcmp(ap, "SAME_UPPER"), same = upper || !strcmp(ap, "SAME_LOWER");
  if (!same && strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) return onnx_fail(c, n, "auto_pad '%s' is not supported", ap);
  if (!strcmp(ap, "VALID")) memset(t->pads, 0, sizeof t->pads);
  int64_t os[IR_MAX_RANK];
  int nos = onnx_attr_ints(n, "output_shape", os, IR_MAX_RANK);
  if (nos == x->rank) memmove(os, os + 2, sizeof(int64_t) * (size_t)nsp), nos = nsp;
  if (nos >= 0 && nos != nsp) return onnx_fail(c, n, "output_shape has %d entries, expected %d", nos, nsp);
  if (nos < 0 && !same) return 0;
  for (int i = 0; i < nsp; i++) {
    int64_t in = x->d[2 + i], out = nos >= 0 ? os[i] : in * t->st[i];
    int64_t total = t->st[i] * (in - 1) + t->opad[i] + t->dil[i] * (w->d[2 + i] - 1) + 1 - out;
    int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2); /* floor: a negative total widens the end */
    t->pads[i] = upper ? half : total - half;
    t->pads[i + nsp] = total - t->pads[i];
  }
  return 0;
}

/* Inserts stride-1 zeros after every element of dimension `axis`: [.., L, ..] ->
 * [.., L, 1, ..] -> pad the unit dim to `stride` -> [.., L*stride, ..].  The trailing
 * stride-1 zeros are cropped later, by the pad that follows. */
static int spread(OnnxCtx *c, int x, int axis, int64_t stride) {
  const Shape *s = shape_of(c, x);
  int r = s->rank;
  int64_t up[IR_MAX_RANK], pads[2 * IR_MAX_RANK] = {0}, back[IR_MAX_RANK];
  for (int i = 0, k = 0; i < r; i++) {
    up[k++] = s->d[i];
    if (i == axis) up[k++] = 1;
    back[i] = s->d[i] * (i == axis ? stride : 1);
  }
  pads[axis + 1 + r + 1] = stride - 1;
  Attr a[2] = {attr_ints(A_PADS, pads, 2 * (r + 1)), attr_float(A_VALUE, 0)};
  int y = ir_reshape(c->g, x, up, r + 1);
  if (y >= 0) y = ir_add(c->g, OP_PAD, &y, 1, a, 2);
  return y < 0 ? -1 : ir_reshape(c->g, y, back, r);
}

/* W [C, M/g, K...] -> [M, C/g, K...] flipped in space: the weight of the equivalent conv. */
static int conv_weight(OnnxCtx *c, int w, int64_t groups) {
  const Shape *s = shape_of(c, w);
  int r = s->rank;
  int64_t d[IR_MAX_RANK], perm[IR_MAX_RANK], st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  d[0] = groups, d[1] = s->d[0] / groups, d[2] = s->d[1];
  perm[0] = 0, perm[1] = 2, perm[2] = 1;
  for (int i = 2; i < r; i++) d[i + 1] = s->d[i], perm[i + 1] = i + 1;
  int y = ir_reshape(c->g, w, d, r + 1);
  if (y >= 0) y = ir_transpose(c->g, y, perm);
  d[0] = s->d[1] * groups, d[1] = s->d[0] / groups;
  for (int i = 2; i < r; i++) d[i] = s->d[i];
  if (y >= 0) y = ir_reshape(c->g, y, d, r);
  for (int i = 0; i < r; i++) {
    bool flip = i >= 2;
    st[i] = flip ? d[i] - 1 : 0, en[i] = flip ? -1 : d[i], sp[i] = flip ? -1 : 1;
  }
  Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
  return y < 0 ? -1 : ir_add(c->g, OP_SLICE, &y, 1, a, 3);
}

enum { NO_ADJOINT = -2 };

/* The transposed convolution is the adjoint of a convolution in its input:
 * conv_grad_input(X, W) with the same strides, pads and dilations, W's layout as it is,
 * no zeros inserted between X's elements.  NO_ADJOINT when a pad is negative (an
 * output_shape larger than the full result) or an output padding reaches the stride,
 * which the adjoint cannot express; else the node, or -1 with the error reported. */
static int adjoint(OnnxCtx *c, OnnxNode *n, const Shape *x, const Shape *w, int64_t groups,
                   const Transposed *t) {
  int nsp = t->nsp, r = x->rank, y;
  int64_t out[IR_MAX_RANK] = {x->d[0], 0};
  if (ck_mul(w->d[1], groups, &out[1])) return onnx_fail(c, n, "group %lld overflows the channels", (long long)groups);
  for (int i = 0; i < nsp; i++) {
    if (t->pads[i] < 0 || t->pads[i + nsp] < 0 || t->opad[i] >= t->st[i]) return NO_ADJOINT;
    int64_t span, *o = &out[2 + i];
    if (ck_mul(t->st[i], x->d[2 + i] - 1, o) || ck_add(*o, t->opad[i], o) ||
        ck_muladd(t->dil[i], w->d[2 + i] - 1, 1, &span) || ck_add(*o, span, o) || ck_sub(*o, t->pads[i], o) ||
        ck_sub(*o, t->pads[i + nsp], o))
      return onnx_fail(c, n, "strides, dilations and pads overflow the output along spatial axis %d", i);
    if (out[2 + i] < 1) return onnx_fail(c, n, "the pads leave no output along spatial axis %d", i);
  }
  Attr a[5] = {attr_ints(A_SHAPE, out, r), attr_ints(A_STRIDES, t->st, nsp), attr_ints(A_PADS, t->pads, 2 * nsp),
               attr_ints(A_DILATIONS, t->dil, nsp), attr_int(A_GROUPS, groups)};
  ONNX_TRY(c, n, y = ir_add(c->g, OP_CONV_GRAD_INPUT, (int[]){n->in[0], n->in[1]}, 2, a, 5));
  return y;
}

/* Y = conv_transpose(X, W) + B; X [N, C, S...], W [C, M/group, K...], Y [N, M, ...]:
 * the adjoint of a convolution, or, where that cannot express the attributes, zeros
 * spread between X's elements, padded, and convolved with W flipped and transposed. */
int onnx_ConvTranspose(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  const Shape *x = shape_of(c, n->in[0]), *w = shape_of(c, n->in[1]);
  if (check_ranks(c, n, x, w)) return -1;
  int64_t groups = onnx_attr_int(n, "group", 1);
  if (groups < 1 || x->d[1] % groups || w->d[0] != x->d[1])
    return onnx_fail(c, n, "X has %lld channels, W has %lld rows: they must agree and divide into %lld groups",
                     (long long)x->d[1], (long long)w->d[0], (long long)groups);
  if (x->rank + 1 > IR_MAX_RANK) return onnx_fail(c, n, "rank %d is over %d", x->rank + 1, IR_MAX_RANK);
  Transposed t;
  if (transposed_attrs(c, n, x, w, &t)) return -1;
  int y = adjoint(c, n, x, w, groups, &t);
  if (y != NO_ADJOINT) {
    if (y < 0 || (y = add_bias(c, n, y)) < 0) return -1;
    n->out[0] = y;
    return 0;
  }
  int nsp = t.nsp, r = x->rank, z = n->in[0], wt;
  int64_t pads[2 * IR_MAX_RANK] = {0}, st1[IR_MAX_RANK], zero[2 * IR_MAX_RANK] = {0};
  for (int i = 0; i < nsp; i++) {
    if (t.st[i] > 1) ONNX_TRY(c, n, z = spread(c, z, 2 + i, t.st[i]));
    int64_t span = t.dil[i] * (w->d[2 + i] - 1);
    pads[2 + i] = span - t.pads[i];
    pads[2 + i + r] = span - t.pads[i + nsp] + t.opad[i] - (t.st[i] - 1);
    st1[i] = 1;
  }
  Attr a[2] = {attr_ints(A_PADS, pads, 2 * r), attr_float(A_VALUE, 0)};
  ONNX_TRY(c, n, z = ir_add(c->g, OP_PAD, &z, 1, a, 2));
  ONNX_TRY(c, n, wt = conv_weight(c, n->in[1], groups));
  ONNX_TRY(c, n, y = conv(c, z, wt, st1, zero, t.dil, groups));
  if ((y = add_bias(c, n, y)) < 0) return -1;
  n->out[0] = y;
  return 0;
}

/* ---- Col2Im ------------------------------------------------------------------------ */

/* A constant input's values, ints, exactly `want` of them. */
static int const_list(OnnxCtx *c, OnnxNode *n, int i, const char *what, int64_t *out, int max) {
  int k = i < n->nin && n->in[i] >= 0 ? onnx_const_ints(c, n->in[i], out, max) : -1;
  if (k < 1 || k > max) return onnx_fail(c, n, "%s must be a constant known at compile time, 1 to %d values", what, max);
  return k;
}

/* Col2Im is the adjoint of im2col: X [N, C*prod(K), L] read as a gradient [N, C*prod(K),
 * Q...] of a grouped convolution whose weight picks each kernel tap, W [C*prod(K), 1,
 * K...] with W[c*prod(K) + k, 0, k] = 1, groups C: conv_grad_input adds every column
 * entry back into its image position. */
int onnx_Col2Im(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  int x = n->in[0];
  const Shape xs = *shape_of(c, x);
  int64_t img[IR_MAX_RANK], k[IR_MAX_RANK], st[IR_MAX_RANK], dil[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
  int nsp = const_list(c, n, 1, "image_shape", img, IR_MAX_RANK - 2);
  if (nsp < 0 || const_list(c, n, 2, "block_shape", k, nsp) != nsp) return -1;
  if (xs.rank != 3) return onnx_fail(c, n, "input must have rank 3 ([N, C*prod(block_shape), L])");
  if (!dtype_is_float(c->g->nodes[x]->dtype))
    return onnx_fail(c, n, "input must be floating-point, not %s", dtype_name(c->g->nodes[x]->dtype));
  for (int i = 0; i < nsp; i++) st[i] = dil[i] = 1, pads[i] = pads[i + nsp] = 0;
  if (onnx_attr_ints(n, "strides", st, nsp) > nsp || onnx_attr_ints(n, "dilations", dil, nsp) > nsp ||
      onnx_attr_ints(n, "pads", pads, 2 * nsp) > 2 * nsp)
    return onnx_fail(c, n, "strides, dilations and pads need %d, %d and %d entries", nsp, nsp, 2 * nsp);
  int64_t kk = 1, l = 1, gy[IR_MAX_RANK] = {xs.d[0], xs.d[1]}, out[IR_MAX_RANK] = {xs.d[0], 0};
  for (int i = 0; i < nsp; i++) {
    if (k[i] < 1 || st[i] < 1 || dil[i] < 1 || img[i] < 1 || pads[i] < 0 || pads[i + nsp] < 0)
      return onnx_fail(c, n, "image and block sizes, strides and dilations must be positive, pads not negative");
    int64_t span = dil[i] * (k[i] - 1) + 1, room = img[i] + pads[i] + pads[i + nsp] - span;
    if (room < 0) return onnx_fail(c, n, "the block does not fit the padded image along axis %d", i);
    gy[2 + i] = room / st[i] + 1, out[2 + i] = img[i];
    kk *= k[i], l *= gy[2 + i];
    if (kk > 4096) return onnx_fail(c, n, "a block of more than 4096 elements is not supported");
  }
  if (xs.d[1] % kk || xs.d[2] != l)
    return onnx_fail(c, n, "input [%lld, %lld, %lld] does not hold C*%lld channels of %lld blocks", (long long)xs.d[0],
                     (long long)xs.d[1], (long long)xs.d[2], (long long)kk, (long long)l);
  if ((double)xs.d[1] * (double)kk > (double)(1 << 24))
    return onnx_fail(c, n, "the tap table (%lld channels x %lld) is more than 2^24 elements", (long long)xs.d[1], (long long)kk);
  int64_t ch = xs.d[1] / kk, wd[IR_MAX_RANK] = {xs.d[1], 1};
  out[1] = ch;
  for (int i = 0; i < nsp; i++) wd[2 + i] = k[i];
  DType t = c->g->nodes[x]->dtype;
  void *w = arena_alloc(c->g->arena, (size_t)(xs.d[1] * kk) * (size_t)dtype_size(t));
  for (int64_t o = 0; o < xs.d[1]; o++)
    for (int64_t j = 0; j < kk; j++) dtype_store(t, w, o * kk + j, j == o % kk);
  int y, wid;
  ONNX_TRY(c, n, wid = ir_const(c->g, NULL, t, shape_make(nsp + 2, wd), w));
  ONNX_TRY(c, n, y = ir_reshape(c->g, x, gy, nsp + 2));
  Attr a[5] = {attr_ints(A_SHAPE, out, nsp + 2), attr_ints(A_STRIDES, st, nsp), attr_ints(A_PADS, pads, 2 * nsp),
               attr_ints(A_DILATIONS, dil, nsp), attr_int(A_GROUPS, ch)};
  ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_CONV_GRAD_INPUT, (int[]){y, wid}, 2, a, 5));
  return 0;
}

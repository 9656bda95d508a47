/* txt_layers_more.c — conv_transpose2d and multi-head self-attention, built from core
 * ops like the layers of txt_layers.c (docs/FORMAT.md lists their expansions).
 *
 * conv_transpose2d is conv_grad_input: the transposed convolution is the adjoint of a
 * convolution in its input, so it needs no kernel of its own, and its weight has
 * PyTorch's ConvTranspose2d layout [in, out/groups, kh, kw]. */
#include <math.h>
#include <string.h>

#include "checked.h"
#include "txt.h"

static const Shape *xshape(const Layer *l) { return &l->p->g->nodes[l->x]->shape; }
static int ok(Layer *l, int id) { return id < 0 ? txt_layer_fail(l) : id; }

static int param(Layer *l, const char *pname, InitKind k, int rank, const int64_t *d) {
  return txt_layer_param(l, pname, (Init){.kind = k}, shape_make(rank, d));
}

/* init=zeros|ones|xavier|he for the weights (def if absent); biases are zeros. */
static int weight_init(Layer *l, InitKind def, InitKind *k) {
  int kw = txt_kw(l, "init");
  Tok *t = txt_arg_word(l, "init");
  *k = def;
  if (kw < 0) return 0;
  int i = t ? init_parse(t->s, (size_t)t->len) : -1;
  if (i != INIT_ZEROS && i != INIT_ONES && i != INIT_XAVIER && i != INIT_HE)
    return txt_err(l->p, &l->p->t[l->c->kw[kw].val], "init wants zeros, ones, xavier or he");
  *k = (InitKind)i;
  return 0;
}

/* ---- conv_transpose2d ---- */

typedef struct Deconv {
  int64_t f, groups, bias, k[2], st[2], dil[2], op[2], pads[4];
  int64_t out[2]; /* the output's spatial size */
} Deconv;

/* padding = int | [ph, pw] | [top, left, bottom, right] | valid | same.  The pads
 * crop the full transposed convolution; same makes out = in * stride (the adjoint of
 * conv2d's same on the output). */
static int deconv_padding(Layer *l, Deconv *d) {
  Txt *p = l->p;
  int kw = txt_kw(l, "padding"), n;
  int64_t v[4];
  memset(d->pads, 0, sizeof d->pads);
  if (kw < 0) return 0;
  Tok *at = &p->t[l->c->kw[kw].val];
  if (txt_word(at, "valid")) return 0;
  if (txt_word(at, "same")) {
    if (txt_kw(l, "output_padding") >= 0)
      return txt_err(p, at, "padding=same sets the output size; drop output_padding");
    for (int i = 0; i < 2; i++) {
      int64_t total;
      if (ck_muladd(d->k[i] - 1, d->dil[i], 1 - d->st[i], &total) ||
          ck_mul(xshape(l)->d[2 + i], d->st[i], &d->out[i]))
        return txt_err(p, at, "conv_transpose2d: the kernel, stride and dilation overflow the size");
      d->pads[i] = total > 0 ? total / 2 : 0, d->pads[2 + i] = total > 0 ? total - total / 2 : 0;
    }
    return 1;
  }
  int end = p->pos;
  txt_seek(p, l->c->kw[kw].val);
  int r = txt_ints_value(p, v, 4, &n);
  txt_seek(p, end);
  if (r) return -1;
  if (n == 3) return txt_err(p, at, "padding wants 1, 2 or 4 integers, or same, or valid");
  for (int i = 0; i < 4; i++) d->pads[i] = n == 4 ? v[i] : v[i % n];
  for (int i = 0; i < 4; i++)
    if (d->pads[i] < 0) return txt_err(p, at, "padding must not be negative");
  return 0;
}

/* out = (in - 1)*stride + (k - 1)*dilation + 1 + output_padding - pads */
static int deconv_size(Layer *l, Deconv *d) {
  int same = deconv_padding(l, d);
  if (same) return same < 0 ? -1 : 0;
  for (int i = 0; i < 2; i++) {
    if (d->op[i] >= d->st[i])
      return txt_err(l->p, l->c->fn, "conv_transpose2d: output_padding must be smaller than the stride");
    int64_t span, *o = &d->out[i];
    if (ck_mul(xshape(l)->d[2 + i] - 1, d->st[i], o) || ck_muladd(d->k[i] - 1, d->dil[i], 1, &span) ||
        ck_add(*o, span, o) || ck_add(*o, d->op[i], o) || ck_sub(*o, d->pads[i], o) || ck_sub(*o, d->pads[2 + i], o))
      return txt_err(l->p, l->c->fn, "conv_transpose2d: the kernel, stride, dilation and padding overflow the size");
    if (d->out[i] < 1)
      return txt_err(l->p, l->c->fn, "conv_transpose2d: the padding leaves no output");
  }
  return 0;
}

static int deconv_args(Layer *l, Deconv *d, InitKind *ik) {
  if (txt_arg_int(l, 1, "filters", 0, false, &d->f) || txt_arg_pair(l, "kernel", 3, d->k) ||
      txt_arg_pair(l, "stride", 1, d->st) || txt_arg_pair(l, "dilation", 1, d->dil) ||
      txt_arg_int(l, -1, "groups", 1, true, &d->groups) ||
      txt_arg_int(l, -1, "bias", 1, true, &d->bias) || weight_init(l, INIT_HE, ik))
    return -1;
  d->op[0] = d->op[1] = 0;
  if (txt_kw(l, "output_padding") >= 0 && txt_arg_pair(l, "output_padding", 0, d->op)) return -1;
  if (xshape(l)->rank != 4) {
    char buf[128];
    shape_str(xshape(l), buf, sizeof buf);
    return txt_err(l->p, l->c->fn, "conv_transpose2d wants an input of shape [N, C, H, W], found %s", buf);
  }
  int64_t c = xshape(l)->d[1];
  if (d->f < 1 || d->groups < 1 || c % d->groups || d->f % d->groups)
    return txt_err(l->p, l->c->fn, "conv_transpose2d: %lld channels and %lld filters do not split "
                   "into %lld groups", (long long)c, (long long)d->f, (long long)d->groups);
  return deconv_size(l, d);
}

/* x [N, C, H, W] -> conv_grad_input(x, w [C, filters/groups, kh, kw]) [N, filters, H', W'] */
int txt_layer_conv_transpose2d(Layer *l) {
  Deconv d;
  InitKind ik;
  if (deconv_args(l, &d, &ik)) return -1;
  const Shape *x = xshape(l);
  int w = param(l, "w", ik, 4, (int64_t[]){x->d[1], d.f / d.groups, d.k[0], d.k[1]});
  if (w < 0) return -1;
  int64_t y[4] = {x->d[0], d.f, d.out[0], d.out[1]};
  Attr a[5] = {attr_ints(A_SHAPE, y, 4), attr_ints(A_STRIDES, d.st, 2), attr_ints(A_PADS, d.pads, 4),
               attr_ints(A_DILATIONS, d.dil, 2), attr_int(A_GROUPS, d.groups)};
  int out = ok(l, ir_add(l->p->g, OP_CONV_GRAD_INPUT, (int[]){l->x, w}, 2, a, 5));
  if (out < 0 || !d.bias) return out;
  int b = param(l, "b", INIT_ZEROS, 1, &d.f);
  int br = b < 0 ? -1 : ok(l, ir_reshape(l->p->g, b, (int64_t[]){1, d.f, 1, 1}, 4));
  return br < 0 ? -1 : ok(l, ir_binary(l->p->g, OP_ADD, out, br));
}

/* ---- attention ---- */

/* Building that passes a failure (-1) on, reported once by the layer. */
static int bin(Graph *g, Op op, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(g, op, a, b); }
static int mm(Graph *g, int a, int b, bool tb) { return a < 0 || b < 0 ? -1 : ir_matmul(g, a, b, false, tb); }
static int perm(Graph *g, int x, const int64_t *p) { return x < 0 ? -1 : ir_transpose(g, x, p); }
static int reshape(Graph *g, int x, int rank, const int64_t *d) { return x < 0 ? -1 : ir_reshape(g, x, d, rank); }

typedef struct Att {
  Graph *g;
  int64_t n, s, d, heads; /* batch, sequence, model width, heads */
  int w[4], b[4];         /* q, k, v, o: w [d, d] as dense's [in, out], b [d] or -1 */
} Att;

/* x [N, S, D] @ w + b, then [N, S, H, D/H] -> [N, H, S, D/H] */
static int heads_of(Att *a, int x, int i) {
  int y = mm(a->g, x, a->w[i], false);
  if (a->b[i] >= 0) y = bin(a->g, OP_ADD, y, a->b[i]);
  y = reshape(a->g, y, 4, (int64_t[]){a->n, a->s, a->heads, a->d / a->heads});
  return perm(a->g, y, (int64_t[]){0, 2, 1, 3});
}

/* Where the mask is false, a score becomes -inf: that key gets no weight. */
static int masked(Att *a, int scores, int mask) {
  if (mask < 0 || scores < 0) return scores;
  DType t = a->g->nodes[scores]->dtype;
  int lo = ir_scalar(a->g, t, -INFINITY);
  return lo < 0 ? -1 : ir_select(a->g, mask, scores, lo);
}

/* Query i sees keys j <= i: ge(iota(axis 0), iota(axis 1)) over [S, S]. */
static int causal(Att *a) {
  int64_t sh[2] = {a->s, a->s};
  Attr r[3] = {attr_ints(A_SHAPE, sh, 2), attr_int(A_AXIS, 0), attr_dtype(A_DTYPE, DT_I64)};
  int row = ir_add(a->g, OP_IOTA, NULL, 0, r, 3);
  r[1] = attr_int(A_AXIS, 1);
  int col = row < 0 ? -1 : ir_add(a->g, OP_IOTA, NULL, 0, r, 3);
  return bin(a->g, OP_GE, row, col);
}

/* softmax over the last axis */
static int softmax(Graph *g, int x) {
  int64_t ax = 3;
  int m = x < 0 ? -1 : ir_reduce(g, OP_REDUCE_MAX, x, &ax, 1, true);
  int e = bin(g, OP_SUB, x, m);
  e = e < 0 ? -1 : ir_unary(g, OP_EXP, e);
  int s = e < 0 ? -1 : ir_reduce(g, OP_REDUCE_SUM, e, &ax, 1, true);
  return bin(g, OP_DIV, e, s);
}

/* softmax(q k^T / sqrt(D/H) | mask) v, heads joined, @ wo + bo */
static int attend(Att *a, int x, int mask) {
  Graph *g = a->g;
  int q = heads_of(a, x, 0), k = heads_of(a, x, 1), v = heads_of(a, x, 2);
  int sc = q < 0 ? -1 : ir_scalar(g, g->nodes[q]->dtype, 1 / sqrt((double)(a->d / a->heads)));
  int s = masked(a, bin(g, OP_MUL, mm(g, q, k, true), sc), mask); /* [N, H, S, S] */
  int o = mm(g, softmax(g, s), v, false);                          /* [N, H, S, D/H] */
  o = reshape(g, perm(g, o, (int64_t[]){0, 2, 1, 3}), 3, (int64_t[]){a->n, a->s, a->d});
  o = mm(g, o, a->w[3], false);
  return a->b[3] >= 0 ? bin(g, OP_ADD, o, a->b[3]) : o;
}

static int att_params(Layer *l, Att *a, bool bias, InitKind k) {
  const char *wn[4] = {"wq", "wk", "wv", "wo"}, *bn[4] = {"bq", "bk", "bv", "bo"};
  for (int i = 0; i < 4; i++) {
    a->w[i] = param(l, wn[i], k, 2, (int64_t[]){a->d, a->d});
    a->b[i] = !bias || a->w[i] < 0 ? -1 : param(l, bn[i], INIT_ZEROS, 1, &a->d);
    if (a->w[i] < 0 || (bias && a->b[i] < 0)) return -1;
  }
  return 0;
}

/* mask=causal and/or a bool operand that broadcasts to [N, H, S, S] (true: attend). */
static int att_mask(Layer *l, Att *a, int *mask) {
  Tok *m = txt_arg_word(l, "mask");
  *mask = -1;
  if (l->c->nargs > 1) {
    const TxtArg *arg = &l->c->args[1];
    if (arg->id < 0 || a->g->nodes[arg->id]->dtype != DT_BOOL)
      return txt_err(l->p, arg->at, "attention: the mask operand must be a bool value");
    *mask = arg->id;
  }
  if (txt_kw(l, "mask") < 0) return 0;
  if (!m || !(txt_word(m, "causal") || txt_word(m, "none")))
    return txt_err(l->p, &l->p->t[l->c->kw[txt_kw(l, "mask")].val], "mask wants causal or none");
  if (txt_word(m, "none")) return 0;
  int c = causal(a);
  *mask = *mask < 0 ? c : bin(a->g, OP_AND, c, *mask);
  return *mask < 0 ? txt_layer_fail(l) : 0;
}

/* x [N, S, D] -> [N, S, D] */
int txt_layer_attention(Layer *l) {
  Att a = {.g = l->p->g};
  int64_t bias;
  InitKind k;
  if (txt_arg_int(l, -1, "heads", 1, true, &a.heads) || txt_arg_int(l, -1, "bias", 1, true, &bias) ||
      weight_init(l, INIT_XAVIER, &k))
    return -1;
  const Shape *x = xshape(l);
  if (x->rank != 3 || !dtype_is_float(l->dtype))
    return txt_err(l->p, l->c->fn, "attention wants a float input of shape [batch, sequence, width]");
  a.n = x->d[0], a.s = x->d[1], a.d = x->d[2];
  if (a.heads < 1 || a.d % a.heads)
    return txt_err(l->p, l->c->fn, "attention: width %lld does not split into %lld heads",
                   (long long)a.d, (long long)a.heads);
  int mask;
  if (att_params(l, &a, bias, k) || att_mask(l, &a, &mask)) return -1;
  return ok(l, attend(&a, l->x, mask));
}

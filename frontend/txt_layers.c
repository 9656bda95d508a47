/* txt_layers.c — layer sugar: Keras-like layers built from core ops.
 *
 * Each layer is one function that declares its parameters ("<layer>.<param>", the
 * layer named by name= or "<kind><k>") and composes core ops with the ir_* builders.
 * docs/FORMAT.md lists the exact core ops each layer expands to; keep the two in step. */
#include <math.h>
#include <string.h>

#include "checked.h"
#include "txt.h"

/* ---- reading the layer's arguments ---- */

/* The keyword `key`, or else positional argument `pos` (-1: keyword only). */
int txt_kw(const Layer *l, const char *key) {
  for (int i = 0; i < l->c->nkw; i++)
    if (txt_word(l->c->kw[i].key, key)) return i;
  return -1;
}

/* An integer argument: positional `pos` or key=, else def (required if !has_def). */
int txt_arg_int(Layer *l, int pos, const char *key, int64_t def, bool has_def, int64_t *v) {
  Txt *p = l->p;
  int k = txt_kw(l, key);
  *v = def;
  if (pos > 0 && pos < l->c->nargs) {
    const TxtArg *a = &l->c->args[pos];
    if (k >= 0) return txt_err(p, l->c->kw[k].key, "'%s' is given twice", key);
    if (a->id >= 0 || !a->num.is_int) return txt_err(p, a->at, "%s wants an integer", key);
    *v = a->num.i;
    return 0;
  }
  if (k < 0)
    return has_def ? 0 : txt_err(p, l->c->fn, "%.*s needs '%s'", l->c->fn->len, l->c->fn->s, key);
  int end = p->pos;
  txt_seek(p, l->c->kw[k].val);
  int r = txt_int_value(p, v);
  txt_seek(p, end);
  return r;
}

int txt_arg_float(Layer *l, const char *key, double def, double *v) {
  int k = txt_kw(l, key);
  *v = def;
  if (k < 0) return 0;
  int end = l->p->pos;
  txt_seek(l->p, l->c->kw[k].val);
  int r = txt_float_value(l->p, v);
  txt_seek(l->p, end);
  return r;
}

/* key=int or key=[a, b] for the two spatial dimensions. */
int txt_arg_pair(Layer *l, const char *key, int64_t def, int64_t v[2]) {
  int k = txt_kw(l, key), n;
  int64_t t[4];
  v[0] = v[1] = def;
  if (k < 0) return 0;
  Txt *p = l->p;
  int end = p->pos;
  Tok *at = &p->t[l->c->kw[k].val];
  txt_seek(p, l->c->kw[k].val);
  int r = txt_ints_value(p, t, 4, &n);
  txt_seek(p, end);
  if (r) return -1;
  if (n != 1 && n != 2) return txt_err(p, at, "%s wants one integer or two", key);
  v[0] = t[0], v[1] = t[n - 1];
  if (v[0] < 1 || v[1] < 1) return txt_err(p, at, "%s must be 1 or more", key);
  return 0;
}

/* A word argument (init=he, padding=same); NULL token if absent. */
Tok *txt_arg_word(Layer *l, const char *key) {
  int k = txt_kw(l, key);
  if (k < 0) return NULL;
  Tok *t = &l->p->t[l->c->kw[k].val];
  return t->kind == TK_IDENT ? t : NULL;
}

/* ---- building ---- */

int txt_layer_fail(Layer *l) { return txt_build_fail(l->p, l->c->fn); }

static int check(Layer *l, int id) { return id < 0 ? txt_layer_fail(l) : id; }

int txt_layer_param(Layer *l, const char *pname, Init in, Shape s) {
  Txt *p = l->p;
  size_t n = strlen(l->name) + strlen(pname) + 2;
  char *name = arena_alloc(p->g->arena, n);
  snprintf(name, n, "%s.%s", l->name, pname);
  if (txt_fresh(p, l->c->fn, name)) return -1;
  p->seed_locked = true;
  in.seed = txt_default_seed(p, name);
  int id = txt_param(p, l->c->fn, name, l->dtype, s, in);
  if (id < 0 || txt_declare(p, l->c->fn, name, id)) return -1;
  return id;
}

static int param(Layer *l, const char *pname, InitKind k, Shape s) {
  return txt_layer_param(l, pname, (Init){.kind = k}, s);
}

static int init_kind(Layer *l, InitKind def, InitKind *k) {
  Tok *t = txt_arg_word(l, "init");
  *k = def;
  if (txt_kw(l, "init") < 0) return 0;
  int i = t ? init_parse(t->s, (size_t)t->len) : -1;
  if (i < 0 || i == INIT_DATA || i == INIT_FILL || i == INIT_NORMAL || i == INIT_UNIFORM)
    return txt_err(l->p, &l->p->t[l->c->kw[txt_kw(l, "init")].val],
                   "init wants zeros, ones, xavier or he (declare a param for others)");
  *k = (InitKind)i;
  return 0;
}

static const Shape *xshape(const Layer *l) { return &l->p->g->nodes[l->x]->shape; }
static int scalar(Layer *l, double v) { return check(l, ir_scalar(l->p->g, l->dtype, v)); }

/* [C] -> a shape of x's rank with C at axis, 1 elsewhere, so it broadcasts along axis. */
static int along(Layer *l, int v, int axis) {
  int64_t d[IR_MAX_RANK];
  for (int i = 0; i < xshape(l)->rank; i++) d[i] = i == axis ? xshape(l)->d[axis] : 1;
  return check(l, ir_reshape(l->p->g, v, d, xshape(l)->rank));
}

static int axis_arg(Layer *l, int64_t def, int64_t *axis, int extra) {
  if (txt_arg_int(l, -1, "axis", def, true, axis)) return -1;
  int r = xshape(l)->rank + extra;
  if (*axis < 0) *axis += r;
  if (*axis < 0 || *axis >= r)
    return txt_err(l->p, l->c->fn, "axis is out of range for %s of rank %d",
                   l->p->g->nodes[l->x]->name ? l->p->g->nodes[l->x]->name : "the operand",
                   xshape(l)->rank);
  return 0;
}

/* ---- the layers ---- */

/* x[..., in] -> matmul(x, w[in, units]) + b[units] */
static int layer_dense(Layer *l) {
  int64_t units, bias;
  InitKind k;
  if (txt_arg_int(l, 1, "units", 0, false, &units) || txt_arg_int(l, -1, "bias", 1, true, &bias) ||
      init_kind(l, INIT_XAVIER, &k))
    return -1;
  if (units < 1) return txt_err(l->p, l->c->fn, "dense: units must be 1 or more");
  if (xshape(l)->rank < 2) return txt_err(l->p, l->c->fn, "dense wants an input of rank 2 or more");
  int64_t in = xshape(l)->d[xshape(l)->rank - 1];
  int w = param(l, "w", k, shape_make(2, (int64_t[]){in, units}));
  if (w < 0) return -1;
  int y = check(l, ir_matmul(l->p->g, l->x, w, false, false));
  if (y < 0 || !bias) return y;
  int b = param(l, "b", INIT_ZEROS, shape_make(1, &units));
  return b < 0 ? -1 : check(l, ir_binary(l->p->g, OP_ADD, y, b));
}

/* padding = int | [ph, pw] | [top, left, bottom, right] | same | valid, as conv pads
 * [top, left, bottom, right]; same pads so that out = ceil(in / stride). */
static int padding(Layer *l, const int64_t *k, const int64_t *st, const int64_t *dil, int64_t *pads) {
  Txt *p = l->p;
  int kw = txt_kw(l, "padding"), n;
  int64_t v[4];
  memset(pads, 0, 4 * sizeof *pads);
  if (kw < 0) return 0;
  Tok *at = &p->t[l->c->kw[kw].val];
  if (txt_word(at, "valid")) return 0;
  if (txt_word(at, "same")) {
    for (int i = 0; i < 2; i++) {
      int64_t in = xshape(l)->d[2 + i], out = in / st[i] + (in % st[i] != 0), total, span;
      if (ck_mul(out - 1, st[i], &total) || ck_muladd(k[i] - 1, dil[i], 1, &span) ||
          ck_add(total, span, &total))
        return txt_err(p, at, "%.*s: padding=same: the kernel, stride and dilation overflow the size", l->c->fn->len, l->c->fn->s);
      total -= in;
      if (total < 0) total = 0;
      pads[i] = total / 2, pads[2 + i] = total - total / 2;
    }
    return 0;
  }
  int end = p->pos;
  txt_seek(p, l->c->kw[kw].val);
  int r = txt_ints_value(p, v, 4, &n);
  txt_seek(p, end);
  if (r) return -1;
  if (n == 3) return txt_err(p, at, "padding wants 1, 2 or 4 integers, or same, or valid");
  for (int i = 0; i < 4; i++) pads[i] = n == 4 ? v[i] : v[i % n];
  for (int i = 0; i < 4; i++)
    if (pads[i] < 0) return txt_err(p, at, "padding must not be negative");
  return 0;
}

static int want_nchw(Layer *l) {
  if (xshape(l)->rank == 4) return 0;
  char buf[128];
  shape_str(xshape(l), buf, sizeof buf);
  return txt_err(l->p, l->c->fn, "%.*s wants an input of shape [N, C, H, W], found %s",
                 l->c->fn->len, l->c->fn->s, buf);
}

static int layer_conv2d(Layer *l) {
  int64_t f, groups, bias, k[2], st[2], dil[2], pads[4];
  InitKind ik;
  if (txt_arg_int(l, 1, "filters", 0, false, &f) || txt_arg_pair(l, "kernel", 3, k) ||
      txt_arg_pair(l, "stride", 1, st) || txt_arg_pair(l, "dilation", 1, dil) ||
      txt_arg_int(l, -1, "groups", 1, true, &groups) || txt_arg_int(l, -1, "bias", 1, true, &bias) ||
      init_kind(l, INIT_HE, &ik) || want_nchw(l) || padding(l, k, st, dil, pads))
    return -1;
  int64_t c = xshape(l)->d[1];
  if (f < 1 || groups < 1 || c % groups || f % groups)
    return txt_err(l->p, l->c->fn, "conv2d: %lld channels and %lld filters do not split into "
                   "%lld groups", (long long)c, (long long)f, (long long)groups);
  int w = param(l, "w", ik, shape_make(4, (int64_t[]){f, c / groups, k[0], k[1]}));
  if (w < 0) return -1;
  Attr a[4] = {attr_ints(A_STRIDES, st, 2), attr_ints(A_PADS, pads, 4),
               attr_ints(A_DILATIONS, dil, 2), attr_int(A_GROUPS, groups)};
  int y = check(l, ir_add(l->p->g, OP_CONV, (int[]){l->x, w}, 2, a, 4));
  if (y < 0 || !bias) return y;
  int b = param(l, "b", INIT_ZEROS, shape_make(1, &f));
  if (b < 0) return -1;
  int br = check(l, ir_reshape(l->p->g, b, (int64_t[]){1, f, 1, 1}, 4));
  return br < 0 ? -1 : check(l, ir_binary(l->p->g, OP_ADD, y, br));
}

static int pool(Layer *l, Op op) {
  int64_t k[2], st[2], dil[2] = {1, 1}, pads[4];
  if (txt_arg_pair(l, "kernel", 2, k) || txt_arg_pair(l, "stride", 0, st) || want_nchw(l)) return -1;
  if (txt_kw(l, "stride") < 0) st[0] = k[0], st[1] = k[1];
  if (padding(l, k, st, dil, pads)) return -1;
  Attr a[3] = {attr_ints(A_KERNEL, k, 2), attr_ints(A_STRIDES, st, 2), attr_ints(A_PADS, pads, 4)};
  return check(l, ir_add(l->p->g, op, &l->x, 1, a, 3));
}

static int layer_maxpool2d(Layer *l) { return pool(l, OP_POOL_MAX); }
static int layer_avgpool2d(Layer *l) { return pool(l, OP_POOL_AVG); }

/* -> [prod(d[:axis]), prod(d[axis:])] */
static int layer_flatten(Layer *l) {
  int64_t axis, d[2] = {1, 1};
  if (axis_arg(l, 1, &axis, 1)) return -1;
  for (int i = 0; i < xshape(l)->rank; i++) d[i >= axis] *= xshape(l)->d[i];
  return check(l, ir_reshape(l->p->g, l->x, d, 2));
}

/* Inference only: the identity.  Training builds its mask elsewhere. */
static int layer_dropout(Layer *l) {
  double rate;
  if (txt_arg_float(l, "rate", 0.5, &rate)) return -1;
  if (!(rate >= 0 && rate < 1)) return txt_err(l->p, l->c->fn, "dropout: rate must be in [0, 1)");
  return l->x;
}

/* (x - mean) * (gamma * rsqrt(var + eps)) + beta, each [C] reshaped along axis */
static int layer_batchnorm(Layer *l) {
  int64_t axis;
  double eps;
  Graph *g = l->p->g;
  if (txt_arg_float(l, "eps", 1e-5, &eps) || axis_arg(l, 1, &axis, 0)) return -1;
  Shape c = shape_make(1, &xshape(l)->d[axis]);
  int gamma = param(l, "gamma", INIT_ONES, c), beta = gamma < 0 ? -1 : param(l, "beta", INIT_ZEROS, c);
  int mean = beta < 0 ? -1 : param(l, "mean", INIT_ZEROS, c);
  int var = mean < 0 ? -1 : param(l, "var", INIT_ONES, c);
  int e = var < 0 ? -1 : scalar(l, eps);
  if (e < 0) return -1;
  int ve = check(l, ir_binary(g, OP_ADD, var, e));
  int rs = ve < 0 ? -1 : check(l, ir_unary(g, OP_RSQRT, ve));
  int sc = rs < 0 ? -1 : check(l, ir_binary(g, OP_MUL, gamma, rs));
  int mr = sc < 0 ? -1 : along(l, mean, (int)axis);
  int xm = mr < 0 ? -1 : check(l, ir_binary(g, OP_SUB, l->x, mr));
  int sr = xm < 0 ? -1 : along(l, sc, (int)axis);
  int y = sr < 0 ? -1 : check(l, ir_binary(g, OP_MUL, xm, sr));
  int br = y < 0 ? -1 : along(l, beta, (int)axis);
  return br < 0 ? -1 : check(l, ir_binary(g, OP_ADD, y, br));
}

/* max(x, 0) */
static int layer_relu(Layer *l) {
  int z = scalar(l, 0);
  return z < 0 ? -1 : check(l, ir_binary(l->p->g, OP_MAX, l->x, z));
}

/* recip(add(1, exp(neg(x)))) */
static int layer_sigmoid(Layer *l) {
  Graph *g = l->p->g;
  int n = check(l, ir_unary(g, OP_NEG, l->x));
  int e = n < 0 ? -1 : check(l, ir_unary(g, OP_EXP, n));
  int one = e < 0 ? -1 : scalar(l, 1);
  int s = one < 0 ? -1 : check(l, ir_binary(g, OP_ADD, one, e));
  return s < 0 ? -1 : check(l, ir_unary(g, OP_RECIP, s));
}

/* d = x - reduce_max(x, axis, keepdims); e = exp(d); s = reduce_sum(e, axis, keepdims) */
static int softmax_parts(Layer *l, int *d, int *e, int *s) {
  int64_t axis;
  Graph *g = l->p->g;
  if (axis_arg(l, -1, &axis, 0)) return -1;
  int m = check(l, ir_reduce(g, OP_REDUCE_MAX, l->x, &axis, 1, true));
  *d = m < 0 ? -1 : check(l, ir_binary(g, OP_SUB, l->x, m));
  *e = *d < 0 ? -1 : check(l, ir_unary(g, OP_EXP, *d));
  *s = *e < 0 ? -1 : check(l, ir_reduce(g, OP_REDUCE_SUM, *e, &axis, 1, true));
  return *s < 0 ? -1 : 0;
}

/* e / s */
static int layer_softmax(Layer *l) {
  int d, e, s;
  return softmax_parts(l, &d, &e, &s) ? -1 : check(l, ir_binary(l->p->g, OP_DIV, e, s));
}

/* d - log(s) */
static int layer_log_softmax(Layer *l) {
  int d, e, s;
  if (softmax_parts(l, &d, &e, &s)) return -1;
  int ls = check(l, ir_unary(l->p->g, OP_LOG, s));
  return ls < 0 ? -1 : check(l, ir_binary(l->p->g, OP_SUB, d, ls));
}

/* select(gt(x, 0), x, mul(x, alpha)) */
static int layer_leaky_relu(Layer *l) {
  double alpha;
  Graph *g = l->p->g;
  if (txt_arg_float(l, "alpha", 0.01, &alpha)) return -1;
  int z = scalar(l, 0), pos = z < 0 ? -1 : check(l, ir_binary(g, OP_GT, l->x, z));
  int a = pos < 0 ? -1 : scalar(l, alpha);
  int neg = a < 0 ? -1 : check(l, ir_binary(g, OP_MUL, l->x, a));
  return neg < 0 ? -1 : check(l, ir_select(g, pos, l->x, neg));
}

/* mul(mul(0.5, x), add(1, erf(div(x, sqrt(2))))) */
static int layer_gelu(Layer *l) {
  Graph *g = l->p->g;
  int half = scalar(l, 0.5), h = half < 0 ? -1 : check(l, ir_binary(g, OP_MUL, half, l->x));
  int r2 = h < 0 ? -1 : scalar(l, sqrt(2.0));
  int u = r2 < 0 ? -1 : check(l, ir_binary(g, OP_DIV, l->x, r2));
  int e = u < 0 ? -1 : check(l, ir_unary(g, OP_ERF, u));
  int one = e < 0 ? -1 : scalar(l, 1);
  int s = one < 0 ? -1 : check(l, ir_binary(g, OP_ADD, one, e));
  return s < 0 ? -1 : check(l, ir_binary(g, OP_MUL, h, s));
}

/* d = x - mean(x); v = mean(d * d); (d * rsqrt(v + eps)) * gamma + beta, means over axis */
static int layer_layernorm(Layer *l) {
  int64_t axis;
  double eps;
  Graph *g = l->p->g;
  if (txt_arg_float(l, "eps", 1e-5, &eps) || axis_arg(l, -1, &axis, 0)) return -1;
  Shape c = shape_make(1, &xshape(l)->d[axis]);
  int gamma = param(l, "gamma", INIT_ONES, c), beta = gamma < 0 ? -1 : param(l, "beta", INIT_ZEROS, c);
  int n = beta < 0 ? -1 : scalar(l, (double)c.d[0]), e = n < 0 ? -1 : scalar(l, eps);
  int s = e < 0 ? -1 : check(l, ir_reduce(g, OP_REDUCE_SUM, l->x, &axis, 1, true));
  int m = s < 0 ? -1 : check(l, ir_binary(g, OP_DIV, s, n));
  int d = m < 0 ? -1 : check(l, ir_binary(g, OP_SUB, l->x, m));
  int d2 = d < 0 ? -1 : check(l, ir_binary(g, OP_MUL, d, d));
  int vs = d2 < 0 ? -1 : check(l, ir_reduce(g, OP_REDUCE_SUM, d2, &axis, 1, true));
  int v = vs < 0 ? -1 : check(l, ir_binary(g, OP_DIV, vs, n));
  int ve = v < 0 ? -1 : check(l, ir_binary(g, OP_ADD, v, e));
  int r = ve < 0 ? -1 : check(l, ir_unary(g, OP_RSQRT, ve));
  int xn = r < 0 ? -1 : check(l, ir_binary(g, OP_MUL, d, r));
  int gr = xn < 0 ? -1 : along(l, gamma, (int)axis);
  int y = gr < 0 ? -1 : check(l, ir_binary(g, OP_MUL, xn, gr));
  int br = y < 0 ? -1 : along(l, beta, (int)axis);
  return br < 0 ? -1 : check(l, ir_binary(g, OP_ADD, y, br));
}

/* ids (integers) -> gather(w[vocab, dim], ids, axis=0): [..., dim] */
static int layer_embedding(Layer *l) {
  int64_t vocab, dim;
  InitKind k;
  l->dtype = DT_F32;
  if (txt_arg_int(l, 1, "vocab", 0, false, &vocab) || txt_arg_int(l, 2, "dim", 0, false, &dim) ||
      init_kind(l, INIT_XAVIER, &k))
    return -1;
  if (vocab < 1 || dim < 1) return txt_err(l->p, l->c->fn, "embedding: vocab and dim must be 1 or more");
  int w = param(l, "w", k, shape_make(2, (int64_t[]){vocab, dim}));
  if (w < 0) return -1;
  Attr a = attr_int(A_AXIS, 0);
  return check(l, ir_add(l->p->g, OP_GATHER, (int[]){w, l->x}, 2, &a, 1));
}

/* ---- the table ---- */

static const struct {
  const char *name;
  LayerFn fn;
  int maxpos;       /* positional arguments, x included */
  const char *keys; /* the keyword arguments it accepts, besides name= */
} layers[] = {
    {"dense", layer_dense, 2, " units bias init "},
    {"conv2d", layer_conv2d, 2, " filters kernel stride padding dilation groups bias init "},
    {"maxpool2d", layer_maxpool2d, 1, " kernel stride padding "},
    {"avgpool2d", layer_avgpool2d, 1, " kernel stride padding "},
    {"flatten", layer_flatten, 1, " axis "},
    {"dropout", layer_dropout, 1, " rate "},
    {"batchnorm", layer_batchnorm, 1, " eps axis "},
    {"layernorm", layer_layernorm, 1, " eps axis "},
    {"embedding", layer_embedding, 3, " vocab dim init "},
    {"relu", layer_relu, 1, " "},
    {"sigmoid", layer_sigmoid, 1, " "},
    {"softmax", layer_softmax, 1, " axis "},
    {"log_softmax", layer_log_softmax, 1, " axis "},
    {"leaky_relu", layer_leaky_relu, 1, " alpha "},
    {"gelu", layer_gelu, 1, " "},
    {"rnn", txt_layer_rnn, 2, " units return_sequences bidirectional init "},
    {"lstm", txt_layer_lstm, 2, " units return_sequences bidirectional init "},
    {"gru", txt_layer_gru, 2, " units return_sequences bidirectional init "},
    {"conv_transpose2d", txt_layer_conv_transpose2d, 2,
     " filters kernel stride padding output_padding dilation groups bias init "},
    {"attention", txt_layer_attention, 2, " heads mask bias init "},
};

_Static_assert(sizeof layers / sizeof layers[0] <= 32, "Txt.layer_count is too small");

static bool accepts(const char *keys, const Tok *k) {
  if (txt_word(k, "name")) return true;
  for (const char *s = strstr(keys, " "); s && s[1]; s = strchr(s + 1, ' '))
    if (!strncmp(s + 1, k->s, (size_t)k->len) && s[1 + k->len] == ' ') return true;
  return false;
}

static int check_args(Txt *p, const TxtCall *c, int li) {
  const char *ln = layers[li].name;
  for (int i = 0; i < c->nkw; i++)
    if (!accepts(layers[li].keys, c->kw[i].key))
      return txt_err(p, c->kw[i].key, "%s has no attribute '%.*s'", ln, c->kw[i].key->len,
                     c->kw[i].key->s);
  if (c->nargs < 1) return txt_err(p, c->fn, "%s needs its input as the first operand", ln);
  if (c->nargs > layers[li].maxpos)
    return txt_err(p, c->args[layers[li].maxpos].at, "%s takes %d operand%s", ln,
                   layers[li].maxpos, layers[li].maxpos == 1 ? "" : "s");
  if (c->args[0].id < 0) return txt_err(p, c->args[0].at, "%s wants a value, not a number", ln);
  return 0;
}

/* name= or "<kind><k>", k counting this kind of layer from 1 */
static int layer_name(Txt *p, const TxtCall *c, int li, const char **out) {
  int k = -1;
  for (int i = 0; i < c->nkw; i++)
    if (txt_word(c->kw[i].key, "name")) k = i;
  p->layer_count[li]++;
  if (k < 0) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s%d", layers[li].name, p->layer_count[li]);
    *out = arena_strdup(p->g->arena, buf);
    return 0;
  }
  Tok *t = &p->t[c->kw[k].val];
  if (!txt_is_name(t)) return txt_err(p, t, "name wants a name");
  *out = txt_text(p, t);
  return 0;
}

int txt_layer(Txt *p, TxtCall *c) {
  for (int li = 0; li < (int)(sizeof layers / sizeof layers[0]); li++) {
    if (!txt_word(c->fn, layers[li].name)) continue;
    Layer l = {.p = p, .c = c};
    if (check_args(p, c, li) || layer_name(p, c, li, &l.name)) return -1;
    l.x = c->args[0].id;
    l.dtype = p->g->nodes[l.x]->dtype;
    return layers[li].fn(&l);
  }
  return -2;
}

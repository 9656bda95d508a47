/* onnx_ops_rnn.c — RNN, GRU and LSTM, unrolled over the static sequence length.
 *
 * Per direction, the input projection X W^T + Wb of every time step is one matmul up
 * front; each step then adds H R^T, applies the cell's gates with elementwise ops and
 * carries H (and C).  sequence_lens becomes a mask per step: past a batch entry's
 * length its state is carried unchanged and its output is zero, which also makes the
 * reverse direction start at each entry's own last element. */
#include <ctype.h>
#include <string.h>

#include "onnx_fe.h"


/* ---- activations ---- */

typedef int (*ActFn)(OnnxCtx *c, int x, double alpha, double beta);

static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int sel(OnnxCtx *c, int m, int a, int b) { return m < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, m, a, b); }

static int act_sigmoid(OnnxCtx *c, int x, double a, double b) {
  (void)a, (void)b;
  return un(c, OP_RECIP, bin(c, OP_ADD, k(c, x, 1), un(c, OP_EXP, un(c, OP_NEG, x))));
}
static int act_tanh(OnnxCtx *c, int x, double a, double b) { (void)a, (void)b; return un(c, OP_TANH, x); }
static int act_relu(OnnxCtx *c, int x, double a, double b) { (void)a, (void)b; return bin(c, OP_MAX, x, k(c, x, 0)); }
static int act_affine(OnnxCtx *c, int x, double a, double b) {
  return bin(c, OP_ADD, bin(c, OP_MUL, x, k(c, x, a)), k(c, x, b));
}
static int act_leaky(OnnxCtx *c, int x, double a, double b) {
  (void)b;
  return sel(c, bin(c, OP_LT, x, k(c, x, 0)), bin(c, OP_MUL, x, k(c, x, a)), x);
}
static int act_thresholded(OnnxCtx *c, int x, double a, double b) {
  (void)b;
  return sel(c, bin(c, OP_GT, x, k(c, x, a)), x, k(c, x, 0));
}
static int act_scaled_tanh(OnnxCtx *c, int x, double a, double b) {
  return bin(c, OP_MUL, k(c, x, a), un(c, OP_TANH, bin(c, OP_MUL, x, k(c, x, b))));
}
static int act_hard_sigmoid(OnnxCtx *c, int x, double a, double b) {
  int y = bin(c, OP_ADD, bin(c, OP_MUL, x, k(c, x, a)), k(c, x, b));
  return bin(c, OP_MAX, bin(c, OP_MIN, y, k(c, x, 1)), k(c, x, 0));
}
static int act_elu(OnnxCtx *c, int x, double a, double b) {
  (void)b;
  int e = bin(c, OP_MUL, k(c, x, a), bin(c, OP_SUB, un(c, OP_EXP, x), k(c, x, 1)));
  return sel(c, bin(c, OP_LT, x, k(c, x, 0)), e, x);
}
static int act_softsign(OnnxCtx *c, int x, double a, double b) {
  (void)a, (void)b;
  return bin(c, OP_DIV, x, bin(c, OP_ADD, k(c, x, 1), un(c, OP_ABS, x)));
}
/* log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), which cannot overflow. */
static int act_softplus(OnnxCtx *c, int x, double a, double b) {
  (void)a, (void)b;
  int t = un(c, OP_LOG, bin(c, OP_ADD, k(c, x, 1), un(c, OP_EXP, un(c, OP_NEG, un(c, OP_ABS, x)))));
  return bin(c, OP_ADD, bin(c, OP_MAX, x, k(c, x, 0)), t);
}

/* The activation functions the recurrent operators accept.  Those with parameters take
 * the next value of activation_alpha / activation_beta, else their operator's default. */
typedef struct ActInfo {
  const char *name;
  ActFn fn;
  bool alpha, beta;
  double da, db;
} ActInfo;

static const ActInfo acts[] = {
    {"Sigmoid", act_sigmoid, 0, 0, 0, 0},           {"Tanh", act_tanh, 0, 0, 0, 0},
    {"Relu", act_relu, 0, 0, 0, 0},                 {"Affine", act_affine, 1, 1, 1, 0},
    {"LeakyRelu", act_leaky, 1, 0, 0.01, 0},        {"ThresholdedRelu", act_thresholded, 1, 0, 1, 0},
    {"ScaledTanh", act_scaled_tanh, 1, 1, 1, 1},    {"HardSigmoid", act_hard_sigmoid, 1, 1, 0.2, 0.5},
    {"Elu", act_elu, 1, 0, 1, 0},                   {"Softsign", act_softsign, 0, 0, 0, 0},
    {"Softplus", act_softplus, 0, 0, 0, 0},
};

typedef struct Act {
  const ActInfo *info;
  double alpha, beta;
} Act;

/* Names compare without case: exporters write both "Tanh" and "tanh". */
static bool same_name(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
  return *a == *b;
}

static const ActInfo *act_find(const char *name) {
  for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
    if (same_name(acts[i].name, name)) return &acts[i];
  return NULL;
}

/* ---- the operator's description ---- */

typedef enum { CELL_RNN, CELL_GRU, CELL_LSTM } CellKind;

#define RNN_MAX_ACTS 3

typedef struct Rnn {
  CellKind kind;
  int gates, nacts;           /* 1, 3, 4 gates; 1, 2, 3 activations per direction */
  int64_t T, B, I, H;         /* sequence, batch, input and hidden sizes */
  int dirs;
  bool reverse, layout1, linear_before_reset, input_forget;
  double clip;                /* 0: none */
  Act act[2][RNN_MAX_ACTS];   /* per direction: f, g, h */
  int x;                      /* X as [T, B, I] */
  int lens;                   /* sequence_lens [B], or -1 when every entry runs the whole sequence */
} Rnn;

static const char *const default_acts[3][RNN_MAX_ACTS] = {
    {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};

static int read_acts(OnnxCtx *c, OnnxNode *n, Rnn *r) {
  const Onnx__AttributeProto *names = onnx_attr(n, "activations");
  double al[2 * RNN_MAX_ACTS], be[2 * RNN_MAX_ACTS];
  int nal = onnx_attr_floats(n, "activation_alpha", al, 2 * RNN_MAX_ACTS);
  int nbe = onnx_attr_floats(n, "activation_beta", be, 2 * RNN_MAX_ACTS);
  int want = r->nacts * r->dirs, ia = 0, ib = 0;
  if (names && (int)names->n_strings != want)
    return onnx_fail(c, n, "activations has %d names, expected %d", (int)names->n_strings, want);
  for (int i = 0; i < want; i++) {
    char buf[64] = {0};
    const char *s = default_acts[r->kind][i % r->nacts];
    if (names) {
      size_t len = names->strings[i].len < sizeof buf - 1 ? names->strings[i].len : sizeof buf - 1;
      memcpy(buf, names->strings[i].data, len);
      s = buf;
    }
    Act *a = &r->act[i / r->nacts][i % r->nacts];
    if (!(a->info = act_find(s))) return onnx_fail(c, n, "activation '%s' is not supported", s);
    a->alpha = a->info->alpha && ia < nal ? al[ia++] : a->info->da;
    a->beta = a->info->beta && ib < nbe ? be[ib++] : a->info->db;
  }
  return 0;
}

static bool has_input(const OnnxNode *n, int i) { return i < n->nin && n->in[i] >= 0; }
static bool wants_output(const OnnxNode *n, int i) {
  return i < n->nout && n->p->output[i] && n->p->output[i][0];
}

/* sequence_lens: dropped when a constant that runs every entry to the end. */
static int read_lens(OnnxCtx *c, OnnxNode *n, Rnn *r) {
  r->lens = -1;
  if (!has_input(n, 4)) return 0;
  int id = n->in[4];
  const Shape *s = shape_of(c, id);
  if (s->rank != 1 || s->d[0] != r->B) return onnx_fail(c, n, "sequence_lens needs shape [%lld]", (long long)r->B);
  if (!dtype_is_int(c->g->nodes[id]->dtype)) return onnx_fail(c, n, "sequence_lens must be integers");
  int64_t v[1024];
  int cnt = r->B <= 1024 ? onnx_const_ints(c, id, v, 1024) : -1;
  bool full = cnt >= 0;
  for (int i = 0; i < cnt; i++) {
    if (v[i] < 0 || v[i] > r->T) return onnx_fail(c, n, "sequence_lens[%d] = %lld is outside [0, %lld]", i, (long long)v[i], (long long)r->T);
    full = full && v[i] == r->T;
  }
  if (!full) r->lens = id;
  return 0;
}

static int read_rnn(OnnxCtx *c, OnnxNode *n, CellKind kind, Rnn *r) {
  static const int gates[3] = {1, 3, 4};
  memset(r, 0, sizeof *r);
  r->kind = kind, r->gates = gates[kind], r->nacts = (int)kind + 1;
  for (int i = 0; i < 3; i++)
    if (!has_input(n, i)) return onnx_fail(c, n, "needs inputs X, W and R");
  const Shape *x = shape_of(c, n->in[0]), *w = shape_of(c, n->in[1]), *rr = shape_of(c, n->in[2]);
  if (!dtype_is_float(c->g->nodes[n->in[0]]->dtype)) return onnx_fail(c, n, "X must be floating point");
  r->layout1 = onnx_attr_int(n, "layout", 0) != 0;
  if (x->rank != 3 || w->rank != 3 || rr->rank != 3) return onnx_fail(c, n, "X, W and R must have rank 3");
  r->T = x->d[r->layout1], r->B = x->d[!r->layout1], r->I = x->d[2], r->H = rr->d[2], r->dirs = (int)w->d[0];
  int64_t hs = onnx_attr_int(n, "hidden_size", r->H);
  if (hs != r->H || w->d[1] != r->gates * r->H || w->d[2] != r->I || rr->d[0] != w->d[0] || rr->d[1] != w->d[1])
    return onnx_fail(c, n, "W and R need shapes [dirs, %d*%lld, %lld] and [dirs, %d*%lld, %lld]", r->gates, (long long)hs, (long long)r->I, r->gates, (long long)hs, (long long)hs);
  const char *dir = onnx_attr_str(c, n, "direction", "forward");
  r->reverse = !strcmp(dir, "reverse");
  int want = !strcmp(dir, "bidirectional") ? 2 : 1;
  if (want == 1 && !r->reverse && strcmp(dir, "forward")) return onnx_fail(c, n, "direction '%s' is not supported", dir);
  if (r->dirs != want) return onnx_fail(c, n, "direction '%s' needs %d direction(s) in W, it has %d", dir, want, r->dirs);
  if ((double)r->T * r->dirs * 5 > (double)ir_limits.nodes) /* 5: the fewest nodes a step adds */
    return onnx_fail(c, n, "%lld steps would unroll into more than %lld nodes (--max-nodes)", (long long)r->T,
                     (long long)ir_limits.nodes);
  r->clip = onnx_attr_float(n, "clip", 0);
  if (r->clip < 0) return onnx_fail(c, n, "clip must be positive");
  r->linear_before_reset = onnx_attr_int(n, "linear_before_reset", 0) != 0;
  r->input_forget = onnx_attr_int(n, "input_forget", 0) != 0;
  if (read_acts(c, n, r) || read_lens(c, n, r)) return -1;
  r->x = n->in[0];
  if (r->layout1) {
    int64_t p[3] = {1, 0, 2};
    ONNX_TRY(c, n, r->x = ir_transpose(c->g, r->x, p));
  }
  return 0;
}

/* ---- small builders ---- */

/* x[d] of a [D, ...] operand, without its first dim; layout 1 states are [B, D, H]. */
static int pick(OnnxCtx *c, int x, int d, int axis) {
  const Shape *s = shape_of(c, x);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK], out[IR_MAX_RANK];
  int r = s->rank, k2 = 0;
  for (int i = 0; i < r; i++) {
    st[i] = i == axis ? d : 0, en[i] = i == axis ? d + 1 : s->d[i], sp[i] = 1;
    if (i != axis) out[k2++] = s->d[i];
  }
  Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
  int y = ir_add(c->g, OP_SLICE, &x, 1, a, 3);
  return y < 0 ? -1 : ir_reshape(c->g, y, out, r - 1);
}

/* Columns [k*w, (k+1)*w) of a matrix (or of a vector). */
static int cols(OnnxCtx *c, int x, int64_t kk, int64_t w) {
  const Shape *s = shape_of(c, x);
  int r = s->rank;
  int64_t st[2] = {0, kk * w}, en[2] = {s->d[0], (kk + 1) * w}, sp[2] = {1, 1};
  Attr a[3] = {attr_ints(A_STARTS, st + 2 - r, r), attr_ints(A_ENDS, en + 2 - r, r), attr_ints(A_STEPS, sp, r)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

/* Rows [k*h, (k+1)*h) of a matrix: one gate's block of W or R. */
static int rows(OnnxCtx *c, int x, int64_t kk, int64_t h) {
  const Shape *s = shape_of(c, x);
  int64_t st[2] = {kk * h, 0}, en[2] = {(kk + 1) * h, s->d[1]}, sp[2] = {1, 1};
  Attr a[3] = {attr_ints(A_STARTS, st, 2), attr_ints(A_ENDS, en, 2), attr_ints(A_STEPS, sp, 2)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

static int zeros(OnnxCtx *c, int like, int64_t rows, int64_t w) {
  int64_t d[2] = {rows, w};
  Attr a = attr_ints(A_SHAPE, d, 2);
  int z = k(c, like, 0);
  return z < 0 ? -1 : ir_add(c->g, OP_BROADCAST, &z, 1, &a, 1);
}

/* The activation `which` of direction d on x, clipped to [-clip, clip] first. */
static int act(OnnxCtx *c, const Rnn *r, int d, int which, int x) {
  if (r->clip > 0) x = bin(c, OP_MAX, bin(c, OP_MIN, x, k(c, x, r->clip)), k(c, x, -r->clip));
  const Act *a = &r->act[d][which];
  return x < 0 ? -1 : a->info->fn(c, x, a->alpha, a->beta);
}

/* ---- one direction ---- */

typedef struct Dir {
  int d;
  int w, rw;      /* [G*H, I], [G*H, H] */
  int bias;       /* [G*H] added to the input projection, or -1 */
  int rbh;        /* GRU: Rb of the hidden gate [H], or -1 */
  int p;          /* LSTM: peepholes [3*H] (i, o, f), or -1 */
  int h, cst;     /* the carried state [B, H] */
  int *ys;        /* [T] outputs [B, H] */
} Dir;

/* B [2*G*H] = Wb, Rb: all of it goes into the input projection, except GRU's hidden
 * gate Rb, which the reset gate multiplies. */
static int dir_bias(OnnxCtx *c, OnnxNode *n, const Rnn *r, Dir *dr) {
  dr->bias = dr->rbh = -1;
  if (!has_input(n, 3)) return 0;
  int64_t gh = r->gates * r->H;
  const Shape *s = shape_of(c, n->in[3]);
  if (s->rank != 2 || s->d[0] != r->dirs || s->d[1] != 2 * gh)
    return onnx_fail(c, n, "B needs shape [%d, %lld]", r->dirs, (long long)(2 * gh));
  int b, wb, rb;
  ONNX_TRY(c, n, b = pick(c, n->in[3], dr->d, 0));
  ONNX_TRY(c, n, wb = cols(c, b, 0, gh));
  ONNX_TRY(c, n, rb = cols(c, b, 1, gh));
  if (r->kind == CELL_GRU) {
    ONNX_TRY(c, n, dr->rbh = cols(c, rb, 2, r->H));
    ONNX_TRY(c, n, rb = cols(c, rb, 0, 2 * r->H));
    int z;
    ONNX_TRY(c, n, z = zeros(c, rb, 1, r->H));
    int64_t one[1] = {r->H};
    ONNX_TRY(c, n, z = ir_reshape(c->g, z, one, 1));
    int parts[2] = {rb, z};
    Attr ax = attr_int(A_AXIS, 0);
    ONNX_TRY(c, n, rb = ir_add(c->g, OP_CONCAT, parts, 2, &ax, 1));
  }
  ONNX_TRY(c, n, dr->bias = ir_binary(c->g, OP_ADD, wb, rb));
  return 0;
}

/* Initial state input i ([D, B, H], layout 1 [B, D, H]) for direction d, or zeros. */
static int dir_state(OnnxCtx *c, OnnxNode *n, const Rnn *r, int i, int d) {
  if (!has_input(n, i)) return zeros(c, r->x, r->B, r->H);
  const Shape *s = shape_of(c, n->in[i]);
  int64_t want[3] = {r->dirs, r->B, r->H};
  if (r->layout1) want[0] = r->B, want[1] = r->dirs;
  if (s->rank != 3 || s->d[0] != want[0] || s->d[1] != want[1] || s->d[2] != want[2])
    return onnx_fail(c, n, "input %d (initial state) needs shape [%lld, %lld, %lld]", i + 1, (long long)want[0],
                     (long long)want[1], (long long)want[2]);
  int y = pick(c, n->in[i], d, r->layout1);
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

static int dir_init(OnnxCtx *c, OnnxNode *n, const Rnn *r, Dir *dr) {
  ONNX_TRY(c, n, dr->w = pick(c, n->in[1], dr->d, 0));
  ONNX_TRY(c, n, dr->rw = pick(c, n->in[2], dr->d, 0));
  if (dir_bias(c, n, r, dr)) return -1;
  dr->p = -1;
  if (r->kind == CELL_LSTM && has_input(n, 7)) {
    const Shape *s = shape_of(c, n->in[7]);
    if (s->rank != 2 || s->d[0] != r->dirs || s->d[1] != 3 * r->H)
      return onnx_fail(c, n, "P needs shape [%d, %lld]", r->dirs, (long long)(3 * r->H));
    ONNX_TRY(c, n, dr->p = pick(c, n->in[7], dr->d, 0));
  }
  if ((dr->h = dir_state(c, n, r, 5, dr->d)) < 0) return -1;
  dr->cst = -1;
  if (r->kind == CELL_LSTM && (dr->cst = dir_state(c, n, r, 6, dr->d)) < 0) return -1;
  dr->ys = arena_alloc(c->g->arena, sizeof(int) * (size_t)(r->T ? r->T : 1));
  return 0;
}

/* X W^T + bias for every step: [T, B, G*H]. */
static int projection(OnnxCtx *c, const Rnn *r, const Dir *dr) {
  int64_t flat[2] = {r->T * r->B, r->I}, back[3] = {r->T, r->B, r->gates * r->H};
  int y = ir_reshape(c->g, r->x, flat, 2);
  if (y >= 0) y = ir_matmul(c->g, y, dr->w, false, true);
  if (y >= 0 && dr->bias >= 0) y = ir_binary(c->g, OP_ADD, y, dr->bias);
  return y < 0 ? -1 : ir_reshape(c->g, y, back, 3);
}

/* Step t of the projection: [B, G*H]. */
static int step_input(OnnxCtx *c, const Rnn *r, int xw, int64_t t) {
  int64_t st[3] = {t, 0, 0}, en[3] = {t + 1, r->B, r->gates * r->H}, sp[3] = {1, 1, 1}, d[2] = {r->B, r->gates * r->H};
  Attr a[3] = {attr_ints(A_STARTS, st, 3), attr_ints(A_ENDS, en, 3), attr_ints(A_STEPS, sp, 3)};
  int y = ir_add(c->g, OP_SLICE, &xw, 1, a, 3);
  return y < 0 ? -1 : ir_reshape(c->g, y, d, 2);
}

/* Ht = f(xt + H R^T) */
static int cell_rnn(OnnxCtx *c, const Rnn *r, Dir *dr, int xt, int *h) {
  int g = bin(c, OP_ADD, xt, ir_matmul(c->g, dr->h, dr->rw, false, true));
  return (*h = act(c, r, dr->d, 0, g)) < 0 ? -1 : 0;
}

/* z, r = f(xt + H R^T) (z, r parts); h~ = g(xt_h + (r H) Rh^T + Rbh), or with
 * linear_before_reset g(xt_h + r (H Rh^T + Rbh)); Ht = (1 - z) h~ + z H. */
static int cell_gru(OnnxCtx *c, const Rnn *r, Dir *dr, int xt, int *h) {
  int64_t H = r->H;
  int rzr = rows(c, dr->rw, 0, 2 * H), rh = rows(c, dr->rw, 2, H);
  int zr = bin(c, OP_ADD, cols(c, xt, 0, 2 * H), rzr < 0 ? -1 : ir_matmul(c->g, dr->h, rzr, false, true));
  int z = act(c, r, dr->d, 0, zr < 0 ? -1 : cols(c, zr, 0, H));
  int rg = act(c, r, dr->d, 0, zr < 0 ? -1 : cols(c, zr, 1, H));
  if (z < 0 || rg < 0 || rh < 0) return -1;
  int hr;
  if (r->linear_before_reset) {
    hr = ir_matmul(c->g, dr->h, rh, false, true);
    if (dr->rbh >= 0) hr = bin(c, OP_ADD, hr, dr->rbh);
    hr = bin(c, OP_MUL, rg, hr);
  } else {
    hr = ir_matmul(c->g, bin(c, OP_MUL, rg, dr->h), rh, false, true);
    if (dr->rbh >= 0) hr = bin(c, OP_ADD, hr, dr->rbh);
  }
  int ht = act(c, r, dr->d, 1, bin(c, OP_ADD, cols(c, xt, 2, H), hr));
  int keep = bin(c, OP_MUL, z, dr->h);
  *h = bin(c, OP_ADD, bin(c, OP_MUL, bin(c, OP_SUB, k(c, z, 1), z), ht), keep);
  return *h < 0 ? -1 : 0;
}

/* Gates i, o, f, c of xt + H R^T; peepholes P (i, o, f) on the cell state:
 * i = f(. + Pi C), f = f(. + Pf C) (1 - i with input_forget), C' = f C + i g(c),
 * o = f(. + Po C'), Ht = o h(C'). */
static int cell_lstm(OnnxCtx *c, const Rnn *r, Dir *dr, int xt, int *h, int *cst) {
  int64_t H = r->H;
  int g = bin(c, OP_ADD, xt, ir_matmul(c->g, dr->h, dr->rw, false, true));
  if (g < 0) return -1;
  int gi = cols(c, g, 0, H), go = cols(c, g, 1, H), gf = cols(c, g, 2, H), gc = cols(c, g, 3, H);
  if (dr->p >= 0) {
    gi = bin(c, OP_ADD, gi, bin(c, OP_MUL, cols(c, dr->p, 0, H), dr->cst));
    gf = bin(c, OP_ADD, gf, bin(c, OP_MUL, cols(c, dr->p, 2, H), dr->cst));
  }
  int i = act(c, r, dr->d, 0, gi);
  int f = r->input_forget ? bin(c, OP_SUB, k(c, gi, 1), i) : act(c, r, dr->d, 0, gf);
  int cc = act(c, r, dr->d, 1, gc);
  int cn = bin(c, OP_ADD, bin(c, OP_MUL, f, dr->cst), bin(c, OP_MUL, i, cc));
  if (cn < 0) return -1;
  if (dr->p >= 0) go = bin(c, OP_ADD, go, bin(c, OP_MUL, cols(c, dr->p, 1, H), cn));
  int o = act(c, r, dr->d, 0, go);
  *cst = cn;
  *h = bin(c, OP_MUL, o, act(c, r, dr->d, 2, cn));
  return *h < 0 ? -1 : 0;
}

/* Entries still inside their sequence at step t: [B, 1] bool. */
static int step_mask(OnnxCtx *c, const Rnn *r, int64_t t) {
  int64_t d[2] = {r->B, 1};
  int m = bin(c, OP_LT, ir_scalar(c->g, c->g->nodes[r->lens]->dtype, (double)t), r->lens);
  return m < 0 ? -1 : ir_reshape(c->g, m, d, 2);
}

static int run_dir(OnnxCtx *c, OnnxNode *n, const Rnn *r, Dir *dr) {
  int xw;
  ONNX_TRY(c, n, xw = projection(c, r, dr));
  bool back = r->reverse || dr->d == 1;
  for (int64_t s = 0; s < r->T; s++) {
    int64_t t = back ? r->T - 1 - s : s;
    int xt, h, cst = -1;
    ONNX_TRY(c, n, xt = step_input(c, r, xw, t));
    int rc = r->kind == CELL_RNN ? cell_rnn(c, r, dr, xt, &h)
           : r->kind == CELL_GRU ? cell_gru(c, r, dr, xt, &h)
                                 : cell_lstm(c, r, dr, xt, &h, &cst);
    if (rc < 0) return onnx_fail_ir(c, n);
    dr->ys[t] = h;
    if (r->lens >= 0) {
      int m, z;
      ONNX_TRY(c, n, m = step_mask(c, r, t));
      ONNX_TRY(c, n, z = zeros(c, h, r->B, r->H));
      ONNX_TRY(c, n, dr->ys[t] = ir_select(c->g, m, h, z));
      ONNX_TRY(c, n, h = ir_select(c->g, m, h, dr->h));
      if (cst >= 0) ONNX_TRY(c, n, cst = ir_select(c->g, m, cst, dr->cst));
    }
    dr->h = h, dr->cst = cst;
  }
  return 0;
}

/* ---- outputs ---- */

/* Values [B, H] stacked as [len, B, H] along a new first axis. */
static int stack(OnnxCtx *c, const Rnn *r, const int *v, int len) {
  int64_t d[3] = {1, r->B, r->H};
  int *parts = arena_alloc(c->g->arena, sizeof(int) * (size_t)len);
  for (int i = 0; i < len; i++)
    if ((parts[i] = ir_reshape(c->g, v[i], d, 3)) < 0) return -1;
  if (len == 1) return parts[0];
  Attr ax = attr_int(A_AXIS, 0);
  return ir_add(c->g, OP_CONCAT, parts, len, &ax, 1);
}

/* Y: [T, D, B, H] (layout 1: [B, T, D, H]). */
static int output_y(OnnxCtx *c, const Rnn *r, Dir *dirs) {
  int per[2];
  int64_t d[4] = {r->T, 1, r->B, r->H};
  for (int i = 0; i < r->dirs; i++) {
    int s = stack(c, r, dirs[i].ys, (int)r->T);
    if (s < 0 || (per[i] = ir_reshape(c->g, s, d, 4)) < 0) return -1;
  }
  Attr ax = attr_int(A_AXIS, 1);
  int y = r->dirs == 1 ? per[0] : ir_add(c->g, OP_CONCAT, per, 2, &ax, 1);
  int64_t p[4] = {2, 0, 1, 3};
  return y < 0 || !r->layout1 ? y : ir_transpose(c->g, y, p);
}

/* Y_h / Y_c: [D, B, H] (layout 1: [B, D, H]). */
static int output_state(OnnxCtx *c, const Rnn *r, Dir *dirs, bool cell) {
  int v[2];
  for (int i = 0; i < r->dirs; i++) v[i] = cell ? dirs[i].cst : dirs[i].h;
  int y = stack(c, r, v, r->dirs);
  int64_t p[3] = {1, 0, 2};
  return y < 0 || !r->layout1 ? y : ir_transpose(c->g, y, p);
}

static int recurrent(OnnxCtx *c, OnnxNode *n, CellKind kind) {
  Rnn r;
  if (read_rnn(c, n, kind, &r)) return -1;
  if (r.T < 1) return onnx_fail(c, n, "the sequence is empty");
  Dir dirs[2];
  for (int d = 0; d < r.dirs; d++) {
    memset(&dirs[d], 0, sizeof dirs[d]);
    dirs[d].d = d;
    if (dir_init(c, n, &r, &dirs[d]) || run_dir(c, n, &r, &dirs[d])) return -1;
  }
  if (wants_output(n, 0)) ONNX_TRY(c, n, n->out[0] = output_y(c, &r, dirs));
  if (wants_output(n, 1)) ONNX_TRY(c, n, n->out[1] = output_state(c, &r, dirs, false));
  if (kind == CELL_LSTM && wants_output(n, 2)) ONNX_TRY(c, n, n->out[2] = output_state(c, &r, dirs, true));
  return 0;
}

int onnx_RNN(OnnxCtx *c, OnnxNode *n) { return recurrent(c, n, CELL_RNN); }
int onnx_GRU(OnnxCtx *c, OnnxNode *n) { return recurrent(c, n, CELL_GRU); }
int onnx_LSTM(OnnxCtx *c, OnnxNode *n) { return recurrent(c, n, CELL_LSTM); }

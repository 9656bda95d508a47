/* txt_layers_rnn.c — the recurrent layers rnn, lstm and gru, unrolled over the static
 * sequence length.
 *
 * Input x [N, T, F] (batch, time, features); `units` H.  The weights have PyTorch's
 * layout and gate order, so PyTorch's (or an ONNX export's) weights can be copied in:
 *
 *   w_ih [G*H, F], w_hh [G*H, H], b_ih [G*H], b_hh [G*H]   (G = 1, 4, 3 gates)
 *   rnn:  h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
 *   lstm: gates i, f, g, o:  c = f*c + i*g,  h = o*tanh(c)  (i, f, o sigmoid; g tanh)
 *   gru:  gates r, z, n:     n = tanh(xn + r*(h W_hn^T + b_hn)),  h = n + z*(h - n)
 *
 * The input projection of all steps is one matmul up front; each step adds h W_hh^T
 * (skipped at the first step, whose state is zero) and applies its gates with
 * elementwise ops.  bidirectional=1 adds a second set of weights (suffix _reverse)
 * that reads the sequence from its end; the two directions' states are concatenated
 * along features, forward first. */
#include <math.h>

#include "txt.h"

/* ---- building that passes a failure (-1) on, reported once at the end ---- */

static int un(Graph *g, Op op, int a) { return a < 0 ? -1 : ir_unary(g, op, a); }
static int bin(Graph *g, Op op, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(g, op, a, b); }

static int sigmoid(Graph *g, int x) {
  int one = x < 0 ? -1 : ir_scalar(g, g->nodes[x]->dtype, 1);
  return un(g, OP_RECIP, bin(g, OP_ADD, one, un(g, OP_EXP, un(g, OP_NEG, x))));
}

/* x[..., from:to, ...] along axis. */
static int cut(Graph *g, int x, int axis, int64_t from, int64_t to) {
  if (x < 0) return -1;
  const Shape *s = &g->nodes[x]->shape;
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) st[i] = 0, en[i] = s->d[i], sp[i] = 1;
  st[axis] = from, en[axis] = to;
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank),
               attr_ints(A_STEPS, sp, s->rank)};
  return ir_add(g, OP_SLICE, &x, 1, a, 3);
}

/* ---- one direction ---- */

#define RNN_STEP_NODES 5 /* slice, reshape, matmul, add, and the cell's own */

typedef struct Rnn Rnn;
typedef int (*StepFn)(Rnn *r, int xt, int hh, int *h, int *c);

struct Rnn {
  Graph *g;
  int64_t n, t, f, h; /* batch, steps, features, units */
  int gates;
  StepFn step;
  int w_ih, w_hh, b_ih, b_hh; /* this direction's weights */
};

/* Gate k of [..., G*H] (the last axis; b_hh alone is [G*H]). */
static int gate(Rnn *r, int s, int k) {
  return s < 0 ? -1 : cut(r->g, s, r->g->nodes[s]->shape.rank - 1, k * r->h, (k + 1) * r->h);
}

/* h = tanh(x_t + hh) */
static int step_rnn(Rnn *r, int xt, int hh, int *h, int *c) {
  (void)c;
  *h = un(r->g, OP_TANH, bin(r->g, OP_ADD, xt, hh));
  return *h;
}

/* c = f*c + i*g; h = o*tanh(c); no c yet means c = 0. */
static int step_lstm(Rnn *r, int xt, int hh, int *h, int *c) {
  Graph *g = r->g;
  int s = bin(g, OP_ADD, xt, hh);
  int i = sigmoid(g, gate(r, s, 0)), f = sigmoid(g, gate(r, s, 1));
  int gg = un(g, OP_TANH, gate(r, s, 2)), o = sigmoid(g, gate(r, s, 3));
  int ig = bin(g, OP_MUL, i, gg);
  *c = *c < 0 ? ig : bin(g, OP_ADD, bin(g, OP_MUL, f, *c), ig);
  *h = bin(g, OP_MUL, o, un(g, OP_TANH, *c));
  return *h;
}

/* r, z from x_t + hh; n = tanh(xn + r*hn); h = n + z*(h - n); no h yet means h = 0. */
static int step_gru(Rnn *r, int xt, int hh, int *h, int *c) {
  Graph *g = r->g;
  (void)c;
  int rr = sigmoid(g, bin(g, OP_ADD, gate(r, xt, 0), gate(r, hh, 0)));
  int z = sigmoid(g, bin(g, OP_ADD, gate(r, xt, 1), gate(r, hh, 1)));
  int nn = un(g, OP_TANH, bin(g, OP_ADD, gate(r, xt, 2), bin(g, OP_MUL, rr, gate(r, hh, 2))));
  int back = *h < 0 ? un(g, OP_NEG, nn) : bin(g, OP_SUB, *h, nn);
  *h = bin(g, OP_ADD, nn, bin(g, OP_MUL, z, back));
  return *h;
}

/* h W_hh^T + b_hh, or b_hh alone while h is still zero. */
static int recurrent(Rnn *r, int h) {
  if (h < 0) return r->b_hh;
  return bin(r->g, OP_ADD, ir_matmul(r->g, h, r->w_hh, false, true), r->b_hh);
}

/* Runs one direction over x; outs[t] gets the state after step t (read in the
 * direction's order); returns the last state.  -1 on failure. */
static int direction(Rnn *r, int x, bool reverse, int *outs) {
  Graph *g = r->g;
  int64_t gh = r->gates * r->h;
  int xp = bin(g, OP_ADD, x < 0 ? -1 : ir_matmul(g, x, r->w_ih, false, true), r->b_ih); /* [N, T, G*H] */
  int h = -1, c = -1;
  for (int64_t k = 0; k < r->t; k++) {
    int64_t t = reverse ? r->t - 1 - k : k;
    int xt = cut(g, xp, 1, t, t + 1);
    xt = xt < 0 ? -1 : ir_reshape(g, xt, (int64_t[]){r->n, gh}, 2);
    if (r->step(r, xt, recurrent(r, h), &h, &c) < 0) return -1;
    if (outs) outs[t] = h;
  }
  return h;
}

/* ---- the layer ---- */

/* Weights and biases for one direction ("" or "_reverse"): PyTorch's default uniform
 * in +-1/sqrt(units), or init=xavier (biases zero), zeros, ones. */
static int weights(Layer *l, Rnn *r, const char *suffix, InitKind k) {
  double b = 1 / sqrt((double)r->h);
  Init w = {.kind = k}, bias = {.kind = k == INIT_XAVIER ? INIT_ZEROS : k};
  if (k == INIT_UNIFORM) w.a = bias.a = -b, w.b = bias.b = b;
  int64_t gh = r->gates * r->h;
  char name[4][32];
  const char *base[4] = {"w_ih", "w_hh", "b_ih", "b_hh"};
  for (int i = 0; i < 4; i++) snprintf(name[i], sizeof name[i], "%s%s", base[i], suffix);
  r->w_ih = txt_layer_param(l, name[0], w, shape_make(2, (int64_t[]){gh, r->f}));
  r->w_hh = r->w_ih < 0 ? -1 : txt_layer_param(l, name[1], w, shape_make(2, (int64_t[]){gh, r->h}));
  r->b_ih = r->w_hh < 0 ? -1 : txt_layer_param(l, name[2], bias, shape_make(1, &gh));
  r->b_hh = r->b_ih < 0 ? -1 : txt_layer_param(l, name[3], bias, shape_make(1, &gh));
  return r->b_hh < 0 ? -1 : 0;
}

static int init_arg(Layer *l, InitKind *k) {
  Tok *t = txt_arg_word(l, "init");
  *k = INIT_UNIFORM;
  if (txt_kw(l, "init") < 0) return 0;
  int i = t ? init_parse(t->s, (size_t)t->len) : -1;
  if (i != INIT_UNIFORM && i != INIT_XAVIER && i != INIT_ZEROS && i != INIT_ONES)
    return txt_err(l->p, &l->p->t[l->c->kw[txt_kw(l, "init")].val],
                   "init wants uniform, xavier, zeros or ones");
  *k = (InitKind)i;
  return 0;
}

static int setup(Layer *l, Rnn *r, int64_t *seq, int64_t *bidi, InitKind *k) {
  const Shape *s = &l->p->g->nodes[l->x]->shape;
  if (txt_arg_int(l, 1, "units", 0, false, &r->h) ||
      txt_arg_int(l, -1, "return_sequences", 0, true, seq) ||
      txt_arg_int(l, -1, "bidirectional", 0, true, bidi) || init_arg(l, k))
    return -1;
  if (r->h < 1) return txt_err(l->p, l->c->fn, "%.*s: units must be 1 or more", l->c->fn->len, l->c->fn->s);
  if (s->rank != 3 || !dtype_is_float(l->dtype)) {
    char buf[128];
    shape_str(s, buf, sizeof buf);
    return txt_err(l->p, l->c->fn, "%.*s wants a float input of shape [batch, steps, features], "
                   "found %s%s", l->c->fn->len, l->c->fn->s, dtype_name(l->dtype), buf);
  }
  r->g = l->p->g, r->n = s->d[0], r->t = s->d[1], r->f = s->d[2];
  return 0;
}

/* [N, H] each step -> [N, T, H] */
static int stack(Rnn *r, const int *outs) {
  Graph *g = r->g;
  int *col = arena_alloc(g->arena, sizeof(int) * (size_t)r->t);
  for (int64_t t = 0; t < r->t; t++) {
    col[t] = ir_reshape(g, outs[t], (int64_t[]){r->n, 1, r->h}, 3);
    if (col[t] < 0) return -1;
  }
  Attr a = attr_int(A_AXIS, 1);
  return ir_add(g, OP_CONCAT, col, (int)r->t, &a, 1);
}

/* One or two directions; the result is their states (return_sequences) or last states,
 * forward first. */
static int recurrent_layer(Layer *l, int gates, StepFn step) {
  Rnn r = {.gates = gates, .step = step}, rev;
  int64_t seq, bidi;
  InitKind k;
  if (setup(l, &r, &seq, &bidi, &k)) return -1;
  /* Each step adds at least RNN_STEP_NODES nodes: refuse before unrolling any. */
  if ((double)r.t * (bidi ? 2 : 1) * RNN_STEP_NODES > (double)ir_limits.nodes)
    return txt_err(l->p, l->c->fn, "%.*s over %lld steps would unroll into more than %lld nodes (--max-nodes)",
                   l->c->fn->len, l->c->fn->s, (long long)r.t, (long long)ir_limits.nodes);
  if (weights(l, &r, "", k)) return -1;
  rev = r;
  if (bidi && weights(l, &rev, "_reverse", k)) return -1;
  int *outs = seq ? arena_alloc(r.g->arena, sizeof(int) * 2 * (size_t)r.t) : NULL;
  int y[2];
  y[0] = direction(&r, l->x, false, outs);
  if (seq) y[0] = y[0] < 0 ? -1 : stack(&r, outs);
  if (!bidi) return y[0] < 0 ? txt_layer_fail(l) : y[0];
  y[1] = y[0] < 0 ? -1 : direction(&rev, l->x, true, outs ? outs + r.t : NULL);
  if (seq) y[1] = y[1] < 0 ? -1 : stack(&rev, outs + r.t);
  Attr a = attr_int(A_AXIS, seq ? 2 : 1);
  int out = y[1] < 0 ? -1 : ir_add(r.g, OP_CONCAT, y, 2, &a, 1);
  return out < 0 ? txt_layer_fail(l) : out;
}

int txt_layer_rnn(Layer *l) { return recurrent_layer(l, 1, step_rnn); }
int txt_layer_lstm(Layer *l) { return recurrent_layer(l, 4, step_lstm); }
int txt_layer_gru(Layer *l) { return recurrent_layer(l, 3, step_gru); }

/* train_optim.c — optimizers as graph updates: the nodes that compute new values of the
 * parameters and of the optimizer's state from the gradients autodiff appended.
 *
 * Needs: a parameter p (PARAM, float) and its gradient gp of the same shape.  Gives: the
 * new values, with PyTorch's formulas (docs/TRAINING.md), t counting the steps done:
 *
 *   lr_t   constant lr; step: lr * gamma^floor(t / every);
 *          cosine: lr_min + (lr - lr_min) * (1 + cos(pi * min(t, T) / T)) / 2
 *   SGD    g = gp + wd*p;  b' = mu*b + g;  d = nesterov ? g + mu*b' : b' (mu = 0: d = g);
 *          p' = p - lr_t*d
 *   Adam   g = gp + wd*p (AdamW: g = gp);  m' = b1*m + (1-b1)*g;  v' = b2*v + (1-b2)*g*g;
 *          p' = p0 - (lr_t / (1 - b1^(t+1))) * m' / (sqrt(v') / sqrt(1 - b2^(t+1)) + eps)
 *          where p0 = p, or p*(1 - lr_t*wd) for AdamW (decoupled decay)
 *
 * State (b, m, v: zeros of p's shape; the counter t, f64[]) is made of PARAMs that no
 * step trains, named "<step>.m.<param>", "<step>.v.<param>", "<step>.b.<param>" and
 * "<step>.t", so NAME_save keeps it with the weights. */
#include <stdio.h>

#include "train.h"

/* The step's scalars (counter, learning rate, bias corrections) are f64, so that
 * 1 - beta2^t keeps its digits; each is cast to the parameter's dtype where used. */
static int scalar(Graph *g, double v) { return ir_scalar(g, DT_F64, v); }

/* A rank-0 f64 value as dtype t (the parameter's). */
static int as(Graph *g, int x, DType t) {
  return x < 0 || g->nodes[x]->dtype == t ? x : ir_cast(g, x, t);
}

static int state(Graph *g, const char *step, const char *what, const Node *p) {
  char name[512];
  if (p) snprintf(name, sizeof name, "%s.%s.%s", step, what, p->name ? p->name : "?");
  else snprintf(name, sizeof name, "%s.%s", step, what);
  if (ir_find(g, name) >= 0) return dlc_errf(&g->err, "optimizer state '%s' is already a name", name);
  Init zero = {.kind = INIT_ZEROS};
  return ir_param(g, name, p ? p->dtype : DT_F64, p ? p->shape : shape_make(0, NULL), zero);
}

static int schedule(Graph *g, const Optim *o, int t) {
  int lr = scalar(g, o->lr);
  if (o->sched == LR_STEP) {
    int k = grad_un(g, OP_FLOOR, grad_bin(g, OP_DIV, t, scalar(g, (double)o->sched_steps)));
    return grad_bin(g, OP_MUL, lr, grad_bin(g, OP_POW, scalar(g, o->gamma), k));
  }
  if (o->sched == LR_COSINE) {
    double T = (double)o->sched_steps;
    int frac = grad_bin(g, OP_DIV, grad_bin(g, OP_MIN, t, scalar(g, T)), scalar(g, T));
    int c = grad_un(g, OP_COS, grad_bin(g, OP_MUL, frac, scalar(g, 3.14159265358979323846)));
    int half = grad_bin(g, OP_MUL, grad_bin(g, OP_ADD, c, scalar(g, 1)), scalar(g, 0.5 * (o->lr - o->lr_min)));
    return grad_bin(g, OP_ADD, half, scalar(g, o->lr_min));
  }
  return lr;
}

int train_opt_begin(Graph *g, OptStep *s) {
  s->t = state(g, s->step, "t", NULL);
  s->t1 = grad_bin(g, OP_ADD, s->t, scalar(g, 1));
  s->lr = s->t1 < 0 ? -1 : schedule(g, s->o, s->t);
  return s->lr < 0 ? -1 : 0;
}

/* a*x + b*y, a and b rank-0 constants. */
static int axpby(Graph *g, double a, int x, double b, int y) {
  DType t = x < 0 ? DT_F32 : g->nodes[x]->dtype;
  return grad_bin(g, OP_ADD, grad_bin(g, OP_MUL, x, ir_scalar(g, t, a)),
                  grad_bin(g, OP_MUL, y, ir_scalar(g, t, b)));
}

static int sgd(Graph *g, const OptStep *s, int p, int gr, int *tg, int *val) {
  const Optim *o = s->o;
  const Node *pn = g->nodes[p];
  int n = 0, d = gr;
  if (o->momentum != 0) {
    int b = state(g, s->step, "b", pn);
    int b1 = axpby(g, o->momentum, b, 1, gr);
    if (b < 0 || b1 < 0) return -1;
    tg[n] = b, val[n++] = b1;
    d = o->nesterov ? axpby(g, 1, gr, o->momentum, b1) : b1;
  }
  int p1 = grad_bin(g, OP_SUB, p, grad_bin(g, OP_MUL, d, as(g, s->lr, pn->dtype)));
  if (p1 < 0) return -1;
  tg[n] = p, val[n++] = p1;
  return n;
}

/* lr_t / (1 - b1^(t+1)) and 1 / sqrt(1 - b2^(t+1)): Adam's bias corrections. */
static void corrections(Graph *g, const OptStep *s, int *step, int *inv_sqrt_bc2) {
  int bc1 = grad_bin(g, OP_SUB, scalar(g, 1), grad_bin(g, OP_POW, scalar(g, s->o->beta1), s->t1));
  int bc2 = grad_bin(g, OP_SUB, scalar(g, 1), grad_bin(g, OP_POW, scalar(g, s->o->beta2), s->t1));
  *step = grad_bin(g, OP_DIV, s->lr, bc1);
  *inv_sqrt_bc2 = grad_un(g, OP_RSQRT, bc2);
}

static int adam(Graph *g, const OptStep *s, int p, int gr, int *tg, int *val) {
  const Optim *o = s->o;
  const Node *pn = g->nodes[p];
  DType t = pn->dtype;
  int m = state(g, s->step, "m", pn), v = m < 0 ? -1 : state(g, s->step, "v", pn);
  if (v < 0) return -1;
  int m1 = axpby(g, o->beta1, m, 1 - o->beta1, gr);
  int v1 = axpby(g, o->beta2, v, 1 - o->beta2, grad_bin(g, OP_MUL, gr, gr));
  int step, isb;
  corrections(g, s, &step, &isb);
  int denom = grad_bin(g, OP_ADD, grad_bin(g, OP_MUL, grad_un(g, OP_SQRT, v1), as(g, isb, t)),
                       ir_scalar(g, t, o->eps));
  int p0 = p;
  if (o->kind == OPT_ADAMW && o->weight_decay != 0) {
    int keep = grad_bin(g, OP_SUB, scalar(g, 1), grad_bin(g, OP_MUL, s->lr, scalar(g, o->weight_decay)));
    p0 = grad_bin(g, OP_MUL, p, as(g, keep, t));
  }
  int p1 = grad_bin(g, OP_SUB, p0, grad_bin(g, OP_MUL, grad_bin(g, OP_DIV, m1, denom), as(g, step, t)));
  if (m1 < 0 || v1 < 0 || p1 < 0) return -1;
  tg[0] = m, val[0] = m1, tg[1] = v, val[1] = v1, tg[2] = p, val[2] = p1;
  return 3;
}

int train_opt_update(Graph *g, const OptStep *s, int p, int gp, int *targets, int *values) {
  const Node *pn = g->nodes[p];
  int gr = gp;
  if (s->o->weight_decay != 0 && s->o->kind != OPT_ADAMW)
    gr = grad_bin(g, OP_ADD, gp, grad_bin(g, OP_MUL, p, ir_scalar(g, pn->dtype, s->o->weight_decay)));
  if (gr < 0) return -1;
  return s->o->kind == OPT_SGD ? sgd(g, s, p, gr, targets, values) : adam(g, s, p, gr, targets, values);
}

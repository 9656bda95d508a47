/* grad_elem.c — the gradient rules of the elementwise ops: unary, binary, select, cast.
 *
 * Each partial derivative is built at the result's shape and summed back over the
 * axes its operand was broadcast along (grad_unbroadcast).  Derivatives use the
 * result y where that is cheaper than recomputing (exp, tanh, sqrt, recip).  At a
 * kink the one-sided rule of the forward op's choice holds: abs' (0) = 0, and max and
 * min send the gradient to the operand they selected, ties to the first. */
#include "grad.h"

#define X(n) ((n)->in[0])
#define A(n) ((n)->in[0])
#define B(n) ((n)->in[1])
#define Y(n) ((n)->id)

static int k(Graph *g, const Node *n, double v) { return grad_const(g, n->dtype, v); }

/* gin[i] = v summed back to operand i's shape, if operand i wants a gradient. */
static int put(Graph *g, const Node *n, int *gin, int i, int v) {
  if (!grad_wants(gin, i)) return 0;
  gin[i] = grad_unbroadcast(g, v, &g->nodes[n->in[i]]->shape);
  return gin[i] < 0 ? -1 : 0;
}

/* A unary op with derivative node d: x gets gy * d. */
static int chain(Graph *g, const Node *n, int gy, int *gin, int d) {
  return put(g, n, gin, 0, grad_bin(g, OP_MUL, gy, d));
}

/* x * x + c, a piece of the inverse trigonometric derivatives */
static int sq_plus(Graph *g, const Node *n, double c) {
  return grad_bin(g, OP_ADD, grad_bin(g, OP_MUL, X(n), X(n)), k(g, n, c));
}

/* c - x * x */
static int minus_sq(Graph *g, const Node *n, double c) {
  return grad_bin(g, OP_SUB, k(g, n, c), grad_bin(g, OP_MUL, X(n), X(n)));
}

/* ---- unary ---- */

int g_neg(Graph *g, const Node *n, int gy, int *gin) {
  return put(g, n, gin, 0, grad_un(g, OP_NEG, gy));
}
int g_abs(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_SIGN, X(n)));
}
int g_exp(Graph *g, const Node *n, int gy, int *gin) { return chain(g, n, gy, gin, Y(n)); }
int g_log(Graph *g, const Node *n, int gy, int *gin) {
  return put(g, n, gin, 0, grad_bin(g, OP_DIV, gy, X(n)));
}

/* sqrt' = 1 / (2 y) */
int g_sqrt(Graph *g, const Node *n, int gy, int *gin) {
  return put(g, n, gin, 0, grad_bin(g, OP_DIV, gy, grad_bin(g, OP_MUL, k(g, n, 2), Y(n))));
}

/* rsqrt' = -y / (2 x) */
int g_rsqrt(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_bin(g, OP_DIV, grad_bin(g, OP_MUL, k(g, n, -0.5), Y(n)), X(n)));
}

/* recip' = -y^2 */
int g_recip(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_bin(g, OP_MUL, grad_un(g, OP_NEG, Y(n)), Y(n)));
}

/* tanh' = 1 - y^2 */
int g_tanh(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_bin(g, OP_SUB, k(g, n, 1), grad_bin(g, OP_MUL, Y(n), Y(n))));
}

/* erf' = 2 / sqrt(pi) * exp(-x^2) */
int g_erf(Graph *g, const Node *n, int gy, int *gin) {
  int e = grad_un(g, OP_EXP, grad_un(g, OP_NEG, grad_bin(g, OP_MUL, X(n), X(n))));
  return chain(g, n, gy, gin, grad_bin(g, OP_MUL, k(g, n, 1.1283791670955126), e));
}

int g_sin(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_COS, X(n)));
}
int g_cos(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_NEG, grad_un(g, OP_SIN, X(n))));
}

/* tan' = 1 + y^2 */
int g_tan(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_bin(g, OP_ADD, k(g, n, 1), grad_bin(g, OP_MUL, Y(n), Y(n))));
}

int g_asin(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_RSQRT, minus_sq(g, n, 1)));
}
int g_acos(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_NEG, grad_un(g, OP_RSQRT, minus_sq(g, n, 1))));
}
int g_atan(Graph *g, const Node *n, int gy, int *gin) {
  return put(g, n, gin, 0, grad_bin(g, OP_DIV, gy, sq_plus(g, n, 1)));
}
int g_sinh(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_COSH, X(n)));
}
int g_cosh(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_SINH, X(n)));
}
int g_asinh(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_RSQRT, sq_plus(g, n, 1)));
}
int g_acosh(Graph *g, const Node *n, int gy, int *gin) {
  return chain(g, n, gy, gin, grad_un(g, OP_RSQRT, sq_plus(g, n, -1)));
}
int g_atanh(Graph *g, const Node *n, int gy, int *gin) {
  return put(g, n, gin, 0, grad_bin(g, OP_DIV, gy, minus_sq(g, n, 1)));
}

/* ---- binary ---- */

int g_add(Graph *g, const Node *n, int gy, int *gin) {
  return put(g, n, gin, 0, gy) || put(g, n, gin, 1, gy) ? -1 : 0;
}

int g_sub(Graph *g, const Node *n, int gy, int *gin) {
  if (put(g, n, gin, 0, gy)) return -1;
  return grad_wants(gin, 1) ? put(g, n, gin, 1, grad_un(g, OP_NEG, gy)) : 0;
}

int g_mul(Graph *g, const Node *n, int gy, int *gin) {
  if (grad_wants(gin, 0) && put(g, n, gin, 0, grad_bin(g, OP_MUL, gy, B(n)))) return -1;
  return grad_wants(gin, 1) ? put(g, n, gin, 1, grad_bin(g, OP_MUL, gy, A(n))) : 0;
}

/* y = a / b: da = gy / b, db = -gy y / b */
int g_div(Graph *g, const Node *n, int gy, int *gin) {
  if (grad_wants(gin, 0) && put(g, n, gin, 0, grad_bin(g, OP_DIV, gy, B(n)))) return -1;
  if (!grad_wants(gin, 1)) return 0;
  return put(g, n, gin, 1,
             grad_bin(g, OP_DIV, grad_bin(g, OP_MUL, grad_un(g, OP_NEG, gy), Y(n)), B(n)));
}

/* y = a - trunc(a / b) b: da = gy, db = -gy trunc(a / b) = -gy (a - y) / b */
int g_mod(Graph *g, const Node *n, int gy, int *gin) {
  if (put(g, n, gin, 0, gy)) return -1;
  if (!grad_wants(gin, 1)) return 0;
  int q = grad_bin(g, OP_DIV, grad_bin(g, OP_SUB, A(n), Y(n)), B(n));
  return put(g, n, gin, 1, grad_bin(g, OP_MUL, grad_un(g, OP_NEG, gy), q));
}

/* y = a^b: da = gy b a^(b-1), db = gy y log(a) (built only when wanted: log needs a > 0) */
int g_pow(Graph *g, const Node *n, int gy, int *gin) {
  if (grad_wants(gin, 0)) {
    int p = grad_bin(g, OP_POW, A(n), grad_bin(g, OP_SUB, B(n), k(g, n, 1)));
    if (put(g, n, gin, 0, grad_bin(g, OP_MUL, gy, grad_bin(g, OP_MUL, B(n), p)))) return -1;
  }
  if (!grad_wants(gin, 1)) return 0;
  return put(g, n, gin, 1,
             grad_bin(g, OP_MUL, gy, grad_bin(g, OP_MUL, Y(n), grad_un(g, OP_LOG, A(n)))));
}

/* Routes gy by a mask: `first` gets gy where pick_second is false, `second` where true. */
static int route(Graph *g, const Node *n, int gy, int *gin, int pick_second, int first) {
  int zero = k(g, n, 0), second = 1 - first;
  if (grad_wants(gin, first) && put(g, n, gin, first, grad_select(g, pick_second, zero, gy)))
    return -1;
  return grad_wants(gin, second) ? put(g, n, gin, second, grad_select(g, pick_second, gy, zero))
                                 : 0;
}

/* max is (a < b ? b : a): b where a < b, else a (ties and a NaN in a go to a) */
int g_max(Graph *g, const Node *n, int gy, int *gin) {
  return route(g, n, gy, gin, grad_bin(g, OP_LT, A(n), B(n)), 0);
}

/* min is (b < a ? b : a): b where b < a, else a */
int g_min(Graph *g, const Node *n, int gy, int *gin) {
  return route(g, n, gy, gin, grad_bin(g, OP_LT, B(n), A(n)), 0);
}

/* ---- select, cast ---- */

/* select(c, t, e): t gets gy where c holds, e where it does not; c none. */
int g_select(Graph *g, const Node *n, int gy, int *gin) {
  int zero = k(g, n, 0);
  gin[0] = -1;
  if (grad_wants(gin, 1) && put(g, n, gin, 1, grad_select(g, A(n), gy, zero))) return -1;
  return grad_wants(gin, 2) ? put(g, n, gin, 2, grad_select(g, A(n), zero, gy)) : 0;
}

/* Between float types the gradient is cast back; integers carry none. */
int g_cast(Graph *g, const Node *n, int gy, int *gin) {
  if (!grad_wants(gin, 0)) return 0;
  gin[0] = ir_cast(g, gy, g->nodes[X(n)]->dtype);
  return gin[0] < 0 ? -1 : 0;
}

/* onnx_ops_training.c — the ai.onnx.preview.training domain's optimizers: Adagrad, Adam
 * and Momentum, following onnx's reference (onnx/reference/ops/aionnx_preview_training).
 *
 * Each takes the learning rate R and the step count T (scalars), then n groups of
 * tensors laid out by kind: X1..Xn, G1..Gn, then each state (H, or V and H, or V),
 * and gives the new X1..Xn followed by the new states.  Every group is one elementwise
 * update over core ops; what depends on T alone (the decayed or bias-corrected rate) is
 * computed once, in f64 as the reference computes it (a Python float to the power of
 * an int64), then taken to the tensors' dtype.  The domain's Gradient operator, which
 * gives the G operands of such models, is built on dlc's autodiff in onnx_ops_grad.c. */
#include <string.h>

#include "onnx_fe.h"

/* The operands as the builders read them. */
typedef struct Opt {
  int r, t;   /* R as f64 and T as f64, rank 0 */
  int n;      /* groups (optimized tensors) */
} Opt;

static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int cast(OnnxCtx *c, int x, DType t) { return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t); }

/* A scalar operand (one element) as rank 0 of dtype t. */
static int scalar_in(OnnxCtx *c, OnnxNode *n, int i, const char *what, DType t) {
  int x = n->in[i];
  if (shape_numel(shape_of(c, x)) != 1)
    return onnx_fail(c, n, "%s must be a scalar, not %lld elements", what, (long long)shape_numel(shape_of(c, x)));
  int64_t none[1] = {1};
  int y = cast(c, shape_of(c, x)->rank ? reshape(c, x, none, 0) : x, t);
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

/* R, T and the grouping; each group's tensors share X's dtype and shape. */
static int opt_inputs(OnnxCtx *c, OnnxNode *n, int k_per, Opt *o) {
  int groups = (n->nin - 2) / k_per;
  if (n->nin < 2 + k_per || (n->nin - 2) % k_per)
    return onnx_fail(c, n, "takes R, T and %d tensors per optimized input, not %d operands in all", k_per, n->nin);
  if (n->nout != groups * (k_per - 1))
    return onnx_fail(c, n, "%d optimized inputs give %d outputs, not %d", groups, groups * (k_per - 1), n->nout);
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] < 0) return onnx_fail(c, n, "input %d is absent (every input is required)", i);
  if (!dtype_is_float(dtype_of(c, n->in[0])))
    return onnx_fail(c, n, "R of dtype %s is not supported (float or double)", dtype_name(dtype_of(c, n->in[0])));
  if (dtype_of(c, n->in[1]) != DT_I64) return onnx_fail(c, n, "T must be int64, not %s", dtype_name(dtype_of(c, n->in[1])));
  for (int g = 0; g < groups; g++) {
    int x = n->in[2 + g];
    if (!dtype_is_float(dtype_of(c, x)))
      return onnx_fail(c, n, "X%d of dtype %s is not supported (float or double)", g + 1, dtype_name(dtype_of(c, x)));
    for (int j = 1; j < k_per; j++) {
      int y = n->in[2 + j * groups + g];
      if (dtype_of(c, y) != dtype_of(c, x) || !shape_eq(shape_of(c, y), shape_of(c, x)))
        return onnx_fail(c, n, "input %d must have the dtype and shape of X%d", 2 + j * groups + g, g + 1);
    }
  }
  o->n = groups;
  if ((o->r = scalar_in(c, n, 0, "R", DT_F64)) < 0 || (o->t = scalar_in(c, n, 1, "T", DT_F64)) < 0) return -1;
  return 0;
}

/* Operand j (0: X, 1: G, 2.. the states) of group g. */
static int in_of(const OnnxNode *n, const Opt *o, int j, int g) { return n->in[2 + j * o->n + g]; }

/* Output j (0: the new X, 1.. the new states) of group g is id. */
static int set_out(OnnxCtx *c, OnnxNode *n, const Opt *o, int j, int g, int id) {
  if (id < 0) return onnx_fail_ir(c, n);
  n->out[j * o->n + g] = id;
  return 0;
}

/* norm_coefficient * x + g: the gradient with its L2 regularization. */
static int regularized(OnnxCtx *c, int x, int g, double norm) {
  return bin(c, OP_ADD, bin(c, OP_MUL, k(c, x, norm), x), g);
}

/* An attribute the schema requires: -1 with the error when absent. */
static int required(OnnxCtx *c, OnnxNode *n, const char *name, double *v) {
  if (!onnx_attr(n, name)) return onnx_fail(c, n, "needs attribute '%s'", name);
  *v = onnx_attr_float(n, name, 0);
  return 0;
}

/* ---- Adagrad: x -= r / (1 + t decay) * g' / (sqrt(h + g'^2) + epsilon) ---------------- */

int onnx_Adagrad(OnnxCtx *c, OnnxNode *n) {
  double decay = onnx_attr_float(n, "decay_factor", 0), eps = onnx_attr_float(n, "epsilon", 1e-6);
  double norm = onnx_attr_float(n, "norm_coefficient", 0);
  Opt o = {-1, -1, 0};
  if (opt_inputs(c, n, 3, &o)) return -1;
  int rate = bin(c, OP_DIV, o.r, bin(c, OP_ADD, k(c, o.t, 1), bin(c, OP_MUL, o.t, k(c, o.t, decay))));
  for (int g = 0; g < o.n; g++) {
    int x = in_of(n, &o, 0, g), gr = regularized(c, x, in_of(n, &o, 1, g), norm);
    int h = bin(c, OP_ADD, in_of(n, &o, 2, g), bin(c, OP_MUL, gr, gr));
    int den = bin(c, OP_ADD, un(c, OP_SQRT, h), k(c, x, eps));
    int step = bin(c, OP_DIV, bin(c, OP_MUL, cast(c, rate, dtype_of(c, x)), gr), den);
    if (set_out(c, n, &o, 0, g, bin(c, OP_SUB, x, step)) || set_out(c, n, &o, 1, g, h)) return -1;
  }
  return 0;
}

/* ---- Adam: moments v and h, the rate bias-corrected once t > 0 --------------------------- */

/* r sqrt(1 - beta^t) / (1 - alpha^t) when t > 0, else r (f64). */
static int adam_rate(OnnxCtx *c, const Opt *o, double alpha, double beta) {
  int pos = bin(c, OP_GT, o->t, k(c, o->t, 0)), one = k(c, o->t, 1);
  int num = un(c, OP_SQRT, bin(c, OP_SUB, one, bin(c, OP_POW, k(c, o->t, beta), o->t)));
  int den = bin(c, OP_SUB, one, bin(c, OP_POW, k(c, o->t, alpha), o->t));
  den = pos < 0 || den < 0 ? -1 : ir_select(c->g, pos, den, one); /* no 0/0 where t is 0 */
  int adj = bin(c, OP_DIV, bin(c, OP_MUL, o->r, num), den);
  return adj < 0 ? -1 : ir_select(c->g, pos, adj, o->r);
}

int onnx_Adam(OnnxCtx *c, OnnxNode *n) {
  double alpha = onnx_attr_float(n, "alpha", 0.9), beta = onnx_attr_float(n, "beta", 0.999);
  double eps = onnx_attr_float(n, "epsilon", 1e-6), norm = onnx_attr_float(n, "norm_coefficient", 0);
  double post = onnx_attr_float(n, "norm_coefficient_post", 0);
  Opt o = {-1, -1, 0};
  if (opt_inputs(c, n, 4, &o)) return -1;
  int rate = adam_rate(c, &o, alpha, beta);
  for (int g = 0; g < o.n; g++) {
    int x = in_of(n, &o, 0, g), gr = regularized(c, x, in_of(n, &o, 1, g), norm);
    int v = bin(c, OP_ADD, bin(c, OP_MUL, k(c, x, alpha), in_of(n, &o, 2, g)), bin(c, OP_MUL, k(c, x, 1 - alpha), gr));
    int h = bin(c, OP_ADD, bin(c, OP_MUL, k(c, x, beta), in_of(n, &o, 3, g)),
                bin(c, OP_MUL, k(c, x, 1 - beta), bin(c, OP_MUL, gr, gr)));
    int den = bin(c, OP_ADD, un(c, OP_SQRT, h), k(c, x, eps));
    int y = bin(c, OP_SUB, x, bin(c, OP_MUL, cast(c, rate, dtype_of(c, x)), bin(c, OP_DIV, v, den)));
    y = bin(c, OP_MUL, k(c, x, 1 - post), y);
    if (set_out(c, n, &o, 0, g, y) || set_out(c, n, &o, 1, g, v) || set_out(c, n, &o, 2, g, h)) return -1;
  }
  return 0;
}

/* ---- Momentum: v = alpha v + beta' g' (beta' = 1 at t = 0); standard or Nesterov ------------- */

int onnx_Momentum(OnnxCtx *c, OnnxNode *n) {
  double alpha = 0, beta = 0, norm = 0;
  if (required(c, n, "alpha", &alpha) || required(c, n, "beta", &beta) || required(c, n, "norm_coefficient", &norm))
    return -1;
  const char *mode = onnx_attr_str(c, n, "mode", NULL);
  if (!mode) return onnx_fail(c, n, "needs attribute 'mode'");
  bool nesterov = !strcmp(mode, "nesterov");
  if (!nesterov && strcmp(mode, "standard"))
    return onnx_fail(c, n, "mode '%.60s' is not supported (standard or nesterov)", mode);
  Opt o = {-1, -1, 0};
  if (opt_inputs(c, n, 3, &o)) return -1;
  int pos = bin(c, OP_GT, o.t, k(c, o.t, 0));
  for (int g = 0; g < o.n; g++) {
    int x = in_of(n, &o, 0, g), gr = regularized(c, x, in_of(n, &o, 1, g), norm), r = cast(c, o.r, dtype_of(c, x));
    int b = pos < 0 ? -1 : ir_select(c->g, pos, k(c, x, beta), k(c, x, 1));
    int v = bin(c, OP_ADD, bin(c, OP_MUL, k(c, x, alpha), in_of(n, &o, 2, g)), bin(c, OP_MUL, b, gr));
    int step = nesterov ? bin(c, OP_ADD, gr, bin(c, OP_MUL, k(c, x, alpha), v)) : v;
    if (set_out(c, n, &o, 0, g, bin(c, OP_SUB, x, bin(c, OP_MUL, r, step))) || set_out(c, n, &o, 1, g, v)) return -1;
  }
  return 0;
}

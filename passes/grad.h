/* grad.h — the reverse-mode rules of autodiff, one per op (the grad column of ops.def),
 * and the small builders they share (grad_util.c).
 *
 * A rule appends to g the gradients of node n's operands, given gy = d loss / d n:
 *
 *     int g_<op>(Graph *g, const Node *n, int gy, int *gin);
 *
 * On entry gin[i] >= 0 when operand i wants a gradient (it is a float value that
 * depends on a parameter) and -1 when it does not; a rule may skip the work for the
 * latter.  On return gin[i] is the id of the gradient for operand i, of its shape and
 * dtype, or -1 when none flows.  0, or -1 with g->err set.
 *
 * g_none: the op has no gradient (an error if one is asked to flow through it).
 * g_zero: the gradient is zero almost everywhere (floor, sign): nothing flows. */
#ifndef DLC_GRAD_H
#define DLC_GRAD_H

#include "ir.h"
#include "passes.h"

typedef int (*GradFn)(Graph *g, const Node *n, int gy, int *gin);

#define OP(id, name, nin, impl, types, result, attrs, scalar, cexpr, grad)                         \
  int grad(Graph *g, const Node *n, int gy, int *gin);
#include "ops.def"
#undef OP

static inline bool grad_wants(const int *gin, int i) { return gin[i] >= 0; }

/* Builders that return a node id or -1 with g->err set, like ir_add. */
int grad_const(Graph *g, DType t, double v);       /* a rank-0 constant */
int grad_zeros(Graph *g, DType t, const Shape *s); /* 0 broadcast to s */
int grad_un(Graph *g, Op op, int a);               /* ir_unary */
int grad_bin(Graph *g, Op op, int a, int b);       /* ir_binary */
int grad_select(Graph *g, int c, int a, int b);    /* ir_select */
int grad_reshape(Graph *g, int x, const Shape *s);
int grad_broadcast(Graph *g, int x, const Shape *s);
int grad_slice(Graph *g, int x, const int64_t *starts, const int64_t *ends, const int64_t *steps);
int grad_pad(Graph *g, int x, const int64_t *pads);
/* Gradient of a reduction's result (shape of n) spread back over x's shape: the
 * reduced axes are put back as 1 (keepdims) and broadcast. */
int grad_unreduce(Graph *g, const Node *n, int gy, const Shape *x);

#endif

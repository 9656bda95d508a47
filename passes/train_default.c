/* train_default.c — the training step of a model that has no training statement (an
 * ONNX file, a .dlc without one): a loss on its single output against a new input.
 *
 * Needs: a verified graph with one output.  Gives: a new INPUT "label" (the first of
 * label, label_1, ... that is free) and a TrainSpec on g->spec that trains every float
 * parameter.  The label is, for ce, integer class ids (i64) of the output's shape
 * without axis 1; for bce, mse and l1, a tensor of the output's dtype and shape.
 * A softmax or log-softmax output (the core ops the layers build) is trained through
 * its logits, a sigmoid output through its input, so the loss stays stable; any other
 * output of ce is taken as probabilities (the logits are their log) and of bce as a
 * probability p (the logit is log(p) - log(1 - p)), both clamped away from 0. */
#include <stdio.h>
#include <string.h>

#include "train.h"

static const Node *arg(const Graph *g, const Node *n, int i) { return g->nodes[n->in[i]]; }

static bool reduces_axis1(const Node *n, Op op) {
  int na;
  if (n->op != op || !node_int(n, A_KEEPDIMS)) return false;
  const int64_t *ax = node_ints(n, A_AXES, &na);
  return na == 1 && ax[0] == 1;
}

/* d = sub(x, reduce_max(x, axes=[1], keepdims=1)): x, or -1. */
static int shifted(const Graph *g, const Node *d) {
  if (d->op != OP_SUB || !reduces_axis1(arg(g, d, 1), OP_REDUCE_MAX)) return -1;
  return arg(g, arg(g, d, 1), 0)->id == d->in[0] ? d->in[0] : -1;
}

/* sum(exp(d)) over axis 1, kept: d's id, or -1. */
static int sum_exp(const Graph *g, const Node *s) {
  if (!reduces_axis1(s, OP_REDUCE_SUM) || arg(g, s, 0)->op != OP_EXP) return -1;
  return arg(g, s, 0)->in[0];
}

/* The logits of a softmax or log-softmax over axis 1, or -1. */
static int softmax_logits(const Graph *g, const Node *y) {
  if (y->op == OP_DIV && arg(g, y, 0)->op == OP_EXP && sum_exp(g, arg(g, y, 1)) == arg(g, y, 0)->in[0])
    return shifted(g, g->nodes[arg(g, y, 0)->in[0]]);
  if (y->op == OP_SUB && arg(g, y, 1)->op == OP_LOG &&
      sum_exp(g, arg(g, arg(g, y, 1), 0)) == y->in[0])
    return shifted(g, arg(g, y, 0));
  return -1;
}

/* recip(add(1, exp(neg(x)))): x, or -1. */
static int sigmoid_logits(const Graph *g, const Node *y) {
  if (y->op != OP_RECIP || arg(g, y, 0)->op != OP_ADD) return -1;
  const Node *a = arg(g, y, 0), *e = arg(g, a, 1);
  if (e->op != OP_EXP || arg(g, e, 0)->op != OP_NEG) return -1;
  return arg(g, e, 0)->in[0];
}

static int clamped_log(Graph *g, int x) {
  DType t = g->nodes[x]->dtype;
  return grad_un(g, OP_LOG, grad_bin(g, OP_MAX, x, ir_scalar(g, t, 1e-30)));
}

/* What the loss compares with the label. */
static int prediction(Graph *g, LossKind k, int y) {
  if (k == LOSS_CE) {
    int z = softmax_logits(g, g->nodes[y]);
    return z >= 0 ? z : clamped_log(g, y);
  }
  if (k != LOSS_BCE) return y;
  int z = sigmoid_logits(g, g->nodes[y]);
  if (z >= 0) return z;
  int one_minus = ir_binary(g, OP_SUB, ir_scalar(g, g->nodes[y]->dtype, 1), y);
  return grad_bin(g, OP_SUB, clamped_log(g, y), clamped_log(g, one_minus));
}

static int label_input(Graph *g, LossKind k, const Node *y) {
  char name[32] = "label";
  for (int i = 1; ir_find(g, name) >= 0; i++) snprintf(name, sizeof name, "label_%d", i);
  if (k != LOSS_CE) return ir_input(g, name, y->dtype, y->shape);
  Shape s = {.rank = y->shape.rank - 1};
  for (int i = 0, j = 0; i < y->shape.rank; i++)
    if (i != 1) s.d[j++] = y->shape.d[i];
  return ir_input(g, name, DT_I64, s);
}

int train_default_spec(Graph *g, LossKind k, const Optim *o, const char *name, DlcErr *e) {
  if (ir_num_model_outputs(g) != 1)
    return dlc_errf(e, "train: the model has %d outputs; --loss trains a model of one output "
                       "(say which in a training statement, docs/TRAINING.md)", ir_num_model_outputs(g));
  const Node *y = g->nodes[g->out[0]];
  if (!dtype_is_float(y->dtype)) return dlc_errf(e, "train: the output is %s, not a float", dtype_name(y->dtype));
  if (k == LOSS_CE && y->shape.rank < 2)
    return dlc_errf(e, "train: loss ce needs an output [N, classes], not rank %d", y->shape.rank);
  int yid = y->id, label = label_input(g, k, y);
  int pred = label < 0 ? -1 : prediction(g, k, yid);
  int loss = pred < 0 ? -1 : ir_loss(g, k, pred, label);
  if (loss < 0) return dlc_errf(e, "train: %s", g->err.msg);
  TrainSpec s = {.name = name, .loss = loss, .opt = *o};
  ir_add_spec(g, &s);
  return 0;
}

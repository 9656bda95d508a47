/* onnx_ops_grad.c — ai.onnx.preview.training's Gradient: the gradient of the tensor
 * named by attribute y with respect to each tensor named by xs, y's own gradient taken
 * as ones (each result is d sum(y) / d X), built by dlc's reverse-mode autodiff
 * (passes/autodiff.c, pass_gradient) over the core ops that already compute y.
 *
 * The names in xs and zs are the independent variables of the differentiated function
 * and the node's inputs are the values at which it is taken (input i for the i-th name
 * of xs then zs).  When each input is the tensor its name stands for (the usual model)
 * the gradient reuses the forward values: autodiff walks back from y and stops at each
 * X, so an X that is an intermediate value (H = Conv(W, X)) is held independent of
 * what computed it.  Otherwise the part of the graph between the names and y is built
 * again on the inputs, each X behind a fresh identity so that two Xs fed the same
 * tensor stay two variables.  A float16 or bfloat16 X is differentiated through an f32
 * copy, its gradient rounded to its dtype.  An X that y does not depend on gets zeros;
 * a tensor y depends on that neither list names is held at its value.
 *
 * What cannot be built is an error naming the node: a name that no input, initializer
 * or earlier node produces, a name in both lists or twice, an input whose dtype or shape
 * is not its name's, a y or X that is not float, an X that is a constant (dlc folds
 * constants as the model is read, so what y computed from it may be a constant too),
 * and an op on the way from an X to y that has no gradient (named, with the node that
 * built it). */
#include <stdlib.h>
#include <string.h>

#include "onnx_fe.h"
#include "passes.h"

/* The node's reading: names[0..nx) are xs, names[nx..nv) zs. */
typedef struct Grad {
  const char **names;
  int nx, nv;
  const char *y;
  int yid;
  int var[ONNX_MAX_IO];  /* the tensor each name stands for */
  int leaf[ONNX_MAX_IO]; /* xs: the value differentiated with respect to */
  int sub[ONNX_MAX_IO];  /* what stands for each name in the rebuilt graph */
  int *map;              /* old id -> rebuilt id, when rebuilt (else NULL) */
  int nmap;
} Grad;

static int read_attrs(OnnxCtx *c, OnnxNode *n, Grad *gr) {
  const char **xs = NULL, **zs = NULL;
  int nx = onnx_attr_strs(c, n, "xs", &xs), nz = onnx_attr_strs(c, n, "zs", &zs);
  if (nx == -2 || nz == -2) return -1;
  if (nx < 1) return onnx_fail(c, n, "needs attribute 'xs' (the tensors to differentiate with respect to)");
  if (!(gr->y = onnx_attr_str(c, n, "y", NULL))) return onnx_fail(c, n, "needs attribute 'y' (the tensor to differentiate)");
  nz = nz < 0 ? 0 : nz;
  if (n->nin != nx + nz)
    return onnx_fail(c, n, "xs and zs name %d tensor%s, so it takes %d input%s, not %d", nx + nz, nx + nz == 1 ? "" : "s",
                     nx + nz, nx + nz == 1 ? "" : "s", n->nin);
  if (n->nout > nx)
    return onnx_fail(c, n, "has %d outputs, but xs names %d tensor%s (one gradient each)", n->nout, nx, nx == 1 ? "" : "s");
  gr->names = arena_alloc(c->g->arena, sizeof(char *) * (size_t)(nx + nz));
  memcpy(gr->names, xs, sizeof(char *) * (size_t)nx);
  if (nz) memcpy(gr->names + nx, zs, sizeof(char *) * (size_t)nz);
  gr->nx = nx, gr->nv = nx + nz;
  return 0;
}

/* A name as a tensor id, or -1 with the error. */
static int tensor_named(OnnxCtx *c, OnnxNode *n, const char *attr, const char *name) {
  int id = onnx_value(c, name);
  if (id == -1) return onnx_fail(c, n, "%s names '%.100s', which no input, initializer or earlier node produces", attr, name);
  if (ONNX_IS_SEQ(id))
    return onnx_fail(c, n, "%s names '%.100s', which is %s, not a tensor", attr, name,
                     onnx_seq_kind_word(onnx_seq_get(c, id), id));
  return id;
}

static int resolve(OnnxCtx *c, OnnxNode *n, Grad *gr) {
  if ((gr->yid = tensor_named(c, n, "y", gr->y)) < 0) return -1;
  if (!dtype_is_float(dtype_of(c, gr->yid)))
    return onnx_fail(c, n, "y names '%.100s' of dtype %s; only a float tensor is differentiated", gr->y,
                     dtype_name(dtype_of(c, gr->yid)));
  for (int i = 0; i < gr->nv; i++) {
    const char *attr = i < gr->nx ? "xs" : "zs", *name = gr->names[i];
    if ((gr->var[i] = tensor_named(c, n, attr, name)) < 0) return -1;
    for (int j = 0; j < i; j++)
      if (!strcmp(gr->names[j], name))
        return onnx_fail(c, n, "'%.100s' is named twice in xs and zs (each names one variable)", name);
    DType t = dtype_of(c, gr->var[i]);
    if (i < gr->nx && !dtype_is_float(t))
      return onnx_fail(c, n, "xs names '%.100s' of dtype %s; gradients are taken with respect to float tensors", name,
                       dtype_name(t));
    if (i < gr->nx && c->g->nodes[gr->var[i]]->op == OP_CONST)
      return onnx_fail(c, n, "xs names '%.100s', a constant (dlc folds what is computed from constants as it reads the "
                       "model, so that is not differentiated); make it an initializer or a graph input", name);
  }
  return 0;
}

/* Each input must be a value of its name's dtype and shape. */
static int check_inputs(OnnxCtx *c, OnnxNode *n, const Grad *gr) {
  for (int i = 0; i < gr->nv; i++) {
    int in = n->in[i], v = gr->var[i];
    if (in < 0) return onnx_fail(c, n, "input %d (the value of '%.100s') is absent", i, gr->names[i]);
    if (dtype_of(c, in) == dtype_of(c, v) && shape_eq(shape_of(c, in), shape_of(c, v))) continue;
    char a[64], b[64];
    shape_str(shape_of(c, in), a, sizeof a), shape_str(shape_of(c, v), b, sizeof b);
    return onnx_fail(c, n, "input %d is %s %s, but '%.100s', whose value it gives, is %s %s", i,
                     dtype_name(dtype_of(c, in)), a, gr->names[i], dtype_name(dtype_of(c, v)), b);
  }
  return 0;
}

/* Whether y is differentiated where it is: every input is its name's tensor, and no X
 * is a storage dtype (autodiff sums gradients in f32 or f64). */
static bool in_place(OnnxCtx *c, const OnnxNode *n, const Grad *gr) {
  for (int i = 0; i < gr->nv; i++)
    if (n->in[i] != gr->var[i] || (i < gr->nx && dtype_is_storage(dtype_of(c, gr->var[i])))) return false;
  return true;
}

/* The fresh variables: each X a new node holding its input's value (f32 for a storage
 * dtype), and what stands for each name in the rebuilt graph. */
static int make_leaves(OnnxCtx *c, OnnxNode *n, Grad *gr) {
  for (int i = 0; i < gr->nv; i++) {
    int in = n->in[i];
    DType t = dtype_of(c, in);
    if (i >= gr->nx) {
      gr->sub[i] = in;
      continue;
    }
    const Shape *s = shape_of(c, in);
    gr->leaf[i] = dtype_is_storage(t) ? ir_cast(c->g, in, DT_F32) : ir_reshape(c->g, in, s->d, s->rank);
    gr->sub[i] = gr->leaf[i] >= 0 && dtype_is_storage(t) ? ir_cast(c->g, gr->leaf[i], t) : gr->leaf[i];
    if (gr->sub[i] < 0) return onnx_fail_ir(c, n);
  }
  return 0;
}

/* Builds again each node between the names and y that reads a substituted value; the
 * rest is shared.  The id y has there, or -1. */
static int rebuild(OnnxCtx *c, OnnxNode *n, Grad *gr) {
  Graph *g = c->g;
  int top = gr->yid, outer = g->guard, rc = 0;
  gr->nmap = top + 1;
  gr->map = dlc_malloc(sizeof(int) * (size_t)gr->nmap);
  int *subst = dlc_malloc(sizeof(int) * (size_t)gr->nmap);
  bool *need = dlc_calloc((size_t)gr->nmap, sizeof(bool));
  DLC_ASSERT(gr->map && subst && need);
  for (int i = 0; i <= top; i++) gr->map[i] = i, subst[i] = -1;
  for (int i = 0; i < gr->nv; i++)
    if (gr->var[i] <= top) subst[gr->var[i]] = gr->sub[i];
  need[top] = true;
  for (int id = top; id >= 0; id--) /* what y reads, down to the names */
    for (int k = 0; need[id] && subst[id] < 0 && k < g->nodes[id]->nin; k++) need[g->nodes[id]->in[k]] = true;
  for (int id = 0; id <= top && !rc; id++) {
    const Node *v = g->nodes[id];
    if (!need[id]) continue;
    if (subst[id] >= 0) {
      gr->map[id] = subst[id];
      continue;
    }
    int *in = dlc_malloc(sizeof(int) * (size_t)(v->nin + 1));
    DLC_ASSERT(in);
    bool moved = false;
    for (int k = 0; k < v->nin; k++) in[k] = gr->map[v->in[k]], moved |= in[k] != v->in[k];
    g->guard = ir_guard_implies(g, outer, v->guard) ? outer : v->guard;
    if (moved && (gr->map[id] = ir_add(g, v->op, in, v->nin, v->attr, v->nattr)) < 0) rc = onnx_fail_ir(c, n);
    free(in);
  }
  g->guard = outer;
  free(subst);
  free(need);
  return rc ? -1 : gr->map[top];
}

/* The failure of autodiff at node bad, named by the op and the ONNX node that built it. */
static int fail_rule(OnnxCtx *c, OnnxNode *n, const Grad *gr, int bad, const char *msg) {
  if (bad < 0) return onnx_fail(c, n, "%s", msg);
  int orig = bad;
  for (int i = 0; gr->map && i < gr->nmap; i++)
    if (gr->map[i] == bad) orig = i;
  const Node *v = c->g->nodes[orig];
  const Onnx__NodeProto *p = c->top && v->group >= 0 && (size_t)v->group < c->top->n_node ? c->top->node[v->group] : NULL;
  const char *who = p ? (p->name && *p->name ? p->name : p->n_output ? p->output[0] : "?") : "?";
  return onnx_fail(c, n, "'%.100s' cannot be differentiated with respect to xs: the core op %s%s%.100s%s, built for node "
                   "'%.100s' (%.60s): %.200s", gr->y, ir_ops[v->op].name, v->name ? " giving '" : "", v->name ? v->name : "",
                   v->name ? "'" : "", who, p ? p->op_type : "?", c->g->err.msg);
}

static int differentiate(OnnxCtx *c, OnnxNode *n, Grad *gr, int y) {
  int grads[ONNX_MAX_IO], bad = -1;
  if (dtype_is_storage(dtype_of(c, y)) && (y = ir_cast(c->g, y, DT_F32)) < 0) return onnx_fail_ir(c, n);
  DlcErr e;
  if (pass_gradient(c->g, y, gr->leaf, gr->nx, grads, &bad, &e)) return fail_rule(c, n, gr, bad, e.msg);
  for (int i = 0; i < n->nout; i++) {
    DType t = dtype_of(c, gr->var[i]);
    n->out[i] = dtype_of(c, grads[i]) == t ? grads[i] : ir_cast(c->g, grads[i], t);
    if (n->out[i] < 0) return onnx_fail_ir(c, n);
  }
  return 0;
}

int onnx_Gradient(OnnxCtx *c, OnnxNode *n) {
  Grad gr = {0};
  if (read_attrs(c, n, &gr) || resolve(c, n, &gr) || check_inputs(c, n, &gr)) return -1;
  int y = gr.yid, rc = 0;
  if (in_place(c, n, &gr)) memcpy(gr.leaf, gr.var, sizeof(int) * (size_t)gr.nx);
  else if (make_leaves(c, n, &gr) || (y = rebuild(c, n, &gr)) < 0) rc = -1;
  if (!rc) rc = differentiate(c, n, &gr, y);
  free(gr.map);
  return rc;
}

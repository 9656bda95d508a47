/* verify.c — the IR's invariants, checked between passes and after every frontend.
 *
 * Operands come before their users, every node's dtype and shape are what its op's
 * shape rule derives again from its operands, data nodes carry data, names of inputs,
 * params and consts are unique, outputs exist. */
#include <string.h>

#include "ir.h"

static int fail_node(DlcErr *e, const Graph *g, const Node *n, const char *what) {
  char shape[128];
  shape_str(&n->shape, shape, sizeof shape);
  return dlc_errf(e, "verify: %s%snode %d (%s%s%s%s): %s", n->where ? n->where : "", n->where ? ": " : "",
                  n->id, ir_ops[n->op].name,
                  n->name ? " '" : "", n->name ? n->name : "", n->name ? "'" : "", what);
  (void)g;
}

static int check_data(const Node *n, const Graph *g, DlcErr *e) {
  if (!n->data) return fail_node(e, g, n, "has no data");
  if (n->nin) return fail_node(e, g, n, "a data node has operands");
  if ((n->op == OP_INPUT || n->op == OP_PARAM) && !n->name) return fail_node(e, g, n, "has no name");
  for (int j = 0; j < n->id; j++) {
    const Node *m = g->nodes[j];
    if (n->name && m->name && m->nin == 0 && m->op != OP_IOTA && !strcmp(m->name, n->name))
      return fail_node(e, g, n, "its name is used twice");
  }
  return 0;
}

/* Re-runs the shape rule on a copy and compares. */
static int check_shape(const Node *n, const Graph *cg, DlcErr *e) {
  Graph *g = (Graph *)cg;
  for (int j = 0; j < n->nin; j++)
    if (n->in[j] < 0 || n->in[j] >= n->id) return fail_node(e, g, n, "an operand is not defined before it");
  if (ir_ops[n->op].nin >= 0 && n->nin != ir_ops[n->op].nin)
    return fail_node(e, g, n, "wrong number of operands");
  Node copy = *n;
  DlcErr saved = g->err;
  int rc = ir_ops[n->op].shape(g, &copy);
  char msg[DLC_ERR_MAX];
  snprintf(msg, sizeof msg, "its shape rule fails: %.600s", g->err.msg);
  g->err = saved;
  if (rc) return fail_node(e, g, n, msg);
  if (copy.dtype != n->dtype) return fail_node(e, g, n, "its dtype is not what its op gives");
  bool storage = dtype_is_storage(n->dtype);
  for (int j = 0; j < n->nin; j++) storage |= dtype_is_storage(g->nodes[n->in[j]]->dtype);
  if (storage && !op_takes_storage(n->op))
    return fail_node(e, g, n, "only cast and bitcast read or give the storage dtypes (f16, bf16, the narrow types)");
  bool str = n->dtype == DT_STR;
  for (int j = 0; j < n->nin; j++) str |= g->nodes[n->in[j]]->dtype == DT_STR;
  if (str && !op_takes_str(n->op)) return fail_node(e, g, n, "only movement, select and the str_ ops read or give str");
  if (!shape_eq(&copy.shape, &n->shape)) return fail_node(e, g, n, "its shape is not what its op gives");
  return 0;
}

/* Whether the and-chain of guard b has c, or not(c), among its terms. */
static bool guard_mentions(const Graph *g, int b, int c) {
  for (int steps = 0; b >= 0 && steps <= g->n; steps++) {
    const Node *n = g->nodes[b];
    if (b == c || (n->op == OP_NOT && n->in[0] == c)) return true;
    if (n->op != OP_AND) return false;
    if (guard_mentions(g, n->in[1], c)) return true;
    b = n->in[0];
  }
  return false;
}

/* A guard is an earlier unguarded bool scalar; a node reads a guarded value only under
 * that guard or a stronger one, or as the select that merges a branch. */
static int check_guard(const Node *n, const Graph *g, DlcErr *e) {
  bool data = n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_CONST;
  if (n->guard < 0) {
    /* checked with the operands below */
  } else if (data) return fail_node(e, g, n, "a data node is guarded");
  else if (n->guard >= n->id) return fail_node(e, g, n, "its guard is not defined before it");
  else {
    const Node *c = g->nodes[n->guard];
    if (c->dtype != DT_BOOL || c->shape.rank != 0 || c->guard >= 0)
      return fail_node(e, g, n, "its guard is not an unguarded bool scalar");
  }
  for (int j = 0; j < n->nin; j++) {
    int b = g->nodes[n->in[j]]->guard;
    if (ir_guard_implies(g, n->guard, b)) continue;
    if (n->op == OP_SELECT && j > 0 && guard_mentions(g, b, n->in[0])) continue;
    /* and(outer, c) with c computed under outer: false wherever outer is (the guard of a
     * branch nested in another) */
    if (n->op == OP_AND && ir_guard_implies(g, n->in[1 - j], b)) continue;
    return fail_node(e, g, n, "reads a value computed under a guard it is not under");
  }
  return 0;
}

int ir_verify(const Graph *g, DlcErr *e) {
  for (int i = 0; i < g->n; i++) {
    const Node *n = g->nodes[i];
    if (n->id != i) return dlc_errf(e, "verify: node %d carries id %d", i, n->id);
    if ((int)n->op < 0 || n->op >= OP_COUNT) return dlc_errf(e, "verify: node %d has a bad op", i);
    if ((int)n->dtype < 0 || n->dtype >= DT_COUNT) return fail_node(e, g, n, "bad dtype");
    bool data = n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_CONST;
    int rc = n->op == OP_INPUT ? (n->name ? 0 : fail_node(e, g, n, "has no name"))
             : data            ? check_data(n, g, e)
                               : check_shape(n, g, e);
    if (!rc) rc = check_guard(n, g, e);
    if (rc) return rc;
  }
  if (g->nout == 0) return dlc_errf(e, "verify: the graph has no outputs");
  for (int j = 0; j < g->nout; j++) {
    if (g->out[j] < 0 || g->out[j] >= g->n)
      return dlc_errf(e, "verify: output '%s' names no node", g->out_name[j]);
    if (g->nodes[g->out[j]]->guard >= 0)
      return dlc_errf(e, "verify: output '%s' is computed under a guard (merge the branch with select)",
                      g->out_name[j]);
  }
  return 0;
}

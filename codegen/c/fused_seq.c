/* fused_seq.c — KERNEL_SEQ: the nodes of one source operator run one after another in
 * one function (--fuse=op, when they fit no loop-fused kind).
 *
 * Needs: the SEQ contract of passes.h: every node has its own buffer.  The function
 * takes the values from outside as seq_in0.. and every node's buffer as seq_out0.. (in
 * kernel order: names no family emitter declares); each node's body is its family's
 * emitter, inside a block that names its operands a0.. and its result y as that
 * emitter expects. */
#include "cgen_c.h"

static int position(const Kernel *k, int id) {
  for (int j = 0; j < k->n; j++)
    if (k->nodes[j] == id) return j;
  return -1;
}

static bool shares(const CEmit *ce, const Node *n) {
  for (int i = 0; i < n->nin; i++)
    if (cgen_same_buffer(ce, n->in[i], n->id)) return true;
  return false;
}

static int node_block(CEmit *ce, const Kernel *k, int j) {
  const Node *n = ce->g->nodes[k->nodes[j]];
  const char *r = shares(ce, n) ? "" : "restrict ";
  char name[160];
  cgen_line(ce, 1, "{ /* %%%d = %s */", n->id, ir_ops[n->op].name);
  for (int i = 0; i < n->nin; i++) {
    const Node *a = cgen_in(ce, n, i);
    int q = position(k, a->id);
    if (q >= 0) snprintf(name, sizeof name, "seq_out%d", q);
    else snprintf(name, sizeof name, "seq_in%d", cgen_kernel_input_index(ce, k, a->id));
    cgen_line(ce, 1, "const %s *%sa%d = %s;", cgen_ctype(a), r, i, name);
  }
  cgen_line(ce, 1, "%s *%sy = seq_out%d;", cgen_ctype(n), r, j);
  if (cgen_node_body(ce, n)) return -1;
  cgen_line(ce, 1, "}");
  return 0;
}

int cgen_fused_seq(CEmit *ce, const Kernel *k) {
  for (int j = 0; j < k->n; j++)
    if (node_block(ce, k, j)) return -1;
  return 0;
}

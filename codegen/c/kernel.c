/* kernel.c — one static function per kernel of the schedule, named k<id>_<op> after
 * the node it computes, its body written by the emitter of the node's IMPL family.
 *
 * Kernels hold one node today (DLC_ASSERT(k->n == 1)); a fused kernel will loop once
 * over its result and chain the elementwise expressions of its nodes (cgen_elem_expr)
 * in that loop. */
#include <inttypes.h>
#include <string.h>

#include "cgen_c.h"

typedef int (*CgenFn)(CEmit *ce, const Node *n);

static const CgenFn cgen_table[OP_COUNT] = {
#define OP(id, name, nin, impl, types, result, attrs, scalar, cexpr, grad) [OP_##id] = cgen_##impl,
#include "ops.def"
#undef OP
};

int cgen_source(CEmit *ce, const Node *n) {
  return dlc_errf(ce->e, "cgen: %s is data, not a kernel", ir_ops[n->op].name);
}

bool cgen_kernel_can_fail(const CEmit *ce, const Kernel *k) {
  for (int j = 0; j < k->n; j++)
    if (ce->g->nodes[k->nodes[j]]->op == OP_GATHER || ce->g->nodes[k->nodes[j]]->op == OP_SCATTER_ADD)
      return true;
  return false;
}

/* ---- the comment: the node as text ---- */

static void attr_text(CEmit *ce, const Attr *a) {
  cgen_printf(ce, "%s=", attr_name(a->key));
  switch (a->kind) {
  case AK_INT: cgen_printf(ce, "%" PRId64, a->i); return;
  case AK_FLOAT: cgen_printf(ce, "%.17g", a->f); return;
  case AK_DTYPE: cgen_printf(ce, "%s", dtype_name((DType)a->i)); return;
  case AK_INTS:
    cgen_printf(ce, "[");
    for (int i = 0; i < a->n; i++) cgen_printf(ce, "%s%" PRId64, i ? "," : "", a->ints[i]);
    cgen_printf(ce, "]");
    return;
  }
}

/* An operand as the text format would name it: sources by name, results by id. */
static void operand_text(CEmit *ce, const Node *a) {
  char name[160];
  if (a->name && *a->name && (a->op == OP_INPUT || a->op == OP_PARAM || a->op == OP_CONST))
    cgen_printf(ce, "%s", cgen_comment_name(a->name, name, sizeof name));
  else cgen_printf(ce, "%%%d", a->id);
}

/* The node in the native text format's shape: "%7 = reduce_sum(%6, axes=[1])  # f32[4,1]". */
static void node_comment(CEmit *ce, const Node *n) {
  char shp[160];
  cgen_printf(ce, "\n/* %%%d = %s(", n->id, ir_ops[n->op].name);
  for (int i = 0; i < n->nin; i++) {
    cgen_printf(ce, "%s", i ? ", " : "");
    operand_text(ce, cgen_in(ce, n, i));
  }
  for (int i = 0; i < n->nattr; i++) {
    cgen_printf(ce, "%s", i || n->nin ? ", " : "");
    attr_text(ce, &n->attr[i]);
  }
  cgen_printf(ce, ")  # %s%s */\n", dtype_name(n->dtype), cgen_shape(&n->shape, shp, sizeof shp));
}

/* ---- the function ---- */

/* restrict promises the compiler that the result never aliases an operand; a plan
 * that computes in place breaks that promise, so such a kernel goes without. */
static bool in_place(const CEmit *ce, const Node *n) {
  for (int i = 0; i < n->nin; i++)
    if (cgen_same_buffer(ce, n->in[i], n->id)) return true;
  return false;
}

static void signature(CEmit *ce, const Kernel *k, const Node *n) {
  char shp[160], head[128];
  const char *r = in_place(ce, n) ? "" : "restrict ";
  int len = snprintf(head, sizeof head, "static %s k%d_%s(", cgen_kernel_can_fail(ce, k) ? "int" : "void",
                     n->id, ir_ops[n->op].name);
  cgen_printf(ce, "%s", head);
  for (int i = 0; i < n->nin; i++) {
    const Node *a = cgen_in(ce, n, i);
    cgen_printf(ce, "const %s *%sa%d /* %s %s */,\n%*s", cgen_ctype(a), r, i, dtype_name(a->dtype),
                cgen_shape(&a->shape, shp, sizeof shp), len, "");
  }
  cgen_printf(ce, "%s *%sy /* %s %s */) {\n", cgen_ctype(n), r, dtype_name(n->dtype),
              cgen_shape(&n->shape, shp, sizeof shp));
}

static int kernel(CEmit *ce, const Kernel *k) {
  DLC_ASSERT(k->n == 1); /* fusion comes later: see the top of this file */
  const Node *n = ce->g->nodes[k->nodes[0]];
  if (cgen_before_kernel(ce, k)) return -1;
  node_comment(ce, n);
  signature(ce, k, n);
  if (cgen_table[n->op](ce, n)) return -1;
  if (cgen_kernel_can_fail(ce, k)) cgen_line(ce, 1, "return 0;");
  cgen_printf(ce, "}\n");
  return 0;
}

int cgen_c_kernels(CEmit *ce) {
  for (int t = 0; t < ce->s->nk; t++)
    if (kernel(ce, &ce->s->k[t])) return -1;
  return 0;
}

/* kernel.c — one static function per kernel of the schedule, named k<id>_<op> after
 * the node it computes, its body written by the emitter of the node's IMPL family.
 *
 * A kernel of several nodes is named after its kind (k<id>_row) and its body comes
 * from that kind's emitter (fused*.c; epilogues from the matmul and conv emitters). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tile.h"

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
  if (cgen_kernel_strings_fail(ce, k)) return true;
  for (int j = 0; j < k->n; j++)
    if (ce->g->nodes[k->nodes[j]]->op == OP_GATHER || ce->g->nodes[k->nodes[j]]->op == OP_SCATTER_ADD)
      return true;
  return false;
}

int64_t cgen_kernel_scratch(const CEmit *ce, const Kernel *k) {
  int64_t most = 0;
  for (int j = 0; j < k->n; j++) {
    const Node *n = ce->g->nodes[k->nodes[j]];
    int64_t b = n->op == OP_MATMUL ? matmul_scratch(ce, n) : n->op == OP_CONV ? conv_scratch(ce, n)
              : n->op == OP_MATMUL_INT ? matmul_int_scratch(ce, n)
              : n->op == OP_UNIQUE ? cgen_unique_scratch(ce, n) : n->op == OP_NMS ? cgen_nms_scratch(ce, n) : 0;
    if (b > most) most = b;
  }
  return (most + 63) / 64 * 64;
}

int64_t cgen_scratch_bytes(const CEmit *ce) {
  int64_t most = 0;
  for (int t = 0; !ce->device && t < ce->s->nk; t++) {
    int64_t b = cgen_kernel_scratch(ce, &ce->s->k[t]);
    if (b > most) most = b;
  }
  return most;
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
static void node_comment(CEmit *ce, const Node *n, bool more) {
  char shp[160];
  cgen_printf(ce, "%s/* %%%d = %s(", more ? "" : "\n", n->id, ir_ops[n->op].name);
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

/* restrict promises the compiler that no two buffers of the kernel meet; a plan that
 * computes in place breaks that promise, so such a kernel goes without. */
static bool in_place(const CEmit *ce, const Kernel *k, const int *in, int nin) {
  for (int j = 0; j < k->n; j++)
    for (int i = 0; i < nin; i++)
      if (cgen_same_buffer(ce, in[i], k->nodes[j])) return true;
  return false;
}

static void param(CEmit *ce, const char *c, const Node *a, const char *r, const char *name, int len,
                  bool last) {
  char shp[160];
  cgen_printf(ce, "%s%s *%s%s /* %s %s */%s", c, cgen_ctype(a), r, name, dtype_name(a->dtype),
              cgen_shape(&a->shape, shp, sizeof shp), last ? ") {\n" : ",\n");
  if (!last) cgen_printf(ce, "%*s", len, "");
}

/* A kernel with vecmath.c's sqrt stays a function of its own (DLC_NOINLINE): inlined
 * into a training step, gcc 12 left Adam's update loop (sqrt, a divide, in place)
 * scalar, where on its own it vectorises after a run-time test of overlap. */
static bool keep_apart(const CEmit *ce, const Kernel *k) {
  for (int j = 0; j < k->n; j++) {
    const Node *n = ce->g->nodes[k->nodes[j]];
    if ((n->op == OP_SQRT || n->op == OP_RSQRT) && cgen_vecmath_used(ce, n)) return true;
  }
  return false;
}

/* Inputs a0.. (seq_in0.. for SEQ, whose blocks name theirs a0..), then the result y, or
 * every node's buffer seq_out0.. for SEQ (names no family emitter declares). */
static void signature(CEmit *ce, const Kernel *k, const int *in, int nin) {
  char head[160], kname[96], name[32];
  bool seq = k->kind == KERNEL_SEQ;
  const char *r = seq || in_place(ce, k, in, nin) ? "" : "restrict "; /* SEQ values may share bytes */
  cgen_kernel_name(ce, k, kname, sizeof kname);
  int len = snprintf(head, sizeof head, "%s%sstatic %s %s(", ce->device ? "" : "DLC_KERNEL ",
                     !ce->device && keep_apart(ce, k) ? "DLC_NOINLINE " : "",
                     cgen_kernel_can_fail(ce, k) ? "int" : "void", kname);
  cgen_printf(ce, "%s", head);
  for (int i = 0; i < nin; i++) {
    snprintf(name, sizeof name, "%s%d", seq ? "seq_in" : "a", i);
    param(ce, "const ", ce->g->nodes[in[i]], r, name, len, false);
  }
  bool heap = !ce->device && cgen_kernel_heap(ce, k), re = !ce->device && cgen_kernel_regex(ce, k) >= 0;
  bool ws = !ce->device && cgen_kernel_scratch(ce, k) > 0;
  for (int j = seq ? 0 : k->n - 1; j < k->n; j++) {
    if (seq) snprintf(name, sizeof name, "seq_out%d", j);
    else snprintf(name, sizeof name, "y");
    param(ce, "", ce->g->nodes[k->nodes[j]], r, name, len, j == k->n - 1 && !ws && !heap && !re);
  }
  if (ws) cgen_printf(ce, "unsigned char *restrict ws /* scratch: %lld bytes */%s", (long long)cgen_kernel_scratch(ce, k),
                      heap ? ",\n" : ") {\n");
  if (ws && heap) cgen_printf(ce, "%*s", len, "");
  if (heap) cgen_printf(ce, "unsigned char *heap /* the string heap */%s", re ? ",\n" : ") {\n");
  if (heap && re) cgen_printf(ce, "%*s", len, "");
  if (re) cgen_printf(ce, "const regex_t *re /* compiled by NAME_init */) {\n");
}

int cgen_node_body(CEmit *ce, const Node *n) { return cgen_table[n->op](ce, n); }

static int body(CEmit *ce, const Kernel *k) {
  switch (k->kind) {
  case KERNEL_SINGLE: return cgen_node_body(ce, ce->g->nodes[k->nodes[0]]);
  case KERNEL_ELEMWISE: return cgen_fused_elemwise(ce, k);
  case KERNEL_REDUCE: return cgen_fused_reduce(ce, k);
  case KERNEL_ROW: return cgen_fused_row(ce, k);
  case KERNEL_SEQ: return cgen_fused_seq(ce, k);
  case KERNEL_EPILOGUE: return cgen_epilogue(ce, k);
  }
  return dlc_errf(ce->e, "cgen: no C emitter for kernel kind %d", (int)k->kind);
}

static int kernel(CEmit *ce, const Kernel *k) {
  if (cgen_before_kernel(ce, k) || matmul_int_before(ce, k)) return -1;
  int max = 0;
  for (int j = 0; j < k->n; j++) max += ce->g->nodes[k->nodes[j]]->nin;
  int *in = dlc_malloc(sizeof(int) * (size_t)(max ? max : 1));
  DLC_ASSERT(in);
  int nin = cgen_kernel_inputs(ce, k, in);
  if (k->n > 1) cgen_printf(ce, "\n/* one kernel of %d nodes: */\n", k->n);
  for (int j = 0; j < k->n; j++) node_comment(ce, ce->g->nodes[k->nodes[j]], k->n > 1);
  signature(ce, k, in, nin);
  free(in);
  if (body(ce, k)) return -1;
  if (cgen_kernel_can_fail(ce, k)) cgen_line(ce, 1, "return 0;");
  cgen_printf(ce, "}\n");
  return 0;
}

int cgen_c_kernels(CEmit *ce) {
  for (int t = 0; t < ce->s->nk; t++)
    if (kernel(ce, &ce->s->k[t]) || cgen_code_budget(ce)) return -1;
  return 0;
}

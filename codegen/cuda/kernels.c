/* kernels.c — the schedule as __global__ functions: one per kernel of the schedule,
 * named k<id>_<op> after the node it produces.
 *
 * Each kernel kind of passes.h has one emitter here.  A fused kind whose nodes do not
 * fit its emitter (an epilogue that changes the shape, a row pattern it does not
 * know) runs as a sequence instead: one __global__ function per node, launched one
 * after another, with the values the plan did not place (LOC_NONE: they were meant to
 * stay in registers) in a scratch buffer that every such kernel shares.  So every
 * schedule runs, and fusion only ever makes it faster.
 *
 * The op families are found by name (the IMPL column of ops.def), so a row whose
 * family has no CUDA emitter yet fails here, naming the op, instead of failing the
 * build. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cuda.h"

typedef struct Family {
  const char *impl;
  CudaFn fn;
} Family;

static const Family families[] = {
    {"unary", cuda_elementwise}, {"binary", cuda_elementwise}, {"select", cuda_elementwise},
    {"cast", cuda_elementwise},  {"bitcast", cuda_elementwise}, {"reduce", cuda_reduce},      {"arg", cuda_arg},
    {"reshape", cuda_reshape},   {"transpose", cuda_transpose}, {"broadcast", cuda_broadcast},
    {"slice", cuda_slice},       {"pad", cuda_pad},             {"concat", cuda_concat},
    {"iota", cuda_iota},         {"gather", cuda_gather},       {"matmul", cuda_matmul},
    {"conv", cuda_conv},         {"pool", cuda_pool},           {"scatter", cuda_scatter},
    {"conv_grad_input", cuda_conv_grad_input}, {"conv_grad_weight", cuda_conv_grad_weight},
    {"pool_max_grad", cuda_pool_max_grad},     {"pool_avg_grad", cuda_pool_avg_grad},
    {"rng", cuda_rng},           {"nonzero", cuda_dynamic},     {"unique", cuda_dynamic},
    {"nms", cuda_dynamic},       {"matmul_int", cuda_matmul_int},
};

static CudaFn family_of(const Node *n) {
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (!strcmp(families[i].impl, ir_ops[n->op].impl)) return families[i].fn;
  return NULL;
}

/* ---- launches and their arguments ---- */

/* A new launch named after node n, with room for nargs arguments. */
static CuLaunch *launch_new(CuEmit *ce, const Node *n, int nargs) {
  if (ce->nl == ce->capl) {
    ce->capl = ce->capl ? 2 * ce->capl : 32;
    ce->l = dlc_realloc(ce->l, (size_t)ce->capl * sizeof *ce->l);
    DLC_ASSERT(ce->l);
  }
  CuLaunch *l = &ce->l[ce->nl++];
  memset(l, 0, sizeof *l);
  snprintf(l->name, sizeof l->name, "k%d_%s", n->id, ir_ops[n->op].name);
  l->args = dlc_calloc((size_t)nargs + 1, sizeof(int));
  DLC_ASSERT(l->args);
  return l;
}

static bool in_list(const int *ids, int n, int id) {
  for (int i = 0; i < n; i++)
    if (ids[i] == id) return true;
  return false;
}

/* The launch of nodes ids[0..n): every operand from outside them once, then the
 * result `out`, then the error flag when a node can fail. */
static CuLaunch *launch_for(CuEmit *ce, const int *ids, int n, int out) {
  int total = 2;
  for (int j = 0; j < n; j++) total += ce->c.g->nodes[ids[j]]->nin;
  CuLaunch *l = launch_new(ce, ce->c.g->nodes[out], total);
  bool fails = false;
  for (int j = 0; j < n; j++) {
    const Node *x = ce->c.g->nodes[ids[j]];
    fails |= x->op == OP_GATHER || x->op == OP_SCATTER_ADD; /* indices from the caller */
    for (int i = 0; i < x->nin; i++)
      if (!in_list(ids, n, x->in[i]) && !in_list(l->args, l->nargs, x->in[i])) l->args[l->nargs++] = x->in[i];
  }
  l->args[l->nargs++] = out;
  if (fails) l->args[l->nargs++] = CUDA_ARG_ERR;
  int64_t ws = n == 1 ? cuda_dynamic_ws(ce, ce->c.g->nodes[ids[0]]) : 0;
  if (ws) {
    l->args[l->nargs++] = CUDA_ARG_WS;
    l->ws_at = ce->ws_at;
    if (ce->ws_at + ws > ce->scratch_bytes) ce->scratch_bytes = ce->ws_at + ws;
  }
  return l;
}

/* Scratch values are never in the plan's buffers. */
static bool same_buffer(const CuEmit *ce, int a, int b) {
  if (ce->scratch[a] >= 0 || ce->scratch[b] >= 0) return ce->scratch[a] == ce->scratch[b];
  return cgen_same_buffer(&ce->c, a, b);
}

/* int indices, unless a grid-stride loop could pass 2^31. */
static void index_type(CuEmit *ce, int64_t max_elems) {
  ce->it = max_elems < ((int64_t)1 << 31) - ((int64_t)1 << 24) ? "int" : "int64_t";
}

static void pick_index_type(CuEmit *ce, const CuLaunch *l, const int *ids, int n) {
  int64_t max = 1;
  for (int i = 0; i < l->nargs; i++)
    if (l->args[i] >= 0) {
      int64_t c = shape_numel(&ce->c.g->nodes[l->args[i]]->shape);
      max = c > max ? c : max;
    }
  for (int j = 0; j < n; j++) {
    int64_t c = shape_numel(&ce->c.g->nodes[ids[j]]->shape);
    max = c > max ? c : max;
  }
  index_type(ce, max);
}

/* ---- the signature ---- */

static bool any_alias(const CuEmit *ce, const CuLaunch *l) {
  for (int i = 0; i < l->nargs; i++)
    for (int j = i + 1; j < l->nargs; j++)
      if (l->args[i] >= 0 && l->args[j] >= 0 && same_buffer(ce, l->args[i], l->args[j]))
        return true;
  return false;
}

static void signature(CuEmit *ce, const CuLaunch *l, const int *nodes, int n) {
  char shp[160];
  const Node *last = ce->c.g->nodes[nodes[n - 1]];
  cgen_printf(&ce->c, "\n/*");
  for (int j = 0; j < n; j++) {
    const Node *x = ce->c.g->nodes[nodes[j]];
    cgen_printf(&ce->c, "%s %%%d = %s", j ? "," : "", x->id, ir_ops[x->op].name);
  }
  cgen_printf(&ce->c, "  # %s%s */\n", dtype_name(last->dtype), cgen_shape(&last->shape, shp, sizeof shp));
  const char *r = any_alias(ce, l) ? "" : "__restrict__ ";
  char head[128];
  int len = snprintf(head, sizeof head, "extern \"C\" __global__ void %s(", l->name);
  cgen_printf(&ce->c, "%s", head);
  int out = l->nargs - 1;
  while (out > 0 && l->args[out] < 0) out--;
  for (int i = 0; i < l->nargs; i++) {
    const char *sep = i + 1 < l->nargs ? ",\n" : ") {\n";
    if (l->args[i] == CUDA_ARG_ERR) {
      cgen_printf(&ce->c, "%*sint *%serr /* set to 1 by an index out of range */%s", i ? len : 0, "", r, sep);
      continue;
    }
    if (l->args[i] == CUDA_ARG_WS) {
      cgen_printf(&ce->c, "%*sunsigned char *%sws /* the workspace, in the scratch buffer */%s", i ? len : 0, "", r, sep);
      continue;
    }
    const Node *a = ce->c.g->nodes[l->args[i]];
    cgen_printf(&ce->c, "%*s%s%s *%sbuf%d /* %s%s */%s", i ? len : 0, "", i == out ? "" : "const ",
                cgen_ctype(a), r, a->id, dtype_name(a->dtype), cgen_shape(&a->shape, shp, sizeof shp), sep);
  }
}

CuLaunch *cuda_begin(CuEmit *ce, const int *ids, int n) {
  CuLaunch *l = launch_for(ce, ids, n, ids[n - 1]);
  pick_index_type(ce, l, ids, n);
  signature(ce, l, ids, n);
  return l;
}

/* ---- the kinds ---- */

/* Nothing to run: an empty result, or a reshape the plan put in its operand's buffer. */
static bool nothing_to_do(const CuEmit *ce, const Node *n, int out) {
  const Node *o = ce->c.g->nodes[out];
  if (shape_numel(&o->shape) == 0) return true;
  return n->op == OP_RESHAPE && n->id == out && same_buffer(ce, n->in[0], n->id);
}

/* Node ids[0] by fn (NULL: its family's emitter), with ids[1..n) as its epilogue. */
static int emit(CuEmit *ce, const int *ids, int n, CudaFn fn) {
  const Node *first = ce->c.g->nodes[ids[0]];
  fn = fn ? fn : family_of(first);
  if (!fn)
    return dlc_errf(ce->c.e, "cuda: no CUDA kernel for op '%s' (family %s) yet", ir_ops[first->op].name,
                    ir_ops[first->op].impl);
  int out = ids[n - 1];
  if (nothing_to_do(ce, first, out)) return 0;
  CuLaunch *l = cuda_begin(ce, ids, n);
  CuEpilogue epi = {.ids = ids + 1, .n = n - 1, .out = out};
  if (fn(ce, first, &epi, l)) return -1;
  cgen_printf(&ce->c, "}\n");
  return 0;
}

static int64_t align64(int64_t x) { return (x + 63) / 64 * 64; }

/* The nodes one by one; the values the plan left in registers go to scratch. */
static int sequence(CuEmit *ce, const Kernel *k) {
  int64_t off = 0;
  for (int j = 0; j < k->n; j++) {
    const Node *x = ce->c.g->nodes[k->nodes[j]];
    if (ce->c.p->loc[x->id].kind != LOC_NONE) continue;
    ce->scratch[x->id] = off;
    off += align64(shape_numel(&x->shape) * dtype_size(x->dtype));
  }
  ce->scratch_bytes = off > ce->scratch_bytes ? off : ce->scratch_bytes;
  ce->kids = NULL, ce->kn = 0; /* every node has a buffer: none is a view */
  ce->ws_at = off; /* a workspace goes past this sequence's values */
  for (int j = 0; j < k->n; j++)
    if (emit(ce, &k->nodes[j], 1, NULL)) return ce->ws_at = 0, -1;
  ce->ws_at = 0;
  return 0;
}

/* Elementwise nodes and views (passes.h): what a chain evaluates at one element. */
static bool all_elementwise(const CuEmit *ce, const int *ids, int n) {
  for (int j = 0; j < n; j++)
    if (!op_is_elementwise(ce->c.g->nodes[ids[j]]->op) && !cuda_is_view(ce, ids[j])) return false;
  return true;
}

/* A heavy node then elementwise nodes over its result's own shape: one kernel that
 * applies them before it stores. */
static int epilogue(CuEmit *ce, const Kernel *k) {
  const Node *first = ce->c.g->nodes[k->nodes[0]], *last = ce->c.g->nodes[k->nodes[k->n - 1]];
  if (!all_elementwise(ce, k->nodes + 1, k->n - 1) || !shape_eq(&first->shape, &last->shape))
    return sequence(ce, k);
  return emit(ce, k->nodes, k->n, NULL);
}

static int fused_or_sequence(CuEmit *ce, const Kernel *k, int r) {
  return r == 1 ? sequence(ce, k) : r;
}

static int kernel(CuEmit *ce, const Kernel *k) {
  bool fused = k->kind != KERNEL_SINGLE && k->kind != KERNEL_SEQ;
  ce->kids = fused ? k->nodes : NULL, ce->kn = fused ? k->n : 0;
  switch (k->kind) {
  case KERNEL_SINGLE: return emit(ce, k->nodes, k->n, NULL);
  case KERNEL_ELEMWISE:
    return all_elementwise(ce, k->nodes, k->n) ? emit(ce, k->nodes, k->n, cuda_elementwise) : sequence(ce, k);
  case KERNEL_EPILOGUE: return epilogue(ce, k);
  case KERNEL_REDUCE:
    if (!all_elementwise(ce, k->nodes, k->n - 1)) return sequence(ce, k);
    return fused_or_sequence(ce, k, cuda_reduce_fused(ce, k->nodes, k->n));
  case KERNEL_ROW: return fused_or_sequence(ce, k, cuda_row(ce, k->nodes, k->n));
  case KERNEL_SEQ: return sequence(ce, k);
  }
  return dlc_errf(ce->c.e, "cuda: unknown kernel kind %d", (int)k->kind);
}

int cuda_kernels(CuEmit *ce) {
  for (int t = 0; t < ce->c.s->nk; t++) {
    ce->kfirst[t] = ce->nl;
    if (kernel(ce, &ce->c.s->k[t]) || cgen_code_budget(&ce->c)) return -1;
  }
  ce->kfirst[ce->c.s->nk] = ce->nl;
  return 0;
}

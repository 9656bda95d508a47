/* split_load.c — a batch in parts (--micro-batch; split_load.h): whether the model runs
 * in parts, and the model at a part's samples when it does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "split_load.h"

/* The weight a product reads (operand 1 through layout-only ops), or NULL. */
static const Node *weight_of(const Graph *g, const Node *n) {
  const Node *w = g->nodes[n->in[1]];
  while ((w->op == OP_TRANSPOSE || w->op == OP_RESHAPE || w->op == OP_CAST || w->op == OP_SLICE) && w->nin == 1)
    w = g->nodes[w->in[0]];
  return w->op == OP_PARAM || w->op == OP_CONST ? w : NULL;
}

/* Under auto: whether parts of `part` samples pay.  They do when the whole batch has a
 * value too large for a core's cache (over AUTO_VALUE_BYTES: at the batch, activations
 * go through memory between kernels; in a part they stay in the caches), and when they
 * keep the speed of the products: a product whose weights a sample reads few times (an
 * LSTM's step, an MLP's layers, a classifier) streams them once per part instead of once
 * per batch, a cost counted as 8 flops a byte that must stay under 5% of the model's
 * flops. */
#define AUTO_VALUE_BYTES (1 << 20)
static bool parts_pay(const Graph *small, int64_t part, int64_t parts, char *why, size_t n) {
  double flops = 0, cost = 0, most = 0;
  for (int i = 0; i < small->n; i++) {
    const Node *x = small->nodes[i];
    if (x->op != OP_PARAM && x->op != OP_CONST) {
      double bytes = (double)shape_numel(&x->shape) * dtype_size(x->dtype) * (double)parts;
      most = bytes > most ? bytes : most;
    }
    if ((x->op != OP_MATMUL && x->op != OP_CONV) || x->nin < 2 || x->shape.rank < 2 ||
        small->nodes[x->in[0]]->shape.rank < 2)
      continue;
    const Node *w = weight_of(small, x), *a = small->nodes[x->in[0]];
    int64_t cols = x->op == OP_CONV ? x->shape.d[1] : x->shape.d[x->shape.rank - 1];
    int64_t k = x->op == OP_CONV ? (cols ? shape_numel(&small->nodes[x->in[1]]->shape) / cols : 0)
                                 : a->shape.d[a->shape.rank - (node_int(x, A_TRANS_A) ? 2 : 1)];
    flops += 2.0 * (double)shape_numel(&x->shape) * (double)k * (double)parts;
    if (!w || !cols) continue;
    double uses = (double)shape_numel(&x->shape) / (double)cols / (double)part; /* per weight, per sample */
    if (uses < 16) cost += 8.0 * (double)shape_numel(&w->shape) * dtype_size(w->dtype) * (double)parts;
  }
  if (most <= AUTO_VALUE_BYTES)
    snprintf(why, n, "its largest value, %.0f bytes, fits the caches", most);
  else if (flops <= 0)
    snprintf(why, n, "it has no products");
  else if (cost >= 0.05 * flops)
    snprintf(why, n, "its products read their weights too few times per sample (%.0f of %.0f flops' worth)", cost, flops);
  else
    return true;
  return false;
}

static int whole(SplitBuild *sp, const char *fmt, ...) DLC_PRINTF(2, 3);
static int whole(SplitBuild *sp, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sp->why, sizeof sp->why, fmt, ap);
  va_end(ap);
  return 0;
}

int split_build(const Graph *big, int64_t micro, SplitLoad load, void *ctx, SplitBuild *sp, DlcErr *e) {
  memset(sp, 0, sizeof *sp);
  if (!micro) return 0;
  bool autom = micro < 0;
  int ni = ir_num_inputs(big);
  int64_t total = 0;
  for (int i = 0; i < ni && !total; i++) {
    const Node *x = big->nodes[ir_input_id(big, i)];
    if (x->shape.rank >= 1) total = x->shape.d[0];
  }
  const char *file = big->file ? big->file : "the model";
  int64_t part = micro;
  if (autom) {
    part = total % 4 == 0 ? 4 : total % 2 == 0 ? 2 : 1;
    if (total <= part) return whole(sp, "a batch of %lld", (long long)total);
  } else if (total < 2 || part >= total || total % part) {
    return dlc_errf(e, "%s: --micro-batch %lld: the batch (the inputs' first dimension, %lld) must be a multiple of it, and "
                    "larger", file, (long long)part, (long long)total);
  }
  DlcErr se;
  Graph *small = load(ctx, total, part, &se);
  if (!small) {
    if (autom) return whole(sp, "at %lld samples: %s", (long long)part, se.msg);
    return dlc_errf(e, "--micro-batch %lld: the model at that batch: %s", (long long)part, se.msg);
  }
  sp->io = calloc((size_t)(ni + big->nout) + 1, sizeof *sp->io);
  if (!sp->io) {
    ir_graph_free(small);
    return dlc_errf(e, "out of memory");
  }
  int r = dyn_split_check(big, total, small, part, sp->io, &se);
  for (int i = 0; !r && i < ni + big->nout; i++) {
    const DynIO *io = &sp->io[i];
    const char *name = i < ni ? big->nodes[ir_input_id(big, i)]->name : big->out_name[i - ni];
    if ((io->axis >= 0 && io->outer != 1) || (i >= ni && io->axis < 0))
      r = dlc_errf(&se, "%s%s--micro-batch: %s '%s' does not hold its samples one after another", big->file ? big->file : "",
                   big->file ? ": " : "", i < ni ? "input" : "output", name ? name : "?");
  }
  if (!r && autom && !parts_pay(small, part, total / part, sp->why, sizeof sp->why)) r = 1;
  if (r) {
    ir_graph_free(small);
    free(sp->io);
    sp->io = NULL;
    if (r > 0) return 0;
    if (autom) return whole(sp, "%s", se.msg);
    return dlc_errf(e, "%s", se.msg);
  }
  sp->g = small, sp->total = total, sp->part = part;
  return 0;
}

void split_free(SplitBuild *sp) {
  ir_graph_free(sp->g);
  free(sp->io);
  sp->g = NULL, sp->io = NULL;
}

const CgenSplit *split_cgen(const SplitBuild *sp, CgenSplit *buf) {
  if (!sp->g) return NULL;
  *buf = (CgenSplit){.g = sp->g, .total = sp->total, .part = sp->part, .io = sp->io};
  return buf;
}

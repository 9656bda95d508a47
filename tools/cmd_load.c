/* cmd_load.c — reading the model a command names, then verifying it, so no later
 * stage ever sees a graph the verifier would reject. */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

#include "cmd.h"

/* All of stdin; NULL with e set. */
static char *read_stdin(size_t *len, DlcErr *e) {
  size_t cap = 1 << 16, n = 0;
  char *buf = dlc_malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, stdin);
    if (n < cap) break;
    char *bigger = dlc_try_realloc(buf, cap *= 2);
    if (!bigger) free(buf);
    buf = bigger;
  }
  if (!buf) return dlc_errf(e, "<stdin>: out of memory"), NULL;
  if (ferror(stdin)) {
    free(buf);
    return dlc_errf(e, "<stdin>: read failed"), NULL;
  }
  *len = n;
  return buf;
}

static Graph *load_stdin(const LoadOptions *o, DlcErr *e) {
  size_t len;
  char *src = read_stdin(&len, e);
  if (!src) return NULL;
  Graph *g = txt_parse(src, len, "<stdin>", o, e);
  free(src);
  return g;
}

Graph *cmd_load(const CmdArgs *a, DlcErr *e) {
  Graph *g = strcmp(a->model, "-") ? frontend_load(a->model, &a->load, e) : load_stdin(&a->load, e);
  if (g && ir_verify(g, e)) {
    ir_graph_free(g);
    return NULL;
  }
  return g;
}

Graph *cmd_load_sizes(const CmdArgs *a, const DynInfo *d, const int64_t *sz, DlcErr *e) {
  CmdArgs b = *a;
  for (int j = 0; j < d->ndim; j++) {
    int k = 0;
    while (k < b.load.ndims && strcmp(b.load.dims[k].name, d->dim[j].name)) k++;
    if (k == LOAD_MAX_BIND) return dlc_errf(e, "too many --dim"), NULL;
    if (k == b.load.ndims) b.load.ndims++;
    b.load.dims[k].name = d->dim[j].name, b.load.dims[k].value = sz[j];
    if (!strcmp(d->dim[j].name, "batch")) b.load.batch = sz[j];
  }
  return cmd_load(&b, e);
}

static Graph *load_at(const CmdArgs *a, const DynInfo *d, int v, DlcErr *e) {
  int64_t sz[DYN_MAX_DIMS];
  dyn_sizes(d, v, sz);
  return cmd_load_sizes(a, d, sz, e);
}

/* --dynamic: one build per combination of sizes, checked and joined (passes/dynamic.c). */
Graph *cmd_load_dynamic(const CmdArgs *a, DynInfo *d, DlcErr *e) {
  d->bound = -1;
  for (int i = 0; i < a->ndynamic; i++)
    if (dyn_parse(a->dynamic[i], d, e)) return NULL;
  if (a->train || a->cuda)
    return dlc_errf(e, "--dynamic: %s", a->train ? "training builds have fixed shapes" : "the CUDA backend has fixed shapes"),
           NULL;
  Graph **v = calloc((size_t)d->nv, sizeof *v), *g = NULL;
  if (!v) return dlc_errf(e, "out of memory"), NULL;
  int r = 0;
  for (int i = 0; i < d->nv && !r; i++)
    if (!(v[i] = load_at(a, d, i, e))) r = -1;
  if (!r) dyn_merge(v, d, &g, e);
  for (int i = 0; i < d->nv; i++) ir_graph_free(v[i]);
  free(v);
  return g;
}

/* ---- --micro-batch ---- */

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
    if ((x->op != OP_MATMUL && x->op != OP_CONV) || x->nin < 2 || x->shape.rank < 2) continue;
    const Node *w = weight_of(small, x), *a = small->nodes[x->in[0]];
    int64_t cols = x->op == OP_CONV ? x->shape.d[1] : x->shape.d[x->shape.rank - 1];
    int64_t k = x->op == OP_CONV ? (cols ? shape_numel(&small->nodes[x->in[1]]->shape) / cols
                                         : 0)
                                 : a->shape.d[a->shape.rank - 1];
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

static int whole(CmdSplit *sp, const char *fmt, ...) DLC_PRINTF(2, 3);
static int whole(CmdSplit *sp, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sp->why, sizeof sp->why, fmt, ap);
  va_end(ap);
  return 0;
}

int cmd_load_split(const CmdArgs *a, const Graph *big, CmdSplit *sp, DlcErr *e) {
  memset(sp, 0, sizeof *sp);
  if (!a->micro) return 0;
  bool autom = a->micro < 0;
  int ni = ir_num_inputs(big);
  int64_t total = 0;
  for (int i = 0; i < ni && !total; i++) {
    const Node *x = big->nodes[ir_input_id(big, i)];
    if (x->shape.rank >= 1) total = x->shape.d[0];
  }
  if (a->train || a->cuda || a->ndynamic) { /* auto: these run whole, without a word */
    if (!autom) return dlc_errf(e, "--micro-batch: not with %s", a->train ? "training" : a->cuda ? "--target cuda" : "--dynamic");
    return 0;
  }
  int64_t part = a->micro;
  if (autom) {
    part = total % 4 == 0 ? 4 : total % 2 == 0 ? 2 : 1;
    if (total <= part) return whole(sp, "a batch of %lld", (long long)total);
  } else if (total < 2 || part >= total || total % part) {
    return dlc_errf(e, "%s: --micro-batch %lld: the batch (the inputs' first dimension, %lld) must be a multiple of it, and "
                    "larger", big->file ? big->file : a->model, (long long)part, (long long)total);
  }
  CmdArgs b = *a;
  b.load.lead_from = total, b.load.lead_to = part;
  if (b.load.batch == total) b.load.batch = part;
  DlcErr se;
  Graph *small = cmd_load(&b, &se);
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

void cmd_split_free(CmdSplit *sp) {
  ir_graph_free(sp->g);
  free(sp->io);
  sp->g = NULL, sp->io = NULL;
}

const CgenSplit *cmd_split_cgen(const CmdSplit *sp, CgenSplit *buf) {
  if (!sp->g) return NULL;
  *buf = (CgenSplit){.g = sp->g, .total = sp->total, .part = sp->part, .io = sp->io};
  return buf;
}

/* cmd_load.c — reading the model a command names, then verifying it, so no later
 * stage ever sees a graph the verifier would reject. */
#include <stdio.h>
#include <stdlib.h>
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
  if (a->train) return dlc_errf(e, "--dynamic: training builds have fixed shapes"), NULL;
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

static Graph *reload_at(void *ctx, int64_t from, int64_t to, DlcErr *e) {
  CmdArgs b = *(const CmdArgs *)ctx;
  load_set_lead(&b.load, from, to);
  return cmd_load(&b, e);
}

int cmd_load_split(const CmdArgs *a, const Graph *big, SplitBuild *sp, DlcErr *e) {
  memset(sp, 0, sizeof *sp);
  if (a->train || a->cuda || a->ndynamic) { /* auto: these run whole, without a word */
    if (a->micro > 0)
      return dlc_errf(e, "--micro-batch: not with %s", a->train ? "training" : a->cuda ? "--target cuda" : "--dynamic");
    return 0;
  }
  return split_build(big, a->micro, reload_at, (void *)a, sp, e);
}

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

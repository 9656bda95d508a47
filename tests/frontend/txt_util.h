/* txt_util.h — what the text-format tests share: reading files, listing a folder,
 * printing a graph to a string, and comparing two graphs structurally. */
#ifndef DLC_TEST_TXT_UTIL_H
#define DLC_TEST_TXT_UTIL_H

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend.h"

/* The whole file, NUL-terminated, malloc'ed; NULL if unreadable. */
static inline char *util_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = '\0';
  if (len) *len = got;
  return buf;
}

static int util_cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths dir/NAME with the given suffix, sorted; *n of them; free with util_free_list. */
static inline char **util_list(const char *dir, const char *suffix, int *n) {
  DIR *d = opendir(dir);
  char **out = NULL;
  *n = 0;
  if (!d) return NULL;
  for (struct dirent *e; (e = readdir(d));) {
    size_t l = strlen(e->d_name), ls = strlen(suffix);
    if (l <= ls || strcmp(e->d_name + l - ls, suffix)) continue;
    out = realloc(out, sizeof(char *) * (size_t)(*n + 1));
    size_t m = strlen(dir) + l + 2;
    out[*n] = malloc(m);
    snprintf(out[*n], m, "%s/%s", dir, e->d_name);
    (*n)++;
  }
  closedir(d);
  if (*n) qsort(out, (size_t)*n, sizeof(char *), util_cmp_str);
  return out;
}

static inline void util_free_list(char **l, int n) {
  for (int i = 0; i < n; i++) free(l[i]);
  free(l);
}

/* ir_print into a malloc'ed string. */
static inline char *util_print(const Graph *g) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ir_print(f, g);
  fclose(f);
  return buf;
}

static inline Graph *util_parse(const char *src, const char *file, const LoadOptions *o, DlcErr *e) {
  return txt_parse(src, strlen(src), file, o, e);
}

static bool attr_same(const Attr *a, const Attr *b) {
  if (a->kind != b->kind) return false;
  switch (a->kind) {
  case AK_INT: case AK_DTYPE: return a->i == b->i;
  case AK_FLOAT: return !memcmp(&a->f, &b->f, sizeof a->f);
  case AK_INTS: return a->n == b->n && (!a->n || !memcmp(a->ints, b->ints, sizeof(int64_t) * (size_t)a->n));
  }
  return false;
}

static bool init_same(const Init *a, const Init *b) {
  if (a->kind != b->kind) return false;
  if (a->kind == INIT_DATA) return true;
  return !memcmp(&a->a, &b->a, sizeof a->a) && !memcmp(&a->b, &b->b, sizeof a->b) && a->seed == b->seed;
}

/* Why node i of a and b differ, or NULL if they are the same (names of computed nodes
 * and unnamed constants aside: the printer may rename those). */
static const char *util_node_diff(const Node *x, const Node *y) {
  if (x->op != y->op) return "op";
  if (x->dtype != y->dtype) return "dtype";
  if (!shape_eq(&x->shape, &y->shape)) return "shape";
  if (x->nin != y->nin || (x->nin && memcmp(x->in, y->in, sizeof(int) * (size_t)x->nin)))
    return "operands";
  if (x->nattr != y->nattr) return "attribute count";
  for (int k = 0; k < x->nattr; k++) {
    const Attr *o = node_attr(y, x->attr[k].key);
    if (!o || !attr_same(&x->attr[k], o)) return "attribute";
  }
  bool named = x->op == OP_INPUT || x->op == OP_PARAM || (x->op == OP_CONST && x->name);
  if (named && (!y->name || strcmp(x->name, y->name))) return "name";
  if (x->op == OP_PARAM && !init_same(&x->init, &y->init)) return "initializer";
  if (x->op == OP_PARAM || x->op == OP_CONST) {
    size_t bytes = (size_t)(shape_numel(&x->shape) * dtype_size(x->dtype));
    if (memcmp(x->data, y->data, bytes)) return "data";
  }
  return NULL;
}

/* 0 if a and b are the same graph; else prints the first difference and returns -1. */
static inline int util_graph_diff(const Graph *a, const Graph *b, const char *what) {
  if (a->n != b->n || a->nout != b->nout || strcmp(a->name, b->name)) {
    fprintf(stderr, "%s: graphs differ: %d vs %d nodes, %d vs %d outputs, name %s vs %s\n", what,
            a->n, b->n, a->nout, b->nout, a->name, b->name);
    return -1;
  }
  for (int i = 0; i < a->n; i++) {
    const char *why = util_node_diff(a->nodes[i], b->nodes[i]);
    if (why) {
      fprintf(stderr, "%s: node %d (%s) differs in its %s\n", what, i, ir_ops[a->nodes[i]->op].name, why);
      return -1;
    }
  }
  for (int i = 0; i < a->nout; i++)
    if (a->out[i] != b->out[i] || strcmp(a->out_name[i], b->out_name[i])) {
      fprintf(stderr, "%s: output %d differs\n", what, i);
      return -1;
    }
  return 0;
}

#endif

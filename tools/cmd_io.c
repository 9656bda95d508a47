/* cmd_io.c — what `dlc run` feeds a model and what it shows of the results: inputs
 * from .npy files (checked against the model) or seeded random values, a one-line
 * summary per output, and outputs saved as .npy. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "dlcrt.h"

/* Integers are drawn from [0, INT_RANGE): small enough to be valid indices for the
 * gathers and embeddings that integer inputs usually feed. */
#define INT_RANGE 4

void *cmd_alloc_value(const Node *n) {
  int64_t numel = shape_numel(&n->shape);
  return dlc_calloc((size_t)(numel ? numel : 1), (size_t)dtype_size(n->dtype));
}

/* ---- strings: what str buffers point to lives until exit ---- */

static void **kept;
static int nkept, capkept;

static void free_kept(void) {
  for (int i = 0; i < nkept; i++) free(kept[i]);
  free(kept);
  kept = NULL, nkept = capkept = 0;
}

/* p (malloc'd) is freed at exit; -1 when memory runs out (p is freed now). */
static int keep(void *p) {
  if (nkept == capkept) {
    int cap = capkept ? 2 * capkept : 16;
    void **k = dlc_try_realloc(kept, sizeof *k * (size_t)cap);
    if (!k) return free(p), -1;
    if (!kept) atexit(free_kept);
    kept = k, capkept = cap;
  }
  kept[nkept++] = p;
  return 0;
}

int cmd_own_strings(const Graph *g, void *const *outs, DlcErr *e) {
  for (int j = 0; j < g->nout; j++) {
    const Node *n = ir_node(g, g->out[j]);
    if (n->dtype != DT_STR) continue;
    int64_t m = shape_numel(&n->shape);
    size_t total = 1;
    const char **s = outs[j];
    for (int64_t i = 0; i < m; i++) total += strlen(s[i]) + 1;
    char *block = dlc_try_malloc(total);
    if (!block || keep(block)) return dlc_errf(e, "out of memory for the output strings");
    for (int64_t i = 0; i < m; i++) {
      size_t len = strlen(s[i]) + 1;
      memcpy(block, s[i], len);
      s[i] = block, block += len;
    }
  }
  return 0;
}

/* ---- inputs ---- */

static const CmdInput *given_input(const CmdArgs *a, const char *name) {
  for (int i = 0; i < a->ninputs; i++)
    if (!strcmp(a->inputs[i].name, name)) return &a->inputs[i];
  return NULL;
}

/* Every --input must name an input of the model, once. */
static int check_names(const Graph *g, const CmdArgs *a, DlcErr *e) {
  for (int i = 0; i < a->ninputs; i++) {
    const CmdInput *in = &a->inputs[i];
    int id = ir_find(g, in->name);
    if (id < 0 || ir_node(g, id)->op != OP_INPUT)
      return dlc_errf(e, "--input %s=%s: the model has no input named '%s'", in->name, in->path,
                      in->name);
    if (given_input(a, in->name) != in) return dlc_errf(e, "--input '%s' given twice", in->name);
  }
  return 0;
}

static int load_npy(const Node *n, const char *path, void *buf, DlcErr *e) {
  RtTensor t;
  if (rt_npy_read(path, &t, e)) return -1;
  Shape got = shape_make(t.rank, t.dims);
  char want_s[128], got_s[128];
  bool same_type = rt_dtype_matches(t.dtype, dtype_name(n->dtype));
  if (!same_type || !shape_eq(&got, &n->shape)) {
    shape_str(&n->shape, want_s, sizeof want_s);
    shape_str(&got, got_s, sizeof got_s);
    dlc_errf(e, "%s: input '%s' expects %s%s, got %s%s", path, n->name, dtype_name(n->dtype), want_s,
             rt_dtype_name(t.dtype), got_s);
    rt_tensor_free(&t);
    return -1;
  }
  memcpy(buf, t.data, (size_t)rt_tensor_bytes(&t));
  if (t.dtype == RT_STR) return keep(t.data) ? dlc_errf(e, "%s: out of memory", path) : 0; /* the strings */
  rt_tensor_free(&t);
  return 0;
}

/* Floats uniform in [-1, 1), integers in [0, INT_RANGE), bools 0/1; one stream across
 * all inputs, so each seed names one set of inputs. */
static void fill_random(const Node *n, uint64_t seed, uint64_t *ctr, void *buf) {
  int64_t numel = shape_numel(&n->shape);
  static const char *const words[INT_RANGE] = {"0", "1", "2", "3"};
  for (int64_t i = 0; i < numel; i++) {
    double u = rt_rand_uniform(seed, (*ctr)++), v;
    if (n->dtype == DT_STR) {
      ((const char **)buf)[i] = words[(int)floor(u * INT_RANGE)];
      continue;
    }
    if (dtype_is_float(n->dtype)) v = 2 * u - 1;
    else if (n->dtype == DT_BOOL) v = u < 0.5;
    else v = floor(u * INT_RANGE);
    dtype_store(n->dtype, buf, i, v);
  }
}

void cmd_note_random(const Graph *g, const CmdArgs *a) {
  int nrandom = ir_num_inputs(g) - a->ninputs;
  if (!nrandom) return;
  fprintf(stderr, "dlc: note: %d input%s filled with random values (seed %llu): floats in [-1, 1), "
          "integers in [0, %d) (strings: their digits), bools 0/1:", nrandom, nrandom == 1 ? "" : "s",
          (unsigned long long)a->seed, INT_RANGE);
  for (int i = 0; i < ir_num_inputs(g); i++) {
    const Node *n = ir_node(g, ir_input_id(g, i));
    if (!given_input(a, n->name)) fprintf(stderr, " %s", n->name);
  }
  fputc('\n', stderr);
}

int cmd_inputs(const Graph *g, const CmdArgs *a, void **bufs, DlcErr *e) {
  if (check_names(g, a, e)) return -1;
  uint64_t ctr = 0;
  for (int i = 0; i < ir_num_inputs(g); i++) {
    const Node *n = ir_node(g, ir_input_id(g, i));
    const CmdInput *in = given_input(a, n->name);
    if (in && load_npy(n, in->path, bufs[i], e)) return -1;
    if (!in) fill_random(n, a->seed, &ctr, bufs[i]);
  }
  return 0;
}

/* ---- outputs ---- */

const char *cmd_output_name(const Graph *g, int j, char *buf, size_t n) {
  const char *name = g->out_name && g->out_name[j] ? g->out_name[j] : NULL;
  if (name) snprintf(buf, n, "%s", name);
  else snprintf(buf, n, "output%d", j);
  return buf;
}

#define SHOW_FIRST 6

static void print_strings(const Node *n, const void *data) {
  int64_t numel = shape_numel(&n->shape);
  for (int64_t i = 0; i < numel && i < SHOW_FIRST; i++) {
    fputs(i ? ", \"" : "\"", stdout);
    for (const unsigned char *p = ((const unsigned char *const *)data)[i]; *p; p++)
      if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) printf("\\x%02x", *p);
      else putchar(*p);
    putchar('"');
  }
  printf("%s]\n", numel > SHOW_FIRST ? ", ..." : "");
}

void cmd_print_output(const char *name, const Node *n, const void *data) {
  char s[128];
  shape_str(&n->shape, s, sizeof s);
  int64_t numel = shape_numel(&n->shape);
  if (n->dtype == DT_STR) {
    printf("%s: %s%s = [", name, dtype_name(n->dtype), s);
    print_strings(n, data);
    return;
  }
  printf("%s: %s%s = [", name, dtype_name(n->dtype), s);
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (int64_t i = 0; i < numel; i++) {
    double v = dtype_load(n->dtype, data, i);
    if (i < SHOW_FIRST) printf("%s%.6g", i ? ", " : "", v);
    lo = fmin(lo, v), hi = fmax(hi, v), sum += v;
  }
  printf("%s]", numel > SHOW_FIRST ? ", ..." : "");
  if (numel) printf("  min %.6g  max %.6g  mean %.6g", lo, hi, sum / (double)numel);
  putchar('\n');
}

/* Creates dir and its missing parents. */
static int make_dirs(const char *dir, DlcErr *e) {
  char p[4096];
  snprintf(p, sizeof p, "%s", dir);
  for (char *s = p + 1;; s++) {
    char c = *s;
    if (c != '/' && c) continue;
    *s = 0;
    if (mkdir(p, 0777) && errno != EEXIST)
      return dlc_errf(e, "cannot create folder '%s': %s", p, strerror(errno));
    *s = c;
    if (!c) break;
  }
  struct stat st;
  if (stat(p, &st) || !S_ISDIR(st.st_mode)) return dlc_errf(e, "'%s' is not a folder", dir);
  return 0;
}

/* An output name as a file name: path separators and dots at the start would escape
 * or hide the file, so they become '_'. */
static void file_name(const char *name, char *buf, size_t n) {
  size_t k = 0;
  for (; *name && k + 1 < n; name++, k++) buf[k] = *name == '/' || (!k && *name == '.') ? '_' : *name;
  buf[k] = 0;
}

void *cmd_output_view(const Graph *g, int j, void *const *outs, Node *view) {
  *view = *ir_node(g, g->out[j]);
  int k = g->out_count ? g->out_count[j] : -1;
  if (k < 0) return NULL;
  int ax = g->out_axis[j];
  int64_t dim = view->shape.d[ax], have = *(const int64_t *)outs[k], outer = 1, inner = dtype_size(view->dtype);
  if (have < 0 || have > dim) have = dim; /* cannot happen: the count is at most the bound */
  for (int d = 0; d < ax; d++) outer *= view->shape.d[d];
  for (int d = ax + 1; d < view->shape.rank; d++) inner *= view->shape.d[d];
  view->shape.d[ax] = have;
  unsigned char *dst = dlc_malloc((size_t)(outer * have * inner + 1));
  const unsigned char *src = outs[j];
  for (int64_t o = 0; o < outer; o++) memcpy(dst + o * have * inner, src + o * dim * inner, (size_t)(have * inner));
  return dst;
}

int cmd_save_outputs(const Graph *g, const char *dir, void *const *outs, DlcErr *e) {
  if (make_dirs(dir, e)) return -1;
  for (int j = 0; j < g->nout; j++) {
    Node view;
    void *trimmed = cmd_output_view(g, j, outs, &view);
    const Node *n = &view;
    char name[256], file[256], path[4600];
    file_name(cmd_output_name(g, j, name, sizeof name), file, sizeof file);
    snprintf(path, sizeof path, "%s/%s.npy", dir, file);
    RtTensor t = {.rank = n->shape.rank, .data = trimmed ? trimmed : outs[j]};
    int r = rt_dtype_parse(dtype_name(n->dtype), &t.dtype) ? dlc_errf(e, "%s: no .npy type for %s", path, dtype_name(n->dtype)) : 0;
    memcpy(t.dims, n->shape.d, sizeof(int64_t) * (size_t)n->shape.rank);
    if (!r) r = rt_npy_write(path, &t, e);
    free(trimmed);
    if (r) return -1;
  }
  return 0;
}

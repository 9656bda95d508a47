/* test_layers.c — the layers of txt_layers_rnn.c and txt_layers_more.c against
 * independent oracles.
 *
 *     test_layers REF_DIR
 *
 * REF_DIR holds one folder per case, written by torch_ref.py: model.dlc, <param>.npy
 * for every parameter, <input>.npy, <output>.npy (PyTorch or numpy in float64).  Each
 * model is read, printed and read back (the same text twice), its parameters replaced
 * by the oracle's, run by the reference interpreter and compared: relative error at
 * most 1e-9 for f64 models, 1e-4 for f32 (28 steps of rounding).  Then malformed uses
 * of the layers must fail with FILE:LINE:COL and a message. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dlcrt.h"
#include "frontend.h"

static char *print_graph(const Graph *g) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ir_print(f, g);
  fclose(f);
  return buf;
}

/* The oracle's file dir/name.npy, which must have the node's dtype and shape. */
static int load(const char *dir, const char *name, const Node *n, RtTensor *t) {
  char path[1024], want[128], got[128];
  DlcErr e = {0};
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  if (rt_npy_read(path, t, &e)) {
    fprintf(stderr, "%s\n", e.msg);
    return -1;
  }
  shape_str(&n->shape, want, sizeof want);
  rt_shape_str(t->rank, t->dims, got, sizeof got);
  if (strcmp(rt_dtype_name(t->dtype), dtype_name(n->dtype)) || strcmp(want, got)) {
    fprintf(stderr, "%s: %s%s, the model has %s%s\n", path, rt_dtype_name(t->dtype), got,
            dtype_name(n->dtype), want);
    rt_tensor_free(t);
    return -1;
  }
  return 0;
}

static int set_params(Graph *g, const char *dir) {
  for (int i = 0; i < g->n; i++) {
    Node *n = g->nodes[i];
    RtTensor t;
    if (n->op != OP_PARAM) continue;
    if (load(dir, n->name, n, &t)) return -1;
    memcpy(n->data, t.data, (size_t)rt_tensor_bytes(&t));
    rt_tensor_free(&t);
  }
  return 0;
}

static double *values(const Node *n, const RtTensor *t) {
  int64_t k = shape_numel(&n->shape);
  double *v = malloc(sizeof(double) * (size_t)(k ? k : 1));
  for (int64_t i = 0; i < k; i++) v[i] = dtype_load(n->dtype, t->data, i);
  return v;
}

/* max |a - b| / max(|b|, 1e-3 * max |b|) */
static double rel_error(const double *a, const double *b, int64_t k) {
  double scale = 0, err = 0;
  for (int64_t i = 0; i < k; i++) scale = fmax(scale, fabs(b[i]));
  for (int64_t i = 0; i < k; i++) {
    double d = fabs(a[i] - b[i]) / fmax(fmax(fabs(b[i]), 1e-3 * scale), 1e-300);
    err = isnan(d) ? INFINITY : fmax(err, d);
  }
  return err;
}

static void compare_outputs(const Graph *g, const char *dir, double **out, const char *name) {
  for (int j = 0; j < g->nout; j++) {
    const Node *n = g->nodes[g->out[j]];
    RtTensor t;
    if (load(dir, g->out_name[j], n, &t)) {
      CHECK(!"the output's reference reads");
      continue;
    }
    double *want = values(n, &t), tol = n->dtype == DT_F64 ? 1e-9 : 1e-4;
    double err = rel_error(out[j], want, shape_numel(&n->shape));
    printf("%-24s %-4s max rel err %.3g\n", name, g->out_name[j], err);
    CHECK(err <= tol);
    free(want);
    rt_tensor_free(&t);
  }
}

static void run_case(const char *dir, const char *name) {
  char path[1024];
  DlcErr e = {0};
  snprintf(path, sizeof path, "%s/model.dlc", dir);
  Graph *g = frontend_load(path, NULL, &e);
  if (!g) {
    fprintf(stderr, "%s\n", e.msg);
    CHECK(!"the case's model reads");
    return;
  }
  char *text = print_graph(g);
  Graph *back = txt_parse(text, strlen(text), "printed", NULL, &e);
  char *again = back ? print_graph(back) : NULL;
  CHECK(again && !strcmp(text, again));
  CHECK(!set_params(g, dir));
  int ni = ir_num_inputs(g);
  double *in[8] = {0}, *out[8] = {0};
  for (int i = 0; i < ni && i < 8; i++) {
    const Node *n = g->nodes[ir_input_id(g, i)];
    RtTensor t;
    if (load(dir, n->name, n, &t)) continue;
    in[i] = values(n, &t);
    rt_tensor_free(&t);
  }
  for (int j = 0; j < g->nout && j < 8; j++)
    out[j] = calloc((size_t)shape_numel(&g->nodes[g->out[j]]->shape) + 1, sizeof(double));
  int rc = interp_run(g, (const double *const *)in, out, &e);
  if (rc) fprintf(stderr, "%s: %s\n", name, e.msg);
  CHECK(rc == 0);
  if (!rc) compare_outputs(g, dir, out, name);
  for (int i = 0; i < 8; i++) free(in[i]), free(out[i]);
  free(text), free(again);
  if (back) ir_graph_free(back);
  ir_graph_free(g);
}

/* ---- malformed uses: one line, FILE:LINE:COL: and the message ---- */

static void bad(const char *src, const char *want) {
  DlcErr e = {0};
  Graph *g = txt_parse(src, strlen(src), "bad.dlc", NULL, &e);
  bool ok = !g && strstr(e.msg, want) && !strncmp(e.msg, "bad.dlc:", 8) && !strchr(e.msg, '\n');
  if (!ok) fprintf(stderr, "want \"%s\", got \"%s\"\n", want, g ? "(no error)" : e.msg);
  CHECK(ok);
  if (g) ir_graph_free(g);
}

static void bad_cases(void) {
  const char *seq = "input x: f32[2, 5, 3]\n", *img = "input x: f32[1, 3, 4, 4]\n";
  char src[512];
#define BAD(head, line, want) (snprintf(src, sizeof src, "%s%s\noutput y\n", head, line), bad(src, want))
  BAD(seq, "y = lstm(x)", "bad.dlc:2:5: lstm needs 'units'");
  BAD(seq, "y = gru(x, 0)", "bad.dlc:2:5: gru: units must be 1 or more");
  BAD(img, "y = rnn(x, 4)", "bad.dlc:2:5: rnn wants a float input of shape [batch, steps, features]");
  BAD(seq, "y = lstm(x, 4, init=he)", "bad.dlc:2:21: init wants uniform, xavier, zeros or ones");
  BAD(seq, "y = lstm(x, 4, go=1)", "bad.dlc:2:16: lstm has no attribute 'go'");
  BAD(img, "y = conv_transpose2d(x, 2, stride=2, output_padding=2)",
      "bad.dlc:2:5: conv_transpose2d: output_padding must be smaller than the stride");
  BAD(img, "y = conv_transpose2d(x, 2, padding=same, output_padding=1)",
      "bad.dlc:2:36: padding=same sets the output size");
  BAD(img, "y = conv_transpose2d(x, 3, groups=2)", "do not split into 2 groups");
  BAD(img, "y = conv_transpose2d(x, 2, kernel=3, padding=3)", "the padding leaves no output");
  BAD(seq, "y = conv_transpose2d(x, 2)", "bad.dlc:2:5: conv_transpose2d wants an input of shape [N, C, H, W]");
  BAD(seq, "y = attention(x, heads=2)", "bad.dlc:2:5: attention: width 3 does not split into 2 heads");
  BAD(seq, "y = attention(x, x)", "bad.dlc:2:18: attention: the mask operand must be a bool value");
  BAD(seq, "y = attention(x, mask=future)", "bad.dlc:2:23: mask wants causal or none");
  BAD("input x: f32[2, 5, 3]\ninput m: bool[2, 5, 4]\n", "y = attention(x, m)",
      "bad.dlc:3:5: select:");
#undef BAD
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_layers REF_DIR (written by tests/layers/torch_ref.py)\n");
    return 2;
  }
  DIR *d = opendir(argv[1]);
  int cases = 0;
  CHECK(d != NULL);
  for (struct dirent *ent; d && (ent = readdir(d));) {
    char dir[512];
    if (ent->d_name[0] == '.') continue;
    snprintf(dir, sizeof dir, "%s/%s", argv[1], ent->d_name);
    run_case(dir, ent->d_name);
    cases++;
  }
  if (d) closedir(d);
  CHECK(cases >= 20);
  bad_cases();
  return check_report("test_layers");
}

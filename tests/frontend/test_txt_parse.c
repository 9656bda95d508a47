/* test_txt_parse.c — the text format's parser, loader and printer on small cases whose
 * results are derived by hand (shapes, padding, seeds, names) or from formulas
 * evaluated here in double precision (the layers' arithmetic, through the interpreter).
 * Usage: test_txt_parse REPO_ROOT */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dlc_rng.h"
#include "txt_util.h"

static const char *root;

static Graph *parse_o(const char *src, const LoadOptions *o) {
  DlcErr e = {{0}};
  Graph *g = util_parse(src, "t.dlc", o, &e);
  if (!g) fprintf(stderr, "unexpected parse error: %s\n", e.msg);
  CHECK(g != NULL);
  return g;
}

static Graph *parse(const char *src) { return parse_o(src, NULL); }

/* Parsing must fail with exactly this message. */
static void fails_o(const char *src, const LoadOptions *o, const char *want) {
  DlcErr e = {{0}};
  Graph *g = util_parse(src, "t.dlc", o, &e);
  CHECK(g == NULL);
  ir_graph_free(g);
  if (!g && strcmp(e.msg, want)) fprintf(stderr, "got:  %s\nwant: %s\n", e.msg, want);
  CHECK(!g && !strcmp(e.msg, want));
}

static void fails(const char *src, const char *want) { fails_o(src, NULL, want); }

/* The computed node the source named `name` (its last binding). */
static const Node *named(const Graph *g, const char *name) {
  for (int i = g->n - 1; i >= 0; i--)
    if (g->nodes[i]->name && !strcmp(g->nodes[i]->name, name)) return g->nodes[i];
  fprintf(stderr, "no node named %s\n", name);
  CHECK(0);
  return g->nodes[0];
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static bool ints_are(const Node *n, AttrKey k, int cnt, const int64_t *want) {
  int c;
  const int64_t *v = node_ints(n, k, &c);
  return c == cnt && !memcmp(v, want, sizeof(int64_t) * (size_t)cnt);
}

/* ---- layers build the core ops FORMAT.md promises ---- */

static void test_dense(void) {
  Graph *g = parse("input x: f32[batch, 784]\ny = dense(x, 512)\noutput y\n");
  if (!g) return;
  Op want[5] = {OP_INPUT, OP_PARAM, OP_MATMUL, OP_PARAM, OP_ADD};
  CHECK(g->n == 5);
  for (int i = 0; i < 5 && i < g->n; i++) CHECK(g->nodes[i]->op == want[i]);
  CHECK_SHAPE(g, 0, 1, 784);
  CHECK_SHAPE(g, 1, 784, 512);
  CHECK_SHAPE(g, 2, 1, 512);
  CHECK_SHAPE(g, 3, 512);
  CHECK_SHAPE(g, 4, 1, 512);
  CHECK(!strcmp(g->nodes[1]->name, "dense1.w") && !strcmp(g->nodes[3]->name, "dense1.b"));
  CHECK(g->nodes[1]->init.kind == INIT_XAVIER && g->nodes[3]->init.kind == INIT_ZEROS);
  CHECK(!strcmp(g->nodes[4]->name, "y") && g->nout == 1 && g->out[0] == 4);
  /* xavier: uniform in +-sqrt(6 / (784 + 512)), stream seeded by FNV-1a of the name */
  uint64_t seed = fnv1a("dense1.w");
  CHECK(g->nodes[1]->init.seed == seed);
  double lim = sqrt(6.0 / (784 + 512));
  const float *w = g->nodes[1]->data;
  for (int i = 0; i < 784 * 512; i += 997) {
    float v = (float)(-lim + 2 * lim * rt_rand_uniform(seed, (uint64_t)i));
    CHECK(w[i] == v);
  }
  const float *b = g->nodes[3]->data;
  CHECK(b[0] == 0 && b[511] == 0);
  /* the matmul and the add come from one statement */
  CHECK(g->nodes[2]->group == g->nodes[4]->group && g->nodes[0]->group != g->nodes[2]->group);
  CHECK(g->nodes[2]->where && !strcmp(g->nodes[2]->where, "t.dlc:2"));
  ir_graph_free(g);
}

static void test_layer_names(void) {
  Graph *g = parse("input x: f32[2, 3]\nh = dense(x, 4)\nh = dense(h, 5, name=enc)\n"
                   "h = dense(h, 6, bias=0)\noutput h\n");
  if (!g) return;
  CHECK(ir_find(g, "dense1.w") >= 0 && ir_find(g, "enc.w") >= 0 && ir_find(g, "enc.b") >= 0);
  /* every dense counts, named or not, so naming one does not rename the others */
  CHECK(ir_find(g, "dense3.w") >= 0 && ir_find(g, "dense3.b") < 0 && ir_find(g, "dense2.w") < 0);
  CHECK_SHAPE(g, g->out[0], 2, 6);
  CHECK(g->nodes[g->out[0]]->op == OP_MATMUL);
  ir_graph_free(g);
}

static const Node *conv_of(const Graph *g) {
  for (int i = 0; i < g->n; i++)
    if (g->nodes[i]->op == OP_CONV) return g->nodes[i];
  CHECK(0);
  return g->nodes[0];
}

static void conv_case(const char *layer, int64_t out, const int64_t *pads) {
  char src[256];
  snprintf(src, sizeof src, "input x: f32[1, 3, 17, 17]\ny = %s\noutput y\n", layer);
  Graph *g = parse(src);
  if (!g) return;
  CHECK_SHAPE(g, g->out[0], 1, 8, out, out);
  CHECK(ints_are(conv_of(g), A_PADS, 4, pads));
  ir_graph_free(g);
}

static void test_conv2d(void) {
  /* same: total padding (ceil(17/s) - 1) * s + k - 17, the odd one at the end */
  conv_case("conv2d(x, 8, kernel=5, padding=same)", 17, (int64_t[]){2, 2, 2, 2});
  conv_case("conv2d(x, 8, kernel=5, stride=2, padding=same)", 9, (int64_t[]){2, 2, 2, 2});
  conv_case("conv2d(x, 8, kernel=4, padding=same)", 17, (int64_t[]){1, 1, 2, 2});
  conv_case("conv2d(x, 8, kernel=3, dilation=2, padding=same)", 17, (int64_t[]){2, 2, 2, 2});
  /* valid and explicit: (17 + pads - k) / s + 1 */
  conv_case("conv2d(x, 8, padding=valid)", 15, (int64_t[]){0, 0, 0, 0});
  conv_case("conv2d(x, 8, kernel=3, stride=2, padding=1)", 9, (int64_t[]){1, 1, 1, 1});
  conv_case("conv2d(x, 8, kernel=[3, 3], padding=[1, 2, 1, 0])", 17, (int64_t[]){1, 2, 1, 0});
  conv_case("conv2d(x, 8, kernel=[3, 3], padding=[1, 1])", 17, (int64_t[]){1, 1, 1, 1});
  Graph *g = parse("input x: f32[2, 4, 9, 9]\ny = conv2d(x, 6, kernel=[3, 1], groups=2)\noutput y\n");
  if (!g) return;
  CHECK_SHAPE(g, ir_find(g, "conv2d1.w"), 6, 2, 3, 1);
  CHECK_SHAPE(g, g->out[0], 2, 6, 7, 9);
  const Node *add = g->nodes[g->out[0]], *r = g->nodes[add->in[1]];
  CHECK(add->op == OP_ADD && r->op == OP_RESHAPE);
  CHECK_SHAPE(g, r->id, 1, 6, 1, 1);
  ir_graph_free(g);
}

static void test_pool_flatten(void) {
  Graph *g = parse("input x: f32[1, 16, 10, 11]\np = maxpool2d(x)\nq = avgpool2d(x, kernel=3, "
                   "stride=1, padding=1)\nf = flatten(p)\nf2 = flatten(q, axis=2)\n"
                   "output f\noutput f2\n");
  if (!g) return;
  CHECK_SHAPE(g, named(g, "p")->id, 1, 16, 5, 5);
  CHECK(named(g, "p")->op == OP_POOL_MAX && named(g, "q")->op == OP_POOL_AVG);
  CHECK(node_int(named(g, "q"), A_COUNT_PAD) == 0);
  CHECK_SHAPE(g, named(g, "q")->id, 1, 16, 10, 11);
  CHECK_SHAPE(g, named(g, "f")->id, 1, 400);
  CHECK_SHAPE(g, named(g, "f2")->id, 16, 110);
  ir_graph_free(g);
}

/* ---- symbols, options ---- */

static void test_dims(void) {
  LoadOptions o = {.batch = 8};
  Graph *g = parse_o("input x: f32[batch, 784]\ny = dense(x, 10)\noutput y\n", &o);
  if (g) CHECK_SHAPE(g, g->out[0], 8, 10);
  ir_graph_free(g);
  fails("input x: f32[n, 3]\noutput x\n", "t.dlc:1:14: dimension 'n' is not bound (pass --dim n=VALUE)");
  LoadOptions d = {.ndims = 1};
  d.dims[0].name = "n", d.dims[0].value = 5;
  g = parse_o("input x: f32[n, 3]\nparam w: f32[3, n] = ones\ny = matmul(x, w)\noutput y\n", &d);
  if (g) CHECK_SHAPE(g, g->out[0], 5, 5);
  ir_graph_free(g);
  LoadOptions s = {.nshapes = 1};
  s.shapes[0].input = "x", s.shapes[0].shape = SHP(2, 784);
  g = parse_o("input x: f32[batch, m]\ny = dense(x, 512)\noutput y\n", &s);
  if (g) CHECK_SHAPE(g, 0, 2, 784), CHECK_SHAPE(g, g->out[0], 2, 512);
  ir_graph_free(g);
  s.shapes[0].input = "q";
  fails_o("input x: f32[1, 784]\noutput x\n", &s, "t.dlc: --shape names no input 'q'");
}

/* ---- values ---- */

static void test_literals(void) {
  Graph *g = parse("const k: f32[3] = [1.5, -2, 0x1.8p+1]\nconst s: f32[3] = [nan, inf, -inf]\n"
                   "const b: bool[4] = [true, false, 0, 1]\nconst i: i64[2] = [-9223372036854775807, 7]\n"
                   "const d: f64[] = 0.1\noutput k\n");
  if (!g) return;
  const float *k = g->nodes[0]->data, *s = g->nodes[1]->data;
  CHECK(k[0] == 1.5f && k[1] == -2.0f && k[2] == 3.0f);
  CHECK(isnan(s[0]) && s[1] == INFINITY && s[2] == -INFINITY);
  const uint8_t *b = g->nodes[2]->data;
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 0 && b[3] == 1);
  const int64_t *i = g->nodes[3]->data;
  CHECK(i[0] == -INT64_MAX && i[1] == 7);
  CHECK(*(const double *)g->nodes[4]->data == 0.1 && g->nodes[4]->shape.rank == 0);
  ir_graph_free(g);
}

static void test_literal_operands(void) {
  Graph *g = parse("input x: f32[2]\ninput i: i32[2]\ny = add(x, 1)\nj = mul(2, i)\n"
                   "z = select(gt(x, 0), x, -1.5)\noutput y\noutput j\noutput z\n");
  if (!g) return;
  const Node *y = named(g, "y"), *j = named(g, "j"), *z = named(g, "z");
  const Node *c1 = g->nodes[y->in[1]], *c2 = g->nodes[j->in[0]], *c3 = g->nodes[z->in[2]];
  CHECK(c1->op == OP_CONST && c1->dtype == DT_F32 && c1->shape.rank == 0 && *(float *)c1->data == 1);
  CHECK(c2->op == OP_CONST && c2->dtype == DT_I32 && *(int32_t *)c2->data == 2);
  CHECK(c3->dtype == DT_F32 && *(float *)c3->data == -1.5f);
  ir_graph_free(g);
}

static void test_ssa_and_outputs(void) {
  Graph *g = parse("model m\ninput x: f32[3]\nh = tanh(x)\nh = tanh(h)\nalias = h\n"
                   "output h\noutput probs = alias\n");
  if (!g) return;
  CHECK(!strcmp(g->name, "m") && g->n == 3);
  CHECK(g->nodes[2]->op == OP_TANH && g->nodes[2]->in[0] == 1 && g->nodes[1]->in[0] == 0);
  CHECK(g->nout == 2 && g->out[0] == 2 && g->out[1] == 2);
  CHECK(!strcmp(g->out_name[0], "h") && !strcmp(g->out_name[1], "probs"));
  CHECK(g->nodes[1]->group != g->nodes[2]->group);
  ir_graph_free(g);
  /* nested calls, quoted names */
  g = parse("input \"in:0\": f32[2]\ny = add(mul(\"in:0\", 2), 1)\noutput \"out/0\" = y\n");
  if (!g) return;
  CHECK(!strcmp(g->nodes[0]->name, "in:0") && !strcmp(g->out_name[0], "out/0"));
  CHECK(named(g, "y")->op == OP_ADD && g->nodes[named(g, "y")->in[0]]->op == OP_MUL);
  ir_graph_free(g);
}

static void test_model_name(void) {
  DlcErr e = {{0}};
  const char *src = "input x: f32[1]\noutput x\n";
  Graph *g = txt_parse(src, strlen(src), "some/dir/lenet-5.dlc", NULL, &e);
  CHECK(g && !strcmp(g->name, "lenet_5"));
  ir_graph_free(g);
  g = txt_parse(src, strlen(src), "3d.dlc", NULL, &e);
  CHECK(g && !strcmp(g->name, "_3d"));
  ir_graph_free(g);
}

static void test_seeds(void) {
  Graph *a = parse("seed 3\nparam u: f32[8] = normal\nparam v: f32[8] = uniform(low=0, high=2)\n"
                   "param w: f32[8] = he(seed=7)\noutput u\n");
  Graph *b = parse("seed 3\nparam v: f32[8] = uniform(0, 2)\nparam u: f32[8] = normal(mean=0, std=1)\n"
                   "output u\n");
  if (!a || !b) return;
  uint64_t mix = 3 * 0x9E3779B97F4A7C15ull;
  CHECK(a->nodes[0]->init.seed == (fnv1a("u") ^ mix));
  CHECK(a->nodes[2]->init.seed == 7);
  CHECK(a->nodes[1]->init.a == 0 && a->nodes[1]->init.b == 2);
  /* reordering keeps each parameter's values */
  CHECK(!memcmp(a->nodes[0]->data, b->nodes[1]->data, 8 * sizeof(float)));
  CHECK(!memcmp(a->nodes[1]->data, b->nodes[0]->data, 8 * sizeof(float)));
  const float *v = a->nodes[1]->data;
  for (int i = 0; i < 8; i++) CHECK(v[i] == (float)(2 * rt_rand_uniform(fnv1a("v") ^ mix, (uint64_t)i)));
  ir_graph_free(a);
  ir_graph_free(b);
  Graph *c = parse("param u: f32[8] = normal\noutput u\n");
  if (c) CHECK(c->nodes[0]->init.seed == fnv1a("u"));
  ir_graph_free(c);
}

/* ---- the layers' arithmetic, through the interpreter ---- */

static double *run1(const char *src, const double *x) {
  Graph *g = parse(src);
  if (!g) return NULL;
  int64_t n = shape_numel(&g->nodes[g->out[0]]->shape);
  double *y = malloc(sizeof(double) * (size_t)n);
  const double *in[1] = {x};
  DlcErr e = {{0}};
  int rc = interp_run(g, in, &y, &e);
  if (rc) fprintf(stderr, "interpreter: %s\n", e.msg);
  CHECK(rc == 0);
  ir_graph_free(g);
  return y;
}

static void test_activations(void) {
  const double x[4] = {-2, -0.5, 0, 1.5};
  struct {
    const char *layer;
    double (*f)(double);
  } *c, cases[] = {
      {"relu(x)", NULL}, {"sigmoid(x)", NULL}, {"leaky_relu(x, alpha=0.1)", NULL}, {"gelu(x)", NULL}};
  double want[4][4];
  for (int i = 0; i < 4; i++) {
    want[0][i] = x[i] > 0 ? x[i] : 0;
    want[1][i] = 1 / (1 + exp(-x[i]));
    want[2][i] = x[i] > 0 ? x[i] : 0.1 * x[i];
    want[3][i] = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2)));
  }
  for (int k = 0; k < 4; k++) {
    c = &cases[k];
    char src[128];
    snprintf(src, sizeof src, "input x: f32[4]\ny = %s\noutput y\n", c->layer);
    double *y = run1(src, x);
    for (int i = 0; y && i < 4; i++) CHECK_NEAR(y[i], want[k][i], 1e-6);
    free(y);
  }
  const double z[6] = {1, 2, 3, -1, 0, 1};
  double *s = run1("input x: f32[2, 3]\ny = softmax(x)\noutput y\n", z);
  double *l = run1("input x: f32[2, 3]\ny = log_softmax(x, axis=1)\noutput y\n", z);
  double *s0 = run1("input x: f32[2, 3]\ny = softmax(x, axis=0)\noutput y\n", z);
  for (int r = 0; s && l && s0 && r < 2; r++) {
    double sum = 0;
    for (int j = 0; j < 3; j++) sum += exp(z[3 * r + j]);
    for (int j = 0; j < 3; j++) {
      CHECK_NEAR(s[3 * r + j], exp(z[3 * r + j]) / sum, 1e-6);
      CHECK_NEAR(l[3 * r + j], z[3 * r + j] - log(sum), 1e-6);
      CHECK_NEAR(s0[3 * r + j], exp(z[3 * r + j]) / (exp(z[j]) + exp(z[3 + j])), 1e-6);
    }
  }
  free(s), free(l), free(s0);
  /* batchnorm with its initial statistics: x / sqrt(1 + eps) */
  double *b = run1("input x: f32[1, 2, 3]\ny = batchnorm(x, eps=0.25)\noutput y\n", z);
  for (int i = 0; b && i < 6; i++) CHECK_NEAR(b[i], z[i] / sqrt(1.25), 1e-6);
  free(b);
  /* layernorm over the last axis, initial gamma 1 and beta 0: (x - mean) / sqrt(var + eps) */
  double *ln = run1("input x: f32[2, 3]\ny = layernorm(x, eps=0.01)\noutput y\n", z);
  for (int r = 0; ln && r < 2; r++) {
    double m = (z[3 * r] + z[3 * r + 1] + z[3 * r + 2]) / 3, v = 0;
    for (int j = 0; j < 3; j++) v += (z[3 * r + j] - m) * (z[3 * r + j] - m) / 3;
    for (int j = 0; j < 3; j++) CHECK_NEAR(ln[3 * r + j], (z[3 * r + j] - m) / sqrt(v + 0.01), 1e-6);
  }
  free(ln);
  double *d = run1("input x: f32[2, 3]\ny = dropout(x, rate=0.3)\noutput y\n", z);
  for (int i = 0; d && i < 6; i++) CHECK(d[i] == z[i]);
  free(d);
}

/* batchnorm's parameters broadcast along its axis: check with data([...]) stand-ins. */
static void test_batchnorm_axis(void) {
  Graph *g = parse("input x: f32[2, 3, 4]\ny = batchnorm(x, axis=-1)\noutput y\n");
  if (!g) return;
  CHECK_SHAPE(g, ir_find(g, "batchnorm1.gamma"), 4);
  CHECK_SHAPE(g, ir_find(g, "batchnorm1.var"), 4);
  CHECK_SHAPE(g, g->out[0], 2, 3, 4);
  ir_graph_free(g);
}

static void test_embedding(void) {
  Graph *g = parse("input ids: i64[2, 3]\ne = embedding(ids, 10, 4)\noutput e\n");
  if (!g) return;
  int w = ir_find(g, "embedding1.w");
  CHECK_SHAPE(g, w, 10, 4);
  CHECK(w >= 0 && g->nodes[w]->dtype == DT_F32);
  CHECK_SHAPE(g, g->out[0], 2, 3, 4);
  /* row k of the result is row ids[k] of the table (ids -1 wraps to the last) */
  const double ids[6] = {0, 9, 3, 3, -1, 5};
  double *y = malloc(sizeof(double) * 24);
  const double *in[1] = {ids};
  DlcErr e = {{0}};
  CHECK(interp_run(g, in, &y, &e) == 0);
  const float *tab = w >= 0 ? g->nodes[w]->data : NULL;
  for (int k = 0; tab && k < 6; k++) {
    int row = ids[k] < 0 ? 9 : (int)ids[k];
    for (int j = 0; j < 4; j++) CHECK(y[4 * k + j] == tab[4 * row + j]);
  }
  free(y);
  ir_graph_free(g);
}

/* ---- the loader ---- */

static void test_load(void) {
  DlcErr e = {{0}};
  char path[4096];
  snprintf(path, sizeof path, "%s/models/mlp.dlc", root);
  LoadOptions o = {.batch = 4};
  Graph *g = frontend_load(path, &o, &e);
  CHECK(g != NULL);
  if (g) CHECK(!strcmp(g->file, path) && !strcmp(g->name, "mlp")), CHECK_SHAPE(g, 0, 4, 784);
  ir_graph_free(g);
  CHECK(!frontend_load("no/such/model.dlc", NULL, &e));
  CHECK(!strcmp(e.msg, "no/such/model.dlc: cannot open: No such file or directory"));
  CHECK(!frontend_load("model.pt", NULL, &e));
  CHECK(!strncmp(e.msg, "model.pt: unknown model format '.pt' (expected .dlc", 51));
  CHECK(!frontend_load("dir.v2/model", NULL, &e));
  CHECK(!strncmp(e.msg, "dir.v2/model: unknown model format '' (expected .dlc", 51));
  char dir[] = "/tmp/dlc_txt_XXXXXX";
  if (!mkdtemp(dir)) return;
  char sub[128], nul[128];
  snprintf(sub, sizeof sub, "%s/d.dlc", dir);
  snprintf(nul, sizeof nul, "%s/nul.dlc", dir);
  CHECK(mkdir(sub, 0700) == 0);
  CHECK(!frontend_load(sub, NULL, &e) && strstr(e.msg, ": cannot open: Is a directory"));
  FILE *f = fopen(nul, "wb");
  fwrite("input x: f32[1]\0output x\n", 1, 25, f);
  fclose(f);
  CHECK(!frontend_load(nul, NULL, &e) && strstr(e.msg, ": NUL byte at offset 15"));
  remove(nul), rmdir(sub), rmdir(dir);
}

/* ---- the printer's names ---- */

static void test_print_names(void) {
  Graph *g = ir_graph_new("hand");
  int x = ir_input(g, "in:0", DT_F32, SHP(2, 3));
  int n = ir_input(g, "nan", DT_F32, SHP(2, 3));
  int c = ir_scalar(g, DT_F32, 0.1);
  int m = ir_binary(g, OP_MAX, x, c); /* unnamed: t3, but a later node holds "t3" */
  int t = ir_unary(g, OP_TANH, m);
  g->nodes[t]->name = "t3";
  int a = ir_binary(g, OP_ADD, t, n);
  g->nodes[a]->name = "bad name";
  int64_t pads[4] = {1, 0, 0, 1};
  Attr pa[2] = {attr_ints(A_PADS, pads, 4), attr_float(A_VALUE, 0.1)};
  int p = ir_add(g, OP_PAD, &a, 1, pa, 2);
  ir_output(g, p, "y");
  char *txt = util_print(g);
  CHECK(strstr(txt, "model hand\ninput \"in:0\": f32[2, 3]\ninput \"nan\": f32[2, 3]\n"
                    "const c2: f32[] = 0.1\nt3_1 = max(\"in:0\", c2)  # f32[2,3]\n"
                    "t3 = tanh(t3_1)  # f32[2,3]\nt5 = add(t3, \"nan\")  # f32[2,3]\n"
                    "t6 = pad(t5, pads=[1, 0, 0, 1], value=0.1)  # f32[3,4]\noutput y = t6\n") != NULL);
  if (!strstr(txt, "t3_1 = max")) fprintf(stderr, "%s", txt);
  DlcErr e = {{0}};
  Graph *g2 = util_parse(txt, "p.dlc", NULL, &e);
  CHECK(g2 && util_graph_diff(g, g2, "hand-built graph") == 0);
  ir_graph_free(g2);
  free(txt);
  ir_graph_free(g);
}

static void test_errors(void) {
  fails("input x: f32[1, 4]\ny = foo(x)\noutput y\n", "t.dlc:2:5: unknown operation 'foo'");
  fails("input x: f32[1, 4]\nparam w: f32[3, 2] = xavier\ny = matmul(x, w)\noutput y\n",
        "t.dlc:3:5: matmul: inner dimensions differ: [1,4] x [3,2]");
  fails("input x: f32[1, 4]\ny = relu(x, 3)\noutput y\n", "t.dlc:2:13: relu takes 1 operand");
  fails("input x: f32[2]\ny = add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add("
        "add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add("
        "add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add(add("
        "add(add(add(add(add(add(add(x",
        "t.dlc:2:261: calls nest too deeply" /* the 65th call: 4 + 64 * 4 + 1 */);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s REPO_ROOT\n", argv[0]);
    return 2;
  }
  root = argv[1];
  test_dense();
  test_layer_names();
  test_conv2d();
  test_pool_flatten();
  test_dims();
  test_literals();
  test_literal_operands();
  test_ssa_and_outputs();
  test_model_name();
  test_seeds();
  test_activations();
  test_batchnorm_axis();
  test_embedding();
  test_load();
  test_print_names();
  test_errors();
  return check_report("test_txt_parse");
}

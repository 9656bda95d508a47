/* test_guard.c — guarded nodes (ir.h: Node.guard), the IR's run-time If.
 *
 * A model whose branches run under guards, nested two deep, is read from the text
 * format and checked as follows:
 *   - print, parse, print: the same text, guards included;
 *   - the interpreter, for each of the four conditions, against the values computed
 *     here in plain C (the branch taken, nothing else);
 *   - the generated C at -O0 and at -O2 with every fusion mode, each condition, against
 *     the interpreter: a kernel under a guard runs only when it holds;
 *   - autodiff through the branches against finite differences, each condition;
 *   - the misuses the verifier, the builder and the text parser refuse, by message.
 * Usage: test_guard */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend.h"
#include "grad_check.h"
#include "jit.h"
#include "passes.h"

#define STRICT "-O2 -Wall -Wextra -Wshadow -Werror -pedantic"

/* z = (c ? (d ? exp(2x) - w : tanh(exp(2x)) * w) : x + 1) + x, with w a parameter */
static const char *src =
    "model guarded\n"
    "input x: f32[2, 40]\n"
    "input c: bool[]\n"
    "input d: bool[]\n"
    "param w: f32[40] = uniform(-1, 1, seed=3)\n"
    "t = exp(mul(x, 2.0)) if c\n"
    "cd = and(c, d)\n"
    "u = sub(t, w) if cd\n"
    "ncd = and(c, not(d))\n"
    "v = mul(tanh(t), w) if ncd\n"
    "tv = select(d, u, v) if c\n"
    "e = add(x, 1.0) if not_c\n"
    "y = select(c, tv, e)\n"
    "z = add(y, x)\n"
    "output z\n";

static Graph *parse(const char *text, DlcErr *e) {
  return txt_parse(text, strlen(text), "guard.dlc", NULL, e);
}

static char *print(const Graph *g) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ir_print(f, g);
  fclose(f);
  return buf;
}

/* The source with `not_c` defined before its use. */
static char *model_text(void) {
  const char *at = strstr(src, "e = add");
  size_t head = (size_t)(at - src);
  char *s = malloc(strlen(src) + 64);
  memcpy(s, src, head);
  strcpy(s + head, "not_c = not(c)\n");
  strcat(s, at);
  return s;
}

static int64_t guarded_nodes(const Graph *g) {
  int64_t k = 0;
  for (int i = 0; i < g->n; i++) k += g->nodes[i]->guard >= 0;
  return k;
}

static void check_roundtrip(const char *text) {
  DlcErr e = {{0}};
  Graph *g = parse(text, &e);
  CHECK(g != NULL);
  if (!g) {
    fprintf(stderr, "parse: %s\n", e.msg);
    return;
  }
  CHECK(guarded_nodes(g) >= 6);
  char *a = print(g);
  Graph *h = parse(a, &e);
  CHECK(h != NULL);
  char *b = h ? print(h) : NULL;
  CHECK(b && !strcmp(a, b));
  CHECK(strstr(a, ") if c ") != NULL);
  free(a), free(b);
  ir_graph_free(g), ir_graph_free(h);
}

/* What z is, by the definition above. */
static void expected(const float *x, const float *w, bool c, bool d, double *z) {
  for (int i = 0; i < 80; i++) {
    double t = exp((double)(float)(2 * x[i])), wi = w[i % 40], y;
    if (c) y = d ? t - wi : tanh(t) * wi;
    else y = x[i] + 1.0;
    z[i] = y + x[i];
  }
}

static void set_bools(void **in, bool c, bool d) {
  *(uint8_t *)in[1] = c, *(uint8_t *)in[2] = d;
}

static void check_values(const char *text) {
  DlcErr e = {{0}};
  Graph *g = parse(text, &e);
  if (!g) return;
  float x[80], w[40];
  uint64_t s = 7;
  for (int i = 0; i < 80; i++) x[i] = (float)rnd_sym(&s);
  memcpy(w, g->nodes[ir_find(g, "w")]->data, sizeof w);
  double dx[80], dc = 0, dd = 0, z[80], want[80];
  for (int i = 0; i < 80; i++) dx[i] = x[i];
  const double *in[3] = {dx, &dc, &dd};
  double *out[1] = {z};
  uint8_t bc = 0, bd = 0;
  float got[80];
  void *io_in[3] = {x, &bc, &bd}, *io_out[1] = {got};
  static const struct {
    int level;
    FuseMode fuse;
  } builds[] = {{0, FUSE_NONE}, {2, FUSE_NONE}, {2, FUSE_OP}, {2, FUSE_ALL}};
  for (int k = 0; k < 4; k++) {
    bool c = k & 1, d = k & 2;
    dc = c, dd = d;
    expected(x, w, c, d, want);
    CHECK(interp_run(g, in, out, &e) == 0);
    double worst = 0;
    for (int i = 0; i < 80; i++) worst = fmax(worst, fabs(z[i] - want[i]) / fmax(1, fabs(want[i])));
    if (!(worst < 1e-5)) fprintf(stderr, "interp, c=%d d=%d: off by %g\n", c, d, worst);
    CHECK(worst < 1e-5);
    for (size_t b = 0; b < sizeof builds / sizeof builds[0]; b++) {
      PassOptions po = pass_options(builds[b].level);
      po.fuse = builds[b].fuse, po.verify = true;
      JitOptions jo = {.cflags = STRICT, .passes = &po};
      JitModel *m = jit_build(g, &jo, &e);
      CHECK(m != NULL);
      if (!m) {
        fprintf(stderr, "jit: %s\n", e.msg);
        continue;
      }
      set_bools(io_in, c, d);
      for (int i = 0; i < 80; i++) got[i] = NAN;
      CHECK(jit_run(m, (const void *const *)io_in, io_out, &e) == 0);
      double err = 0;
      for (int i = 0; i < 80; i++) err = fmax(err, fabs(got[i] - z[i]) / fmax(1, fabs(z[i])));
      if (!(err < 1e-5))
        fprintf(stderr, "jit -O%d fuse %d, c=%d d=%d: off by %g\n", builds[b].level, (int)builds[b].fuse, c,
                d, err);
      CHECK(err < 1e-5);
      jit_free(m);
    }
  }
  ir_graph_free(g);
}

/* ---- autodiff through the branches ---- */

static bool grad_c, grad_d;

/* The model above in f64 with x and w as variables; c and d constants. */
static int build_branches(Case *cs, Op op) {
  (void)op;
  Graph *g = cs->g;
  int x = gc_var(cs, SHP(2, 5), (Range){0.1, 1, true, 0});
  int w = gc_var(cs, SHP(5), (Range){0.5, 1.5, true, 0});
  uint8_t cv = grad_c, dv = grad_d;
  int c = ir_const(g, NULL, DT_BOOL, (Shape){0}, &cv), d = ir_const(g, NULL, DT_BOOL, (Shape){0}, &dv);
  int cd = ir_binary(g, OP_AND, c, d), ncd = ir_binary(g, OP_AND, c, ir_unary(g, OP_NOT, d));
  int nc = ir_unary(g, OP_NOT, c);
  g->guard = c;
  int t = ir_unary(g, OP_EXP, ir_binary(g, OP_MUL, x, ir_scalar(g, DT_F64, 2)));
  g->guard = cd;
  int u = ir_binary(g, OP_SUB, t, w);
  g->guard = ncd;
  int v = ir_binary(g, OP_MUL, ir_unary(g, OP_TANH, t), w);
  g->guard = c;
  int tv = ir_select(g, d, u, v);
  g->guard = nc;
  int e = ir_binary(g, OP_MUL, x, x);
  g->guard = -1;
  return ir_binary(g, OP_ADD, ir_select(g, c, tv, e), x);
}

static void check_grads(void) {
  for (int k = 0; k < 4; k++) {
    grad_c = k & 1, grad_d = k & 2;
    char what[64];
    snprintf(what, sizeof what, "branches c=%d d=%d", grad_c, grad_d);
    double err = gc_check(build_branches, OP_ADD, 11 + (uint64_t)k, 1e-6, what);
    if (!(err <= GRAD_TOL)) fprintf(stderr, "%s: gradient error %g\n", what, err);
    CHECK(err <= GRAD_TOL);
  }
}

/* The generated code of a backward graph through the branches, against the
 * interpreter: a training step (parameters kept, the -O2 training pipeline) with the
 * condition computed from the input, for inputs that take each side. */
static void check_train_jit(void) {
  Graph *g = ir_graph_new("guard_train");
  int x = ir_input(g, "x", DT_F32, SHP(4, 6));
  int w = ir_param(g, "w", DT_F32, SHP(6), (Init){.kind = INIT_UNIFORM, .a = -1, .b = 1, .seed = 5});
  int64_t all[2] = {0, 1};
  int c = ir_binary(g, OP_GT, ir_reduce(g, OP_REDUCE_SUM, x, all, 2, false), ir_scalar(g, DT_F32, 0));
  int nc = ir_unary(g, OP_NOT, c);
  g->guard = c;
  int t = ir_binary(g, OP_MUL, ir_unary(g, OP_TANH, ir_binary(g, OP_MUL, x, w)), w);
  g->guard = nc;
  int e = ir_unary(g, OP_EXP, ir_binary(g, OP_SUB, x, w));
  g->guard = -1;
  int y = ir_select(g, c, t, e);
  int loss = ir_reduce(g, OP_REDUCE_SUM, ir_binary(g, OP_MUL, y, y), all, 2, false), grad;
  DlcErr err = {{0}};
  CHECK(loss >= 0 && pass_autodiff(g, loss, &w, 1, &grad, &err) == 0);
  ir_output(g, loss, "loss");
  ir_output(g, grad, "dw");
  CHECK(ir_verify(g, &err) == 0);
  PassOptions po = pass_options(2);
  po.training = true, po.verify = true;
  JitOptions jo = {.cflags = STRICT, .passes = &po};
  JitModel *m = jit_build(g, &jo, &err);
  CHECK(m != NULL);
  if (!m) fprintf(stderr, "train jit: %s\n", err.msg);
  for (int side = 0; m && side < 2; side++) {
    float xv[24], lv = NAN, dw[6];
    double dx[24], dl, ddw[6], *outs[2] = {&dl, ddw};
    uint64_t s = 21 + (uint64_t)side;
    for (int i = 0; i < 24; i++) xv[i] = (float)(0.5 * rnd_unit(&s) * (side ? 1 : -1)), dx[i] = xv[i];
    const double *ins[1] = {dx};
    CHECK(interp_run(g, ins, outs, &err) == 0);
    void *in[1] = {xv}, *out[2] = {&lv, dw};
    CHECK(jit_run(m, (const void *const *)in, out, &err) == 0);
    double worst = fabs(lv - dl) / fmax(1, fabs(dl));
    for (int i = 0; i < 6; i++) worst = fmax(worst, fabs(dw[i] - ddw[i]) / fmax(1, fabs(ddw[i])));
    if (!(worst < 1e-5)) fprintf(stderr, "train jit, side %d: off by %g\n", side, worst);
    CHECK(worst < 1e-5);
  }
  jit_free(m);
  ir_graph_free(g);
}

/* ---- misuse ---- */

static void check_fails(const char *text, const char *needle) {
  DlcErr e = {{0}};
  Graph *g = parse(text, &e);
  if (g && ir_verify(g, &e)) ir_graph_free(g), g = NULL; /* as every frontend does */
  CHECK(g == NULL);
  if (g) ir_graph_free(g);
  else if (!strstr(e.msg, needle)) fprintf(stderr, "wanted '%s', got: %s\n", needle, e.msg);
  CHECK(g == NULL && strstr(e.msg, needle) != NULL);
}

static void check_misuse(void) {
  check_fails("input x: f32[3]\ninput c: f32[]\ny = neg(x) if c\noutput y\n", "a guard is a bool scalar");
  check_fails("input x: f32[3]\ninput c: bool[]\ny = neg(x) if c\nz = add(y, x)\noutput z\n",
              "reads a value computed under a guard it is not under");
  check_fails("input x: f32[3]\ninput c: bool[]\ny = x if c\noutput y\n", "guards no computation");
  check_fails("input x: f32[3]\ninput c: bool[]\nd = not(c) if c\ny = neg(x) if d\noutput y\n",
              "a guard is a bool scalar computed without a guard");
  check_fails("input x: f32[3]\ninput c: bool[]\ny = neg(x) if\noutput y\n", "after 'if'");
  /* the builder: a guard that is not an earlier unguarded bool scalar */
  Graph *g = ir_graph_new("g");
  int x = ir_input(g, "x", DT_F32, SHP(3));
  g->guard = x;
  CHECK(ir_unary(g, OP_NEG, x) < 0 && strstr(g->err.msg, "guard") != NULL);
  ir_graph_free(g);
}

int main(void) {
  char *text = model_text();
  check_roundtrip(text);
  check_values(text);
  check_grads();
  check_train_jit();
  check_misuse();
  free(text);
  return check_report("test_guard");
}

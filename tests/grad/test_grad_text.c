/* test_grad_text.c — the ops autodiff adds in the native text format, and autodiff's
 * own errors.
 *
 * A training graph (forward, loss, gradients: conv_grad_input, conv_grad_weight,
 * pool_max_grad, pool_avg_grad, scatter_add, rng_uniform, rng_normal) is printed,
 * parsed back, and printed again: the two texts agree and both graphs give the same
 * values in the interpreter.  Then the misuses pass_autodiff refuses, each with its
 * message, and pass_gradient's cut (an intermediate variable held independent) against
 * finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend.h"
#include "passes.h"

static char *print(const Graph *g) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ir_print(f, g);
  fclose(f);
  return buf;
}

/* x [1,2,6,6] -> conv -> pool_max, pool_avg -> gather -> * dropout mask + noise -> loss */
static Graph *training_graph(int *loss, int *grads, int *np) {
  Graph *g = ir_graph_new("roundtrip");
  int x = ir_input(g, "x", DT_F64, SHP(1, 2, 6, 6));
  int step = ir_input(g, "step", DT_I64, (Shape){0});
  int w = ir_param(g, "w", DT_F64, SHP(4, 2, 3, 3), (Init){.kind = INIT_HE, .seed = 2});
  int64_t pads[4] = {1, 1, 1, 1}, k[2] = {2, 2}, shp[4] = {1, 4, 3, 3}, idx[3] = {2, 0, -1};
  Attr ca = attr_ints(A_PADS, pads, 4);
  int in[2] = {x, w}, c = ir_add(g, OP_CONV, in, 2, &ca, 1);
  Attr pa[2] = {attr_ints(A_KERNEL, k, 2), attr_ints(A_STRIDES, k, 2)};
  int pm = ir_add(g, OP_POOL_MAX, &c, 1, pa, 2), pv = ir_add(g, OP_POOL_AVG, &c, 1, pa, 2);
  int gi[2] = {ir_binary(g, OP_ADD, pm, pv), ir_const(g, "idx", DT_I64, SHP(3), idx)};
  Attr ga = attr_int(A_AXIS, 3);
  int gt = ir_add(g, OP_GATHER, gi, 2, &ga, 1);
  Attr ua[3] = {attr_ints(A_SHAPE, shp, 4), attr_int(A_SEED, 9), attr_dtype(A_DTYPE, DT_F64)};
  int mask = ir_add(g, OP_RNG_UNIFORM, &step, 1, ua, 3),
      noise = ir_add(g, OP_RNG_NORMAL, &step, 1, ua, 3);
  int y = ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, gt, mask), noise);
  int64_t ax[4] = {0, 1, 2, 3};
  *loss = ir_reduce(g, OP_REDUCE_SUM, ir_binary(g, OP_MUL, y, y), ax, 4, false);
  int p[2] = {x, w};
  DlcErr e = {{0}};
  *np = 2;
  if (*loss < 0 || pass_autodiff(g, *loss, p, 2, grads, &e)) {
    fprintf(stderr, "training graph: %s %s\n", g->err.msg, e.msg);
    ir_graph_free(g);
    return NULL;
  }
  ir_output(g, *loss, "loss");
  ir_output(g, grads[0], "dx");
  ir_output(g, grads[1], "dw");
  return g;
}

static bool uses(const Graph *g, Op op) {
  for (int i = 0; i < g->n; i++)
    if (g->nodes[i]->op == op) return true;
  return false;
}

/* Both graphs on the same inputs: the same values. */
static void same_values(const Graph *a, const Graph *b) {
  double x[72], step = 2, out[2][3][72];
  for (int i = 0; i < 72; i++) x[i] = sin(i * 0.7);
  const double *in[2] = {x, &step};
  double *oa[3] = {out[0][0], out[0][1], out[0][2]}, *ob[3] = {out[1][0], out[1][1], out[1][2]};
  DlcErr e = {{0}};
  CHECK(interp_run(a, in, oa, &e) == 0 && interp_run(b, in, ob, &e) == 0);
  for (int j = 0; j < 3; j++)
    for (int64_t i = 0; i < shape_numel(&a->nodes[a->out[j]]->shape); i++)
      if (out[0][j][i] != out[1][j][i]) {
        fprintf(stderr, "output %d [%lld]: %.17g, after the round trip %.17g\n", j, (long long)i,
                out[0][j][i], out[1][j][i]);
        check_failures++;
        return;
      }
}

static void roundtrip(void) {
  int loss, grads[2], np;
  Graph *g = training_graph(&loss, grads, &np);
  CHECK(g != NULL);
  if (!g) return;
  static const Op added[] = {OP_CONV_GRAD_INPUT, OP_CONV_GRAD_WEIGHT, OP_POOL_MAX_GRAD,
                             OP_POOL_AVG_GRAD,   OP_SCATTER_ADD,      OP_RNG_UNIFORM,
                             OP_RNG_NORMAL};
  for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) CHECK(uses(g, added[i]));
  DlcErr e = {{0}};
  CHECK(ir_verify(g, &e) == 0);
  char *t1 = print(g);
  Graph *g2 = txt_parse(t1, strlen(t1), "printed.dlc", NULL, &e);
  if (!g2) fprintf(stderr, "the printed training graph does not parse: %s\n%s", e.msg, t1);
  CHECK(g2 != NULL);
  if (g2) {
    char *t2 = print(g2);
    if (strcmp(t1, t2)) fprintf(stderr, "printing is not a fixpoint:\n%s---\n%s", t1, t2);
    CHECK(strcmp(t1, t2) == 0);
    same_values(g, g2);
    free(t2);
    ir_graph_free(g2);
  }
  free(t1);
  ir_graph_free(g);
}

/* pass_autodiff's refusals; msg must appear in the error. */
static void refuses(Graph *g, int loss, int param, const char *msg) {
  DlcErr e = {{0}};
  int grad;
  int rc = pass_autodiff(g, loss, &param, 1, &grad, &e);
  if (rc != -1 || !strstr(e.msg, msg))
    fprintf(stderr, "wanted an error with '%s', got %d '%s'\n", msg, rc, e.msg);
  CHECK(rc == -1 && strstr(e.msg, msg));
}

static void errors(void) {
  Graph *g = ir_graph_new("errors");
  int x = ir_input(g, "x", DT_F32, SHP(2, 3)), i = ir_input(g, "i", DT_I32, SHP(2));
  int64_t ax[2] = {0, 1}, k[2] = {1, 1};
  int row = ir_reduce(g, OP_REDUCE_SUM, x, ax, 1, false);
  refuses(g, row, x, "must be a float scalar");
  int s = ir_reduce(g, OP_REDUCE_SUM, x, ax, 2, false);
  refuses(g, s, i, "is i32, not a float");
  refuses(g, s, 99, "is not a node");
  /* pool_max_grad has no gradient: a second derivative through max pooling */
  int x4 = ir_input(g, "x4", DT_F32, SHP(1, 1, 2, 2));
  Attr pa = attr_ints(A_KERNEL, k, 2);
  int in[2] = {x4, x4}, pg = ir_add(g, OP_POOL_MAX_GRAD, in, 2, &pa, 1);
  int64_t all[4] = {0, 1, 2, 3};
  refuses(g, ir_reduce(g, OP_REDUCE_SUM, pg, all, 4, false), x4, "pool_max_grad has no gradient");
  /* a loss that does not depend on the parameter: zeros of its shape */
  int y = ir_input(g, "y", DT_F32, SHP(4));
  DlcErr e = {{0}};
  int grad = -1;
  CHECK(pass_autodiff(g, s, &y, 1, &grad, &e) == 0);
  CHECK(grad >= 0 && shape_eq(&g->nodes[grad]->shape, &g->nodes[y]->shape));
  ir_output(g, grad, "dy");
  double dx[6] = {0}, di[2] = {0}, dx4[4] = {0}, dy[4] = {1, 1, 1, 1};
  const double *ins[4] = {dx, di, dx4, dy};
  double got[4] = {1, 1, 1, 1}, *outs[1] = {got};
  CHECK(interp_run(g, ins, outs, &e) == 0);
  CHECK(got[0] == 0 && got[1] == 0 && got[2] == 0 && got[3] == 0);
  ir_graph_free(g);
}

/* sum(y) of g, whose only output is y (3 elements), at inputs ins. */
static double sum_out(const Graph *g, const double *const *ins) {
  double y[3], *outs[1] = {y};
  DlcErr e = {{0}};
  CHECK(interp_run(g, ins, outs, &e) == 0);
  return y[0] + y[1] + y[2];
}

/* pass_gradient: y = h x + x x of three elements (seeded with ones) with respect to
 * h = tanh(x) and x as independent variables, against central differences of the same
 * expression with h an input; then its refusal of an integer y. */
static void gradient(void) {
  Graph *g = ir_graph_new("cut"), *f = ir_graph_new("cut_fd");
  int x = ir_input(g, "x", DT_F64, SHP(3)), h = ir_unary(g, OP_TANH, x);
  int y = ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, h, x), ir_binary(g, OP_MUL, x, x));
  int vars[2] = {h, x}, grads[2] = {-1, -1}, bad = 0;
  DlcErr e = {{0}};
  CHECK(pass_gradient(g, y, vars, 2, grads, &bad, &e) == 0 && bad == -1);
  ir_output(g, grads[0], "dh");
  ir_output(g, grads[1], "dx");
  int fh = ir_input(f, "h", DT_F64, SHP(3)), fx = ir_input(f, "x", DT_F64, SHP(3));
  ir_output(f, ir_binary(f, OP_ADD, ir_binary(f, OP_MUL, fh, fx), ir_binary(f, OP_MUL, fx, fx)), "y");
  double xv[3] = {0.3, -1.2, 0.8}, dh[3], dx[3], *outs[2] = {dh, dx}, hv[3];
  const double *ins[1] = {xv};
  CHECK(interp_run(g, ins, outs, &e) == 0);
  for (int i = 0; i < 3; i++) hv[i] = tanh(xv[i]);
  for (int v = 0; v < 2; v++)
    for (int i = 0; i < 3; i++) {
      double *p = v ? xv : hv, keep = p[i], eps = 1e-6;
      const double *fins[2] = {hv, xv};
      p[i] = keep + eps;
      double up = sum_out(f, fins);
      p[i] = keep - eps;
      double down = sum_out(f, fins), want = (up - down) / (2 * eps), got = v ? dx[i] : dh[i];
      p[i] = keep;
      if (!(fabs(got - want) < 1e-6)) fprintf(stderr, "pass_gradient: d%s[%d] = %g, differences %g\n", v ? "x" : "h", i, got, want);
      CHECK(fabs(got - want) < 1e-6);
    }
  int iy = ir_cast(g, y, DT_I32);
  CHECK(pass_gradient(g, iy, vars, 2, grads, &bad, &e) == -1 && strstr(e.msg, "is i32, not a float"));
  ir_graph_free(g);
  ir_graph_free(f);
}

int main(void) {
  roundtrip();
  errors();
  gradient();
  return check_report("test_grad_text");
}

/* test_rng.c — the counter-based RNG (runtime/rng.c) and the initializers built on it
 * (init_fill, init_fans in ir/graph.c): the published Philox answer, reproducibility,
 * and distributions that match their definitions within sampling error. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "dlc_rng.h"

enum { NS = 100000 };

/* Random123's known answer for Philox4x32-10 with a zero counter and key. */
static void test_philox_known_answer(void) {
  uint32_t w[4];
  rt_philox(0, 0, w);
  CHECK(w[0] == 0x6627e8d5u && w[1] == 0xe169c58du && w[2] == 0xbc57ac4cu && w[3] == 0x9b00dbd8u);
}

static void test_reproducible(void) {
  int same = 0, differ = 0;
  for (uint64_t n = 0; n < 1000; n++) {
    same += rt_rand_uniform(7, n) == rt_rand_uniform(7, n) && rt_rand_normal(7, n) == rt_rand_normal(7, n);
    differ += rt_rand_uniform(7, n) != rt_rand_uniform(8, n);
  }
  CHECK(same == 1000);
  CHECK(differ > 990);
  /* neighbours in one stream are not equal either */
  int distinct = 0;
  for (uint64_t n = 0; n < 1000; n++) distinct += rt_rand_normal(1, n) != rt_rand_normal(1, n + 1);
  CHECK(distinct > 990);
}

static void moments(const double *x, int n, double *mean, double *var) {
  double s = 0, q = 0;
  for (int i = 0; i < n; i++) s += x[i];
  *mean = s / n;
  for (int i = 0; i < n; i++) q += (x[i] - *mean) * (x[i] - *mean);
  *var = q / (n - 1);
}

/* Tolerances are about five standard errors of each estimate at 1e5 samples. */
static void test_uniform(void) {
  double *x = malloc(sizeof(double) * NS), lo = 1, hi = 0, mean, var;
  int buckets[10] = {0};
  for (int i = 0; i < NS; i++) {
    x[i] = rt_rand_uniform(42, (uint64_t)i);
    lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
    if (x[i] >= 0 && x[i] < 1) buckets[(int)(x[i] * 10)]++;
  }
  CHECK(lo >= 0 && hi < 1);
  CHECK(lo < 1e-3 && hi > 1 - 1e-3);
  moments(x, NS, &mean, &var);
  CHECK_NEAR(mean, 0.5, 0.005);
  CHECK_NEAR(var, 1.0 / 12, 0.002);
  for (int b = 0; b < 10; b++) CHECK(abs(buckets[b] - NS / 10) < 500);
  free(x);
}

static void test_normal(void) {
  double *x = malloc(sizeof(double) * NS), mean, var, m3 = 0, m4 = 0;
  int within1 = 0, finite = 0;
  for (int i = 0; i < NS; i++) {
    x[i] = rt_rand_normal(1234, (uint64_t)i);
    finite += isfinite(x[i]);
    within1 += fabs(x[i]) < 1;
  }
  CHECK(finite == NS);
  moments(x, NS, &mean, &var);
  for (int i = 0; i < NS; i++) {
    double z = x[i] - mean;
    m3 += z * z * z, m4 += z * z * z * z;
  }
  CHECK_NEAR(mean, 0, 0.02);
  CHECK_NEAR(var, 1, 0.025);
  CHECK_NEAR(m3 / NS, 0, 0.05);       /* skew 0 */
  CHECK_NEAR(m4 / NS, 3, 0.1);        /* kurtosis 3 */
  CHECK_NEAR((double)within1 / NS, 0.682689, 0.008);
  free(x);
}

static void test_fans(void) {
  double fi, fo;
  Shape dense = SHP(784, 128), conv = SHP(16, 6, 5, 5), vec = SHP(10);
  init_fans(&dense, &fi, &fo);
  CHECK(fi == 784 && fo == 128);
  init_fans(&conv, &fi, &fo);
  CHECK(fi == 6 * 25 && fo == 16 * 25);
  init_fans(&vec, &fi, &fo);
  CHECK(fi == 10 && fo == 10);
}

static void fill(InitKind k, double a, double b, uint64_t seed, Shape s, double *out) {
  int64_t n = shape_numel(&s);
  float *buf = malloc(sizeof(float) * (size_t)n);
  init_fill(&(Init){k, a, b, seed}, DT_F32, &s, buf);
  for (int64_t i = 0; i < n; i++) out[i] = buf[i];
  free(buf);
}

static void test_init_fill(void) {
  double *x = malloc(sizeof(double) * NS), *y = malloc(sizeof(double) * NS), mean, var;
  /* xavier: uniform within sqrt(6 / (fan_in + fan_out)), and using most of that range */
  Shape dense = SHP(400, 250);
  fill(INIT_XAVIER, 0, 0, 3, dense, x);
  double lim = sqrt(6.0 / 650), top = 0;
  for (int i = 0; i < NS; i++) top = fmax(top, fabs(x[i]));
  CHECK(top <= lim && top > 0.99 * lim);
  moments(x, NS, &mean, &var);
  CHECK_NEAR(var, lim * lim / 3, 0.02 * lim * lim);
  Shape convw = SHP(16, 6, 5, 5);
  fill(INIT_XAVIER, 0, 0, 4, convw, x);
  double climit = sqrt(6.0 / (150 + 400)), ctop = 0;
  for (int i = 0; i < 2400; i++) ctop = fmax(ctop, fabs(x[i]));
  CHECK(ctop <= climit && ctop > 0.9 * climit);
  /* he: normal with std sqrt(2 / fan_in) */
  fill(INIT_HE, 0, 0, 5, SHP(1000, 100), x);
  moments(x, NS, &mean, &var);
  CHECK_NEAR(var, 2.0 / 1000, 0.03 * 2.0 / 1000);
  CHECK_NEAR(mean, 0, 0.02 * sqrt(2.0 / 1000));
  /* normal(mean, std), uniform[low, high), constants */
  fill(INIT_NORMAL, 3, 0.5, 6, dense, x);
  moments(x, NS, &mean, &var);
  CHECK_NEAR(mean, 3, 0.01);
  CHECK_NEAR(var, 0.25, 0.0075);
  fill(INIT_UNIFORM, -2, 6, 7, dense, x);
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < NS; i++) lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
  CHECK(lo >= -2 && hi < 6 && lo < -1.99 && hi > 5.99);
  fill(INIT_ZEROS, 0, 0, 0, SHP(4), x);
  fill(INIT_ONES, 0, 0, 0, SHP(4), x + 4);
  fill(INIT_FILL, 0.25, 0, 0, SHP(4), x + 8);
  for (int i = 0; i < 4; i++) CHECK(x[i] == 0 && x[4 + i] == 1 && x[8 + i] == 0.25);
  /* the seed decides everything */
  fill(INIT_NORMAL, 0, 1, 9, SHP(1000), x);
  fill(INIT_NORMAL, 0, 1, 9, SHP(1000), y);
  CHECK(!memcmp(x, y, 1000 * sizeof(double)));
  fill(INIT_NORMAL, 0, 1, 10, SHP(1000), y);
  CHECK(memcmp(x, y, 1000 * sizeof(double)) != 0);
  free(x), free(y);
}

/* ir_param fills its data from the initializer, in the param's dtype */
static void test_param(void) {
  Graph *g = ir_graph_new("p");
  Init in = {INIT_UNIFORM, 1, 2, 11};
  int p = ir_param(g, "w", DT_F64, SHP(3, 4), in);
  CHECK(p >= 0 && g->nodes[p]->init.kind == INIT_UNIFORM && g->nodes[p]->init.seed == 11);
  for (int i = 0; p >= 0 && i < 12; i++)
    CHECK(dtype_load(DT_F64, g->nodes[p]->data, i) == 1 + rt_rand_uniform(11, (uint64_t)i));
  float d[2] = {1.5f, -2};
  int q = ir_param_data(g, "v", DT_F32, SHP(2), d);
  CHECK(q >= 0 && g->nodes[q]->init.kind == INIT_DATA && ((float *)g->nodes[q]->data)[1] == -2);
  ir_graph_free(g);
}

int main(void) {
  test_philox_known_answer();
  test_reproducible();
  test_uniform();
  test_normal();
  test_fans();
  test_init_fill();
  test_param();
  return check_report("test_rng");
}

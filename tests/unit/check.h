/* check.h — the few macros dlc's C tests share.  A failed check prints where and what,
 * and the test keeps going so one run shows every failure; main returns check_report(). */
#ifndef DLC_TEST_CHECK_H
#define DLC_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir.h"

static int check_failures;

#define CHECK(c) \
  ((c) ? (void)0 : (void)(check_failures++, fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c)))

/* |a - b| <= tol, NaN never passes */
#define CHECK_NEAR(a, b, tol)                                                                   \
  do {                                                                                          \
    double ca_ = (a), cb_ = (b);                                                                \
    if (!(fabs(ca_ - cb_) <= (tol))) {                                                          \
      check_failures++;                                                                         \
      fprintf(stderr, "%s:%d: check failed: %s = %.17g, %s = %.17g\n", __FILE__, __LINE__, #a, \
              ca_, #b, cb_);                                                                    \
    }                                                                                           \
  } while (0)

/* A builder that must fail: id is -1 and the graph's message contains `needle`. */
#define CHECK_FAILS(g, id, needle)                                                              \
  do {                                                                                          \
    int cid_ = (id);                                                                            \
    if (cid_ != -1 || !strstr((g)->err.msg, (needle))) {                                        \
      check_failures++;                                                                         \
      fprintf(stderr, "%s:%d: expected failure with \"%s\": id %d, message \"%s\"\n", __FILE__, \
              __LINE__, (needle), cid_, cid_ == -1 ? (g)->err.msg : "");                       \
    }                                                                                           \
  } while (0)

/* SHP(2, 3) is the Shape [2,3]; a scalar's shape is (Shape){0}. */
#define SHP(...) \
  shape_make((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})

/* Node id of g was built (id >= 0) with the shape given by the remaining arguments. */
#define CHECK_SHAPE(g, id, ...) check_shape_((g), (id), SHP(__VA_ARGS__), __FILE__, __LINE__)

static inline void check_shape_(const Graph *g, int id, Shape want, const char *file, int line) {
  char a[128], b[128];
  shape_str(&want, b, sizeof b);
  if (id < 0) {
    check_failures++;
    fprintf(stderr, "%s:%d: expected shape %s, but building failed: %s\n", file, line, b, g->err.msg);
  } else if (!shape_eq(&g->nodes[id]->shape, &want)) {
    check_failures++;
    shape_str(&g->nodes[id]->shape, a, sizeof a);
    fprintf(stderr, "%s:%d: shape is %s, want %s\n", file, line, a, b);
  }
}

static inline int check_report(const char *name) {
  if (check_failures) fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
  else printf("%s: all checks passed\n", name);
  return check_failures != 0;
}

#endif

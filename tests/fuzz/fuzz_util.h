/* fuzz_util.h — what the fuzz targets share: the property every rejected input must
 * have (exactly one line of error, never empty). */
#ifndef DLC_FUZZ_UTIL_H
#define DLC_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

/* Budgets for fuzzing: a 64th of the default nodes, a 2048th of the elements.  The
 * fuzzer looks for crashes and hangs in the readers; an input well inside the default
 * budgets (a recurrent layer unrolled to a million nodes, a ConstantOfShape of a million
 * elements folded through a few ops) is legal and takes a fraction of a second, but ten
 * times more under the fuzzer's instrumentation, so it would read as a timeout.  The
 * budgets themselves are tested at their defaults by tests/hostile.  A Loop whose trip
 * count or condition is known only at run time is unrolled to 4 iterations under guards
 * (--max-trip 4), so the fuzzer reaches that path too. */
static inline void fuzz_setup(void) {
  ir_limits.nodes = (int64_t)1 << 14; /* a 64th */
  ir_limits.elements = (int64_t)1 << 20;
  ir_limits.max_trip = 4;
}

/* A loader either gives a verified graph or fails with one non-empty line. */
static inline void fuzz_check_result(Graph *g, const DlcErr *e) {
  if (g) {
    ir_graph_free(g);
    return;
  }
  if (!e->msg[0] || strchr(e->msg, '\n')) {
    fprintf(stderr, "fuzz: the error is not one non-empty line: '%s'\n", e->msg);
    abort();
  }
}

#endif

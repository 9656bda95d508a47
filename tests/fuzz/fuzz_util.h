/* fuzz_util.h — what the fuzz targets share: the property every rejected input must
 * have (exactly one line of error, never empty). */
#ifndef DLC_FUZZ_UTIL_H
#define DLC_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

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

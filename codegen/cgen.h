/* cgen.h — code generators.  They read a graph, its schedule and its plan, and nothing
 * else; they never change the graph. */
#ifndef DLC_CGEN_H
#define DLC_CGEN_H

#include <stdio.h>

#include "ir.h"
#include "passes.h"

typedef struct CgenOptions {
  const char *name;         /* prefix of every public symbol: a C identifier */
  const char *header_name;  /* what model.c #includes, e.g. "model.h" */
  int64_t embed_max_bytes;  /* weights up to this size are embedded as hex floats */
} CgenOptions;

#define CGEN_EMBED_DEFAULT (16 << 20)

/* Writes the C source, its header and, when the weights are larger than
 * embed_max_bytes, the weights file (else `weights` is untouched and may be NULL).
 * 0, or -1 with e set. */
int cgen_c(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, FILE *c,
           FILE *h, FILE *weights, DlcErr *e);
/* Whether cgen_c would write a weights file for g under o. */
int cgen_c_needs_weights_file(const Graph *g, const Plan *p, const CgenOptions *o);

#endif

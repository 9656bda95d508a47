/* loops.c — loop nests and the index expressions inside them.
 *
 * Kernels walk their result in row-major order with one `for` per dimension, so the
 * innermost loop runs over contiguous elements and the compiler can vectorize it;
 * operands are read through constant strides (0 for a broadcast dimension), which
 * keeps every index a sum of products of int64_t loop variables and constants. */
#include <inttypes.h>
#include <string.h>

#include "cgen_c.h"

int cgen_loops_open(CEmit *ce, const Shape *s, const char *var, int depth) {
  for (int d = 0; d < s->rank; d++)
    cgen_line(ce, depth + d, "for (int64_t %s%d = 0; %s%d < %" PRId64 "; %s%d++) {", var, d, var,
              d, s->d[d], var, d);
  return depth + s->rank;
}

int cgen_par_dim(const Shape *s) {
  int64_t outer = 1;
  for (int d = 0; d < s->rank; d++) {
    if (s->d[d] >= 4 && outer <= 8) return d;
    outer *= s->d[d];
  }
  for (int d = 0; d < s->rank; d++)
    if (s->d[d] > 1) return d;
  return -1;
}

int cgen_loops_open_par(CEmit *ce, const Shape *s, const char *var, int depth, bool par) {
  int pd = par ? cgen_par_dim(s) : -1;
  for (int d = 0; d < s->rank; d++) {
    if (d == pd) cgen_par_for(ce, depth + d);
    cgen_line(ce, depth + d, "for (int64_t %s%d = 0; %s%d < %" PRId64 "; %s%d++) {", var, d, var,
              d, s->d[d], var, d);
  }
  return depth + s->rank;
}

void cgen_loops_close(CEmit *ce, int rank, int depth) {
  for (int d = rank - 1; d >= 0; d--) cgen_line(ce, depth + d, "}");
}

void cgen_index_init(CgenIndex *ix, int64_t base) {
  ix->s[0] = 0;
  ix->base = base;
}

static void append(CgenIndex *ix, const char *text) {
  size_t k = strlen(ix->s);
  DLC_ASSERT(k + strlen(text) + 1 < sizeof ix->s);
  memcpy(ix->s + k, text, strlen(text) + 1);
}

void cgen_index_add(CgenIndex *ix, const char *var, const int64_t *st, int rank) {
  for (int d = 0; d < rank; d++) {
    char term[96];
    if (st[d] == 0) continue;
    if (st[d] == 1) snprintf(term, sizeof term, "%s%s%d", ix->s[0] ? " + " : "", var, d);
    else snprintf(term, sizeof term, "%s%s%d * %" PRId64, ix->s[0] ? " + " : "", var, d, st[d]);
    append(ix, term);
  }
}

const char *cgen_index_str(CgenIndex *ix) {
  char term[64];
  if (ix->base || !ix->s[0]) {
    if (!ix->s[0]) snprintf(term, sizeof term, "%" PRId64, ix->base);
    else if (ix->base > 0) snprintf(term, sizeof term, " + %" PRId64, ix->base);
    else snprintf(term, sizeof term, " - %" PRId64, -ix->base);
    append(ix, term);
    ix->base = 0;
  }
  return ix->s;
}

void cgen_bcast_strides(const Shape *in, const Shape *out, int64_t *st) {
  int64_t xs[IR_MAX_RANK];
  shape_strides(in, xs);
  int lead = out->rank - in->rank;
  DLC_ASSERT(lead >= 0);
  for (int d = 0; d < out->rank; d++)
    st[d] = d < lead || in->d[d - lead] == 1 ? 0 : xs[d - lead];
}

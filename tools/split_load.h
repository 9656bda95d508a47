/* split_load.h — a batch in parts (`--micro-batch`; codegen/c/split_api.c, and
 * docs/ARCHITECTURE.md, "Batches in parts"): shared by the dlc command and libdlc. */
#ifndef DLC_SPLIT_LOAD_H
#define DLC_SPLIT_LOAD_H

#include "cgen.h"
#include "dlc_err.h"
#include "ir.h"
#include "passes.h"

typedef struct SplitBuild {
  Graph *g;            /* the model at `part` samples (not through the passes); NULL: whole */
  int64_t total, part;
  DynIO *io;           /* the whole model's inputs, then outputs (dyn_split_check) */
  char why[400];       /* with g NULL under auto: why it runs whole */
} SplitBuild;

/* The model again, each input whose first dimension is `from` given `to` there
 * (LoadOptions.lead_from, lead_to), verified; NULL with e set. */
typedef Graph *(*SplitLoad)(void *ctx, int64_t from, int64_t to, DlcErr *e);

/* micro: the samples of a part, -1 for auto, 0 for off.  Fills sp for `big`, the whole
 * batch's model: sp->g set (loaded through load) when the batch runs in parts.  Under
 * auto it runs whole, sp->why saying why, when the model mixes its samples (or holds
 * them otherwise than one after another in an input or output), when no value of the
 * whole batch is over 1 MiB, or when the parts would cost its products their weights'
 * reuse.  An explicit part that cannot be had is -1 with e set. */
int split_build(const Graph *big, int64_t micro, SplitLoad load, void *ctx, SplitBuild *sp, DlcErr *e);
void split_free(SplitBuild *sp);
/* The CgenSplit of sp for JitOptions.split (its s and p left NULL); NULL when whole. */
const CgenSplit *split_cgen(const SplitBuild *sp, CgenSplit *buf);

#endif

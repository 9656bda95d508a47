/* jit.h — build generated C into a shared object, load it, run it.
 *
 * What `dlc run`, `dlc bench` and the end-to-end tests share: a copy of the graph goes
 * through the pass pipeline (passes.h), cgen_c writes model.c/model.h (and model.bin, the
 * embedded weights that model.c links, or model.weights when large) into a fresh private
 * temporary folder, $CC (else cc) builds a shared
 * object from them, and dlopen loads it. */
#ifndef DLC_JIT_H
#define DLC_JIT_H

#include "cgen.h"
#include "ir.h"
#include "passes.h"

typedef struct JitModel JitModel;

typedef struct JitOptions {
  const char *cflags;      /* compiler flags, e.g. "-O3"; NULL: "-O2" (the target's -march follows) */
  const char *cpu;         /* the target CPU (dlc --cpu); NULL: $DLC_CPU, else the host's */
  int64_t embed_max_bytes; /* as CgenOptions; 0: CGEN_EMBED_DEFAULT */
  CgenWeightsAs weights_as; /* as CgenOptions: a blob linked by .incbin (model.bin), or C arrays */
  bool keep;               /* keep the temporary folder (its path in jit_dir) */
  bool cuda;               /* generate CUDA (cgen_cuda) and link libdlcrt's loader; run on the GPU */
  const PassOptions *passes; /* NULL: -O0 without fusion, the graph exactly as given */
  int threads;             /* > 1: built with -fopenmp, NAME_set_threads(threads); else serial */
  const DynInfo *dyn;      /* the graph joins --dynamic builds (dyn_merge): run with jit_run_dims */
  /* --micro-batch: the graph is the whole batch's interface; the code runs split->g (the
   * model at split->part samples, not yet through the passes: passes, as for the graph;
   * its s and p are ignored) over the parts (CgenSplit). */
  const CgenSplit *split;
  CgenProfile profile;     /* NAME_run times its kernels (CgenOptions.profile): jit_profile; not
                              with split, dyn or cuda */
} JitOptions;

/* NULL with e set ("cc failed: <first line of its output>") on failure. */
JitModel *jit_build(Graph *g, const JitOptions *o, DlcErr *e);
/* Builds g exactly as scheduled and planned, no passes run (tests of hand-made kernels). */
JitModel *jit_build_plan(const Graph *g, const Schedule *s, const Plan *p, const JitOptions *o,
                         DlcErr *e);

/* inputs[i]: the i-th INPUT's data in its dtype; outputs[j]: buffers for the j-th output. */
int jit_run(JitModel *m, const void *const *inputs, void *const *outputs, DlcErr *e);
/* A --dynamic build: dims[j] is the size of run-time dimension j; the buffers hold the
 * tensors at those sizes. */
int jit_run_dims(JitModel *m, const int64_t *dims, const void *const *inputs, void *const *outputs, DlcErr *e);
/* A CUDA model: the kernels of the last jit_run again, on the device's buffers as they
 * are (no copies), waited for.  Others: -1. */
int jit_launch(JitModel *m, DlcErr *e);
const char *jit_dir(const JitModel *m);
/* Built with JitOptions.profile: the nanoseconds of each kernel of the schedule summed
 * over the runs so far (*n entries, writable: zero them to start again); else NULL. */
int64_t *jit_profile(JitModel *m, int *n);
/* Built with JitOptions.split: the arena bytes of the part's plan (one thread's); else 0. */
int64_t jit_part_arena(const JitModel *m);

/* A graph with training steps (pass_train) also has these (the generated NAME_step,
 * NAME_save, NAME_load, NAME_param; docs/TRAINING.md).  jit_steps is 0 otherwise. */
int jit_steps(const JitModel *m);
const char *jit_step_name(const JitModel *m, int step);
/* Step `step` on inputs (every INPUT by position; NULL where the step reads none):
 * with update, forward, backward and the optimizer, the weights updated in place;
 * without, the loss alone.  *loss (may be NULL) gets the loss before the update. */
int jit_step(JitModel *m, int step, bool update, const void *const *inputs, float *loss, DlcErr *e);
int jit_save(JitModel *m, const char *path, DlcErr *e); /* parameters and optimizer state */
int jit_load(JitModel *m, const char *path, DlcErr *e);
void *jit_param(JitModel *m, const char *name); /* a parameter's values in the model, or NULL */
void jit_free(JitModel *m); /* unloads, removes the folder unless kept */

#endif

/* passes.h — graph to graph passes, and the kernel schedule and memory plan that the
 * code generators walk. */
#ifndef DLC_PASSES_H
#define DLC_PASSES_H

#include "ir.h"

/* How a kernel's nodes run.  The fuse pass decides; each backend has one emitter per
 * kind.  A kernel's last node is the value it produces. */
typedef enum {
  KERNEL_SINGLE,   /* one node */
  KERNEL_ELEMWISE, /* elementwise nodes over the last node's index space, as one loop */
  KERNEL_EPILOGUE, /* a matmul or conv, then elementwise nodes applied to each output */
  KERNEL_REDUCE,   /* elementwise nodes feeding the last node, a reduction (a prologue) */
  KERNEL_ROW,      /* a row-wise pattern (softmax, log-softmax, layernorm, cross-entropy) */
  KERNEL_SEQ,      /* nodes run one after another in one function (--fuse=op fallback) */
} KernelKind;

typedef struct Kernel {
  KernelKind kind;
  int n;
  int *nodes;
} Kernel;

typedef struct Schedule {
  int nk;
  Kernel *k;
} Schedule;

/* One kernel per computing node (INPUT, PARAM, CONST are not kernels). */
Schedule *pass_schedule(Graph *g);

/* Where each value lives while the model runs. */
typedef enum {
  LOC_NONE,   /* not materialised (e.g. an intermediate inside a fused kernel) */
  LOC_INPUT,  /* the caller's input buffer `index` */
  LOC_OUTPUT, /* the caller's output buffer `index` */
  LOC_WEIGHT, /* PARAM and CONST data: the weight block at `offset` bytes */
  LOC_ARENA,  /* the workspace at `offset` bytes */
} LocKind;

typedef struct Loc {
  LocKind kind;
  int index;
  int64_t offset;
} Loc;

typedef struct Plan {
  Loc *loc;             /* per node id */
  int64_t arena_bytes;  /* workspace size */
  int64_t total_bytes;  /* all arena values side by side: what no reuse would cost */
  int64_t peak_bytes;   /* most bytes live at once: no plan can do better */
  int64_t weight_bytes; /* size of all PARAM and CONST data */
  int ncopy;            /* outputs that are not written in place are copied at the end */
  int *copy_out;        /* output indices to copy (from the node's location) */
} Plan;

/* Assigns locations; all offsets 64-byte aligned.  Lives in g's arena. */
Plan *pass_plan(Graph *g, const Schedule *s);
/* Proves no two buffers that are live at once overlap; 0 or -1 with e set. */
int plan_check(const Graph *g, const Schedule *s, const Plan *p, DlcErr *e);

#endif

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

/* ---- autodiff (passes/autodiff.c, rules in passes/grad_*.c) ----------------------- */

/* Appends to g the reverse-mode gradient of the node `loss` (float, one element) with
 * respect to each of params[0..np) (any float node: PARAM, INPUT, or a computed value).
 * grads[i] gets the id of d loss / d params[i], of the same shape and dtype, or of a zero
 * constant broadcast to that shape when loss does not depend on it.  Gradients flow
 * through float values only; each op's rule is named in the grad column of ops.def.
 * Adds no outputs and leaves the forward nodes untouched.  0, or -1 with e set (loss
 * not a float scalar, a parameter that is not float, an op on the path without a rule). */
int pass_autodiff(Graph *g, int loss, const int *params, int np, int *grads, DlcErr *e);

/* Sums gradient gy (the shape an operand was broadcast to) back to shape `to`: over
 * the leading axes it gained and the axes where `to` has 1, then reshaped.  Returns gy
 * itself when the shapes agree; -1 with g->err set on failure. */
int grad_unbroadcast(Graph *g, int gy, const Shape *to);

/* ---- the pass pipeline (pipeline.c) and the graph-cleaning passes -------------------- */

/* How far fusion goes: one kernel per core op, per source operator, or across them. */
typedef enum { FUSE_NONE, FUSE_OP, FUSE_ALL } FuseMode;

typedef struct PassOptions {
  int opt_level;           /* 0: only what correctness needs; 1: fold, cse, dce; 2: all */
  FuseMode fuse;           /* pass_options gives none at -O0 and -O1, all at -O2 */
  bool training;           /* a training step: parameters change, so bnfold stays off */
  bool verify;             /* ir_verify after every pass (debug builds and tests) */
  const char *print_after; /* a pass name (pass_known): print the graph after it */
  FILE *print_to;          /* where print_after prints; NULL: stderr */
  FILE *stats_to;          /* one line per pass run, with node counts; NULL: none */
} PassOptions;

/* The defaults of a level: fusion as above, verify unless NDEBUG. */
PassOptions pass_options(int opt_level);
/* Whether name is a pass of the pipeline ("fold", "cse", "dce", "bnfold", "fuse", "plan"). */
bool pass_known(const char *name);

/* The whole list: fold, cse, dce, bnfold (-O2, inference only), then fuse (the
 * schedule) and plan.  *g may be replaced by a rebuilt graph (the old one is freed);
 * *s and *p live in the final graph's arena.  0, or -1 with e set. */
int pass_pipeline(Graph **g, const PassOptions *o, Schedule **s, Plan **p, DlcErr *e);

/* Each graph-cleaning pass may replace *g by a rebuilt graph (nodes renumbered, ids
 * equal to indices; inputs, params, outputs and their names kept) and frees the old
 * one.  0, or -1 with e set.  What each needs and gives: the comment atop its file. */
int pass_fold(Graph **g, DlcErr *e);   /* constants and exact algebraic identities */
int pass_cse(Graph **g, DlcErr *e);    /* equal nodes merged */
int pass_dce(Graph **g, DlcErr *e);    /* nodes no output needs removed */
int pass_bnfold(Graph **g, DlcErr *e); /* per-channel affine after conv/matmul into weights */

/* A copy of g in a new arena: same nodes, ids, names, data and outputs. */
Graph *pass_clone(const Graph *g);
/* The graph that uses node repl[i] wherever g used node i (repl[i] == i: kept), holding
 * every node an output needs plus every INPUT and PARAM, in topological order (dce.c).
 * g is freed.  NULL repl: no replacements. */
Graph *pass_rebuild(Graph *g, const int *repl);

/* The fuse pass (fuse.c): partitions the graph into kernels. */
Schedule *pass_fuse(Graph *g, FuseMode mode);

#endif

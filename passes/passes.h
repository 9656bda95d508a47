/* passes.h — graph to graph passes, and the kernel schedule and memory plan that the
 * code generators walk. */
#ifndef DLC_PASSES_H
#define DLC_PASSES_H

#include "ir.h"

/* How a kernel's nodes run.  The fuse pass decides; each backend has one emitter per
 * kind.  A kernel lists its nodes in an order that runs them (operands first); the last
 * node is its result.  In every kind but SINGLE and SEQ the other nodes are internal:
 * all their users are in the kernel, none is a graph output, and the plan gives them no
 * buffer (LOC_NONE).  Those kinds may also hold views: a RESHAPE whose operand is
 * outside the kernel, read from that operand's buffer through the reshape's shape (same
 * elements, same order).  Operands from outside are read with numpy broadcasting onto
 * the shape of the node that uses them.
 *
 *   SINGLE    one node, any op.
 *   ELEMWISE  elementwise nodes, each of the last node's shape, and views: one loop over
 *             that shape computes every node at each index.
 *   EPILOGUE  nodes[0], the head, is a matmul or conv whose operands come from outside
 *             and whose result only the kernel uses; the rest are elementwise nodes of the
 *             head's shape and views: the product's elements, then the elementwise tail
 *             at each index (bias, activation, residual).
 *   REDUCE    the last node is a reduction (sum, prod, max, min); the others are
 *             elementwise nodes of its operand's shape and views: the reduction's loop
 *             computes its operand's elements on the fly.
 *   ROW       a row domain vec = [P.., C], C >= 2 (the operand of the first reduction,
 *             else the last node's shape), and sc = [P.., 1]: elementwise nodes of shape
 *             vec (row vectors) or sc (per-row scalars), reductions of the last axis of a
 *             vec-shaped value with keepdims (per-row scalars), and views.  The last node
 *             is a row vector, a per-row scalar, or a reduction of the last axis (keepdims
 *             or not).  Each row is done alone: per-row scalars once, one pass over the
 *             row per reduction, one more to write a row-vector result (softmax,
 *             layernorm, log-softmax, cross-entropy).
 *   SEQ       any nodes, one after another in one function; each has its own buffer (none
 *             is internal), so any of them may be used outside.
 */
typedef enum {
  KERNEL_SINGLE,
  KERNEL_ELEMWISE,
  KERNEL_EPILOGUE,
  KERNEL_REDUCE,
  KERNEL_ROW,
  KERNEL_SEQ,
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

/* One kernel per computing node (INPUT, PARAM, CONST are not kernels): FUSE_NONE. */
Schedule *pass_schedule(Graph *g);
/* Proves s partitions g's computing nodes into kernels in a valid order that keep the
 * contracts above; 0, or -1 with e set. */
int schedule_check(const Graph *g, const Schedule *s, DlcErr *e);

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

/* A buffer holds several values when their lifetimes (the step that writes one to the
 * last step that reads it; a step is a kernel, or one node of a SEQ kernel) do not
 * overlap, and in two cases where they touch: in place, a kernel of kind ELEMWISE or
 * ROW (or a single elementwise node, alone or in a SEQ) writes its result over an arena
 * operand that dies there and that it reads at the very index it writes (same shape,
 * same dtype); and a reshape of an arena value, alone or in a SEQ, aliases it (it moves
 * nothing).  Emitters drop `restrict` where buffers meet, and on SEQ parameters. */
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
/* The same for a float value y of any shape, its gradient seeded with ones (each
 * grads[i] is the gradient of the sum of y's elements), and xs[0..nx) taken as
 * independent variables: a gradient stops at an xs node instead of flowing on into
 * what computed it (ONNX's Gradient operator: xs may name intermediate values).  When
 * an op's rule fails, *bad is that node's id, else -1.  0, or -1 with e set. */
int pass_gradient(Graph *g, int y, const int *xs, int nx, int *grads, int *bad, DlcErr *e);

/* Sums gradient gy (the shape an operand was broadcast to) back to shape `to`: over
 * the leading axes it gained and the axes where `to` has 1, then reshaped.  Returns gy
 * itself when the shapes agree; -1 with g->err set on failure. */
int grad_unbroadcast(Graph *g, int gy, const Shape *to);

/* ---- training (passes/train*.c, docs/TRAINING.md) ---------------------------------- */

/* Builds each training statement of g (g->spec) into a training step: the backward
 * graph, the optimizer's update, and a GraphStep whose outputs, appended after the
 * model's, are the loss and the new values of the trained parameters and the
 * optimizer's state.  Empties g->spec.  0, or -1 with e set. */
int pass_train(Graph *g, DlcErr *e);
/* The statement of a model without one: loss k on its single output against a new
 * INPUT "label" (class ids for ce, else the output's shape), optimizer o, every float
 * parameter trained; a softmax or sigmoid output is trained through its logits.
 * Appends it to g->spec.  0, or -1 with e set. */
int train_default_spec(Graph *g, LossKind k, const Optim *o, const char *name, DlcErr *e);
/* Whether the plan may put update value v (an output of a step, the new value of PARAM
 * target) in target's own weight slot: every read of target's old value is in an
 * earlier kernel, or in v's kernel at the index it writes; target is no output.
 * kof[i]: the kernel that computes node i, -1 for data; readers from plan_readers. */
bool plan_update_in_place(const Graph *g, const Schedule *s, const int *kof, const int *readers, int v,
                          int target);
/* Offsets for nb buffers (step intervals [first, last], sizes in bytes): best-fit in
 * one sweep over time, O(n log n), where pass_plan's orders would cost too much
 * (passes/plan_sweep.c).  Returns the arena's size. */
int64_t plan_sweep(int nb, const int *first, const int *last, const int64_t *bytes, int64_t *off);
/* order[0..nb): the buffers by first step, ties by index (plan_sweep.c; the planner's too). */
void plan_by_first(int nb, const int *first, int *order);
/* The last kernel that reads each node (-1: none); INT_MAX for an output or a node read
 * outside every kernel: the readers plan_update_in_place needs, found once.  In g's arena. */
int *plan_readers(Graph *g, const int *kof);

/* ---- a run-time dimension (passes/dynamic.c) ----------------------------------------- */

#define DYN_MAX_SIZES 24
#define DYN_MAX_DIMS 4
#define DYN_MAX_BUILDS 64
/* Where an input or output holds the samples of the bound dimension: axis (-1: it does
 * not depend on it), k entries per sample along it; outer = the blocks of samples
 * (the dimensions before it, times the repeats within it), row = the elements of one
 * sample within one block; numel = its elements at the bound. */
typedef struct DynIO {
  int axis;
  int64_t k, outer, row, numel;
  int bytes; /* of an element */
} DynIO;
typedef struct DynDim {
  char name[64];
  bool bound;                   /* NAME<=MAX: any size to max, run as a sum of sizes (largest
                                   first); else NAME=S1,..: exactly one of the sizes */
  int64_t max;
  int n;
  int64_t size[DYN_MAX_SIZES];
} DynDim;
/* The builds: every combination of the dimensions' sizes, the last dimension varying
 * fastest, except that the bound one (if any) varies fastest of all: build v is
 * combination v / nb of the exact dimensions and size v % nb of the bound one. */
typedef struct DynInfo {
  int ndim, bound;              /* bound: the index of the NAME<=MAX dimension, or -1 */
  DynDim dim[DYN_MAX_DIMS];
  int nv;                       /* builds */
  const char *file;             /* the model's file, for messages (during dyn_merge) */
  const char *flag;             /* the option messages name (NULL: --dynamic) */
  int nin, nout;                /* the model's own inputs and outputs */
  DynIO *io;                    /* per combination of the exact dimensions: nin + nout */
} DynInfo;
/* One --dynamic option into d (which starts as {.bound = -1}).  0 or -1 with e set. */
int dyn_parse(const char *s, DynInfo *d, DlcErr *e);
/* The sizes of build v, one per dimension; its name suffix ("8_16"). */
void dyn_sizes(const DynInfo *d, int v, int64_t *sizes);
void dyn_suffix(const DynInfo *d, int v, char *buf, size_t n);
int dyn_combos(const DynInfo *d); /* combinations of the exact dimensions' sizes */
/* v[i] is the model built at dyn_sizes(i) (not yet through the passes).  Checks that
 * the model keeps the bound dimension's samples apart (at each combination), fills d's
 * inputs and outputs, and joins the builds into *out: build i's inputs and outputs,
 * renamed NAME__SUFFIX, follow build i-1's.  0, or -1 with e naming the node that mixes
 * samples. */
int dyn_merge(Graph *const *v, DynInfo *d, Graph **out, DlcErr *e);
void dyn_free(DynInfo *d);
/* --micro-batch: whether `big`, the model at nb samples, keeps its samples apart along
 * its inputs' first axis, shown against `small`, the same model at ns samples (the
 * checks of dyn_merge; random numbers and strings refused too).  Fills io (big's inputs,
 * then its outputs) with their layout at nb samples.  0, or -1 with e naming the node. */
int dyn_split_check(const Graph *big, int64_t nb, const Graph *small, int64_t ns, DynIO *io, DlcErr *e);

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
/* Whether the pipeline runs that pass under o. */
bool pass_runs(const PassOptions *o, const char *name);

/* The whole list: fold, cse, dce, bnfold (-O2, inference only), then fuse (the
 * schedule) and plan.  *g may be replaced by a rebuilt graph (the old one is freed);
 * *s and *p live in the final graph's arena.  0, or -1 with e set. */
int pass_pipeline(Graph **g, const PassOptions *o, Schedule **s, Plan **p, DlcErr *e);

/* Each graph-cleaning pass may replace *g by a rebuilt graph (nodes renumbered, ids
 * equal to indices; inputs, params, outputs and their names kept) and frees the old
 * one.  0, or -1 with e set.  What each needs and gives: the comment atop its file. */
int pass_freeze(Graph **g, DlcErr *e); /* a model not trained: its PARAMs become CONSTs */
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

/* ir.h — dlc's one intermediate representation.
 *
 * Sections, in order: memory (Arena), dtypes, shapes, the op table, attributes,
 * initializers, nodes and graphs, building, checking (verifier), printing,
 * the reference interpreter.
 *
 * A Graph is a list of nodes in topological order.  A node is an SSA value: one op,
 * its operands (ids of earlier nodes), its attributes, its dtype and static shape.
 * Everything a compilation allocates lives in the graph's arena and is freed at once.
 */
#ifndef DLC_IR_H
#define DLC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dlc_err.h"

/* ---- memory ------------------------------------------------------------------ */

typedef struct Arena Arena;
Arena *arena_new(void);
void *arena_alloc(Arena *a, size_t n); /* zeroed, 16-byte aligned; aborts when out of memory */
char *arena_strdup(Arena *a, const char *s);
void *arena_memdup(Arena *a, const void *p, size_t n);
/* Growing arrays in the arena: arena_grow returns a copy of old's first n records of
 * `size` bytes with room for arena_grown(cap) (twice cap, at least 16).  A list of
 * parallel arrays grows each of them, then sets its cap once. */
void *arena_grow(Arena *a, const void *old, int n, int cap, size_t size);
static inline int arena_grown(int cap) { return cap ? 2 * cap : 16; }
void arena_free(Arena *a);

/* ---- budgets (docs/SECURITY.md) -------------------------------------------------- */

/* What one model may ask for, checked before the work it would cause: a few bytes of
 * model must not make dlc allocate gigabytes or run for hours.  The CLI raises each
 * with a flag (--max-elements, --max-nodes, --max-weight-bytes, --max-arena-bytes);
 * the error names the flag.  Process-wide: every graph and pass reads the same. */
typedef struct IrLimits {
  int64_t elements;     /* elements of one tensor (default 2^31) */
  int64_t nodes;        /* nodes of one graph, after unrolling (default 2^20) */
  int64_t weight_bytes; /* bytes of all parameters and constants (default 2^29) */
  int64_t arena_bytes;  /* bytes of the memory plan's arena (default 2^34) */
  int64_t code_bytes;   /* bytes of generated source, C or CUDA (default 2^28) */
  /* What a model with strings gets at run time: its string heap's bytes (--string-heap,
   * default 2^20), and the pieces StringSplit without maxsplit keeps of one string
   * (--split-pieces, default 64).  More is a run-time status, never a cut. */
  int64_t string_heap;
  int64_t split_pieces;
  /* The most iterations of an ONNX Loop whose trip count or condition is known only at
   * run time (--max-trip; 0, the default: none given, and such a Loop is an error): it
   * is unrolled that far under guards, and a run that would go further fails. */
  int64_t max_trip;
} IrLimits;
extern IrLimits ir_limits;
/* The limit a flag sets, by the flag's name without its dashes ("max-nodes", "max-trip",
 * "string-heap", ...), or NULL. */
int64_t *ir_limit_named(const char *name);
const char *ir_limit_name(int i); /* the i-th limit's name (its flag without "--"); NULL past the last */
/* Sets the limit NAME names to value (at least 1; max-trip at least 0), or -1 with e set
 * (no such name: the names are listed; a value out of range). */
int ir_limit_set(const char *name, int64_t value, DlcErr *e);
/* 0, or -1 with e set: "WHAT needs N elements, over the limit of M (--max-elements)". */
int ir_limit_elements(const char *what, double n, DlcErr *e);
int ir_limit_bytes(const char *what, double bytes, int64_t limit, const char *flag, DlcErr *e);

/* ---- dtypes -------------------------------------------------------------------- */

/*        ID    name    C type      bytes */
#define DLC_DTYPES(X)             \
  X(F32, "f32", "float", 4)       \
  X(F64, "f64", "double", 8)      \
  X(I8, "i8", "int8_t", 1)        \
  X(I16, "i16", "int16_t", 2)     \
  X(I32, "i32", "int32_t", 4)     \
  X(I64, "i64", "int64_t", 8)     \
  X(U8, "u8", "uint8_t", 1)       \
  X(BOOL, "bool", "uint8_t", 1)   \
  X(U16, "u16", "uint16_t", 2)    \
  X(U32, "u32", "uint32_t", 4)    \
  X(U64, "u64", "uint64_t", 8)     \
  X(F16, "f16", "uint16_t", 2)    \
  X(BF16, "bf16", "uint16_t", 2)    \
  X(F8E4M3FN, "f8e4m3fn", "uint8_t", 1)     \
  X(F8E4M3FNUZ, "f8e4m3fnuz", "uint8_t", 1) \
  X(F8E5M2, "f8e5m2", "uint8_t", 1)         \
  X(F8E5M2FNUZ, "f8e5m2fnuz", "uint8_t", 1) \
  X(F8E8M0, "f8e8m0", "uint8_t", 1)         \
  X(F4E2M1, "f4e2m1", "uint8_t", 1)         \
  X(I4, "i4", "uint8_t", 1)                 \
  X(U4, "u4", "uint8_t", 1)                 \
  X(I2, "i2", "uint8_t", 1)                 \
  X(U2, "u2", "uint8_t", 1)                 \
  X(STR, "str", "dlc_str", 8)

typedef enum {
#define X(id, name, ctype, size) DT_##id,
  DLC_DTYPES(X)
#undef X
  DT_COUNT
} DType;

const char *dtype_name(DType t);
const char *dtype_ctype(DType t);
int dtype_size(DType t);
int dtype_bits(DType t);                            /* of one element: 8 * size, 4 for i4, u4, f4e2m1, 2 for i2, u2 */
bool dtype_is_float(DType t);                       /* f32, f64, f16, bf16, the f8 and f4 types */
/* f16 (IEEE binary16), bf16 (the top half of an f32) and the narrow types of ONNX
 * (f8e4m3fn, f8e4m3fnuz, f8e5m2, f8e5m2fnuz, f8e8m0, f4e2m1, i4, u4, i2, u2) are
 * storage dtypes: values are held in them, computed in f32.  Only cast and the sources
 * take or give them (ir_add and ir_verify refuse the rest); the C types are their bits,
 * uint16_t for f16 and bf16, one uint8_t per element for the others (the 4- and 2-bit
 * types in its low bits, the upper bits zero: ml_dtypes' layout, not ONNX's packing). */
bool dtype_is_storage(DType t);
bool dtype_is_narrow(DType t);                      /* the storage dtypes of one byte */
/* A cast to f8e8m0 rounds the f32's exponent up (the default), down or to nearest,
 * saturating at 2^127 unless DTYPE_E8M0_NOSAT is added (ONNX's Cast round_mode,
 * saturate): the cast op's `round` attribute. */
enum { DTYPE_E8M0_UP = 0, DTYPE_E8M0_DOWN = 1, DTYPE_E8M0_NEAREST = 2, DTYPE_E8M0_NOSAT = 4 };
double dtype_e8m0_round(double v, int mode);        /* v rounded into f8e8m0 by `mode` */
double dtype_narrow_max(DType t);                   /* the largest finite value of a float storage dtype */
bool dtype_is_int(DType t);                         /* integers, not bool or str */
/* str: a string tensor.  An element is a pointer to NUL-terminated UTF-8 (C type
 * dlc_str, `const char *`; 8 bytes), so the movement ops copy it as any 8-byte value.
 * A CONST's strings live in the graph's arena (ir_const copies them); the interpreter
 * holds a str value as the pointer's address in a double (exact below 2^53) and puts
 * the strings it makes in the graph's arena.  Only the ops op_takes_str names read or
 * give it. */
bool dtype_is_str(DType t);
bool dtype_is_unsigned(DType t);                    /* u8, u16, u32, u64 */
int dtype_parse(const char *s, size_t n, DType *t); /* 0, or -1 if unknown */
double dtype_lowest(DType t);                       /* -inf for floats */
double dtype_highest(DType t);                      /* +inf for floats */
double dtype_round(DType t, double v);              /* v as stored in t (f32 rounding, int wrap, bool 0/1) */
double dtype_load(DType t, const void *p, int64_t i);
void dtype_store(DType t, void *p, int64_t i, double v);

/* ---- shapes -------------------------------------------------------------------- */

#define IR_MAX_RANK 8

typedef struct Shape {
  int rank;
  int64_t d[IR_MAX_RANK];
} Shape;

int64_t shape_numel(const Shape *s);
bool shape_eq(const Shape *a, const Shape *b);
Shape shape_make(int rank, const int64_t *d);
int shape_str(const Shape *s, char *buf, size_t n); /* "[1,784]" */
void shape_strides(const Shape *s, int64_t *strides); /* row-major element strides */
int shape_broadcast2(const Shape *a, const Shape *b, Shape *out); /* numpy rules; -1 if not */

/* ---- the op table (ops.def) ------------------------------------------------------ */

typedef enum {
#define OP(id, name, nin, impl, types, result, attrs, scalar, cexpr, grad) OP_##id,
#include "ops.def"
#undef OP
  OP_COUNT
} Op;

typedef enum { T_ANY, T_NUM, T_FLOAT, T_BOOL, T_INT, T_STR } OpTypes;
typedef enum { R_SAME, R_BOOL, R_I64, R_ATTR, R_I32 } OpResult;

typedef struct Graph Graph;
typedef struct Node Node;

typedef double (*ScalarFn)(const double *x); /* x[0..nin-1] -> y; see ir/scalar.c */

typedef struct OpInfo {
  const char *name;
  int nin;           /* -1: one or more */
  const char *impl;  /* family, e.g. "binary" */
  OpTypes types;
  OpResult result;
  const char *attrs; /* schema, see ops.def */
  ScalarFn scalar;
  const char *cexpr;
  int (*shape)(Graph *g, Node *n); /* sets n->dtype and n->shape; -1 with g->err on bad input */
} OpInfo;

extern const OpInfo ir_ops[OP_COUNT];
int op_parse(const char *s, size_t n); /* Op, or -1 */
bool op_is_elementwise(Op op);         /* unary, binary, select, cast, bitcast */
bool op_takes_storage(Op op);          /* reads or gives the storage dtypes: cast, bitcast */
bool op_takes_str(Op op);              /* reads or gives str: sources, movement, select, the str_* ops */
/* Whether ir_add lets op's operands have dtype d (its types column, storage and str as
 * above; select's condition and gather's indices are checked by their shape rules). */
bool op_takes_dtype(Op op, DType d);

/* ---- attributes ------------------------------------------------------------------ */

#define DLC_ATTRS(X)                                                                 \
  X(AXES, "axes") X(KEEPDIMS, "keepdims") X(AXIS, "axis") X(TO, "to") X(SHAPE, "shape") \
  X(PERM, "perm") X(STARTS, "starts") X(ENDS, "ends") X(STEPS, "steps") X(PADS, "pads") \
  X(VALUE, "value") X(TRANS_A, "trans_a") X(TRANS_B, "trans_b") X(STRIDES, "strides")  \
  X(DILATIONS, "dilations") X(GROUPS, "groups") X(KERNEL, "kernel")                     \
  X(COUNT_PAD, "count_pad") X(DTYPE, "dtype") X(SEED, "seed") X(PART, "part") X(SORTED, "sorted") \
  X(CENTER, "center") X(MAX_OUT, "max_out") X(ROUND, "round") \
  X(UPPER, "upper") X(MAXSPLIT, "maxsplit") X(BOUND, "bound") X(ASCII, "ascii")

typedef enum {
#define X(id, name) A_##id,
  DLC_ATTRS(X)
#undef X
  A_COUNT
} AttrKey;

typedef enum { AK_INT, AK_INTS, AK_FLOAT, AK_DTYPE } AttrKind;

typedef struct Attr {
  AttrKey key;
  AttrKind kind;
  int n;          /* AK_INTS: count */
  int64_t *ints;  /* AK_INTS */
  int64_t i;      /* AK_INT; AK_DTYPE (the DType) */
  double f;       /* AK_FLOAT */
} Attr;

const char *attr_name(AttrKey k);
int attr_parse(const char *s, size_t n); /* AttrKey, or -1 */

/* One entry of an op's attribute schema. */
typedef struct AttrSpec {
  AttrKey key;
  AttrKind kind;
  bool optional;    /* "?" or has a default */
  bool has_default;
  double def;       /* the default, for int and float */
} AttrSpec;
int op_attr_specs(Op op, AttrSpec *out, int max); /* count of the op's attributes */

/* Building attribute values (the arrays are copied when the node is made). */
Attr attr_int(AttrKey k, int64_t v);
Attr attr_ints(AttrKey k, const int64_t *v, int n);
Attr attr_float(AttrKey k, double v);
Attr attr_dtype(AttrKey k, DType t);

const Attr *node_attr(const Node *n, AttrKey k); /* NULL if absent */
int64_t node_int(const Node *n, AttrKey k);      /* asserts presence */
const int64_t *node_ints(const Node *n, AttrKey k, int *count);
double node_float(const Node *n, AttrKey k);

/* ---- initializers (PARAM) --------------------------------------------------------- */

/*           ID       name       args */
#define DLC_INITS(X)                                                                   \
  X(ZEROS, "zeros")     /* 0 */                                                        \
  X(ONES, "ones")       /* 1 */                                                        \
  X(FILL, "fill")       /* value=a */                                                  \
  X(NORMAL, "normal")   /* mean=a, std=b */                                            \
  X(UNIFORM, "uniform") /* low=a, high=b */                                            \
  X(XAVIER, "xavier")   /* uniform, limit sqrt(6 / (fan_in + fan_out)) */              \
  X(HE, "he")           /* normal, std sqrt(2 / fan_in) */                             \
  X(DATA, "data")       /* explicit values (from a file or another format) */

typedef enum {
#define X(id, name) INIT_##id,
  DLC_INITS(X)
#undef X
  INIT_COUNT
} InitKind;

typedef struct Init {
  InitKind kind;
  double a, b;
  uint64_t seed;
} Init;

const char *init_name(InitKind k);
int init_parse(const char *s, size_t n); /* InitKind, or -1 */
/* Fan-in/out of a weight: rank 2 is [in, out] (dense); rank > 2 is [out, in, k...] (conv). */
void init_fans(const Shape *s, double *fan_in, double *fan_out);
/* Fills data (numel values of dtype t) deterministically from the initializer. */
void init_fill(const Init *in, DType t, const Shape *s, void *data);

/* ---- nodes and graphs ------------------------------------------------------------- */

struct Node {
  int id;            /* index in g->nodes */
  Op op;
  DType dtype;
  Shape shape;
  int nin;
  int *in;           /* operand node ids, each < id */
  int nattr;
  Attr *attr;
  const char *name;  /* INPUT, PARAM, CONST: their name; others: a name for printing, or NULL */
  void *data;        /* CONST, PARAM: numel values of dtype */
  Init init;         /* PARAM: how data was made */
  int group;         /* the source layer or operator this node was built for (-1: none) */
  const char *where; /* where it came from, for diagnostics ("model.dlc:12"), or NULL */
  /* -1: the node always runs.  Else the id of an earlier, unguarded, rank-0 bool node:
   * the node runs only when that value is true (a branch of a run-time If), and when it
   * does not its value is undefined; only nodes under the same or a stronger guard
   * (an `and` of it), and a select on the branch's condition, read it.  Sources
   * (INPUT, PARAM, CONST) are never guarded. */
  int guard;
};

/* ---- training records (ir/train.c; built by the frontend and passes/train.c) ------ */

typedef enum { OPT_SGD, OPT_ADAM, OPT_ADAMW } OptKind;
typedef enum { LR_CONSTANT, LR_STEP, LR_COSINE } LrKind;

/* An optimizer and its learning-rate schedule, PyTorch's conventions (docs/TRAINING.md). */
typedef struct Optim {
  OptKind kind;
  double lr;
  double momentum;      /* SGD: 0 is plain SGD */
  bool nesterov;        /* SGD with momentum */
  double beta1, beta2, eps; /* Adam, AdamW */
  double weight_decay;  /* SGD, Adam: added to the gradient; AdamW: decoupled */
  LrKind sched;
  int64_t sched_steps;  /* LR_STEP: steps between decays; LR_COSINE: steps to reach lr_min */
  double gamma;         /* LR_STEP: the factor of each decay */
  double lr_min;        /* LR_COSINE */
} Optim;

Optim optim_default(OptKind k); /* lr 1e-3 (SGD 1e-2), betas 0.9/0.999, eps 1e-8, AdamW wd 1e-2 */
/* The defaults of an optimizer by name: sgd, momentum (SGD, 0.9), nesterov, adam, adamw. */
int optim_named(const char *name, Optim *o);    /* 0, or -1 if unknown */
int optim_schedule(const char *name, Optim *o); /* constant, step, cosine; 0 or -1 */
void optim_copy_schedule(Optim *to, const Optim *from); /* sched, sched_steps, gamma, lr_min */
/* One setting by name (lr=, beta1=, ..., the schedule's steps=, every=, gamma=, lr_min=),
 * checked against its range; 0, or -1 with e set. */
int optim_set(Optim *o, const char *key, double v, DlcErr *e);

/* A training statement as read: what pass_train turns into a step. */
typedef struct TrainSpec {
  const char *name;   /* the step's name (a C identifier): NAME_<name>_step */
  int loss;           /* a float scalar node */
  int npat;           /* which PARAMs it trains: names, "layer" (its parameters "layer.*"), */
  const char **pat;   /* or globs with '*'; none: every float PARAM the loss depends on */
  Optim opt;
  const char *where;  /* "file:line", or NULL */
} TrainSpec;

/* A training step as built (pass_train).  Its outputs are g->out[out0] (the loss) and
 * g->out[out0 + 1 + i], the value PARAM target[i] (a weight or optimizer state) takes
 * when the step has run: the step writes it back in place. */
typedef struct GraphStep {
  const char *name;
  int out0;
  int nupd;
  int *target; /* PARAM node ids */
} GraphStep;

int ir_add_spec(Graph *g, const TrainSpec *s);  /* copies s into g; its index */
int ir_add_step(Graph *g, const char *name, int out0, int nupd, const int *target);
/* Outputs before the first step's: the model's own (all outputs when there is no step). */
int ir_num_model_outputs(const Graph *g);
/* The PARAM output j writes back into, or -1 (a model output or a loss). */
int ir_update_target(const Graph *g, int j);
/* dst's steps are src's, their targets renamed through newid (pass_rebuild, pass_clone). */
void ir_copy_steps(Graph *dst, const Graph *src, const int *newid);

struct Graph {
  Arena *arena;
  const char *name;   /* model name: a C identifier */
  const char *file;   /* the file it was read from, or NULL */
  Node **nodes;
  int n, cap;
  int nout;
  int *out;           /* output node ids */
  const char **out_name;
  /* A data-dependent result (NonZero, Unique) is padded to its bound: out_count[j] is
   * the output holding how many entries axis out_axis[j] of output j really has (an i64
   * scalar), or -1 (ir_output_extent). */
  int *out_count, *out_axis;
  /* Output j holds the values of maps whose keys are output out_keys[j] (ONNX's ZipMap:
   * row i is map i, column k the value of key k), or -1 (ir_output_keys). */
  int *out_keys;
  int outcap;
  int group;          /* builders stamp new nodes with this */
  const char *where;  /* builders stamp new nodes with this */
  int guard;          /* builders stamp new computing nodes with this (-1: none) */
  DlcErr err;         /* the last builder error */
  /* What the frontend decided that the user may want to know (an unrolled Loop and its
   * bound): `dlc compile --stats` prints them.  In the arena; ir_note appends. */
  const char **notes;
  int nnotes, notecap;
  TrainSpec *spec;    /* training statements not built yet (dropped by pass_rebuild) */
  int nspec, speccap;
  GraphStep *step;    /* training steps built by pass_train */
  int nstep, stepcap;
  int64_t weight_bytes; /* PARAM and CONST data added so far (ir_limits.weight_bytes) */
};

Graph *ir_graph_new(const char *name);
void ir_graph_free(Graph *g);
void ir_note(Graph *g, const char *fmt, ...) DLC_PRINTF(2, 3);
static inline Node *ir_node(const Graph *g, int id) { return g->nodes[id]; }
int ir_num_inputs(const Graph *g);
int ir_input_id(const Graph *g, int i); /* id of the i-th INPUT node */
int ir_find(const Graph *g, const char *name); /* INPUT, PARAM or CONST by name, or -1 */

/* ---- building --------------------------------------------------------------------- */

/* Adds a node, runs its op's shape rule.  Returns its id, or -1 with g->err set
 * (e.g. "matmul: inner dimensions differ: [1,784] x [512,10]"). */
int ir_add(Graph *g, Op op, const int *in, int nin, const Attr *attrs, int nattr);
/* When node id is a constant: each of its values is an index in [-dim, dim), else -1
 * with e set ("index V is out of range for a dimension of D").  0 for other nodes.
 * For frontends whose format makes such an index an error (ONNX); the core gather
 * checks its indices when it runs. */
int ir_const_indices_check(const Graph *g, int id, int64_t dim, DlcErr *e);
int ir_input(Graph *g, const char *name, DType t, Shape s);
int ir_param(Graph *g, const char *name, DType t, Shape s, Init init); /* fills data */
int ir_param_data(Graph *g, const char *name, DType t, Shape s, const void *data);
int ir_const(Graph *g, const char *name, DType t, Shape s, const void *data); /* name may be NULL */
/* numel values of dtype t copied into arena a; str values with their strings. */
void *ir_data_copy(Arena *a, DType t, const void *data, int64_t numel);
int ir_scalar(Graph *g, DType t, double v);  /* rank-0 CONST */
int ir_output(Graph *g, int id, const char *name);
/* Output j's axis holds only as many entries as output `count` (an i64 scalar) says;
 * the rest is padding.  0, or -1 with g->err set. */
int ir_output_extent(Graph *g, int j, int count, int axis);
/* Output `keys` (a vector) holds the keys of the maps in output j (its last axis). */
int ir_output_keys(Graph *g, int j, int keys);

/* Short forms for frontends; each returns the new id or -1 like ir_add. */
int ir_unary(Graph *g, Op op, int x);
int ir_binary(Graph *g, Op op, int a, int b);
int ir_select(Graph *g, int cond, int a, int b);
int ir_cast(Graph *g, int x, DType to);
int ir_reduce(Graph *g, Op op, int x, const int64_t *axes, int naxes, bool keepdims);
int ir_reshape(Graph *g, int x, const int64_t *shape, int rank);
int ir_transpose(Graph *g, int x, const int64_t *perm);
int ir_matmul(Graph *g, int a, int b, bool trans_a, bool trans_b);
int ir_matmul_int(Graph *g, int a, int b); /* u8/i8 operands, exact i32 sums */

/* Losses, compositions of core ops (ir/loss.c, docs/TRAINING.md): each the mean over
 * the batch (the leading dimension), a float scalar.  CE: pred holds logits [N, K] (or
 * [N, K, ...] classes on axis 1), target integer class ids [N] (or [N, ...]) or float
 * probabilities of pred's shape; BCE: pred logits, target probabilities broadcast to
 * pred; MSE, L1: elementwise against target broadcast to pred.  -1 with g->err set. */
typedef enum { LOSS_CE, LOSS_BCE, LOSS_MSE, LOSS_L1 } LossKind;
int ir_loss(Graph *g, LossKind k, int pred, int target);
int loss_parse(const char *s, LossKind *k); /* ce|cross_entropy, bce, mse, l1; 0 or -1 */

/* Whether a node under guard `a` may read a value computed under guard `b`: b is -1,
 * equal to a, or one operand of an `and` chain that a is. */
bool ir_guard_implies(const Graph *g, int a, int b);

/* If every operand of node `id` is a CONST, evaluates it and turns it into a CONST in
 * place (ir/fold.c).  1 if folded, 0 if not foldable, -1 with e set. */
int ir_fold_node(Graph *g, int id, DlcErr *e);

/* ---- checking, printing ------------------------------------------------------------- */

/* Types, shapes (re-derived), operand order, names, outputs.  0 or -1 with e set. */
int ir_verify(const Graph *g, DlcErr *e);
/* Writes g in the native text format; the output parses back to the same graph. */
void ir_print(FILE *f, const Graph *g);

/* ---- text (ir/str.c) ------------------------------------------------------------- */

/* s in lower or upper case into out (room for strlen(s) + 1): ASCII, Latin-1 and basic
 * Cyrillic letters (ASCII's alone with `ascii`); every other byte as it is.  The length
 * never changes.  0, or -1 when s has a letter of a cased script that is not mapped
 * (Greek, Latin Extended, ß, ...; not with `ascii`): Unicode would change it. */
int str_case_map(const char *s, char *out, bool upper, bool ascii);
/* s split as Python's s.split(d, maxsplit) (d "": s.split(None, maxsplit), at runs of
 * whitespace); f gets piece k's bytes (not NUL-terminated).  Returns the count. */
typedef void (*StrPiece)(void *ctx, int64_t k, const char *p, size_t len);
int64_t str_split_each(const char *s, const char *d, int64_t maxsplit, StrPiece f, void *ctx);
/* v (of dtype t) as str_format writes it into buf (STR_NUM_BYTES is room for any). */
#define STR_NUM_BYTES 32
void str_format_num(double v, DType t, char buf[STR_NUM_BYTES]);
/* s read as str_parse reads it as dtype t (f32, f64, i64, u64): 0, or -1 when s starts
 * with no number or an integer out of range. */
int str_parse_num(const char *s, DType t, double *out);

/* ---- the reference interpreter (ir/interp.c) ------------------------------------------ */

/* Runs g in double precision.  inputs[i] holds the i-th INPUT's values, outputs[j] gets
 * the j-th output's values (caller-allocated, numel each).  Each node's result is
 * rounded to its dtype, so integer and comparison ops agree with compiled code.
 * 0, or -1 with e set (e.g. an index out of range). */
int interp_run(const Graph *g, const double *const *inputs, double *const *outputs, DlcErr *e);

#endif

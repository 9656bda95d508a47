/* onnx_fe.h — the ONNX frontend's private interface.
 *
 * The loader (onnx_load.c) reads a ModelProto with protobuf-c, makes the graph's inputs
 * and initializers, then walks the nodes and calls each operator's builder, found by
 * op_type in the table of onnx_ops.def.  A builder reads its node's operands and
 * attributes and emits core ops; nothing ONNX-specific survives into the IR. */
#ifndef DLC_ONNX_FE_H
#define DLC_ONNX_FE_H

#include "frontend.h"
#include "onnx.pb-c.h"

#define ONNX_MAX_IO 64

/* The newest opset whose operators dlc builds as specified: the pinned onnx package's
 * (1.23.2), whose node tests run at opsets up to this one. */
#define ONNX_OPSET_MAX 28
#define ONNX_MAX_DEPTH 32 /* bodies nested in bodies */
/* The newest opset of the ai.onnx.ml domain (onnx_ops_ml.c): the pinned onnx's. */
#define ONNX_ML_OPSET_MAX 5
#define ONNX_ML_DOMAIN "ai.onnx.ml"
/* The preview domains: optimizers (onnx_ops_training.c) and FlexAttention
 * (onnx_ops_flex.c); each has opset 1 only. */
#define ONNX_TRAINING_DOMAIN "ai.onnx.preview.training"
#define ONNX_PREVIEW_DOMAIN "ai.onnx.preview"
#define ONNX_PREVIEW_OPSET_MAX 1

/* The domains whose operators dlc builds (a column of onnx_ops.def). */
typedef enum { ONNX_DOM_DEFAULT, ONNX_DOM_ML, ONNX_DOM_TRAINING, ONNX_DOM_PREVIEW } OnnxDomain;

typedef struct OnnxNode OnnxNode;

/* A body being built (onnx_ops_ctrl.c): the node it belongs to and which of its bodies,
 * for errors that name the outer node and the inner one. */
typedef struct OnnxScope {
  const OnnxNode *node;
  const char *what;  /* "then_branch", "body iteration", ... */
  int64_t iter;      /* the iteration, or -1 */
  int depth;         /* 1 for a body of a top-level node */
  struct OnnxScope *up;
} OnnxScope;

typedef struct OnnxUndo {
  const char *name;
  int old;           /* what the name stood for before the body bound it (-1: nothing) */
} OnnxUndo;

/* Sequences and optionals (onnx_ops_seq.c) are compile-time structures of the
 * frontend: a sequence is a list of tensor ids whose length is known at compile time,
 * an optional is empty or holds one tensor or sequence.  The name table maps such a
 * value to a code <= -2 (ONNX_IS_SEQ; -1 still means absent).  Only the builders of
 * ONNX_OP_SEQ rows are handed one; wire() refuses it to every other builder. */
typedef enum { ONNX_SEQ, ONNX_OPT, ONNX_MAPS } OnnxSeqKind;
typedef struct OnnxSeq {
  OnnxSeqKind kind;
  int n;     /* elements; an optional: 0 (empty) or 1; ONNX_MAPS: 2 */
  int *v;    /* tensor ids; an optional's element may be a sequence's code; ONNX_MAPS (ZipMap's
                sequence of maps that share their keys): the values [N, C] and the keys [C] */
  int dtype; /* the elements' DType when known, else -1 */
  int count; /* ONNX_SEQ: its length when known only at run time (an i64 scalar node, at most
                n; elements from count on are padding), else -1 (n).  From a Loop or If
                whose condition is known only at run time (onnx_ops_ctrl.c's merge) */
} OnnxSeq;
#define ONNX_IS_SEQ(id) ((id) <= -2)

/* A DequantizeLinear of a u8 or i8 tensor x, by its output's name (onnx_ops_quant.c). */
typedef struct OnnxDeq {
  const char *name;
  int id;               /* the output's value */
  int x, scale, zp;     /* zp -1: none */
  int64_t axis;         /* the scale's axis (-1: out of range) */
} OnnxDeq;

typedef struct OnnxCtx {
  Graph *g;
  const char *file;
  const char *dir;    /* the model's folder: external data must stay inside it */
  int64_t opset;      /* of the default domain; 0 if the model imports only other domains */
  int64_t ml_opset;   /* of ai.onnx.ml; 0 if the model imports none */
  int64_t training_opset, preview_opset; /* of ai.onnx.preview.training, ai.onnx.preview */
  const LoadOptions *opts;
  DlcErr *e;
  /* value name -> node id */
  int nslot;
  const char **key;
  int *val;
  int nvals;
  /* sequences and optionals: code -2 - i is seqs[i] */
  OnnxSeq *seqs;
  int nseqs, seqcap;
  /* bodies (onnx_ops_ctrl.c) */
  OnnxScope *scope;   /* the innermost body being built; NULL at the top level */
  const char *prefix; /* IR names made in that body start with it */
  OnnxUndo *undo;     /* bindings made in bodies, with what they hid */
  int nundo, undocap;
  int64_t work;       /* nodes built inside bodies (an unrolling bound) */
  /* values whose length along an axis depends on the data (NonZero, Unique): padded to a
   * bound, with the count of real entries; only a model output may be one (onnx_ops_dyn.c) */
  int *dyn_id, *dyn_count, *dyn_axis;
  int ndyn, dyncap;
  const void **init_key; /* body initializers, built once: TensorProto -> CONST id */
  int *init_id;
  int ninit, initcap;
  OnnxDeq *deq;          /* DequantizeLinear outputs of 8-bit integers: a QDQ Conv's operands */
  int ndeq, deqcap;
  const Onnx__GraphProto *top; /* the model's graph: node[group] built a node (errors) */
} OnnxCtx;

/* One node being built. */
struct OnnxNode {
  const Onnx__NodeProto *p;
  int nin, nout;
  int in[ONNX_MAX_IO];   /* operand ids; -1 where an optional input is absent */
  int out[ONNX_MAX_IO];  /* set by the builder; -1 for an output it does not produce */
  const Onnx__AttributeProto *bad_attr; /* one a getter found of another type than it reads, */
  int bad_attr_want;                    /* and the type it reads (onnx_attr.c) */
  uint64_t read;                        /* bit i: the builder looked up attribute i */
  uint64_t own_dtype;                   /* bit i: output i has the dtype the builder gave it
                                           (LinearAttention's state S), not the operands' */
  DType narrow[ONNX_MAX_IO]; /* operand i's storage dtype (f16, bf16, f8e4m3fn, i4, ...) before
                                onnx_storage_in widened it, else DT_COUNT */
};

typedef int (*OnnxBuild)(OnnxCtx *c, OnnxNode *n);

/* The table (onnx_ops.def) and its lookup. */
typedef enum {
  ONNX_DYN_NONE,   /* refuses it (but for Identity) */
  ONNX_DYN_PW,     /* works position by position: the result is padded the same way (ONNX_OP_PW) */
  ONNX_DYN_ROWS,   /* works slice by slice along an axis: padded along another, the result is padded
                      along the matching one (ONNX_OP_ROWS; its rule, OnnxOpInfo.rows, says which) */
  ONNX_DYN_BUILDER /* the builder reads it and marks its results itself (ONNX_OP_DYN) */
} OnnxDyn;
/* An ONNX_OP_ROWS row's rule (onnx_ops_dyn.c): after the builder, the axis of the
 * results that holds a padded operand's (din: each input's dyn entry, or -1) and its
 * count; -1 with the error where the operator would mix entries along that axis. */
typedef int (*OnnxRows)(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count);
#define ONNX_ROWS_RULES(X)                                                                                     \
  X(matmul) X(gemm) X(softmax) X(layer_norm) X(concat) X(batch) X(batch_norm) X(expand) X(tile) X(split)     \
  X(reshape) X(gather) X(gather_nd) X(gather_elements) X(transpose) X(matrices)
#define ONNX_ROWS_DECLARE(rule) int onnx_rows_##rule(OnnxCtx *c, OnnxNode *n, const int *din, int *axis, int *count);
ONNX_ROWS_RULES(ONNX_ROWS_DECLARE)
#undef ONNX_ROWS_DECLARE
typedef struct OnnxOpInfo {
  const char *name;
  int since, until;  /* opset range the builder handles (until 0: open) */
  OnnxBuild build;
  bool seq;          /* reads sequences and optionals (ONNX_OP_SEQ) */
  OnnxDyn dyn;       /* what it does with a value padded to a data-dependent length */
  OnnxDomain dom;    /* ONNX_OP_ML, ONNX_OP_TRAINING, ONNX_OP_PREVIEW rows: not the default */
  OnnxRows rows;     /* ONNX_OP_ROWS rows: where a padded operand's axis goes; else NULL */
} OnnxOpInfo;
const OnnxOpInfo *onnx_op_find(OnnxDomain dom, const char *op_type, int64_t opset);

/* Errors: "FILE: node 'NAME' (OP, opset N): message".  Return -1. */
int onnx_fail(OnnxCtx *c, const OnnxNode *n, const char *fmt, ...) DLC_PRINTF(3, 4);
/* A builder error from ir_add (c->g->err) with the node's context. */
int onnx_fail_ir(OnnxCtx *c, const OnnxNode *n);

/* Values. */
int onnx_value(OnnxCtx *c, const char *name);  /* id (or a sequence's code), or -1 */
void onnx_bind(OnnxCtx *c, const char *name, int id);
/* Inside a body: a mark of the name table, and the table put back to the mark. */
int onnx_names_mark(const OnnxCtx *c);
void onnx_names_restore(OnnxCtx *c, int mark);
/* The IR name of an ONNX value (an identifier; prefixed inside a body). */
const char *onnx_ident(OnnxCtx *c, const char *s);
/* Builds one node (onnx_load.c); its IR nodes get `group`. */
int onnx_build_node(OnnxCtx *c, const Onnx__NodeProto *p, int group);

/* Bodies (onnx_ops_ctrl.c): builds graph `gp`, an attribute of node n, into the graph:
 * its formal inputs bound to in[0..nin-1] (tensor ids or sequence codes), its
 * initializers as CONSTs (each built once), its nodes as any node, reading the names
 * of the enclosing scopes.  Writes the ids of its outputs to out (at most maxout) and
 * returns their count, or -1; the names it defined are unbound again.  `tag` names
 * this copy ("then", "it3") in the IR names; what and iter are for errors. */
int onnx_body_build(OnnxCtx *c, const OnnxNode *n, const Onnx__GraphProto *gp, const char *what, int64_t iter,
                    const char *tag, const int *in, int nin, int *out, int maxout);
/* The graph attribute `name` of n, or NULL with the error. */
const Onnx__GraphProto *onnx_attr_graph(OnnxCtx *c, OnnxNode *n, const char *name);

/* Data-dependent lengths (onnx_ops_dyn.c): marks node id as padded along axis, its real
 * length being node count (an i64 scalar); the entry of id, or -1. */
void onnx_dyn_mark(OnnxCtx *c, int id, int count, int axis);
/* How many elements of x are nonzero, as an i64 scalar. */
int onnx_count_nonzero(Graph *g, int x);
/* A count given as input k (one integer): k as an i64 scalar, the run failing with
 * NAME_ERR_INDEX when k is negative or over most.  -1 with g->err set. */
int onnx_dyn_count_in(OnnxCtx *c, int k, int64_t most);
int onnx_dyn_find(const OnnxCtx *c, int id);
/* Whether the operator works position by position (ONNX_OP_PW rows, Identity,
 * Transpose) or reads a padded operand as a gather's indices, so that a padded
 * operand may go through it. */
bool onnx_dyn_passes(const OnnxOpInfo *op);
/* After such a node's builder: marks each result padded like its padded operands (din:
 * each input's dyn entry, or -1), or -1 with the error (padded by two different lengths,
 * or an operand that does not broadcast along the padded axis). */
int onnx_dyn_through(OnnxCtx *c, OnnxNode *n, const OnnxOpInfo *op, const int *din);
/* Before a Gather's or GatherND's builder: padded indices get 0 in their padding (their
 * data must not be padded); 0, or -1 with the error. */
int onnx_dyn_indices(OnnxCtx *c, OnnxNode *n, const OnnxOpInfo *op, const int *din);
/* x (padded like dyn entry d, or a value of its shape) with the padding replaced by the
 * scalar node fill; -1 with c->g->err set. */
int onnx_dyn_fill(OnnxCtx *c, int x, int d, int fill);
/* The axis x is padded along, or -1 (not padded).  onnx_dyn_follow: y is padded like x
 * (when x is), along axis of y. */
int onnx_dyn_axis(const OnnxCtx *c, int x);
void onnx_dyn_follow(OnnxCtx *c, int x, int y, int axis);
/* Output j is dyn entry d: its count becomes the output NAME.count (shared by outputs
 * with one count) and the extent of j (ir_output_extent). */
int onnx_dyn_output(OnnxCtx *c, int j, int d);

/* Attention's grouped heads (onnx_ops_attn.c): [B, Hkv, S, D] -> [B, Hkv*r, S, D], each
 * head repeated r times in place (np.repeat); also FlexAttention's. */
int onnx_repeat_heads(OnnxCtx *c, int x, int64_t r);

/* Sequences and optionals (onnx_ops_seq.c). */
int onnx_seq_make(OnnxCtx *c, OnnxSeqKind kind, const int *v, int n, int dtype); /* its code */
const OnnxSeq *onnx_seq_get(const OnnxCtx *c, int id); /* NULL for a tensor id or -1 */
const char *onnx_seq_kind_word(const OnnxSeq *s, int id); /* "a sequence", "absent", ... */
/* Sequence id's length known only at run time: count (an i64 scalar node). */
void onnx_seq_set_count(OnnxCtx *c, int id, int count);
/* x where bool scalar ok holds; where it does not, the run fails (NAME_ERR_INDEX: x
 * gathered from [x] at 1).  -1 with g->err. */
int onnx_fail_unless(OnnxCtx *c, int x, int ok);
/* The length of s as an i64 scalar node (count, or n as a constant); -1 with g->err. */
int onnx_seq_length(OnnxCtx *c, const OnnxSeq *s);
/* Graph inputs and outputs that are sequences or optionals (docs/ONNX.md has the
 * convention): 1 if v is one (and was made), 0 if it is a tensor, -1 on error. */
int onnx_seq_input(OnnxCtx *c, const Onnx__ValueInfoProto *v);
int onnx_seq_output(OnnxCtx *c, const char *name, int id);
/* A tensor input (onnx_load.c), bound by --shape and --const-input under `name`: an
 * INPUT, or a CONST under --const-input, named irname.  Its id, or -1. */
int onnx_tensor_input(OnnxCtx *c, const char *name, const char *irname, const Onnx__TypeProto *t);

/* Tensors (onnx_tensor.c): a TensorProto as a CONST (or PARAM for float initializers
 * when `trainable`), reading raw_data, the typed fields or external data. */
int onnx_tensor_node(OnnxCtx *c, const Onnx__TensorProto *t, const char *name, bool trainable);
int onnx_dtype(int32_t onnx_type, DType *t); /* -1 if dlc has no such dtype */
const char *onnx_dtype_name(int32_t onnx_type);

/* float16 and bfloat16 operands (onnx_storage.c): before a builder, widens them to f32
 * and sets *back to the type the results return to (DT_F32: none); after it, rounds
 * the f32 results to *back. */
int onnx_storage_in(OnnxCtx *c, OnnxNode *n, DType *back);
int onnx_storage_out(OnnxCtx *c, OnnxNode *n, DType back);
/* For builders that move f16/bf16 values themselves (sequences, control flow): x cast
 * to f32 when it is f16 or bf16, else x; y cast to t when t is f16 or bf16, else y. */
int onnx_storage_wide(OnnxCtx *c, int x);
int onnx_storage_narrow(OnnxCtx *c, int y, DType t);

/* Attributes (onnx_attr.c).  A getter treats an attribute of another type as absent
 * and records it in n->bad_attr; the loader then fails the node, naming it.  Every
 * lookup marks the attribute as read: one the builder never looked up is an error
 * (onnx_attr_check), so no attribute is silently ignored.  A builder that knows an
 * attribute cannot change its result says so with onnx_attr_ignore. */
const Onnx__AttributeProto *onnx_attr(OnnxNode *n, const char *name);
void onnx_attr_ignore(OnnxNode *n, const char *name);
/* After the builder: -1 (with the error) if the node has an attribute it did not read. */
int onnx_attr_check(OnnxCtx *c, const OnnxNode *n);
int64_t onnx_attr_int(OnnxNode *n, const char *name, int64_t def);
double onnx_attr_float(OnnxNode *n, const char *name, double def); /* an INT is accepted too */
/* Returns the count (or -1 when absent) and copies up to max values. */
int onnx_attr_ints(OnnxNode *n, const char *name, int64_t *out, int max);
int onnx_attr_floats(OnnxNode *n, const char *name, double *out, int max);
/* The string, or def when absent. */
const char *onnx_attr_str(OnnxCtx *c, OnnxNode *n, const char *name, const char *def);
const char *onnx_attr_type_name(int type);
/* A STRINGS attribute as NUL-terminated strings in the arena: the count, -1 when absent,
 * -2 after an error (a string holding a NUL byte). */
int onnx_attr_strs(OnnxCtx *c, OnnxNode *n, const char *name, const char ***out);
/* ONNX bytes as a NUL-terminated string in the arena; NULL when they hold a NUL. */
const char *onnx_bytes_str(OnnxCtx *c, const ProtobufCBinaryData *b);

/* Compile-time values of operands (folded shape arithmetic, initializers). */
bool onnx_is_const(OnnxCtx *c, int id);
/* Values of a CONST or PARAM node as int64 / double; count, or -1 if not constant. */
int onnx_const_ints(OnnxCtx *c, int id, int64_t *out, int max);
int onnx_const_doubles(OnnxCtx *c, int id, double *out, int max);
/* Folds every node from `first` on whose operands are constants (onnx_load does this
 * after each builder, so shape subgraphs become constants as they are read). */
int onnx_fold_from(OnnxCtx *c, const OnnxNode *n, int first);

/* Checks an ir_* result: on -1, fails with the builder's message and the node. */
#define ONNX_TRY(c, n, expr)                        \
  do {                                               \
    if ((expr) < 0) return onnx_fail_ir((c), (n)); \
  } while (0)

/* Operand access every operator file uses. need() fails unless the first k inputs are given. */
static inline int need(OnnxCtx *c, OnnxNode *n, int k) {
  for (int i = 0; i < k; i++)
    if (i >= n->nin || n->in[i] < 0) return onnx_fail(c, n, "needs %d input%s", k, k == 1 ? "" : "s");
  return 0;
}
static inline const Shape *shape_of(OnnxCtx *c, int id) { return &c->g->nodes[id]->shape; }
static inline DType dtype_of(OnnxCtx *c, int id) { return c->g->nodes[id]->dtype; }
static inline bool has_in(const OnnxNode *n, int i) { return i < n->nin && n->in[i] >= 0; }
/* Composing: each returns the new id, or -1 when an operand is -1 or the builder fails
 * (g->err set), so that a chain is checked once, by its caller. */
static inline int bin(OnnxCtx *c, Op op, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, op, a, b); }
static inline int un(OnnxCtx *c, Op op, int a) { return a < 0 ? -1 : ir_unary(c->g, op, a); }
static inline int reshape(OnnxCtx *c, int x, const int64_t *d, int r) { return x < 0 ? -1 : ir_reshape(c->g, x, d, r); }

/* Small builders shared by the operator files (onnx_util.c). */
int onnx_scalar_like(OnnxCtx *c, int like, double v);   /* rank-0 const of like's dtype */
int onnx_axis(OnnxCtx *c, const OnnxNode *n, int64_t axis, int rank, int64_t *out); /* normalise; none of a scalar */
/* For each entry of a list (strings s, or else int64s v) the index of its value's first
 * copy in the list: first[i] == i for a value's first copy.  O(n log n). */
void onnx_first_copies(OnnxCtx *c, const char *const *s, const int64_t *v, int n, int *first);
/* The first entry of such a list equal to an earlier one: its index, and *first (unless
 * NULL) the index of that earlier copy; -1 when all n differ. */
int onnx_first_repeat(OnnxCtx *c, const char *const *s, const int64_t *v, int n, int *first);
/* Operators whose reference computes in float16 or bfloat16 step by step (Softmax,
 * Attention) round at the same steps: x (f32) rounded to the storage dtype t and
 * widened again, x itself when t is not one; and x summed over axis (kept) as the
 * reference sums in t: float16 in f32, rounded once; bfloat16 one element at a time,
 * each partial sum rounded (ml_dtypes' reduction), up to ONNX_SEQ_SUM_MAX elements
 * (over a longer axis the f32 sum rounded once: within an ulp, closer to the exact sum). */
#define ONNX_SEQ_SUM_MAX 64
int onnx_round_to(OnnxCtx *c, int x, DType t);
int onnx_sum_as(OnnxCtx *c, int x, int64_t axis, DType t);

/* Strides, dilations and pads of a sliding window with auto_pad resolved; conv and the
 * pools share it (onnx_ops_conv.c). */
int onnx_window(OnnxCtx *c, OnnxNode *n, const Shape *x, const int64_t *k, int64_t *strides,
                int64_t *dil, int64_t *pads);
/* A Conv whose X and W are DequantizeLinear outputs of 8-bit integers, on the integer
 * product (onnx_ops_quant.c): *y its f32 value before the bias, or -1 where it does not
 * apply.  0, or -1 on error. */
int onnx_qdq_conv(OnnxCtx *c, OnnxNode *n, const int64_t *st, const int64_t *pads, const int64_t *dil, int *y);
/* The same for MatMul and Gemm (B transposed when tb): A' B on the integer product. */
int onnx_qdq_matmul(OnnxCtx *c, OnnxNode *n, bool tb, int *y);

#endif

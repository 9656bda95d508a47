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

typedef struct OnnxCtx {
  Graph *g;
  const char *file;
  const char *dir;    /* the model's folder: external data must stay inside it */
  int64_t opset;      /* of the default domain */
  const LoadOptions *opts;
  DlcErr *e;
  /* value name -> node id */
  int nslot;
  const char **key;
  int *val;
  int nvals;
} OnnxCtx;

/* One node being built. */
typedef struct OnnxNode {
  const Onnx__NodeProto *p;
  int nin, nout;
  int in[ONNX_MAX_IO];   /* operand ids; -1 where an optional input is absent */
  int out[ONNX_MAX_IO];  /* set by the builder; -1 for an output it does not produce */
  const Onnx__AttributeProto *bad_attr; /* one a getter found of another type than it reads, */
  int bad_attr_want;                    /* and the type it reads (onnx_attr.c) */
  uint64_t read;                        /* bit i: the builder looked up attribute i */
} OnnxNode;

typedef int (*OnnxBuild)(OnnxCtx *c, OnnxNode *n);

/* The table (onnx_ops.def) and its lookup. */
typedef struct OnnxOpInfo {
  const char *name;
  int since, until;  /* opset range the builder handles (until 0: open) */
  OnnxBuild build;
} OnnxOpInfo;
const OnnxOpInfo *onnx_op_find(const char *op_type, int64_t opset);

/* Errors: "FILE: node 'NAME' (OP, opset N): message".  Return -1. */
int onnx_fail(OnnxCtx *c, const OnnxNode *n, const char *fmt, ...) DLC_PRINTF(3, 4);
/* A builder error from ir_add (c->g->err) with the node's context. */
int onnx_fail_ir(OnnxCtx *c, const OnnxNode *n);

/* Values. */
int onnx_value(OnnxCtx *c, const char *name);  /* id, or -1 */
void onnx_bind(OnnxCtx *c, const char *name, int id);

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

/* Small builders shared by the operator files (onnx_util.c). */
int onnx_scalar_like(OnnxCtx *c, int like, double v);   /* rank-0 const of like's dtype */
int onnx_axis(OnnxCtx *c, const OnnxNode *n, int64_t axis, int rank, int64_t *out); /* normalise */

/* Strides, dilations and pads of a sliding window with auto_pad resolved; conv and the
 * pools share it (onnx_ops_conv.c). */
int onnx_window(OnnxCtx *c, OnnxNode *n, const Shape *x, const int64_t *k, int64_t *strides,
                int64_t *dil, int64_t *pads);

#endif

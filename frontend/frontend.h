/* frontend.h — reading models into the IR.
 *
 * Each frontend builds core ops (ir/ops.def) with the ir_* builders; nothing of the
 * source format survives into the graph but node names, groups and source locations. */
#ifndef DLC_FRONTEND_H
#define DLC_FRONTEND_H

#include "ir.h"

#define LOAD_MAX_BIND 16

/* How symbolic dimensions are bound: code is specialised to static shapes. */
typedef struct LoadOptions {
  int64_t batch; /* --batch N: binds the dimension named `batch`; 0 leaves it at 1 */
  int ndims;     /* --dim NAME=V */
  struct {
    const char *name;
    int64_t value;
  } dims[LOAD_MAX_BIND];
  int nshapes;   /* --shape INPUT=1x3x224x224: replaces an input's whole shape */
  struct {
    const char *input;
    Shape shape;
  } shapes[LOAD_MAX_BIND];
  int nconsts;   /* --const-input INPUT=FILE.npy: the input becomes a constant, so that
                    shape-like inputs (a Reshape's target shape) are known at compile time */
  struct {
    const char *input;
    const char *path;
  } consts[LOAD_MAX_BIND];
  bool train;    /* read the training section of a .dlc (docs/TRAINING.md); else it is skipped */
  /* --micro-batch: an input whose first dimension is lead_from gets lead_to there
   * instead (the model at a part of its batch; 0: nothing changed) */
  int64_t lead_from, lead_to;
} LoadOptions;

/* o for the model at `to` samples where it was read at `from`: the inputs' first
 * dimension, and --batch when it gave `from`. */
static inline void load_set_lead(LoadOptions *o, int64_t from, int64_t to) {
  o->lead_from = from, o->lead_to = to;
  if (o->batch == from) o->batch = to;
}

/* An input's shape after LoadOptions.lead_from/lead_to. */
static inline Shape load_lead(const LoadOptions *o, Shape s) {
  if (o && o->lead_to > 0 && s.rank >= 1 && s.d[0] == o->lead_from) s.d[0] = o->lead_to;
  return s;
}

/* Reads a model by its extension (.dlc; .onnx when that frontend is built).
 * NULL with e set to one line naming the file (and line:col or node). */
Graph *frontend_load(const char *path, const LoadOptions *o, DlcErr *e);

/* The native text format (frontend/txt_*.c, docs/FORMAT.md).  `file` names the source
 * in diagnostics: "file:line:col: message". */
Graph *txt_parse(const char *src, size_t len, const char *file, const LoadOptions *o, DlcErr *e);

/* ONNX (frontend/onnx/, built when protobuf-c and onnx.proto are found): "FILE: node
 * 'NAME' (OP, opset N): message" on errors. */
Graph *onnx_load(const char *path, const LoadOptions *o, DlcErr *e);
int onnx_op_list(FILE *f); /* prints the supported ONNX operators, one a line; their count */

#endif

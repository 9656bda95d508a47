/* onnx_ops.c — the table of ONNX operators dlc builds (onnx_ops.def) and its lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_fe.h"

#define ONNX_OP(name, since) int onnx_##name(OnnxCtx *c, OnnxNode *n);
#define ONNX_OP_SEQ ONNX_OP
#define ONNX_OP_PW ONNX_OP
#define ONNX_OP_DYN ONNX_OP
#define ONNX_OP_ROWS(name, since, rule) ONNX_OP(name, since)
#define ONNX_OP_ML ONNX_OP
#define ONNX_OP_TRAINING ONNX_OP
#define ONNX_OP_PREVIEW ONNX_OP
#include "onnx_ops.def"
#undef ONNX_OP_PREVIEW
#undef ONNX_OP_TRAINING
#undef ONNX_OP_ML
#undef ONNX_OP_ROWS
#undef ONNX_OP_DYN
#undef ONNX_OP_PW
#undef ONNX_OP_SEQ
#undef ONNX_OP

static const OnnxOpInfo table[] = {
#define ONNX_OP(name, since) {#name, since, 0, onnx_##name, false, ONNX_DYN_NONE, ONNX_DOM_DEFAULT, NULL},
#define ONNX_OP_SEQ(name, since) {#name, since, 0, onnx_##name, true, ONNX_DYN_NONE, ONNX_DOM_DEFAULT, NULL},
#define ONNX_OP_PW(name, since) {#name, since, 0, onnx_##name, false, ONNX_DYN_PW, ONNX_DOM_DEFAULT, NULL},
#define ONNX_OP_DYN(name, since) {#name, since, 0, onnx_##name, false, ONNX_DYN_BUILDER, ONNX_DOM_DEFAULT, NULL},
#define ONNX_OP_ROWS(name, since, rule) \
  {#name, since, 0, onnx_##name, false, ONNX_DYN_ROWS, ONNX_DOM_DEFAULT, onnx_rows_##rule},
#define ONNX_OP_ML(name, since) {#name, since, 0, onnx_##name, false, ONNX_DYN_NONE, ONNX_DOM_ML, NULL},
#define ONNX_OP_TRAINING(name, since) {#name, since, 0, onnx_##name, false, ONNX_DYN_NONE, ONNX_DOM_TRAINING, NULL},
#define ONNX_OP_PREVIEW(name, since) {#name, since, 0, onnx_##name, false, ONNX_DYN_NONE, ONNX_DOM_PREVIEW, NULL},
#include "onnx_ops.def"
#undef ONNX_OP_PREVIEW
#undef ONNX_OP_TRAINING
#undef ONNX_OP_ML
#undef ONNX_OP_ROWS
#undef ONNX_OP_DYN
#undef ONNX_OP_PW
#undef ONNX_OP_SEQ
#undef ONNX_OP
};

/* The dtypes each operator compiles with, as tools/onnx_dtypes.py found them by compiling
 * one-node models (onnx_dtypes.def; ctest onnx.dtypes_table keeps it true). */
static const struct {
  const char *name, *dom, *dtypes;
} dtypes[] = {
#define ONNX_DTYPES(name, dom, list) {#name, dom, list},
#include "onnx_dtypes.def"
#undef ONNX_DTYPES
};

const OnnxOpInfo *onnx_op_find(OnnxDomain dom, const char *op_type, int64_t opset) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].dom == dom && !strcmp(table[i].name, op_type) && opset >= table[i].since) return &table[i];
  return NULL;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const OnnxOpInfo *)a)->name, ((const OnnxOpInfo *)b)->name);
}

static const char *const dom_name[] = {"", ONNX_ML_DOMAIN, ONNX_TRAINING_DOMAIN, ONNX_PREVIEW_DOMAIN};
static const int dom_max[] = {ONNX_OPSET_MAX, ONNX_ML_OPSET_MAX, ONNX_PREVIEW_OPSET_MAX, ONNX_PREVIEW_OPSET_MAX};

static const char *op_dtypes(const OnnxOpInfo *op) {
  for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
    if (!strcmp(dtypes[i].name, op->name) && !strcmp(dtypes[i].dom, dom_name[op->dom]))
      return *dtypes[i].dtypes ? dtypes[i].dtypes : "(none compiles)";
  return "(not probed)";
}

int onnx_op_list(FILE *f) {
  enum { N = sizeof table / sizeof table[0] };
  OnnxOpInfo sorted[N];
  memcpy(sorted, table, sizeof table);
  qsort(sorted, N, sizeof sorted[0], by_name);
  for (size_t i = 0; i < N; i++) {
    char opsets[64];
    snprintf(opsets, sizeof opsets, "%s%sopsets %d..%d", dom_name[sorted[i].dom], *dom_name[sorted[i].dom] ? " " : "",
             sorted[i].since, sorted[i].until ? sorted[i].until : dom_max[sorted[i].dom]);
    fprintf(f, "%-28s %-14s  %s%s\n", sorted[i].name, opsets, op_dtypes(&sorted[i]),
            sorted[i].seq ? "  (reads sequences and optionals)" : "");
  }
  fprintf(f, "tensor dtypes read and written:");
  for (int32_t t = 1; t < 64; t++) {
    DType d;
    if (!onnx_dtype(t, &d)) fprintf(f, " %s", onnx_dtype_name(t));
  }
  fprintf(f, "\n(each operator's dtypes: those of its first input, or of the first that has a choice, with which\n"
             " a one-node model compiles, docs/ONNX.md; another dtype is an error naming it)\n");
  return N;
}

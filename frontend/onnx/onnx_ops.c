/* onnx_ops.c — the table of ONNX operators dlc builds (onnx_ops.def) and its lookup. */
#include <stdlib.h>
#include <string.h>

#include "onnx_fe.h"

#define ONNX_OP(name, since) int onnx_##name(OnnxCtx *c, OnnxNode *n);
#define ONNX_OP_SEQ ONNX_OP
#define ONNX_OP_ML ONNX_OP
#define ONNX_OP_TRAINING ONNX_OP
#define ONNX_OP_PREVIEW ONNX_OP
#include "onnx_ops.def"
#undef ONNX_OP_PREVIEW
#undef ONNX_OP_TRAINING
#undef ONNX_OP_ML
#undef ONNX_OP_SEQ
#undef ONNX_OP

static const OnnxOpInfo table[] = {
#define ONNX_OP(name, since) {#name, since, 0, onnx_##name, false, ONNX_DOM_DEFAULT},
#define ONNX_OP_SEQ(name, since) {#name, since, 0, onnx_##name, true, ONNX_DOM_DEFAULT},
#define ONNX_OP_ML(name, since) {#name, since, 0, onnx_##name, false, ONNX_DOM_ML},
#define ONNX_OP_TRAINING(name, since) {#name, since, 0, onnx_##name, false, ONNX_DOM_TRAINING},
#define ONNX_OP_PREVIEW(name, since) {#name, since, 0, onnx_##name, false, ONNX_DOM_PREVIEW},
#include "onnx_ops.def"
#undef ONNX_OP_PREVIEW
#undef ONNX_OP_TRAINING
#undef ONNX_OP_ML
#undef ONNX_OP_SEQ
#undef ONNX_OP
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

int onnx_op_list(FILE *f) {
  enum { N = sizeof table / sizeof table[0] };
  OnnxOpInfo sorted[N];
  memcpy(sorted, table, sizeof table);
  qsort(sorted, N, sizeof sorted[0], by_name);
  for (size_t i = 0; i < N; i++)
    fprintf(f, "%-28s %s%sopsets %d..%d%s\n", sorted[i].name, dom_name[sorted[i].dom], *dom_name[sorted[i].dom] ? " " : "",
            sorted[i].since, sorted[i].until ? sorted[i].until : dom_max[sorted[i].dom],
            sorted[i].seq ? "  (reads sequences and optionals)" : "");
  fprintf(f, "tensor dtypes read and written:");
  for (int32_t t = 1; t < 64; t++) {
    DType d;
    if (!onnx_dtype(t, &d)) fprintf(f, " %s", onnx_dtype_name(t));
  }
  fprintf(f, "\n(each operator takes the dtypes of this list its ONNX schema allows; another is an error naming it)\n");
  return N;
}

/* onnx_ops.c — the table of ONNX operators dlc builds (onnx_ops.def) and its lookup. */
#include <string.h>

#include "onnx_fe.h"

#define ONNX_OP(name, since) int onnx_##name(OnnxCtx *c, OnnxNode *n);
#define ONNX_OP_SEQ ONNX_OP
#include "onnx_ops.def"
#undef ONNX_OP_SEQ
#undef ONNX_OP

static const OnnxOpInfo table[] = {
#define ONNX_OP(name, since) {#name, since, 0, onnx_##name, false},
#define ONNX_OP_SEQ(name, since) {#name, since, 0, onnx_##name, true},
#include "onnx_ops.def"
#undef ONNX_OP_SEQ
#undef ONNX_OP
};

const OnnxOpInfo *onnx_op_find(const char *op_type, int64_t opset) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (!strcmp(table[i].name, op_type) && opset >= table[i].since) return &table[i];
  return NULL;
}

int onnx_op_list(FILE *f) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    fprintf(f, "%s\n", table[i].name);
  return (int)(sizeof table / sizeof table[0]);
}

/* shape.h — the shape rules, one per IMPL family of ops.def (shape.c). */
#ifndef DLC_SHAPE_H
#define DLC_SHAPE_H

#include "ir.h"

#define OP(id, name, nin, impl, types, result, attrs, scalar, cexpr, grad) \
  int shape_##impl(Graph *g, Node *n);
#include "ops.def"
#undef OP


#endif

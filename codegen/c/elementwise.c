/* elementwise.c — unary, binary, select and cast: the cexpr column of ops.def applied
 * to each element.  Operands whose shape is the result's (or a single element) are
 * read with the flat index; the others are broadcast through strides inside a loop
 * nest whose inner loop is still contiguous in the result. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "cgen_c.h"

static void put(char *buf, size_t size, size_t *k, const char *s) {
  size_t len = strlen(s);
  DLC_ASSERT(*k + len < size);
  memcpy(buf + *k, s, len + 1);
  *k += len;
}

/* The '|' between the float and integer forms: a single one, not half of "||". */
static const char *form_bar(const char *tpl) {
  for (const char *p = tpl; *p; p++)
    if (p[0] == '|' && p[1] != '|' && (p == tpl || p[-1] != '|')) return p;
  return NULL;
}

/* Picks the "float form|integer form|unsigned form" by the operand dtype (unsigned
 * takes the integer form when there is no third), then fills in $ (the f32 suffix of
 * libm), @ ("dlc_" where `vec`: the function is vecmath.c's), %T (the result's C type)
 * and %0 %1 %2 (the operands). */
static void expand(const char *tpl, DType opd, DType res, bool vec, const char *const *opnd,
                   char *buf, size_t size) {
  const char *start = tpl, *end = tpl + strlen(tpl), *bar = form_bar(tpl);
  const char *bar2 = bar ? form_bar(bar + 1) : NULL;
  if (bar && dtype_is_float(opd)) end = bar;
  else if (bar2 && dtype_is_unsigned(opd)) start = bar2 + 1;
  else if (bar) start = bar + 1, end = bar2 ? bar2 : end;
  size_t k = 0;
  buf[0] = 0;
  for (const char *p = start; p < end; p++) {
    char one[2] = {*p, 0};
    if (*p == '$') put(buf, size, &k, opd == DT_F32 ? "f" : "");
    else if (*p == '@') put(buf, size, &k, vec ? "dlc_" : "");
    else if (*p == '%' && p[1] == 'T') put(buf, size, &k, dtype_ctype(res)), p++;
    else if (*p == '%' && isdigit((unsigned char)p[1])) put(buf, size, &k, opnd[p[1] - '0']), p++;
    else put(buf, size, &k, one);
  }
}

/* cast has no cexpr: float to integer saturates, anything to bool tests for nonzero. */
static const char *cast_template(const Node *n, DType from, DType to, char *buf, size_t size) {
  char x[48] = "%0"; /* the storage dtypes are widened to float first (codegen/c/half.c) */
  const Attr *r = node_attr(n, A_ROUND);
  if (dtype_is_storage(from) && dtype_is_int(from)) /* i4 .. u2: an integer, so that -1 to u8 wraps (no UB) */
    snprintf(x, sizeof x, "((int32_t)%s(%%0))", cgen_half_from(from));
  else if (dtype_is_storage(from)) snprintf(x, sizeof x, "%s(%%0)", cgen_half_from(from));
  DType via = !dtype_is_storage(from) ? from : dtype_is_int(from) ? DT_I32 : DT_F32; /* what x is */
  if (dtype_is_storage(to)) cgen_half_to(via, to, r ? (int)r->i : 0, x, buf, size);
  else if (to == DT_BOOL) snprintf(buf, size, "(%s != 0)", x);
  else if (dtype_is_float(from) && dtype_is_int(to)) snprintf(buf, size, "%s(%s)", cgen_sat_name(to), x);
  else snprintf(buf, size, "(%%T)%s", x);
  return buf;
}

/* bitcast: the operand's bits as the unsigned integer of its width (a float's through
 * memcpy, DLC_F32_BITS of half.c; the storage dtypes are their bits already), then
 * that integer as the result's type (a float's through memcpy again).  The 4- and
 * 2-bit types keep their bits in the low bits of a byte, the rest zero, so a byte
 * moves unchanged between them. */
static const char *bitcast_template(DType from, DType to, char *buf, size_t size) {
  char u[48];
  if (from == DT_F32 || from == DT_F64) snprintf(u, sizeof u, "DLC_F%d_BITS(%%0)", dtype_bits(from));
  else snprintf(u, sizeof u, "((uint%d_t)%%0)", 8 * dtype_size(from));
  if (to == DT_F32 || to == DT_F64) snprintf(buf, size, "DLC_F%d_OF_BITS(%s)", dtype_bits(to), u);
  else snprintf(buf, size, "((%%T)%s)", u);
  return buf;
}

/* i32 arithmetic overflows int, which C leaves undefined; in int64_t it cannot (the
 * store narrows it, wrapping as the interpreter does).  u16 and u32 promote to int or
 * stay unsigned, where a product can overflow int; in uint64_t they wrap, which is
 * defined, and the store narrows.  i8, i16, u8 promote to int safely; i64 has nothing
 * wider. */
static void widen(const CEmit *ce, const Node *n, const char *const *opnd, char (*w)[CGEN_EXPR_MAX + 16],
                  const char **out) {
  for (int i = 0; i < n->nin; i++) {
    DType t = cgen_in(ce, n, i)->dtype;
    const char *to = t == DT_I32 ? "(int64_t)" : t == DT_U16 || t == DT_U32 ? "(uint64_t)" : "";
    snprintf(w[i], CGEN_EXPR_MAX + 16, "%s%s", to, opnd[i]);
    out[i] = w[i];
  }
}

void cgen_elem_expr(const CEmit *ce, const Node *n, const char *const *opnd, char *buf,
                    size_t size) {
  /* the last operand carries the operand dtype: select's condition is bool */
  DType opd = cgen_in(ce, n, n->nin - 1)->dtype;
  char tpl[160], w[3][CGEN_EXPR_MAX + 16];
  const char *wide[3];
  const char *t = n->op == OP_CAST      ? cast_template(n, opd, n->dtype, tpl, sizeof tpl)
                  : n->op == OP_BITCAST ? bitcast_template(opd, n->dtype, tpl, sizeof tpl)
                                        : ir_ops[n->op].cexpr;
  DLC_ASSERT(n->nin <= 3);
  widen(ce, n, opnd, w, wide);
  expand(t, opd, n->dtype, cgen_vecmath_used(ce, n), wide, buf, size);
}

static bool flat_operand(const Node *a, const Node *n) {
  return shape_eq(&a->shape, &n->shape) || shape_numel(&a->shape) == 1;
}

static bool elem_par(const Node *n) { return cgen_par_elems(shape_numel(&n->shape), CGEN_PAR_COPY + 4.0); }

static void flat_loop(CEmit *ce, const Node *n) {
  char opnd[3][32], expr[CGEN_EXPR_MAX];
  const char *ops[3];
  for (int i = 0; i < n->nin; i++) {
    bool whole = shape_eq(&cgen_in(ce, n, i)->shape, &n->shape);
    snprintf(opnd[i], sizeof opnd[i], "a%d[%s]", i, whole ? "i" : "0");
    ops[i] = opnd[i];
  }
  cgen_elem_expr(ce, n, ops, expr, sizeof expr);
  if (elem_par(n)) cgen_par_for(ce, 1);
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = %s;", shape_numel(&n->shape),
            expr);
}

static void broadcast_loop(CEmit *ce, const Node *n) {
  char opnd[3][CGEN_EXPR_MAX + 8], expr[4 * CGEN_EXPR_MAX];
  const char *ops[3];
  int64_t st[IR_MAX_RANK];
  CgenIndex ix;
  for (int i = 0; i < n->nin; i++) {
    cgen_bcast_strides(&cgen_in(ce, n, i)->shape, &n->shape, st);
    cgen_index_init(&ix, 0);
    cgen_index_add(&ix, "i", st, n->shape.rank);
    snprintf(opnd[i], sizeof opnd[i], "a%d[%s]", i, cgen_index_str(&ix));
    ops[i] = opnd[i];
  }
  cgen_elem_expr(ce, n, ops, expr, sizeof expr);
  shape_strides(&n->shape, st);
  cgen_index_init(&ix, 0);
  cgen_index_add(&ix, "i", st, n->shape.rank);
  int depth = cgen_loops_open_par(ce, &n->shape, "i", 1, elem_par(n));
  cgen_line(ce, depth, "y[%s] = %s;", cgen_index_str(&ix), expr);
  cgen_loops_close(ce, n->shape.rank, 1);
}

static int elementwise(CEmit *ce, const Node *n) {
  bool flat = true;
  for (int i = 0; i < n->nin; i++) flat &= flat_operand(cgen_in(ce, n, i), n);
  if (flat) flat_loop(ce, n);
  else broadcast_loop(ce, n);
  return 0;
}

int cgen_unary(CEmit *ce, const Node *n) { return elementwise(ce, n); }
int cgen_binary(CEmit *ce, const Node *n) { return elementwise(ce, n); }
int cgen_select(CEmit *ce, const Node *n) { return elementwise(ce, n); }
int cgen_cast(CEmit *ce, const Node *n) { return elementwise(ce, n); }
int cgen_bitcast(CEmit *ce, const Node *n) { return elementwise(ce, n); }

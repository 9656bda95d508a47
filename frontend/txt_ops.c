/* txt_ops.c — calls: `op(operand, ..., key=value, ...)`.
 *
 * A call is read in two steps.  txt_call collects the operands and remembers where
 * each key=value starts; whoever handles the call (a core op here, a layer in
 * txt_layers.c) then reads each value as the kind it expects, so a value's errors name
 * the attribute and point at the value. */
#include <math.h>
#include <string.h>

#include "txt.h"

/* ---- reading a call ---- */

/* Skips one attribute value: a number, a name, or a bracketed list. */
static int skip_value(Txt *p) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  if (txt_is(t, '[')) {
    int depth = 0;
    do {
      t = txt_next(p);
      if (t->kind == TK_EOF || t->kind == TK_NL)
        return txt_err(p, t, "unterminated list: expected ']', found %s",
                       txt_describe(t, buf, sizeof buf));
      depth += txt_is(t, '[') - txt_is(t, ']');
    } while (depth > 0);
    return 0;
  }
  if (txt_at_number(p)) {
    TxtNum v;
    return txt_number(p, &v);
  }
  if (txt_is_name(t)) {
    txt_next(p);
    return 0;
  }
  return txt_err(p, t, "expected a value, found %s", txt_describe(t, buf, sizeof buf));
}

static int call_kw(Txt *p, TxtCall *c) {
  Tok *key = txt_next(p);
  txt_next(p); /* '=' */
  for (int i = 0; i < c->nkw; i++)
    if (c->kw[i].key->len == key->len && !memcmp(c->kw[i].key->s, key->s, (size_t)key->len))
      return txt_err(p, key, "attribute '%.*s' is given twice", key->len, key->s);
  c->kw[c->nkw++] = (TxtKw){.key = key, .val = p->pos};
  return skip_value(p);
}

static int call_operand(Txt *p, TxtCall *c) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  if (c->nkw) return txt_err(p, t, "operands must come before the attributes");
  TxtArg *a = &c->args[c->nargs++];
  a->at = t;
  a->id = -1;
  if (txt_at_number(p)) return txt_number(p, &a->num);
  if (!txt_is_name(t))
    return txt_err(p, t, "expected an operand (a name, a number or a call), found %s",
                   txt_describe(t, buf, sizeof buf));
  a->id = txt_is(txt_peek(p, 1), '(') ? txt_eval(p) : txt_lookup(p, txt_next(p));
  return a->id < 0 ? -1 : 0;
}

int txt_call(Txt *p, TxtCall *c) {
  c->fn = txt_next(p);
  c->nargs = c->nkw = 0;
  Tok *open = txt_next(p); /* '(' */
  char buf[64];
  while (!txt_is(txt_peek(p, 0), ')')) {
    Tok *t = txt_peek(p, 0);
    if (c->nargs + c->nkw == TXT_MAX_ARGS) return txt_err(p, t, "too many arguments");
    bool kw = t->kind == TK_IDENT && txt_is(txt_peek(p, 1), '=');
    if (kw ? call_kw(p, c) : call_operand(p, c)) return -1;
    if (txt_is(txt_peek(p, 0), ',')) txt_next(p);
    else if (!txt_is(txt_peek(p, 0), ')'))
      return txt_err(p, txt_peek(p, 0), "unterminated call opened at %d:%d: expected ',' or ')', "
                     "found %s", open->line, open->col,
                     txt_describe(txt_peek(p, 0), buf, sizeof buf));
  }
  txt_next(p);
  return 0;
}

/* ---- reading one value of an attribute ---- */

void txt_seek(Txt *p, int pos) { p->pos = pos; }

int txt_int_value(Txt *p, int64_t *v) {
  Tok *at = txt_peek(p, 0);
  TxtNum n;
  if (!txt_at_number(p)) return txt_err(p, at, "expected an integer");
  if (txt_number(p, &n)) return -1;
  if (!n.is_int) return txt_err(p, at, "expected an integer, found %g", n.f);
  *v = n.i;
  return 0;
}

int txt_ints_value(Txt *p, int64_t *v, int max, int *n) {
  *n = 0;
  if (!txt_is(txt_peek(p, 0), '[')) {
    *n = 1;
    return txt_int_value(p, v);
  }
  txt_next(p);
  while (!txt_is(txt_peek(p, 0), ']')) {
    if (*n == max) return txt_err(p, txt_peek(p, 0), "more than %d integers in the list", max);
    if (txt_int_value(p, &v[(*n)++])) return -1;
    if (txt_is(txt_peek(p, 0), ',')) txt_next(p);
    else if (!txt_is(txt_peek(p, 0), ']')) return txt_expect(p, ']', "to close the list");
  }
  txt_next(p);
  return 0;
}

int txt_float_value(Txt *p, double *v) {
  Tok *at = txt_peek(p, 0);
  TxtNum n;
  if (!txt_at_number(p)) return txt_err(p, at, "expected a number");
  if (txt_number(p, &n)) return -1;
  *v = n.f;
  return 0;
}

/* ---- core ops ---- */

static int attr_value(Txt *p, const char *op, AttrSpec sp, Attr *a) {
  int64_t *v = arena_alloc(p->g->arena, sizeof(int64_t) * 2 * IR_MAX_RANK);
  Tok *at = txt_peek(p, 0);
  DType t;
  int n;
  *a = (Attr){.key = sp.key, .kind = sp.kind};
  switch (sp.kind) {
  case AK_INT: return txt_int_value(p, &a->i);
  case AK_FLOAT: return txt_float_value(p, &a->f);
  case AK_INTS:
    if (txt_ints_value(p, v, 2 * IR_MAX_RANK, &n)) return -1;
    a->ints = v, a->n = n;
    return 0;
  case AK_DTYPE:
    if (at->kind != TK_IDENT || dtype_parse(at->s, (size_t)at->len, &t))
      return txt_err(p, at, "%s: attribute '%s' wants a dtype", op, attr_name(sp.key));
    txt_next(p);
    a->i = t;
    return 0;
  }
  return -1;
}

static int core_attrs(Txt *p, const TxtCall *c, Op op, Attr *attrs) {
  AttrSpec spec[8];
  int ns = op_attr_specs(op, spec, 8), end = p->pos;
  const char *name = ir_ops[op].name;
  for (int i = 0; i < c->nkw; i++) {
    Tok *k = c->kw[i].key;
    int key = attr_parse(k->s, (size_t)k->len), s = 0;
    while (s < ns && (int)spec[s].key != key) s++;
    if (s == ns) return txt_err(p, k, "%s has no attribute '%.*s'", name, k->len, k->s);
    txt_seek(p, c->kw[i].val);
    if (attr_value(p, name, spec[s], &attrs[i])) return -1;
    Tok *after = txt_peek(p, 0);
    if (!txt_is(after, ',') && !txt_is(after, ')'))
      return txt_err(p, after, "%s: attribute '%s' has an extra part", name, attr_name(spec[s].key));
  }
  txt_seek(p, end);
  return 0;
}

/* The dtype a numeric literal operand takes: that of the other operands (for select,
 * of the other branch; a literal condition is bool). */
static DType literal_dtype(Txt *p, const TxtCall *c, Op op, int which) {
  if (op == OP_SELECT && which == 0) return DT_BOOL;
  for (int i = op == OP_SELECT ? 1 : 0; i < c->nargs; i++)
    if (c->args[i].id >= 0) return p->g->nodes[c->args[i].id]->dtype;
  return DT_F32;
}

static int operands(Txt *p, const TxtCall *c, Op op, int *in) {
  for (int i = 0; i < c->nargs; i++) {
    const TxtArg *a = &c->args[i];
    in[i] = a->id;
    if (a->id >= 0) continue;
    unsigned char buf[8];
    DType t = literal_dtype(p, c, op, i);
    if (txt_store(p, a->at, t, buf, 0, a->num)) return -1;
    in[i] = ir_const(p->g, NULL, t, (Shape){0}, buf);
    if (in[i] < 0) return txt_build_fail(p, a->at);
  }
  return 0;
}

static int core_op(Txt *p, TxtCall *c, int op) {
  const OpInfo *info = &ir_ops[op];
  int in[TXT_MAX_ARGS];
  Attr attrs[TXT_MAX_ARGS];
  if (info->nin >= 0 && c->nargs != info->nin)
    return txt_err(p, c->fn, "%s takes %d operand%s, found %d", info->name, info->nin,
                   info->nin == 1 ? "" : "s", c->nargs);
  if (info->nin < 0 && c->nargs < 1)
    return txt_err(p, c->fn, "%s takes one or more operands", info->name);
  if (core_attrs(p, c, (Op)op, attrs) || operands(p, c, (Op)op, in)) return -1;
  int id = ir_add(p->g, (Op)op, in, c->nargs, attrs, c->nkw);
  return id < 0 ? txt_build_fail(p, c->fn) : id;
}

/* A call, nested ones first: a layer if one has the name, else a core op. */
int txt_eval(Txt *p) {
  if (p->depth == TXT_MAX_DEPTH) return txt_err(p, txt_peek(p, 0), "calls nest too deeply");
  TxtCall *c = arena_alloc(p->g->arena, sizeof *c);
  p->depth++;
  int r = txt_call(p, c);
  p->depth--;
  if (r) return -1;
  int id = txt_layer(p, c);
  if (id == -2) id = txt_loss(p, c);
  if (id != -2) return id;
  int op = op_parse(c->fn->s, (size_t)c->fn->len);
  if (op < 0 || op == OP_INPUT || op == OP_PARAM || op == OP_CONST)
    return txt_err(p, c->fn, "unknown operation '%.*s'", c->fn->len > 60 ? 60 : c->fn->len,
                   c->fn->s);
  return core_op(p, c, op);
}

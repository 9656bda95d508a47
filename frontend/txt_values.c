/* txt_values.c — what the declarations hold: types with symbolic dimensions, numbers,
 * literal tensors and parameter initializers.
 *
 * Symbolic dimensions are bound here, at parse time (`batch` from --batch, others from
 * --dim), so every shape in the graph is static. */
#include <math.h>
#include <string.h>

#include "txt.h"

/* Largest tensor a .dlc file may initialize or spell out: more is surely a typo, and
 * would only exhaust memory. */
#define TXT_MAX_ELEMS ((int64_t)1 << 28)

/* ---- types ---- */

int txt_dtype(Txt *p, DType *t) {
  Tok *tok = txt_peek(p, 0);
  char buf[64];
  if (tok->kind != TK_IDENT || dtype_parse(tok->s, (size_t)tok->len, t))
    return txt_err(p, tok, "expected a dtype (f32, f64, f16, bf16, i8, i16, i32, i64, u8, u16, u32, u64, bool), found %s",
                   txt_describe(tok, buf, sizeof buf));
  txt_next(p);
  return 0;
}

static int bind_symbol(Txt *p, const Tok *t, int64_t *v) {
  const LoadOptions *o = p->o;
  for (int i = 0; o && i < o->ndims; i++)
    if ((int)strlen(o->dims[i].name) == t->len && !memcmp(o->dims[i].name, t->s, (size_t)t->len)) {
      *v = o->dims[i].value;
      return 0;
    }
  if (txt_word(t, "batch")) {
    *v = o && o->batch > 0 ? o->batch : 1;
    return 0;
  }
  return txt_err(p, t, "dimension '%.*s' is not bound (pass --dim %.*s=VALUE)", t->len, t->s,
                 t->len, t->s);
}

static int dim(Txt *p, bool bind, int64_t *v) {
  Tok *t = txt_next(p);
  char buf[64];
  if (t->kind == TK_IDENT) return bind ? bind_symbol(p, t, v) : 0;
  if (t->kind != TK_INT)
    return txt_err(p, t, "expected a dimension (a positive integer or a name), found %s",
                   txt_describe(t, buf, sizeof buf));
  if (t->big || t->i <= 0 || t->i > ((int64_t)1 << 40)) /* a big one is printed as written */
    return txt_err(p, t, "dimension %.*s is out of range (1..2^40)", t->len, t->s);
  *v = t->i;
  return 0;
}

/* dtype [ dim, ... ].  For an input named in --shape, the given shape replaces the
 * declared one, whose symbols then need no binding. */
int txt_type(Txt *p, const char *input, DType *t, Shape *s) {
  int over = -1;
  for (int i = 0; input && p->o && i < p->o->nshapes; i++)
    if (!strcmp(p->o->shapes[i].input, input)) over = i;
  if (txt_dtype(p, t)) return -1;
  Tok *open = txt_peek(p, 0);
  if (txt_expect(p, '[', "to open the shape after the dtype")) return -1;
  *s = (Shape){0};
  while (!txt_is(txt_peek(p, 0), ']')) {
    if (s->rank == IR_MAX_RANK) return txt_err(p, txt_peek(p, 0), "rank is over %d", IR_MAX_RANK);
    if (dim(p, over < 0, &s->d[s->rank++])) return -1;
    if (txt_is(txt_peek(p, 0), ',')) txt_next(p);
    else if (!txt_is(txt_peek(p, 0), ']')) {
      char buf[64];
      return txt_err(p, txt_peek(p, 0), "unterminated shape opened at %d:%d: expected ',' or ']', "
                     "found %s", open->line, open->col, txt_describe(txt_peek(p, 0), buf, sizeof buf));
    }
  }
  txt_next(p);
  if (over >= 0) {
    *s = p->o->shapes[over].shape;
    p->shape_used[over] = true;
  }
  return 0;
}

/* ---- numbers ---- */

bool txt_at_number(Txt *p) {
  Tok *t = txt_peek(p, 0);
  if (txt_is(t, '-')) t = txt_peek(p, 1);
  return t->kind == TK_INT || t->kind == TK_FLOAT || txt_word(t, "nan") || txt_word(t, "inf") ||
         (!txt_is(txt_peek(p, 0), '-') && (txt_word(t, "true") || txt_word(t, "false")));
}

/* [-] (integer | float | nan | inf) | true | false */
int txt_number(Txt *p, TxtNum *v) {
  bool neg = txt_is(txt_peek(p, 0), '-');
  if (neg) txt_next(p);
  Tok *t = txt_next(p);
  char buf[64];
  *v = (TxtNum){0};
  if (t->kind == TK_INT && t->big && !(neg && (uint64_t)t->i == (uint64_t)1 << 63))
    return txt_err(p, t, "integer %.*s is too large", t->len, t->s);
  if (t->kind == TK_INT && t->big) { /* -2^63, the one negative int64 without a positive */
    *v = (TxtNum){.is_int = true, .i = INT64_MIN, .f = -t->f};
    return 0;
  }
  if (t->kind == TK_INT) *v = (TxtNum){.is_int = true, .i = neg ? -t->i : t->i, .f = neg ? -t->f : t->f};
  else if (t->kind == TK_FLOAT) v->f = neg ? -t->f : t->f;
  else if (txt_word(t, "nan")) v->f = neg ? -NAN : NAN;
  else if (txt_word(t, "inf")) v->f = neg ? -INFINITY : INFINITY;
  else if (!neg && (txt_word(t, "true") || txt_word(t, "false")))
    *v = (TxtNum){.is_int = true, .i = txt_word(t, "true"), .f = txt_word(t, "true")};
  else return txt_err(p, t, "expected a number, found %s", txt_describe(t, buf, sizeof buf));
  return 0;
}

/* Stores v as element i of a tensor of dtype t, refusing values the dtype cannot hold
 * rather than wrapping them. */
int txt_store(Txt *p, const Tok *at, DType t, void *data, int64_t i, TxtNum v) {
  if (t == DT_STR) return txt_err(p, at, "a number where a str value is read (a str value is a quoted string)");
  if (dtype_is_float(t)) {
    if (t == DT_F32 && isfinite(v.f) && fabs(v.f) > 3.4028235677973366e38)
      return txt_err(p, at, "value %g is out of range for f32", v.f);
    if (dtype_is_storage(t) && isfinite(v.f) && !isfinite(dtype_round(t, v.f))) /* e4m3fn: NaN */
      return txt_err(p, at, "value %g is out of range for %s", v.f, dtype_name(t));
    if (t == DT_F8E8M0 && !(v.f > 0)) /* a power of two; nan reads as itself */
      if (!isnan(v.f)) return txt_err(p, at, "value %g is not a power of two (f8e8m0 has no sign and no zero)", v.f);
    dtype_store(t, data, i, v.f);
    return 0;
  }
  if (!v.is_int) return txt_err(p, at, "expected an integer for %s, found %g", dtype_name(t), v.f);
  if (t == DT_I64) {
    ((int64_t *)data)[i] = v.i;
    return 0;
  }
  if ((double)v.i < dtype_lowest(t) || (double)v.i > dtype_highest(t))
    return txt_err(p, at, "value %lld is out of range for %s", (long long)v.i, dtype_name(t));
  dtype_store(t, data, i, (double)v.i);
  return 0;
}

/* ---- literal tensors ---- */

/* Counted in double: eight dimensions of up to 2^40 overflow int64_t. */
static int too_big(Txt *p, const Tok *at, const Shape *s) {
  double n = 1;
  for (int i = 0; i < s->rank; i++) n *= (double)s->d[i];
  if (n <= (double)TXT_MAX_ELEMS) return 0;
  return txt_err(p, at, "%.0f elements is more than a .dlc file may spell out or initialize (%lld)",
                 n, (long long)TXT_MAX_ELEMS);
}

static int str_value(Txt *p, void *data, int64_t k);

/* str values: quoted strings, a list or one bare. */
static int str_values(Txt *p, const Shape *s, void *data) {
  int64_t n = shape_numel(s), k = 0;
  Tok *open = txt_peek(p, 0);
  if (!txt_is(open, '[')) {
    if (n != 1) return txt_err(p, open, "expected '[' and %lld strings", (long long)n);
    return str_value(p, data, 0);
  }
  txt_next(p);
  while (!txt_is(txt_peek(p, 0), ']')) {
    if (k == n) return txt_err(p, txt_peek(p, 0), "too many values: the shape holds %lld", (long long)n);
    if (str_value(p, data, k++)) return -1;
    if (txt_is(txt_peek(p, 0), ',')) txt_next(p);
    else if (!txt_is(txt_peek(p, 0), ']'))
      return txt_err(p, txt_peek(p, 0), "unterminated list opened at %d:%d: expected ',' or ']'", open->line,
                     open->col);
  }
  if (k != n) return txt_err(p, txt_peek(p, 0), "%lld strings given, the shape holds %lld", (long long)k, (long long)n);
  txt_next(p);
  return 0;
}

/* One str value: a quoted string, copied into the graph's arena. */
static int str_value(Txt *p, void *data, int64_t k) {
  Tok *t = txt_next(p);
  char buf[64];
  if (t->kind != TK_STRING) return txt_err(p, t, "expected a quoted string, found %s", txt_describe(t, buf, sizeof buf));
  char *s = arena_alloc(p->g->arena, (size_t)t->len + 1);
  memcpy(s, t->s, (size_t)t->len);
  ((const char **)data)[k] = s;
  return 0;
}

/* Row-major values, as a list "[v, v, ...]" or, for one element, a bare value. */
static int values(Txt *p, DType t, const Shape *s, void *data) {
  if (t == DT_STR) return str_values(p, s, data);
  int64_t n = shape_numel(s), k = 0;
  Tok *open = txt_peek(p, 0);
  char buf[64];
  TxtNum v;
  if (!txt_is(open, '[')) {
    if (n != 1) return txt_err(p, open, "expected '[' and %lld values", (long long)n);
    return txt_number(p, &v) || txt_store(p, open, t, data, 0, v);
  }
  txt_next(p);
  while (!txt_is(txt_peek(p, 0), ']')) {
    Tok *at = txt_peek(p, 0);
    if (!txt_at_number(p))
      return txt_err(p, at, "unterminated list opened at %d:%d: expected a value or ']', found %s",
                     open->line, open->col, txt_describe(at, buf, sizeof buf));
    if (k == n) return txt_err(p, at, "too many values: the shape holds %lld", (long long)n);
    if (txt_number(p, &v) || txt_store(p, at, t, data, k++, v)) return -1;
    if (txt_is(txt_peek(p, 0), ',')) txt_next(p);
    else if (!txt_is(txt_peek(p, 0), ']'))
      return txt_err(p, txt_peek(p, 0), "unterminated list opened at %d:%d: expected ',' or ']', "
                     "found %s", open->line, open->col, txt_describe(txt_peek(p, 0), buf, sizeof buf));
  }
  if (k != n)
    return txt_err(p, txt_peek(p, 0), "%lld value%s given, the shape holds %lld", (long long)k,
                   k == 1 ? "" : "s", (long long)n);
  txt_next(p);
  return 0;
}

int txt_literal(Txt *p, DType t, const Shape *s, void **data) {
  if (too_big(p, txt_peek(p, 0), s)) return -1;
  *data = arena_alloc(p->g->arena, (size_t)(shape_numel(s) * dtype_size(t)));
  return values(p, t, s, *data);
}

/* ---- initializers ---- */

/* A parameter's default seed depends on its name, not its position, so adding a layer
 * does not change the others' initial values; the file's seed varies them all. */
uint64_t txt_default_seed(const Txt *p, const char *name) {
  uint64_t h = 14695981039346656037ull;
  for (const char *s = name; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h ^ (p->seed * 0x9E3779B97F4A7C15ull);
}

int txt_param(Txt *p, const Tok *at, const char *name, DType t, Shape s, Init in) {
  if (too_big(p, at, &s)) return -1;
  int id = ir_param(p->g, name, t, s, in);
  return id < 0 ? txt_build_fail(p, at) : id;
}

/* Argument names of each initializer, in positional order (a, then b). */
static const char *const init_args[INIT_COUNT][2] = {
    [INIT_FILL] = {"value", NULL}, [INIT_NORMAL] = {"mean", "std"},
    [INIT_UNIFORM] = {"low", "high"}, [INIT_DATA] = {NULL, NULL},
};

static int init_arg(Txt *p, InitKind k, int npos, Init *in) {
  Tok *key = txt_peek(p, 0);
  double *slot[2] = {&in->a, &in->b};
  int which = npos;
  TxtNum v;
  if (key->kind == TK_IDENT && txt_is(txt_peek(p, 1), '=')) {
    txt_next(p), txt_next(p);
    if (txt_word(key, "seed")) {
      Tok *st = txt_peek(p, 0);
      if (st->kind != TK_INT) return txt_err(p, st, "seed wants a non-negative integer");
      in->seed = (uint64_t)txt_next(p)->i;
      return 0;
    }
    for (which = 0; which < 2; which++)
      if (init_args[k][which] && txt_word(key, init_args[k][which])) break;
    if (which == 2)
      return txt_err(p, key, "%s has no argument '%.*s'", init_name(k), key->len, key->s);
  } else if (npos >= 2 || !init_args[k][npos])
    return txt_err(p, key, "%s takes %s", init_name(k),
                   init_args[k][0] ? "at most its named arguments and seed=" : "only seed=");
  Tok *at = txt_peek(p, 0);
  if (txt_number(p, &v)) return -1;
  if (isnan(v.f)) return txt_err(p, at, "%s: %s must be a number", init_name(k), init_args[k][which]);
  *slot[which] = v.f;
  return 0;
}

static int init_args_list(Txt *p, InitKind k, Init *in) {
  int npos = 0;
  txt_next(p); /* '(' */
  while (!txt_is(txt_peek(p, 0), ')')) {
    bool named = txt_peek(p, 0)->kind == TK_IDENT && txt_is(txt_peek(p, 1), '=');
    if (init_arg(p, k, npos, in)) return -1;
    npos += !named;
    if (txt_is(txt_peek(p, 0), ',')) txt_next(p);
    else if (!txt_is(txt_peek(p, 0), ')')) return txt_expect(p, ')', "to close the initializer");
  }
  txt_next(p);
  return 0;
}

static int init_data(Txt *p, const Tok *at, const char *name, DType t, Shape s) {
  void *data;
  if (txt_expect(p, '(', "after data") || txt_literal(p, t, &s, &data) ||
      txt_expect(p, ')', "to close data(...)"))
    return -1;
  int id = ir_param_data(p->g, name, t, s, data);
  return id < 0 ? txt_build_fail(p, at) : id;
}

/* zeros | ones | fill(value) | normal(mean, std) | uniform(low, high) | xavier | he,
 * each with an optional seed=S; or data([values]). */
int txt_init(Txt *p, const char *name, DType t, Shape s) {
  Tok *kt = txt_peek(p, 0);
  char buf[64];
  int k = kt->kind == TK_IDENT ? init_parse(kt->s, (size_t)kt->len) : -1;
  if (k < 0)
    return txt_err(p, kt, "expected an initializer (zeros, ones, fill, normal, uniform, xavier, "
                   "he, data), found %s", txt_describe(kt, buf, sizeof buf));
  txt_next(p);
  if (k == INIT_DATA) return init_data(p, kt, name, t, s);
  Init in = {.kind = (InitKind)k, .seed = txt_default_seed(p, name)};
  if (k == INIT_NORMAL) in.b = 1;
  if (k == INIT_UNIFORM) in.a = -1, in.b = 1;
  if (txt_is(txt_peek(p, 0), '(') && init_args_list(p, (InitKind)k, &in)) return -1;
  return txt_param(p, kt, name, t, s, in);
}

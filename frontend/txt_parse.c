/* txt_parse.c — the statements of the native text format, and the parser's state.
 *
 * One statement per line: model, seed, input, param, const, output, or an assignment
 * `name = op(...)`; after `training`, also `train` (txt_train.c), read only to train.  Each statement stamps the nodes it builds with its own group and
 * "file:line", so later stages can say where a node came from. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "txt.h"

/* ---- diagnostics ---- */

int txt_err(Txt *p, const Tok *at, const char *fmt, ...) {
  char msg[DLC_ERR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return dlc_errf(p->e, "%s:%d:%d: %s", p->file, at->line, at->col, msg);
}

const char *txt_describe(const Tok *t, char *buf, size_t n) {
  if (t->kind == TK_EOF) snprintf(buf, n, "end of file");
  else if (t->kind == TK_NL) snprintf(buf, n, "end of line");
  else if (t->kind == TK_STRING) snprintf(buf, n, "\"%.*s\"", t->len > 40 ? 40 : t->len, t->s);
  else snprintf(buf, n, "'%.*s'", t->len > 40 ? 40 : t->len, t->s);
  return buf;
}

int txt_build_fail(Txt *p, const Tok *at) { return txt_err(p, at, "%s", p->g->err.msg); }

/* ---- tokens ---- */

Tok *txt_peek(Txt *p, int k) {
  int i = p->pos + k;
  return &p->t[i < p->nt ? i : p->nt - 1];
}

Tok *txt_next(Txt *p) {
  Tok *t = txt_peek(p, 0);
  if (p->pos < p->nt - 1) p->pos++;
  return t;
}

bool txt_is(const Tok *t, char c) { return t->kind == TK_PUNCT && t->c == c; }

bool txt_word(const Tok *t, const char *w) {
  return t->kind == TK_IDENT && (int)strlen(w) == t->len && !memcmp(t->s, w, (size_t)t->len);
}

bool txt_is_name(const Tok *t) { return t->kind == TK_IDENT || (t->kind == TK_STRING && t->len > 0); }

char *txt_text(Txt *p, const Tok *t) {
  char *s = arena_alloc(p->g->arena, (size_t)t->len + 1);
  memcpy(s, t->s, (size_t)t->len);
  return s;
}

int txt_expect(Txt *p, char c, const char *what) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  if (!txt_is(t, c))
    return txt_err(p, t, "expected '%c' %s, found %s", c, what, txt_describe(t, buf, sizeof buf));
  txt_next(p);
  return 0;
}

/* ---- the name table: the latest binding of each name ---- */

static uint64_t fnv1a(const char *s, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static TxtName *slot(Txt *p, const char *s, size_t n) {
  size_t mask = (size_t)p->capnames - 1, i = (size_t)fnv1a(s, n) & mask;
  while (p->names[i].name && (strlen(p->names[i].name) != n || memcmp(p->names[i].name, s, n)))
    i = (i + 1) & mask;
  return &p->names[i];
}

static void grow_names(Txt *p) {
  TxtName *old = p->names;
  int cap = p->capnames;
  p->capnames = cap ? 2 * cap : 256;
  p->names = arena_alloc(p->g->arena, sizeof(TxtName) * (size_t)p->capnames);
  for (int i = 0; i < cap; i++)
    if (old[i].name) *slot(p, old[i].name, strlen(old[i].name)) = old[i];
}

int txt_bind(Txt *p, const char *name, int id) {
  if (2 * (p->nnames + 1) > p->capnames) grow_names(p);
  TxtName *s = slot(p, name, strlen(name));
  if (!s->name) p->nnames++;
  s->name = name;
  s->id = id;
  return 0;
}

int txt_fresh(Txt *p, const Tok *at, const char *name) {
  if (p->capnames && slot(p, name, strlen(name))->name)
    return txt_err(p, at, "name '%s' is already defined", name);
  return 0;
}

int txt_declare(Txt *p, const Tok *at, const char *name, int id) {
  return txt_fresh(p, at, name) ? -1 : txt_bind(p, name, id);
}

int txt_lookup(Txt *p, const Tok *t) {
  TxtName *s = p->capnames ? slot(p, t->s, (size_t)t->len) : NULL;
  if (!s || !s->name)
    return txt_err(p, t, "undefined name '%.*s'", t->len > 60 ? 60 : t->len, t->s);
  return s->id;
}

/* ---- statements ---- */

static int name_tok(Txt *p, const char *what, Tok **out) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  if (!txt_is_name(t))
    return txt_err(p, t, "expected %s, found %s", what, txt_describe(t, buf, sizeof buf));
  *out = txt_next(p);
  return 0;
}

static int stmt_model(Txt *p, const Tok *kw) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  bool ok = t->kind == TK_IDENT && !memchr(t->s, '.', (size_t)t->len);
  if (!ok) return txt_err(p, t, "expected the model's name (a C identifier), found %s",
                          txt_describe(t, buf, sizeof buf));
  if (p->g->n || p->g->group > 0) return txt_err(p, kw, "'model' must be the first statement");
  p->g->name = txt_text(p, txt_next(p));
  return 0;
}

static int stmt_seed(Txt *p, const Tok *kw) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  if (t->kind != TK_INT)
    return txt_err(p, t, "expected the seed (a non-negative integer), found %s",
                   txt_describe(t, buf, sizeof buf));
  if (p->seed_locked) return txt_err(p, kw, "'seed' must come before the first parameter");
  p->seed = (uint64_t)txt_next(p)->i;
  return 0;
}

static int stmt_input(Txt *p) {
  Tok *nt = NULL;
  DType t;
  Shape s;
  if (name_tok(p, "the input's name", &nt) || txt_expect(p, ':', "after the input's name"))
    return -1;
  char *name = txt_text(p, nt);
  if (txt_fresh(p, nt, name)) return -1;
  if (txt_type(p, name, &t, &s)) return -1;
  int id = ir_input(p->g, name, t, load_lead(p->o, s));
  if (id < 0) return txt_build_fail(p, nt);
  return txt_declare(p, nt, name, id);
}

static int stmt_param(Txt *p) {
  Tok *nt = NULL;
  DType t;
  Shape s;
  if (name_tok(p, "the parameter's name", &nt) || txt_expect(p, ':', "after the parameter's name"))
    return -1;
  char *name = txt_text(p, nt);
  if (txt_fresh(p, nt, name)) return -1;
  if (txt_type(p, NULL, &t, &s) || txt_expect(p, '=', "and an initializer after the type"))
    return -1;
  p->seed_locked = true;
  int id = txt_init(p, name, t, s);
  if (id < 0) return -1;
  return txt_declare(p, nt, name, id);
}

static int stmt_const(Txt *p) {
  Tok *nt = NULL;
  DType t;
  Shape s;
  void *data;
  if (name_tok(p, "the constant's name", &nt) || txt_expect(p, ':', "after the constant's name"))
    return -1;
  char *name = txt_text(p, nt);
  if (txt_fresh(p, nt, name)) return -1;
  if (txt_type(p, NULL, &t, &s) || txt_expect(p, '=', "and the values after the type") ||
      txt_literal(p, t, &s, &data))
    return -1;
  int id = ir_const(p->g, name, t, s, data);
  if (id < 0) return txt_build_fail(p, nt);
  return txt_declare(p, nt, name, id);
}

/* An `extent` (axis >= 0) or `keys` (axis -1) naming output t, resolved by extents(). */
static int defer_output(Txt *p, int j, int axis, Tok *t) {
  if (p->next == p->capext) {
    p->capext = p->capext ? 2 * p->capext : 8;
    struct TxtExtent *e = arena_alloc(p->g->arena, sizeof *e * (size_t)p->capext);
    if (p->next) memcpy(e, p->ext, sizeof *e * (size_t)p->next);
    p->ext = e;
  }
  p->ext[p->next++] = (struct TxtExtent){j, axis, t};
  return 0;
}

static int stmt_output(Txt *p, const Tok *kw) {
  Tok *nt = NULL, *vt = NULL;
  if (p->training) return txt_err(p, kw, "outputs belong before the training section");
  if (name_tok(p, "the output's name", &nt)) return -1;
  vt = nt;
  if (txt_is(txt_peek(p, 0), '=')) {
    txt_next(p);
    if (name_tok(p, "the value to output", &vt)) return -1;
  }
  int id = txt_lookup(p, vt);
  if (id < 0) return -1;
  int j = ir_output(p->g, id, txt_text(p, nt));
  if (j < 0) return txt_build_fail(p, nt);
  if (txt_word(txt_peek(p, 0), "extent")) {
    /* extent AXIS COUNT: axis AXIS of this output holds as many entries as output COUNT says */
    txt_next(p);
    Tok *at = txt_peek(p, 0), *ct = NULL;
    TxtNum ax;
    if (txt_number(p, &ax) || !ax.is_int || ax.i < 0 || ax.i > IR_MAX_RANK)
      return txt_err(p, at, "extent: expected an axis, then the name of the output holding the count");
    if (name_tok(p, "the output holding the count", &ct) || defer_output(p, j, (int)ax.i, ct)) return -1;
  }
  if (txt_word(txt_peek(p, 0), "keys")) {
    /* keys KEYS: this output holds the values of maps whose keys are output KEYS */
    txt_next(p);
    Tok *kt = NULL;
    if (name_tok(p, "the output holding the keys", &kt) || defer_output(p, j, -1, kt)) return -1;
  }
  return 0;
}

static int extents(Txt *p) {
  for (int k = 0; k < p->next; k++) {
    const char *name = txt_text(p, p->ext[k].count);
    int c = -1;
    for (int j = 0; j < p->g->nout; j++)
      if (!strcmp(p->g->out_name[j], name)) c = j;
    const char *what = p->ext[k].axis < 0 ? "keys" : "extent";
    if (c < 0) return txt_err(p, p->ext[k].count, "%s: '%s' is not an output", what, name);
    if (p->ext[k].axis < 0 ? ir_output_keys(p->g, p->ext[k].out, c) : ir_output_extent(p->g, p->ext[k].out, c, p->ext[k].axis))
      return txt_build_fail(p, p->ext[k].count);
  }
  return 0;
}

/* `... if COND`: the nodes the statement made (not its sources) run only when COND, a
 * bool scalar computed without a guard, is true (ir.h: Node.guard). */
static int guard_from(Txt *p, int mark) {
  Tok *kw = txt_next(p), *t = txt_peek(p, 0);
  char buf[64];
  if (!txt_is_name(t))
    return txt_err(p, t, "expected a condition's name after 'if', found %s", txt_describe(t, buf, sizeof buf));
  int c = txt_lookup(p, txt_next(p));
  if (c < 0) return -1;
  const Node *cn = p->g->nodes[c];
  if (cn->dtype != DT_BOOL || cn->shape.rank != 0 || cn->guard >= 0)
    return txt_err(p, t, "a guard is a bool scalar computed without a guard");
  bool any = false;
  for (int i = mark; i < p->g->n; i++) {
    Node *n = p->g->nodes[i];
    if (n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_CONST) continue;
    if (n->guard >= 0) return txt_err(p, kw, "a statement under 'if' holds a node that already has a guard");
    n->guard = c, any = true;
  }
  if (!any) return txt_err(p, kw, "'if' guards no computation here (the statement makes no node)");
  return 0;
}

/* name = value | name = call(...).  Nodes made here are named after the target, so a
 * dump reads like the source; a value that already existed keeps its own name. */
static int stmt_assign(Txt *p, Tok *target) {
  txt_next(p); /* '=' */
  Tok *t = txt_peek(p, 0);
  char buf[64];
  int mark = p->g->n, id;
  if (!txt_is_name(t))
    return txt_err(p, t, "expected an operation or a name after '=', found %s",
                   txt_describe(t, buf, sizeof buf));
  id = txt_is(txt_peek(p, 1), '(') ? txt_eval(p) : txt_lookup(p, txt_next(p));
  if (id < 0) return -1;
  if (txt_word(txt_peek(p, 0), "if") && guard_from(p, mark)) return -1;
  char *name = txt_text(p, target);
  if (id >= mark) p->g->nodes[id]->name = name;
  return txt_bind(p, name, id);
}

static int statement(Txt *p) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  if (txt_is_name(t) && txt_is(txt_peek(p, 1), '=')) return stmt_assign(p, txt_next(p));
  if (t->kind == TK_IDENT) {
    txt_next(p);
    if (txt_word(t, "model")) return stmt_model(p, t);
    if (txt_word(t, "seed")) return stmt_seed(p, t);
    if (txt_word(t, "input")) return stmt_input(p);
    if (txt_word(t, "param")) return stmt_param(p);
    if (txt_word(t, "const")) return stmt_const(p);
    if (txt_word(t, "output")) return stmt_output(p, t);
    if (txt_word(t, "training")) return txt_training(p, t);
    if (txt_word(t, "train")) return txt_train(p, t);
    return txt_err(p, t, "expected a statement (model, seed, input, param, const, output, "
                         "training, train or NAME = ...), found %s", txt_describe(t, buf, sizeof buf));
  }
  return txt_err(p, t, "expected a statement, found %s", txt_describe(t, buf, sizeof buf));
}

static int end_of_statement(Txt *p) {
  Tok *t = txt_peek(p, 0);
  char buf[64];
  if (t->kind == TK_NL || t->kind == TK_EOF) {
    txt_next(p);
    return 0;
  }
  return txt_err(p, t, "expected the end of the statement, found %s",
                 txt_describe(t, buf, sizeof buf));
}

static int statements(Txt *p) {
  int nstmt = 0;
  while (txt_peek(p, 0)->kind != TK_EOF) {
    if (txt_peek(p, 0)->kind == TK_NL) {
      txt_next(p);
      continue;
    }
    char where[64];
    snprintf(where, sizeof where, "%d", txt_peek(p, 0)->line);
    size_t n = strlen(p->file) + strlen(where) + 2;
    char *w = arena_alloc(p->g->arena, n);
    snprintf(w, n, "%s:%s", p->file, where);
    p->g->where = w;
    p->g->group = nstmt++;
    if (statement(p) || end_of_statement(p)) return -1;
    if (p->training && !(p->o && p->o->train)) break; /* read only to train */
  }
  return 0;
}

/* ---- the whole file ---- */

/* "models/lenet-5.dlc" -> "lenet_5": the default model name is a C identifier. */
static char *model_name(Arena *a, const char *file) {
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  if (n == 0) return arena_strdup(a, "model");
  char *s = arena_alloc(a, n + 2), *q = s;
  if (isdigit((unsigned char)base[0])) *q++ = '_';
  for (size_t i = 0; i < n; i++) *q++ = isalnum((unsigned char)base[i]) ? base[i] : '_';
  return s;
}

static int finish(Txt *p) {
  for (int i = 0; p->o && i < p->o->nshapes; i++)
    if (!p->shape_used[i])
      return dlc_errf(p->e, "%s: --shape names no input '%s'", p->file, p->o->shapes[i].input);
  if (p->g->nout == 0)
    return dlc_errf(p->e, "%s: the model declares no output (add 'output NAME')", p->file);
  if (extents(p)) return -1;
  p->g->where = NULL;
  p->g->group = -1;
  return 0;
}

/* A quoted string may decode to any byte but NUL (a newline, ESC): the error stays one
 * line, its control bytes the text \xNN, as the CLI prints them. */
static void one_line(DlcErr *e) {
  if (!e) return;
  char raw[sizeof e->msg];
  memcpy(raw, e->msg, sizeof raw);
  raw[sizeof raw - 1] = 0;
  size_t o = 0;
  for (const unsigned char *s = (const unsigned char *)raw; *s; s++) {
    bool ctl = *s < 0x20 || *s == 0x7f;
    if (o + (ctl ? 4 : 1) >= sizeof e->msg) break;
    if (ctl) o += (size_t)snprintf(e->msg + o, 5, "\\x%02x", *s);
    else e->msg[o++] = (char)*s;
  }
  e->msg[o] = 0;
}

Graph *txt_parse(const char *src, size_t len, const char *file, const LoadOptions *o, DlcErr *e) {
  if (!file) file = "<input>";
  Graph *g = ir_graph_new(NULL);
  g->file = arena_strdup(g->arena, file);
  g->name = model_name(g->arena, file);
  Txt p = {.g = g, .file = g->file, .o = o, .e = e};
  if (txt_lex(g->arena, src, len, g->file, &p.t, &p.nt, e) || statements(&p) || finish(&p)) {
    one_line(e);
    ir_graph_free(g);
    return NULL;
  }
  return g;
}

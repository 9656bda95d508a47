/* txt.h — the native text format's reader, private to frontend/.
 *
 * Sections: tokens (txt_lex.c), the parser state and its diagnostics (txt_parse.c),
 * values: types, numbers, literals, initializers (txt_values.c), calls of core ops
 * (txt_ops.c), layer sugar (txt_layers.c).  docs/FORMAT.md is the user's view of it.
 */
#ifndef DLC_TXT_H
#define DLC_TXT_H

#include "frontend.h"

/* ---- tokens (txt_lex.c) ---------------------------------------------------------- */

typedef enum {
  TK_EOF,
  TK_NL,     /* end of a statement; not emitted inside ( ) or [ ] */
  TK_IDENT,  /* [A-Za-z_][A-Za-z0-9_.]* */
  TK_STRING, /* "any name": s is the decoded text */
  TK_INT,    /* decimal digits: i (and f) */
  TK_FLOAT,  /* decimal or hex float: f */
  TK_PUNCT,  /* one of ( ) [ ] , : = - : c */
} TokKind;

typedef struct Tok {
  TokKind kind;
  const char *s; /* the token's text (decoded for strings), not NUL-terminated */
  int len;
  int line, col;
  char c;      /* TK_PUNCT */
  int64_t i;   /* TK_INT: the value, as unsigned if big */
  bool big;    /* TK_INT over INT64_MAX: only a seed may be that large */
  double f;    /* TK_INT, TK_FLOAT */
} Tok;

/* Splits src into tokens ending with TK_EOF; -1 with e set ("file:line:col: ..."). */
int txt_lex(Arena *a, const char *src, size_t len, const char *file, Tok **out, int *n,
            DlcErr *e);

/* ---- the parser's state (txt_parse.c) ---------------------------------------------- */

typedef struct TxtName { /* one binding of the name table (open addressing) */
  const char *name;
  int id;
} TxtName;

typedef struct Txt {
  Graph *g;
  const char *file;
  const LoadOptions *o;
  DlcErr *e;
  Tok *t;
  int nt, pos;
  TxtName *names;
  int nnames, capnames;
  uint64_t seed;         /* the file's `seed` */
  bool seed_locked;      /* a parameter exists: `seed` may no longer change */
  int layer_count[32];   /* per layer kind, for default layer names */
  bool shape_used[LOAD_MAX_BIND];
  int depth;             /* of nested calls */
  bool training;         /* after `training`: the training section (txt_train.c) */
  struct TxtExtent {     /* `output NAME extent AXIS COUNT` or `keys KEYS`, resolved at the end */
    int out, axis;       /* axis -1: KEYS */
    Tok *count;
  } *ext;
  int next, capext;
} Txt;

int txt_err(Txt *p, const Tok *at, const char *fmt, ...) DLC_PRINTF(3, 4);
const char *txt_describe(const Tok *t, char *buf, size_t n); /* "'foo'", "end of line" */
char *txt_text(Txt *p, const Tok *t);                         /* the token's text, in the arena */
Tok *txt_peek(Txt *p, int k);
Tok *txt_next(Txt *p);
bool txt_is(const Tok *t, char c);
bool txt_word(const Tok *t, const char *w);
int txt_expect(Txt *p, char c, const char *what);
int txt_lookup(Txt *p, const Tok *name); /* node id, or -1 with "undefined name" */
int txt_bind(Txt *p, const char *name, int id);
int txt_fresh(Txt *p, const Tok *at, const char *name);           /* -1 if bound */
int txt_declare(Txt *p, const Tok *at, const char *name, int id); /* error if bound */
bool txt_is_name(const Tok *t); /* an identifier or a quoted name */

/* ---- values (txt_values.c) ------------------------------------------------------- */

typedef struct TxtNum {
  bool is_int;
  int64_t i;
  double f;
} TxtNum;

int txt_dtype(Txt *p, DType *t);
int txt_type(Txt *p, const char *input, DType *t, Shape *s); /* dtype[dims]; input: --shape */
bool txt_at_number(Txt *p);               /* a number, -number, nan, inf, true, false */
int txt_number(Txt *p, TxtNum *v);
int txt_store(Txt *p, const Tok *at, DType t, void *data, int64_t i, TxtNum v);
int txt_literal(Txt *p, DType t, const Shape *s, void **data); /* value or [values] */
int txt_init(Txt *p, const char *name, DType t, Shape s);      /* after `param ... =` */
uint64_t txt_default_seed(const Txt *p, const char *name);
int txt_param(Txt *p, const Tok *at, const char *name, DType t, Shape s, Init in);

/* ---- calls (txt_ops.c, txt_layers.c) -------------------------------------------------- */

typedef struct TxtArg { /* a positional argument */
  Tok *at;
  int id;      /* a named value, or -1 for a number */
  TxtNum num;
} TxtArg;

typedef struct TxtKw { /* key=value; the value is its tokens from `val` on */
  Tok *key;
  int val;     /* index of the value's first token in p->t */
} TxtKw;

#define TXT_MAX_ARGS 64

typedef struct TxtCall {
  Tok *fn;
  int nargs, nkw;
  TxtArg args[TXT_MAX_ARGS];
  TxtKw kw[TXT_MAX_ARGS];
} TxtCall;

#define TXT_MAX_DEPTH 64

int txt_call(Txt *p, TxtCall *c);  /* NAME ( args ), nested calls built on the way */
int txt_eval(Txt *p);              /* reads and builds a call: node id or -1 */
int txt_layer(Txt *p, TxtCall *c); /* node id, -1 on error, -2 if not a layer */
int txt_build_fail(Txt *p, const Tok *at);   /* reports g->err at `at` */
/* Moves to a keyword's value; reads one value of each kind. */
void txt_seek(Txt *p, int pos);
int txt_int_value(Txt *p, int64_t *v);
int txt_ints_value(Txt *p, int64_t *v, int max, int *n); /* [a, b] or a single int */
int txt_float_value(Txt *p, double *v);

/* ---- training (txt_train.c) ------------------------------------------------------- */

int txt_training(Txt *p, const Tok *kw); /* `training`: the training section begins */
int txt_train(Txt *p, const Tok *kw);    /* `train NAME: loss = ..., ...` */
int txt_loss(Txt *p, TxtCall *c);        /* cross_entropy, bce, mse, l1: id, -1, or -2 if not a loss */

/* ---- layer sugar (txt_layers.c: the table and these helpers; more layers in
 *      txt_layers_rnn.c and txt_layers_more.c) ----------------------------------- */

typedef struct Layer {
  Txt *p;
  TxtCall *c;
  const char *name; /* of this layer instance: prefix of its parameters */
  int x;            /* the first operand */
  DType dtype;      /* of its parameters: x's, but f32 for embedding's integer x */
} Layer;

typedef int (*LayerFn)(Layer *l);

int txt_kw(const Layer *l, const char *key); /* index of key= in the call, or -1 */
/* An integer: positional argument `pos` (-1: keyword only) or key=, else def
 * (an error naming key if !has_def). */
int txt_arg_int(Layer *l, int pos, const char *key, int64_t def, bool has_def, int64_t *v);
int txt_arg_float(Layer *l, const char *key, double def, double *v);
int txt_arg_pair(Layer *l, const char *key, int64_t def, int64_t v[2]); /* k or [a, b], >= 1 */
Tok *txt_arg_word(Layer *l, const char *key); /* key=WORD, else NULL */
int txt_layer_fail(Layer *l); /* reports g->err at the layer's name */
/* Declares the parameter "<layer>.<pname>" of the layer's dtype, initialized by `in`
 * (kind, a, b) with the default seed of its name. */
int txt_layer_param(Layer *l, const char *pname, Init in, Shape s);

/* Layers defined outside txt_layers.c, for its table. */
int txt_layer_rnn(Layer *l);
int txt_layer_lstm(Layer *l);
int txt_layer_gru(Layer *l);
int txt_layer_conv_transpose2d(Layer *l);
int txt_layer_attention(Layer *l);

#endif

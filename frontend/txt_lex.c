/* txt_lex.c — splits a .dlc source into tokens.
 *
 * Newlines end statements, except inside ( ) and [ ], so long lists may span lines.
 * Numbers are read with strtod/strtoll, which must consume the whole run of number
 * characters; that rejects "1.2.3" and "0x" instead of silently reading a prefix. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "txt.h"

typedef struct Lex {
  Arena *a;
  const char *src, *end, *p, *file;
  int line;
  const char *line_start;
  int depth; /* open ( and [ */
  Tok *t;
  int n, cap;
  DlcErr *e;
} Lex;

static int col(const Lex *l, const char *at) { return (int)(at - l->line_start) + 1; }

static int lex_err(Lex *l, const char *at, const char *fmt, ...) DLC_PRINTF(3, 4);
static int lex_err(Lex *l, const char *at, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return dlc_errf(l->e, "%s:%d:%d: %s", l->file, l->line, col(l, at), msg);
}

static Tok *push(Lex *l, TokKind k, const char *s, int len) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 256;
    Tok *t = arena_alloc(l->a, sizeof(Tok) * (size_t)cap);
    if (l->n) memcpy(t, l->t, sizeof(Tok) * (size_t)l->n);
    l->t = t, l->cap = cap;
  }
  Tok *t = &l->t[l->n++];
  *t = (Tok){.kind = k, .s = s, .len = len, .line = l->line, .col = col(l, s)};
  return t;
}

static bool ident_start(int c) { return isalpha(c) || c == '_'; }
static bool ident_char(int c) { return isalnum(c) || c == '_' || c == '.'; }

/* The run of characters that could belong to a number: digits, letters (hex, exponent,
 * x), dots, and a sign right after an exponent letter. */
static const char *number_end(const char *p, const char *end) {
  bool hex = end - p > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
  const char *q = p;
  while (q < end) {
    unsigned char c = (unsigned char)*q;
    bool exp = hex ? (c == 'p' || c == 'P') : (c == 'e' || c == 'E');
    if (exp && q + 1 < end && (q[1] == '+' || q[1] == '-')) q += 2;
    else if (isalnum(c) || c == '.' || c == '_') q++;
    else break;
  }
  return q;
}

static int lex_number(Lex *l) {
  const char *s = l->p, *q = number_end(s, l->end);
  int len = (int)(q - s);
  char *text = arena_alloc(l->a, (size_t)len + 1);
  memcpy(text, s, (size_t)len);
  char *stop;
  bool digits = true;
  for (int i = 0; i < len; i++) digits = digits && isdigit((unsigned char)s[i]);
  Tok *t = push(l, digits ? TK_INT : TK_FLOAT, s, len);
  errno = 0;
  if (digits) {
    unsigned long long u = strtoull(text, &stop, 10);
    if (errno == ERANGE) return lex_err(l, s, "integer '%s' is too large", text);
    t->i = (int64_t)u;
    t->big = u > INT64_MAX;
    t->f = (double)u;
  } else {
    t->f = strtod(text, &stop);
    if (stop != text + len || len == 0) return lex_err(l, s, "malformed number '%s'", text);
    if (errno == ERANGE && (t->f > 1 || t->f < -1))
      return lex_err(l, s, "number '%s' is out of range", text);
  }
  l->p = q;
  return 0;
}

/* The escape at l->p (a backslash): \" \\ \n \r \t and \xHH (not 00: a string holds no NUL),
 * for names and str values (ir/print.c writes them).  l->p is left on its last byte. */
static int lex_escape(Lex *l, char *c) {
  const char *at = l->p;
  char e = l->p + 1 < l->end ? l->p[1] : 0;
  const char *simple = strchr("\"\\nrt", e);
  if (e && simple) {
    *c = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
    l->p++;
    return 0;
  }
  if (e == 'x' && l->p + 3 < l->end && isxdigit((unsigned char)l->p[2]) && isxdigit((unsigned char)l->p[3])) {
    char hex[3] = {l->p[2], l->p[3], 0};
    long v = strtol(hex, NULL, 16);
    if (v == 0) return lex_err(l, at, "\\x00 in a quoted string: a string holds no NUL");
    *c = (char)v;
    l->p += 3;
    return 0;
  }
  return lex_err(l, at, "unknown escape in a quoted string (\\\" \\\\ \\n \\r \\t \\xHH)");
}

/* "name with any characters" (or a str value): escapes as above; no newline inside. */
static int lex_string(Lex *l) {
  const char *s = l->p++;
  /* The name's length first, so that its copy takes its own size, not the rest of the file. */
  const char *q = l->p;
  while (q < l->end && *q != '"' && *q != '\n' && *q != '\0') q += *q == '\\' && q + 1 < l->end ? 2 : 1;
  char *buf = arena_alloc(l->a, (size_t)(q - l->p) + 1);
  int n = 0;
  while (l->p < l->end && *l->p != '"') {
    char c = *l->p;
    if (c == '\n' || c == '\0') break;
    if (c == '\\') {
      if (lex_escape(l, &c)) return -1;
    }
    buf[n++] = c;
    l->p++;
  }
  if (l->p >= l->end || *l->p != '"') return lex_err(l, s, "unterminated quoted name");
  l->p++;
  Tok *t = push(l, TK_STRING, buf, n);
  t->col = col(l, s);
  return 0;
}

static void lex_newline(Lex *l) {
  if (l->depth == 0 && l->n && l->t[l->n - 1].kind != TK_NL) push(l, TK_NL, l->p, 0);
  l->p++;
  l->line++;
  l->line_start = l->p;
}

static int lex_punct(Lex *l) {
  char c = *l->p;
  if (!strchr("()[],:=-", c) || c == '\0') {
    char what[16];
    unsigned char u = (unsigned char)c;
    if (isprint(u)) snprintf(what, sizeof what, "'%c'", c);
    else snprintf(what, sizeof what, "byte 0x%02x", u);
    return lex_err(l, l->p, "unexpected character %s", what);
  }
  if (c == '(' || c == '[') l->depth++;
  if ((c == ')' || c == ']') && l->depth > 0) l->depth--;
  push(l, TK_PUNCT, l->p, 1)->c = c;
  l->p++;
  return 0;
}

static int lex_one(Lex *l) {
  unsigned char c = (unsigned char)*l->p;
  if (c == '\n') lex_newline(l);
  else if (c == ' ' || c == '\t' || c == '\r') l->p++;
  else if (c == '#') while (l->p < l->end && *l->p != '\n') l->p++;
  else if (ident_start(c)) {
    const char *s = l->p;
    while (l->p < l->end && ident_char((unsigned char)*l->p)) l->p++;
    push(l, TK_IDENT, s, (int)(l->p - s));
  } else if (isdigit(c) || (c == '.' && l->p + 1 < l->end && isdigit((unsigned char)l->p[1])))
    return lex_number(l);
  else if (c == '"') return lex_string(l);
  else return lex_punct(l);
  return 0;
}

int txt_lex(Arena *a, const char *src, size_t len, const char *file, Tok **out, int *n,
            DlcErr *e) {
  Lex l = {.a = a, .src = src, .end = src + len, .p = src, .file = file, .line = 1,
           .line_start = src, .e = e};
  while (l.p < l.end)
    if (lex_one(&l)) return -1;
  if (l.n && l.t[l.n - 1].kind != TK_NL) push(&l, TK_NL, l.p, 0);
  push(&l, TK_EOF, l.p, 0);
  *out = l.t;
  *n = l.n;
  return 0;
}

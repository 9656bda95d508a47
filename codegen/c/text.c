/* text.c — writing the generated code: formatted text, shapes, names. */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "cgen_c.h"

void cgen_printf(CEmit *ce, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(ce->f, fmt, ap);
  va_end(ap);
}

int cgen_code_budget(CEmit *ce) {
  long at = ftell(ce->f); /* -1 on a stream without a position: nothing to check */
  char what[64];
  snprintf(what, sizeof what, "cgen: the generated code");
  return at < 0 ? 0 : ir_limit_bytes(what, (double)at, ir_limits.code_bytes, "--max-code-bytes", ce->e);
}

void cgen_line(CEmit *ce, int depth, const char *fmt, ...) {
  va_list ap;
  fprintf(ce->f, "%*s", 2 * depth, "");
  va_start(ap, fmt);
  vfprintf(ce->f, fmt, ap);
  va_end(ap);
  fputc('\n', ce->f);
}

void cgen_lines(CEmit *ce, const char *const *lines, size_t n) {
  for (size_t i = 0; i < n; i++) fprintf(ce->f, "%s\n", lines[i]);
}

const char *cgen_shape(const Shape *s, char *buf, size_t n) {
  shape_str(s, buf, n);
  return buf;
}

/* Names come from model files and may hold anything; inside a comment only a plain
 * subset is safe (no comment end, no trigraphs, no line breaks). */
const char *cgen_comment_name(const char *name, char *buf, size_t n) {
  size_t k = 0;
  for (const char *p = name ? name : "?"; *p && k + 1 < n; p++) {
    unsigned char c = (unsigned char)*p;
    buf[k++] = isalnum(c) || strchr("_.:-[]()", c) ? (char)c : '_';
  }
  buf[k] = 0;
  return buf;
}

/* The one way a user-given string enters the generated code as a string literal. '?' is
 * escaped so that no trigraph ("??/" is a backslash under -std=c99 or -trigraphs) can
 * end the literal; quotes, backslashes, control bytes and non-ASCII bytes are escaped
 * too (octal, always three digits, so a following digit cannot join the escape). */
void cgen_c_string(FILE *f, const char *s, size_t len) {
  fputc('"', f);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\' || c == '?') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c < 32 || c >= 127) fprintf(f, "\\%03o", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

void cgen_str(CEmit *ce, const char *s) { cgen_c_string(ce->f, s ? s : "", s ? strlen(s) : 0); }

void cgen_ident(const char *name, bool upper, char *buf, size_t n) {
  size_t k = 0;
  for (const char *p = name ? name : ""; *p && k + 1 < n; p++) {
    unsigned char c = (unsigned char)*p;
    char d = isalnum(c) && c < 128 ? (char)c : '_';
    buf[k++] = upper ? (char)toupper((unsigned char)d) : d;
  }
  buf[k] = 0;
}

const Node *cgen_in(const CEmit *ce, const Node *n, int i) { return ce->g->nodes[n->in[i]]; }

const char *cgen_ctype(const Node *n) { return dtype_ctype(n->dtype); }

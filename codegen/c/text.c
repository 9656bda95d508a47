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

/* str.c — the string ops' shape rules and the text functions the interpreter applies
 * (ir/ops.def, "strings").  The C backend writes the same functions into the generated
 * code (codegen/c/strings.c); tests/onnx/strings_test.py holds both to ONNX Runtime. */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "shape.h"

static int fail(Graph *g, const Node *n, const char *why) {
  return dlc_errf(&g->err, "%s: %s", ir_ops[n->op].name, why);
}

int shape_str_cmp(Graph *g, Node *n) { return shape_binary(g, n); }
int shape_str_concat(Graph *g, Node *n) { return shape_binary(g, n); }

int shape_str_case(Graph *g, Node *n) {
  int64_t u = node_int(n, A_UPPER);
  if (u != 0 && u != 1) return fail(g, n, "upper is 0 (lower case) or 1 (upper case)");
  if (node_int(n, A_ASCII) != 0 && node_int(n, A_ASCII) != 1) return fail(g, n, "ascii is 0 or 1");
  return shape_unary(g, n);
}

int shape_str_format(Graph *g, Node *n) {
  DType t = g->nodes[n->in[0]]->dtype;
  if (t == DT_STR) return fail(g, n, "x is str already");
  if (dtype_is_narrow(t) || t == DT_F16 || t == DT_BF16) return fail(g, n, "x of a storage type: cast it to f32 first");
  if (shape_unary(g, n)) return -1;
  n->dtype = DT_STR;
  return 0;
}

int shape_str_parse(Graph *g, Node *n) {
  DType t = (DType)node_int(n, A_DTYPE);
  if (t != DT_F32 && t != DT_F64 && t != DT_I64 && t != DT_U64) return fail(g, n, "dtype is f32, f64, i64 or u64");
  if (shape_unary(g, n)) return -1;
  n->dtype = t;
  return 0;
}

void str_format_num(double v, DType t, char buf[STR_NUM_BYTES]) {
  if (dtype_is_float(t)) {
    if (isnan(v)) snprintf(buf, STR_NUM_BYTES, "NaN");
    else if (isinf(v)) snprintf(buf, STR_NUM_BYTES, v < 0 ? "-INF" : "INF");
    else snprintf(buf, STR_NUM_BYTES, "%.8g", v);
  } else if (t == DT_BOOL) snprintf(buf, STR_NUM_BYTES, "%d", v != 0);
  else if (t == DT_U64) snprintf(buf, STR_NUM_BYTES, "%llu", (unsigned long long)v);
  else snprintf(buf, STR_NUM_BYTES, "%lld", (long long)v);
}

int str_parse_num(const char *s, DType t, double *out) {
  char *end;
  errno = 0;
  if (t == DT_F32) *out = strtof(s, &end);
  else if (t == DT_F64) *out = strtod(s, &end);
  else if (t == DT_U64) *out = (double)strtoull(s, &end, 10);
  else *out = (double)strtoll(s, &end, 10);
  if (end == s || (!dtype_is_float(t) && errno == ERANGE)) return -1;
  return 0;
}

/* The pattern is a constant: the generated code compiles it once, in NAME_init. */
int shape_str_match(Graph *g, Node *n) {
  const Node *p = g->nodes[n->in[1]];
  if (p->op != OP_CONST || p->shape.rank != 0) return fail(g, n, "the pattern is one constant string (rank 0)");
  int64_t a = node_int(n, A_ASCII);
  if (a != 0 && a != 1) return fail(g, n, "ascii is 0 or 1");
  regex_t re;
  int rc = regcomp(&re, ((const char *const *)p->data)[0], REG_EXTENDED | REG_NOSUB);
  if (rc) {
    char why[160];
    regerror(rc, &re, why, sizeof why);
    return dlc_errf(&g->err, "str_match: the pattern is no POSIX extended regular expression: %s", why);
  }
  regfree(&re);
  n->dtype = DT_BOOL;
  n->shape = g->nodes[n->in[0]]->shape;
  return 0;
}

int shape_str_split(Graph *g, Node *n) {
  const Node *x = g->nodes[n->in[0]], *d = g->nodes[n->in[1]];
  int64_t part = node_int(n, A_PART), bound = node_int(n, A_BOUND), most = node_int(n, A_MAXSPLIT);
  if (d->shape.rank != 0) return fail(g, n, "the delimiter is one string (rank 0)");
  if (part != 0 && part != 1) return fail(g, n, "part is 0 (the pieces) or 1 (their counts)");
  if (bound < 1) return fail(g, n, "bound (the pieces kept of one string) is 1 or more");
  if (most < -1) return fail(g, n, "maxsplit is -1 (any) or a count");
  DType want = part ? DT_I64 : DT_STR;
  if ((DType)node_int(n, A_DTYPE) != want) return fail(g, n, part ? "part 1 is i64" : "part 0 is str");
  if (!part && x->shape.rank >= IR_MAX_RANK) return fail(g, n, "x has too high a rank");
  n->dtype = want;
  n->shape = x->shape;
  if (!part) n->shape.d[n->shape.rank++] = bound;
  return 0;
}

/* The bytes of the whitespace character at p (Python's str.isspace: ASCII's, U+0085,
 * U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), else 0. */
static int space_len(const unsigned char *p) {
  if ((p[0] >= 0x09 && p[0] <= 0x0d) || (p[0] >= 0x1c && p[0] <= 0x20)) return 1;
  if (p[0] == 0xC2) return p[1] == 0x85 || p[1] == 0xA0 ? 2 : 0;
  if (p[0] == 0xE1) return p[1] == 0x9A && p[2] == 0x80 ? 3 : 0;
  if (p[0] == 0xE3) return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;
  if (p[0] != 0xE2) return 0;
  if (p[1] == 0x80) return (p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF ? 3 : 0;
  return p[1] == 0x81 && p[2] == 0x9F ? 3 : 0;
}

int64_t str_split_each(const char *s, const char *d, int64_t maxsplit, StrPiece f, void *ctx) {
  const unsigned char *p = (const unsigned char *)s;
  int64_t n = 0;
  size_t dl = strlen(d);
  if (dl) { /* s.split(d, maxsplit) */
    for (const char *q; (maxsplit < 0 || n < maxsplit) && (q = strstr((const char *)p, d)); p = (const unsigned char *)q + dl)
      f(ctx, n++, (const char *)p, (size_t)(q - (const char *)p));
    f(ctx, n++, (const char *)p, strlen((const char *)p));
    return n;
  }
  for (;;) { /* s.split(None, maxsplit): runs of whitespace, none at either end */
    for (int k; *p && (k = space_len(p));) p += k;
    if (!*p) return n;
    if (maxsplit >= 0 && n == maxsplit) { /* the rest, its trailing whitespace kept */
      f(ctx, n++, (const char *)p, strlen((const char *)p));
      return n;
    }
    const unsigned char *start = p;
    while (*p && !space_len(p)) p++;
    f(ctx, n++, (const char *)start, (size_t)(p - start));
  }
}

/* One code point of two UTF-8 bytes mapped to the other case: Latin-1's letters
 * (U+00C0..U+00FE but the multiplication and division signs; not U+00DF or U+00FF,
 * whose other case is not one letter of two bytes) and basic Cyrillic (U+0400..U+045F).
 * Every mapping keeps the byte length. */
static unsigned case2(unsigned cp, bool upper) {
  if (upper) {
    if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
    if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;
    if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;
  } else {
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  }
  return cp;
}

/* Whether code point cp is a letter with a case that case2 does not map (its Unicode
 * mapping differs from the identity): the cased scripts beyond Latin-1 and basic
 * Cyrillic, and U+00B5, U+00DF, U+00FF.  A case change meeting one fails. */
static bool unmapped(unsigned cp) {
  return cp == 0xB5 || cp == 0xDF || cp == 0xFF || (cp >= 0x100 && cp <= 0x3FF) || (cp >= 0x460 && cp <= 0x58F) ||
         (cp >= 0x10A0 && cp <= 0x10FF) || (cp >= 0x13A0 && cp <= 0x13FF) || (cp >= 0x1C80 && cp <= 0x1CBF) ||
         (cp >= 0x1E00 && cp <= 0x1FFF) || (cp >= 0x2100 && cp <= 0x218F) || (cp >= 0x24B6 && cp <= 0x24E9) ||
         (cp >= 0x2C00 && cp <= 0x2D2F) || (cp >= 0xA640 && cp <= 0xA69F) || (cp >= 0xA720 && cp <= 0xA7FF) ||
         (cp >= 0xAB70 && cp <= 0xABBF) || (cp >= 0xFB00 && cp <= 0xFB17) || (cp >= 0xFF21 && cp <= 0xFF5A) ||
         (cp >= 0x10400 && cp <= 0x1E94F);
}

int str_case_map(const char *s, char *out, bool upper, bool ascii) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  int rc = 0;
  while (p[i]) {
    unsigned char c = p[i];
    size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    for (size_t k = 1; k < len; k++)
      if ((p[i + k] & 0xC0) != 0x80) len = 0;
    if (len == 1) {
      out[i] = (char)(upper ? (c >= 'a' && c <= 'z' ? c - 32 : c) : (c >= 'A' && c <= 'Z' ? c + 32 : c));
      i++;
      continue;
    }
    if (ascii || !len) { /* C's mapping, or bytes that are not UTF-8: as they are */
      out[i] = (char)c;
      i++;
      continue;
    }
    unsigned cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) cp = cp << 6 | (p[i + k] & 0x3F);
    if (unmapped(cp)) rc = -1;
    if (len == 2) {
      cp = case2(cp, upper);
      out[i] = (char)(0xC0 | cp >> 6), out[i + 1] = (char)(0x80 | (cp & 0x3F));
    } else memcpy(out + i, p + i, len);
    i += len;
  }
  out[i] = 0;
  return rc;
}

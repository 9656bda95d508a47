/* onnx_ops_str.c — the string operators over the str core ops (ir/ops.def, "strings"):
 * StringConcat, StringNormalizer, StringSplit.  Equal on strings is in onnx_ops_elem.c, LabelEncoder's
 * string keys and values in onnx_ops_ml.c.  docs/ONNX.md, "Strings". */
#include <string.h>

#include "onnx_fe.h"

static int str_const(OnnxCtx *c, const char *const *v, int64_t n) {
  Shape s = {.rank = 1, .d = {n}};
  return ir_const(c->g, NULL, DT_STR, s, v);
}

static int need_str(OnnxCtx *c, OnnxNode *n, int i) {
  if (dtype_of(c, n->in[i]) == DT_STR) return 0;
  return onnx_fail(c, n, "input %d is %s, not string", i + 1, dtype_name(dtype_of(c, n->in[i])));
}

int onnx_StringConcat(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2) || need_str(c, n, 0) || need_str(c, n, 1)) return -1;
  ONNX_TRY(c, n, n->out[0] = ir_binary(c->g, OP_STR_CONCAT, n->in[0], n->in[1]));
  return 0;
}

static int str_case(OnnxCtx *c, int x, bool upper, bool ascii) {
  Attr a[2] = {attr_int(A_UPPER, upper), attr_int(A_ASCII, ascii)};
  return x < 0 ? -1 : ir_add(c->g, OP_STR_CASE, &x, 1, a, 2);
}

/* x [C] without the stopwords: the kept strings first, padded to C, with their count
 * (at least 1: when every string is a stopword the result is one empty string, as
 * ONNX's reference and ONNX Runtime give).  stops are compared with x as `cmp` holds it. */
static int drop_stopwords(OnnxCtx *c, OnnxNode *n, int x, int cmp, int stops, int *count) {
  Graph *g = c->g;
  int64_t C = shape_of(c, x)->d[0], col[2] = {C, 1}, flat = C;
  int hit = bin(c, OP_STR_EQ, reshape(c, cmp, col, 2), stops); /* [C, K] */
  int64_t ax = 1;
  int any = hit < 0 ? -1 : ir_reduce(g, OP_REDUCE_MAX, ir_cast(g, hit, DT_I32), &ax, 1, false);
  int keep = bin(c, OP_EQ, any, ir_scalar(g, DT_I32, 0)), idx = -1, y = -1, k = -1, empty = -1;
  if (keep >= 0) idx = ir_add(g, OP_NONZERO, &keep, 1, NULL, 0); /* [1, C] */
  if (idx >= 0) idx = reshape(c, idx, &flat, 1);
  if (idx >= 0) {
    Attr a = attr_int(A_AXIS, 0);
    int in[2] = {x, idx};
    y = ir_add(g, OP_GATHER, in, 2, &a, 1);
  }
  if (keep >= 0) k = onnx_count_nonzero(g, keep);
  if (k >= 0) empty = bin(c, OP_EQ, k, ir_scalar(g, DT_I64, 0));
  const char *blank = "";
  int e0 = empty < 0 ? -1 : ir_const(g, NULL, DT_STR, (Shape){0}, &blank);
  ONNX_TRY(c, n, y = e0 < 0 || y < 0 ? -1 : ir_select(g, empty, e0, y));
  ONNX_TRY(c, n, *count = bin(c, OP_MAX, k, ir_scalar(g, DT_I64, 1)));
  return y;
}

/* StringNormalizer: [C] or [1, C]; stopwords dropped (case-sensitively or not), then
 * the case changed.  Case mapping and case-insensitive comparison: in en_US (the
 * default) ASCII, Latin-1 and basic Cyrillic letters, in C ASCII's alone (ir/str.c);
 * another locale is refused. */
int onnx_StringNormalizer(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_str(c, n, 0)) return -1;
  const char *act = onnx_attr_str(c, n, "case_change_action", "NONE");
  int mode = !strcmp(act, "NONE") ? 0 : !strcmp(act, "LOWER") ? 1 : !strcmp(act, "UPPER") ? 2 : -1;
  if (mode < 0) return onnx_fail(c, n, "attribute 'case_change_action' is '%.64s', not NONE, LOWER or UPPER", act);
  int64_t sensitive = onnx_attr_int(n, "is_case_sensitive", 0);
  const char *locale = onnx_attr_str(c, n, "locale", "");
  bool ascii = !strcmp(locale, "C") || !strcmp(locale, "POSIX");
  if (*locale && !ascii && strcmp(locale, "en_US") && strcmp(locale, "en_US.UTF-8"))
    return onnx_fail(c, n, "attribute 'locale' is '%.64s': dlc maps case as en_US does (ASCII, Latin-1 and basic "
                     "Cyrillic letters) or as C does (ASCII); give en_US, C, or no locale", locale);
  const char **stop;
  int nstop = onnx_attr_strs(c, n, "stopwords", &stop);
  if (nstop == -2) return -1;
  int x = n->in[0];
  const Shape *s = shape_of(c, x);
  if (!(s->rank == 1 || (s->rank == 2 && s->d[0] == 1)))
    return onnx_fail(c, n, "the input is %s-shaped: StringNormalizer takes [C] or [1, C]", s->rank == 2 ? "[N, C]" : "other");
  bool two = s->rank == 2;
  int64_t C = s->d[s->rank - 1];
  if (two) ONNX_TRY(c, n, x = reshape(c, x, &C, 1));
  int y = x, count = -1;
  if (nstop > 0 && C > 0) {
    int cmp = x;
    if (!sensitive) {
      ONNX_TRY(c, n, cmp = str_case(c, x, false, ascii));
      for (int i = 0; i < nstop; i++) {
        char *low = arena_alloc(c->g->arena, strlen(stop[i]) + 1);
        if (str_case_map(stop[i], low, false, ascii))
          return onnx_fail(c, n, "stopword '%.64s' has a letter whose case dlc does not map (only ASCII, Latin-1 and "
                           "basic Cyrillic letters)", stop[i]);
        stop[i] = low;
      }
    }
    int64_t row[2] = {1, nstop};
    int stops = reshape(c, str_const(c, stop, nstop), row, 2);
    ONNX_TRY(c, n, stops);
    if ((y = drop_stopwords(c, n, x, cmp, stops, &count)) < 0) return -1;
  }
  if (mode) ONNX_TRY(c, n, y = str_case(c, y, mode == 2, ascii));
  if (two) {
    int64_t d[2] = {1, C};
    ONNX_TRY(c, n, y = reshape(c, y, d, 2));
  }
  if (count >= 0) onnx_dyn_mark(c, y, count, two ? 1 : 0);
  n->out[0] = y;
  return 0;
}

/* StringSplit: Y, X's shape + [the most pieces of any string], padded with "", and Z,
 * the pieces of each.  Y is padded to a bound known at compile time: maxsplit + 1, or
 * --split-pieces (default 64) when that is smaller or maxsplit is absent; a string with
 * more pieces fails the run (NAME_ERR_STRINGS).  Y's real length is an output of its own
 * (docs/ONNX.md, "Data-dependent lengths"). */
int onnx_StringSplit(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_str(c, n, 0)) return -1;
  const Onnx__AttributeProto *a = onnx_attr(n, "delimiter");
  const char *delim = "";
  if (a && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
    return onnx_fail(c, n, "attribute 'delimiter' must be a string");
  if (a && a->has_s && !(delim = onnx_bytes_str(c, &a->s)))
    return onnx_fail(c, n, "attribute 'delimiter' holds a NUL byte");
  int64_t most = onnx_attr_int(n, "maxsplit", -1);
  if (most < 0) most = -1;
  int64_t bound = most >= 0 && most < ir_limits.split_pieces ? most + 1 : ir_limits.split_pieces;
  int x = n->in[0], d, y, z, count;
  ONNX_TRY(c, n, d = ir_const(c->g, NULL, DT_STR, (Shape){0}, &delim));
  int in[2] = {x, d};
  Attr ya[4] = {attr_int(A_MAXSPLIT, most), attr_int(A_PART, 0), attr_int(A_BOUND, bound), attr_dtype(A_DTYPE, DT_STR)};
  Attr za[4] = {attr_int(A_MAXSPLIT, most), attr_int(A_PART, 1), attr_int(A_BOUND, bound), attr_dtype(A_DTYPE, DT_I64)};
  ONNX_TRY(c, n, y = ir_add(c->g, OP_STR_SPLIT, in, 2, ya, 4));
  ONNX_TRY(c, n, z = ir_add(c->g, OP_STR_SPLIT, in, 2, za, 4));
  int64_t all = shape_numel(shape_of(c, x)), ax = 0;
  int flat = reshape(c, z, &all, 1);
  ONNX_TRY(c, n, count = bin(c, OP_MAX, flat < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_MAX, flat, &ax, 1, false),
                            ir_scalar(c->g, DT_I64, 0)));
  onnx_dyn_mark(c, y, count, shape_of(c, x)->rank);
  n->out[0] = y;
  if (n->nout > 1) n->out[1] = z;
  return 0;
}

/* ---- RegexFullMatch: RE2's syntax as a POSIX extended regular expression ---- */

/* The ERE being written, and what the translation found. */
typedef struct Ere {
  char *s;
  size_t n, cap;
  bool ascii;      /* the pattern has ., a class or a word boundary: wider characters differ */
  const char *why; /* set on a construct that has no equal: the error */
} Ere;

static void put(Ere *e, const char *t, size_t len) {
  if (e->n + len + 1 > e->cap) return; /* cap is 16 times the pattern: never reached */
  memcpy(e->s + e->n, t, len);
  e->n += len;
  e->s[e->n] = 0;
}
static void puts_(Ere *e, const char *t) { put(e, t, strlen(t)); }

/* \w \d \s as the inside of a bracket expression; NULL for another letter. */
static const char *class_of(char c) {
  return c == 'w' || c == 'W' ? "[:alnum:]_" : c == 'd' || c == 'D' ? "0-9" : c == 's' || c == 'S' ? "[:space:]" : NULL;
}

/* An escaped character's literal byte (\n \t \r \f \v, or punctuation), else 0. */
static char escaped_literal(char c) {
  if (c == 'n') return '\n';
  if (c == 't') return '\t';
  if (c == 'r') return '\r';
  if (c == 'f') return '\f';
  if (c == 'v') return '\v';
  return (unsigned char)c < 0x80 && c > ' ' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
                 !(c >= 'A' && c <= 'Z')
             ? c
             : 0;
}

/* [...] at *pp (past the '['): the members sorted so that ERE reads them as RE2 does
 * (']' first, '[' '^' '-' last), classes spelled out. */
static void bracket(Ere *e, const char **pp) {
  const char *p = *pp;
  char items[512];
  size_t ni = 0;
  bool neg = *p == '^', rb = false, lb = false, caret = false, dash = false, first = true;
  if (neg) p++;
  e->ascii = true;
  for (;; first = false) {
    char c = *p;
    if (!c) { e->why = "an unterminated ["; return; }
    if (c == ']' && !first) break;
    const char *add = NULL;
    char lit = 0;
    if (c == '[' && p[1] == ':') {
      const char *end = strstr(p + 2, ":]");
      if (!end || end - p > 16) { e->why = "a [: without :]"; return; }
      if (ni + (size_t)(end + 2 - p) < sizeof items) memcpy(items + ni, p, (size_t)(end + 2 - p)), ni += (size_t)(end + 2 - p);
      p = end + 2;
      continue;
    }
    if (c == '\\') {
      char x = p[1];
      if (class_of(x) && x >= 'a') add = class_of(x);
      else if (class_of(x)) { e->why = "\\W, \\D or \\S inside [ ]"; return; }
      else if (!(lit = escaped_literal(x))) { e->why = "an escape inside [ ] other than \\w \\d \\s, \\n \\t \\r \\f \\v or punctuation"; return; }
      p += 2;
    } else if ((unsigned char)c > 0x7f) {
      { e->why = "a non-ASCII character inside [ ]"; return; }
    } else {
      lit = c;
      p++;
    }
    if (add) {
      size_t l = strlen(add);
      if (ni + l < sizeof items) memcpy(items + ni, add, l), ni += l;
      continue;
    }
    if (*p == '-' && p[1] && p[1] != ']') { /* a range */
      char hi = p[1];
      if (hi == '\\' || hi == '[' || (unsigned char)hi > 0x7f || lit == ']' || lit == '[' || lit == '^' || lit == '-' ||
          lit == '\\' || hi == '^' || hi < lit)
        { e->why = "a range inside [ ] that ERE reads otherwise"; return; }
      if (ni + 3 < sizeof items) items[ni++] = lit, items[ni++] = '-', items[ni++] = hi;
      p += 2;
      continue;
    }
    if (lit == ']') rb = true;
    else if (lit == '[') lb = true;
    else if (lit == '^') caret = true;
    else if (lit == '-') dash = true;
    else if (ni + 1 < sizeof items) items[ni++] = lit;
  }
  *pp = p + 1;
  if (!neg && !rb && !ni && !lb && caret && !dash) {
    puts_(e, "\\^");
    return;
  }
  puts_(e, neg ? "[^" : "[");
  if (rb) puts_(e, "]");
  if (!neg && !rb && !ni && !lb && caret) puts_(e, "-^"); /* [-^]: the caret not first */
  else {
    put(e, items, ni);
    if (lb) puts_(e, "[");
    if (caret) puts_(e, "^");
    if (dash) puts_(e, "-");
  }
  puts_(e, "]");
}

/* {n}, {n,} or {n,m} at p: its length, 0 when it is not one (RE2 reads it literally). */
static size_t repeat_len(const char *p, Ere *e) {
  const char *q = p + 1;
  long lo = 0, hi = -1;
  if (*q < '0' || *q > '9') return 0;
  while (*q >= '0' && *q <= '9') lo = lo * 10 + (*q++ - '0'), lo = lo > 100000 ? 100000 : lo;
  if (*q == ',') {
    q++;
    if (*q >= '0' && *q <= '9') {
      hi = 0;
      while (*q >= '0' && *q <= '9') hi = hi * 10 + (*q++ - '0'), hi = hi > 100000 ? 100000 : hi;
    }
  } else hi = lo;
  if (*q != '}') return 0;
  if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) e->why = "a repetition over 1000 or with max < min (RE2 refuses it)";
  return (size_t)(q + 1 - p);
}

/* RE2's pattern as an ERE that matches the whole string: ^( ... )$. */
static void re2_to_ere(const char *p, Ere *e) {
  puts_(e, "^(");
  while (*p && !e->why) {
    char c = *p, buf[8];
    if (c == '\\') {
      char x = p[1], lit;
      if (!x) { e->why = "a trailing backslash"; return; }
      if (class_of(x)) {
        puts_(e, x >= 'a' ? "[" : "[^"), puts_(e, class_of(x)), puts_(e, "]");
        e->ascii = true;
      } else if (x == 'b' || x == 'B') {
        puts_(e, x == 'b' ? "\\b" : "\\B");
        e->ascii = true;
      } else if (x && strchr(".[](){}*+?|^$\\", x)) {
        buf[0] = '\\', buf[1] = x, put(e, buf, 2);
      } else if ((lit = escaped_literal(x))) {
        put(e, &lit, 1);
      } else {
        { e->why = "an escape such as \\A, \\z, \\p, \\Q, \\x, \\C or a back-reference"; return; }
      }
      p += 2;
    } else if (c == '(' && p[1] == '?') {
      { e->why = "(? (a non-capturing or named group, or flags)"; return; }
    } else if (c == '.') {
      puts_(e, "[^\n]"); /* RE2's . leaves out the newline */
      e->ascii = true;
      p++;
    } else if (c == '[') {
      p++;
      bracket(e, &p);
    } else if (c == '*' || c == '+' || c == '?') {
      put(e, &c, 1);
      p++;
      if (*p == '?') p++; /* lazy: the same strings match in full */
    } else if (c == '{') {
      size_t l = repeat_len(p, e);
      if (l) {
        put(e, p, l);
        p += l;
        if (*p == '?') p++;
      } else {
        puts_(e, "\\{");
        p++;
      }
    } else if ((unsigned char)c > 0x7f) { /* one UTF-8 character, grouped so that a repetition takes it whole */
      size_t l = (unsigned char)c >= 0xF0 ? 4 : (unsigned char)c >= 0xE0 ? 3 : 2;
      for (size_t i = 1; i < l; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80) { e->why = "bytes that are not UTF-8"; return; }
      puts_(e, "("), put(e, p, l), puts_(e, ")");
      p += l;
    } else {
      put(e, &c, 1);
      p++;
    }
  }
  puts_(e, ")$");
}

/* RegexFullMatch: whether the whole string matches pattern (RE2's syntax).  The pattern
 * becomes a POSIX extended regular expression that regexec matches the same way: \w \d
 * \s and their negations as bracket classes, . without the newline, lazy repetitions as
 * greedy ones (a full match does not depend on them), UTF-8 characters grouped.  What
 * has no equal is an error naming it; where the ERE would read a wider character
 * differently (., classes, \b), a non-ASCII string fails the run instead of matching
 * otherwise (the core op's `ascii`). */
int onnx_RegexFullMatch(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_str(c, n, 0)) return -1;
  const Onnx__AttributeProto *a = onnx_attr(n, "pattern");
  const char *pat;
  if (!a || a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING || !a->has_s)
    return onnx_fail(c, n, "needs the string attribute 'pattern'");
  if (!(pat = onnx_bytes_str(c, &a->s))) return onnx_fail(c, n, "attribute 'pattern' holds a NUL byte");
  size_t cap = 16 * strlen(pat) + 64;
  Ere e = {.s = arena_alloc(c->g->arena, cap), .cap = cap};
  re2_to_ere(pat, &e);
  if (e.why) return onnx_fail(c, n, "pattern '%.200s': %s: RE2 syntax that dlc's POSIX matching cannot say", pat, e.why);
  const char *ere = e.s;
  int in[2] = {n->in[0], -1};
  ONNX_TRY(c, n, in[1] = ir_const(c->g, NULL, DT_STR, (Shape){0}, &ere));
  Attr at = attr_int(A_ASCII, e.ascii);
  ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_STR_MATCH, in, 2, &at, 1));
  return 0;
}

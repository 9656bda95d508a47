/* strings.c — the str ops (ir/ops.def, "strings") and what the generated code needs
 * for them: the typedef dlc_str (the header), str constants as arrays of string
 * literals, and the string heap.
 *
 * A str value is a `const char *` to NUL-terminated UTF-8.  What a kernel makes (a
 * concatenation, a case change) goes to the string heap: DLC_HEAP_BYTES (dlc compile
 * --string-heap) at the end of the arena, emptied when NAME_run starts.  A kernel that
 * finds it full returns nonzero and NAME_run returns NAME_ERR_STRINGS: no malloc while
 * the model runs, and no string cut short.  The outputs' strings stay valid until the
 * next NAME_run or NAME_free (or as long as the inputs, for strings passed through). */
#include <inttypes.h>
#include <string.h>

#include "cgen_c.h"

bool cgen_graph_has_str(const Graph *g) {
  for (int i = 0; i < g->n; i++)
    if (g->nodes[i]->dtype == DT_STR) return true;
  return false;
}

/* Whether node n writes strings to the heap. */
static bool makes_strings(const Node *n) {
  return n->op == OP_STR_CONCAT || n->op == OP_STR_CASE || n->op == OP_STR_FORMAT ||
         (n->op == OP_STR_SPLIT && !node_int(n, A_PART));
}

bool cgen_kernel_heap(const CEmit *ce, const Kernel *k) {
  for (int j = 0; j < k->n; j++)
    if (makes_strings(ce->g->nodes[k->nodes[j]])) return true;
  return false;
}

int cgen_kernel_regex(const CEmit *ce, const Kernel *k) {
  int at = -1;
  for (int j = 0; j < k->n; j++)
    if (ce->g->nodes[k->nodes[j]]->op == OP_STR_MATCH) at = k->nodes[j];
  if (at < 0) return -1;
  int index = 0;
  for (int i = 0; i < at; i++) index += ce->g->nodes[i]->op == OP_STR_MATCH;
  return index;
}

int cgen_regex_count(const CEmit *ce) {
  int count = 0;
  for (int i = 0; i < ce->g->n; i++) count += ce->g->nodes[i]->op == OP_STR_MATCH;
  return count;
}

bool cgen_kernel_strings_fail(const CEmit *ce, const Kernel *k) {
  for (int j = 0; j < k->n; j++) {
    const Node *n = ce->g->nodes[k->nodes[j]];
    if (makes_strings(n) || n->op == OP_STR_PARSE || (n->op == OP_STR_MATCH && node_int(n, A_ASCII))) return true;
  }
  return false;
}

void cgen_regex_init(CEmit *ce) {
  int k = 0;
  for (int i = 0; i < ce->g->n; i++) {
    const Node *n = ce->g->nodes[i];
    if (n->op != OP_STR_MATCH) continue;
    const char *pat = ((const char *const *)cgen_in(ce, n, 1)->data)[0];
    cgen_printf(ce, "  if (regcomp(&m->re[%d], ", k);
    cgen_c_string(ce->f, pat, strlen(pat));
    cgen_printf(ce, ", REG_EXTENDED | REG_NOSUB)) {\n");
    cgen_line(ce, 2, "%s_free(m);", ce->o->name);
    cgen_line(ce, 2, "return %s_ERR_NOMEM;", ce->uname);
    cgen_line(ce, 1, "}");
    cgen_line(ce, 1, "m->nre = %d;", ++k);
  }
}

int64_t cgen_heap_bytes(const CEmit *ce) {
  for (int i = 0; i < ce->g->n; i++)
    if (makes_strings(ce->g->nodes[i]) || ce->g->nodes[i]->op == OP_STR_SPLIT) /* dlc_split calls the heap */
      return CGEN_HEAP_HEAD + ir_limits.string_heap;
  return 0;
}

/* ---- the prelude: the heap and the case mapping (the same as ir/str.c) ---- */

static const char *const heap_text[] = {
    "",
    "/* The string heap: the bytes used, then DLC_HEAP_BYTES of strings (strings.c). */",
    "static void dlc_heap_reset(unsigned char *heap) {",
    "  size_t used = 0;",
    "  memcpy(heap, &used, sizeof used);",
    "}",
    "",
    "/* n bytes of the heap, or NULL when it is full. */",
    "static char *dlc_heap_alloc(unsigned char *heap, size_t n) {",
    "  size_t used;",
    "  memcpy(&used, heap, sizeof used);",
    "  if (n > (size_t)DLC_HEAP_BYTES - used) return NULL;",
    "  n += used;",
    "  memcpy(heap, &n, sizeof n);",
    "  return (char *)heap + DLC_HEAP_HEAD + used;",
    "}",
};

static const char *const case_text[] = {
    "",
    "/* A code point of two UTF-8 bytes in the other case: Latin-1's letters and basic",
    " * Cyrillic (ir/str.c); the byte length never changes. */",
    "static unsigned dlc_case2(unsigned cp, int upper) {",
    "  if (upper) {",
    "    if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;",
    "    if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;",
    "    if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;",
    "  } else {",
    "    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;",
    "    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;",
    "    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;",
    "  }",
    "  return cp;",
    "}",
    "",
    "/* A letter with a case that dlc_case2 does not map (ir/str.c: unmapped). */",
    "static int dlc_case_unmapped(unsigned cp) {",
    "  return cp == 0xB5 || cp == 0xDF || cp == 0xFF || (cp >= 0x100 && cp <= 0x3FF) || (cp >= 0x460 && cp <= 0x58F) ||",
    "         (cp >= 0x10A0 && cp <= 0x10FF) || (cp >= 0x13A0 && cp <= 0x13FF) || (cp >= 0x1C80 && cp <= 0x1CBF) ||",
    "         (cp >= 0x1E00 && cp <= 0x1FFF) || (cp >= 0x2100 && cp <= 0x218F) || (cp >= 0x24B6 && cp <= 0x24E9) ||",
    "         (cp >= 0x2C00 && cp <= 0x2D2F) || (cp >= 0xA640 && cp <= 0xA69F) || (cp >= 0xA720 && cp <= 0xA7FF) ||",
    "         (cp >= 0xAB70 && cp <= 0xABBF) || (cp >= 0xFB00 && cp <= 0xFB17) || (cp >= 0xFF21 && cp <= 0xFF5A) ||",
    "         (cp >= 0x10400 && cp <= 0x1E94F);",
    "}",
    "",
    "/* s in the other case into out; -1 when it has a letter dlc does not map. */",
    "static int dlc_case_map(const char *s, char *out, int upper, int ascii) {",
    "  const unsigned char *p = (const unsigned char *)s;",
    "  size_t i = 0, len, k;",
    "  int rc = 0;",
    "  while (p[i]) {",
    "    unsigned char c = p[i];",
    "    unsigned cp;",
    "    len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;",
    "    for (k = 1; k < len; k++)",
    "      if ((p[i + k] & 0xC0) != 0x80) len = 0;",
    "    if (len == 1) {",
    "      out[i] = (char)(upper ? (c >= 'a' && c <= 'z' ? c - 32 : c) : (c >= 'A' && c <= 'Z' ? c + 32 : c));",
    "      i++;",
    "      continue;",
    "    }",
    "    if (ascii || !len) {",
    "      out[i] = (char)c;",
    "      i++;",
    "      continue;",
    "    }",
    "    cp = c & (0x7Fu >> len);",
    "    for (k = 1; k < len; k++) cp = cp << 6 | (p[i + k] & 0x3Fu);",
    "    if (dlc_case_unmapped(cp)) rc = -1;",
    "    if (len == 2) {",
    "      cp = dlc_case2(cp, upper);",
    "      out[i] = (char)(0xC0 | cp >> 6), out[i + 1] = (char)(0x80 | (cp & 0x3F));",
    "    } else memcpy(out + i, p + i, len);",
    "    i += len;",
    "  }",
    "  out[i] = 0;",
    "  return rc;",
    "}",
};

static const char *const split_text[] = {
    "",
    "/* The bytes of the whitespace character at p (Python's str.isspace), else 0. */",
    "static int dlc_space_len(const unsigned char *p) {",
    "  if ((p[0] >= 0x09 && p[0] <= 0x0d) || (p[0] >= 0x1c && p[0] <= 0x20)) return 1;",
    "  if (p[0] == 0xC2) return p[1] == 0x85 || p[1] == 0xA0 ? 2 : 0;",
    "  if (p[0] == 0xE1) return p[1] == 0x9A && p[2] == 0x80 ? 3 : 0;",
    "  if (p[0] == 0xE3) return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;",
    "  if (p[0] != 0xE2) return 0;",
    "  if (p[1] == 0x80) return (p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF ? 3 : 0;",
    "  return p[1] == 0x81 && p[2] == 0x9F ? 3 : 0;",
    "}",
    "",
    "/* Piece n of a split is [p, p + len): copied to the heap when out has room for it. */",
    "static int dlc_piece(dlc_str *out, int64_t n, int64_t bound, const unsigned char *p, size_t len, unsigned char *heap) {",
    "  char *t;",
    "  if (!out || n >= bound) return 0;",
    "  t = dlc_heap_alloc(heap, len + 1);",
    "  if (!t) return -1;",
    "  memcpy(t, p, len);",
    "  t[len] = 0;",
    "  out[n] = t;",
    "  return 0;",
    "}",
    "",
    "/* s split as Python's s.split(d, maxsplit) (d \"\": at runs of whitespace); the first",
    " * bound pieces to out (unless NULL).  The count, or -1 when the heap is full. */",
    "static int64_t dlc_split(const char *s, const char *d, int64_t maxsplit, int64_t bound, dlc_str *out, unsigned char *heap) {",
    "  const unsigned char *p = (const unsigned char *)s, *start;",
    "  const char *q;",
    "  int64_t n = 0;",
    "  size_t dl = strlen(d);",
    "  int k;",
    "  if (dl) {",
    "    while ((maxsplit < 0 || n < maxsplit) && (q = strstr((const char *)p, d)) != NULL) {",
    "      if (dlc_piece(out, n++, bound, p, (size_t)(q - (const char *)p), heap)) return -1;",
    "      p = (const unsigned char *)q + dl;",
    "    }",
    "    return dlc_piece(out, n, bound, p, strlen((const char *)p), heap) ? -1 : n + 1;",
    "  }",
    "  for (;;) {",
    "    while (*p && (k = dlc_space_len(p)) > 0) p += k;",
    "    if (!*p) return n;",
    "    if (maxsplit >= 0 && n == maxsplit) return dlc_piece(out, n, bound, p, strlen((const char *)p), heap) ? -1 : n + 1;",
    "    start = p;",
    "    while (*p && !dlc_space_len(p)) p++;",
    "    if (dlc_piece(out, n++, bound, start, (size_t)(p - start), heap)) return -1;",
    "  }",
    "}",
};

int cgen_str_split(CEmit *ce, const Node *n) {
  int64_t m = shape_numel(&cgen_in(ce, n, 0)->shape), bound = node_int(n, A_BOUND);
  int64_t most = node_int(n, A_MAXSPLIT);
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) {", m);
  if (node_int(n, A_PART)) {
    cgen_line(ce, 2, "y[i] = dlc_split(a0[i], a1[0], %" PRId64 ", 0, (dlc_str *)0, (unsigned char *)0);", most);
    cgen_line(ce, 1, "}");
    return 0;
  }
  cgen_line(ce, 2, "int64_t c = dlc_split(a0[i], a1[0], %" PRId64 ", %" PRId64 ", y + i * %" PRId64 ", heap);", most,
            bound, bound);
  cgen_line(ce, 2, "if (c < 0 || c > %" PRId64 ") return 1; /* the heap is full, or more pieces than the bound */", bound);
  cgen_line(ce, 2, "for (; c < %" PRId64 "; c++) y[i * %" PRId64 " + c] = \"\";", bound, bound);
  cgen_line(ce, 1, "}");
  return 0;
}

static bool graph_has(const CEmit *ce, Op op) {
  for (int i = 0; i < ce->g->n; i++)
    if (ce->g->nodes[i]->op == op) return true;
  return false;
}

void cgen_str_prelude(CEmit *ce) {
  if (graph_has(ce, OP_STR_MATCH)) cgen_printf(ce, "\n#include <regex.h>\n");
  if (graph_has(ce, OP_STR_PARSE)) cgen_printf(ce, "\n#include <errno.h>\n");
  if (ce->heap_bytes) {
    cgen_printf(ce, "\n#define DLC_HEAP_HEAD %d\n#define DLC_HEAP_BYTES %lld\n", CGEN_HEAP_HEAD,
                (long long)(ce->heap_bytes - CGEN_HEAP_HEAD));
    cgen_lines(ce, heap_text, sizeof heap_text / sizeof heap_text[0]);
  }
  if (graph_has(ce, OP_STR_CASE)) cgen_lines(ce, case_text, sizeof case_text / sizeof case_text[0]);
  if (graph_has(ce, OP_STR_SPLIT)) cgen_lines(ce, split_text, sizeof split_text / sizeof split_text[0]);
}

/* ---- constants ---- */

int cgen_str_const(CEmit *ce, const Node *n) {
  char w[32];
  int64_t m = shape_numel(&n->shape);
  cgen_printf(ce, "\nstatic const dlc_str %s[%lld] = {", cgen_weight_name(n, w, sizeof w), (long long)(m ? m : 1));
  if (!m) cgen_printf(ce, "\"\"");
  for (int64_t i = 0; i < m; i++) {
    const char *s = ((const char *const *)n->data)[i];
    cgen_printf(ce, "%s", i ? ",\n  " : "\n  ");
    cgen_c_string(ce->f, s, strlen(s));
  }
  cgen_printf(ce, "\n};\n");
  return cgen_code_budget(ce);
}

/* ---- the kernels ---- */

/* line with @A, @B, @Y replaced by at[0], at[1], at[2]. */
static void fill(const char *line, char at[3][CGEN_EXPR_MAX], char *out, size_t size) {
  size_t k = 0;
  for (const char *p = line; *p && k + 1 < size; p++) {
    const char *with = NULL;
    if (p[0] == '@' && (p[1] == 'A' || p[1] == 'B' || p[1] == 'Y')) with = at[p[1] == 'A' ? 0 : p[1] == 'B' ? 1 : 2];
    if (!with) {
      out[k++] = *p;
      continue;
    }
    for (; *with && k + 1 < size; with++) out[k++] = *with;
    p++;
  }
  out[k] = 0;
}

/* One loop over n's shape with a and b broadcast to it; in `body` @A, @B and @Y stand
 * for the index of a, of b and of y. */
static void pairs(CEmit *ce, const Node *n, const char *const *body, int nbody) {
  const Shape *s = &n->shape;
  int64_t st[3][IR_MAX_RANK];
  cgen_bcast_strides(&cgen_in(ce, n, 0)->shape, s, st[0]);
  cgen_bcast_strides(&cgen_in(ce, n, 1)->shape, s, st[1]);
  shape_strides(s, st[2]);
  int d = cgen_loops_open(ce, s, "i", 1);
  CgenIndex ix[3];
  char at[3][CGEN_EXPR_MAX];
  for (int k = 0; k < 3; k++) {
    cgen_index_init(&ix[k], 0);
    cgen_index_add(&ix[k], "i", st[k], s->rank);
    snprintf(at[k], sizeof at[k], "%s", cgen_index_str(&ix[k]));
  }
  cgen_line(ce, d, "{");
  for (int i = 0; i < nbody; i++) {
    char line[4 * CGEN_EXPR_MAX];
    fill(body[i], at, line, sizeof line);
    cgen_line(ce, d + 1, "%s", line);
  }
  cgen_line(ce, d, "}");
  cgen_loops_close(ce, s->rank, 1);
}

int cgen_str_cmp(CEmit *ce, const Node *n) {
  static const char *const body[] = {"y[@Y] = strcmp(a0[@A], a1[@B]) == 0;"};
  pairs(ce, n, body, 1);
  return 0;
}

int cgen_str_concat(CEmit *ce, const Node *n) {
  static const char *const body[] = {
      "const char *p = a0[@A], *q = a1[@B];",
      "size_t lp = strlen(p), lq = strlen(q);",
      "char *s = dlc_heap_alloc(heap, lp + lq + 1);",
      "if (!s) return 1;",
      "memcpy(s, p, lp);",
      "memcpy(s + lp, q, lq + 1);",
      "y[@Y] = s;",
  };
  pairs(ce, n, body, (int)(sizeof body / sizeof body[0]));
  return 0;
}

int cgen_str_case(CEmit *ce, const Node *n) {
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) {", shape_numel(&n->shape));
  cgen_line(ce, 2, "char *s = dlc_heap_alloc(heap, strlen(a0[i]) + 1);");
  cgen_line(ce, 2, "if (!s) return 1;");
  cgen_line(ce, 2, "if (dlc_case_map(a0[i], s, %d, %d)) return 1; /* a letter dlc does not map */", (int)node_int(n, A_UPPER),
            (int)node_int(n, A_ASCII));
  cgen_line(ce, 2, "y[i] = s;");
  cgen_line(ce, 1, "}");
  return 0;
}

/* Numbers as ONNX Runtime's Cast writes them (ir/str.c: str_format_num), into the heap. */
int cgen_str_format(CEmit *ce, const Node *n) {
  DType t = cgen_in(ce, n, 0)->dtype;
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) {", shape_numel(&n->shape));
  cgen_line(ce, 2, "char buf[%d];", STR_NUM_BYTES);
  if (dtype_is_float(t)) {
    cgen_line(ce, 2, "const double v = (double)a0[i];");
    cgen_line(ce, 2, "if (isnan(v)) snprintf(buf, sizeof buf, \"NaN\");");
    cgen_line(ce, 2, "else if (isinf(v)) snprintf(buf, sizeof buf, v < 0 ? \"-INF\" : \"INF\");");
    cgen_line(ce, 2, "else snprintf(buf, sizeof buf, \"%%.8g\", v);");
  } else if (t == DT_BOOL)
    cgen_line(ce, 2, "snprintf(buf, sizeof buf, \"%%d\", a0[i] != 0);");
  else if (t == DT_U64)
    cgen_line(ce, 2, "snprintf(buf, sizeof buf, \"%%llu\", (unsigned long long)a0[i]);");
  else
    cgen_line(ce, 2, "snprintf(buf, sizeof buf, \"%%lld\", (long long)a0[i]);");
  cgen_line(ce, 2, "size_t len = strlen(buf);");
  cgen_line(ce, 2, "char *s = dlc_heap_alloc(heap, len + 1);");
  cgen_line(ce, 2, "if (!s) return 1;");
  cgen_line(ce, 2, "memcpy(s, buf, len + 1);");
  cgen_line(ce, 2, "y[i] = s;");
  cgen_line(ce, 1, "}");
  return 0;
}

/* Strings as ONNX Runtime's Cast reads them (ir/str.c: str_parse_num); no number fails. */
int cgen_str_parse(CEmit *ce, const Node *n) {
  static const char *const call[] = {[DT_F32] = "strtof(a0[i], &end)", [DT_F64] = "strtod(a0[i], &end)",
                                     [DT_I64] = "strtoll(a0[i], &end, 10)", [DT_U64] = "strtoull(a0[i], &end, 10)"};
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) {", shape_numel(&n->shape));
  cgen_line(ce, 2, "char *end;");
  cgen_line(ce, 2, "errno = 0;");
  cgen_line(ce, 2, "y[i] = %s;", call[n->dtype]);
  cgen_line(ce, 2, "if (end == a0[i]%s) return 1; /* no number, or an integer out of range */",
            dtype_is_float(n->dtype) ? "" : " || errno == ERANGE");
  cgen_line(ce, 1, "}");
  return 0;
}

/* regexec on each string, with the regex NAME_init compiled (m->re[k]). */
int cgen_str_match(CEmit *ce, const Node *n) {
  cgen_line(ce, 1, "(void)a1; /* the pattern, compiled in re */");
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) {", shape_numel(&n->shape));
  if (node_int(n, A_ASCII)) {
    cgen_line(ce, 2, "const unsigned char *p;");
    cgen_line(ce, 2, "for (p = (const unsigned char *)a0[i]; *p; p++)");
    cgen_line(ce, 3, "if (*p > 0x7f) return 1; /* the pattern means something else for wider characters */");
  }
  cgen_line(ce, 2, "y[i] = regexec(re, a0[i], 0, (regmatch_t *)0, 0) == 0;");
  cgen_line(ce, 1, "}");
  return 0;
}

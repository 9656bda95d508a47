/* str.c — the string ops' shape rules and the text functions the interpreter applies
 * (ir/ops.def, "strings").  The C backend writes the same functions into the generated
 * code (codegen/c/strings.c); tests/onnx/strings_test.py holds both to ONNX Runtime. */
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
  return shape_unary(g, n);
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

void str_case_map(const char *s, char *out, bool upper) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (p[i]) {
    unsigned char c = p[i];
    if (c < 0x80) {
      out[i] = (char)(upper ? (c >= 'a' && c <= 'z' ? c - 32 : c) : (c >= 'A' && c <= 'Z' ? c + 32 : c));
      i++;
    } else if (c >= 0xC2 && c <= 0xDF && (p[i + 1] & 0xC0) == 0x80) {
      unsigned cp = case2((unsigned)(c & 0x1F) << 6 | (p[i + 1] & 0x3F), upper);
      out[i] = (char)(0xC0 | cp >> 6), out[i + 1] = (char)(0x80 | (cp & 0x3F));
      i += 2;
    } else {
      out[i] = (char)c;
      i++;
    }
  }
  out[i] = 0;
}

/* emit.c — cgen_c: the C backend's entry point.
 *
 * Needs: a graph, its kernel schedule and its memory plan (passes/passes.h); reads
 * nothing else and changes nothing.  Gives: a header that is the model's whole
 * interface, a C99 file that compiles warning-free under -Wall -Wextra -pedantic with
 * gcc and clang, and, for large weights, a weights file.  The same input always gives
 * the same bytes.
 *
 * The .c reads top to bottom as: prelude (prelude.c), weights (weights.c), one
 * function per kernel (kernel.c and the family emitters), entry points (api.c). */
#include <ctype.h>
#include <string.h>

#include "cgen_c.h"

int cgen_c_needs_weights_file(const Graph *g, const Plan *p, const CgenOptions *o) {
  (void)g;
  return p->weight_bytes > o->embed_max_bytes;
}

static bool is_ident(const char *s) {
  if (!s || !(isalpha((unsigned char)*s) || *s == '_')) return false;
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_')) return false;
  return true;
}

/* The header's name goes into `#include "..."`, where escapes mean nothing but
 * trigraphs still apply: only printable ASCII other than quotes, backslashes and '?'. */
static bool is_include_name(const char *h) {
  if (!h || !*h) return false;
  for (; *h; h++)
    if ((unsigned char)*h < 32 || (unsigned char)*h >= 127 || strchr("\"\\?", *h)) return false;
  return true;
}

int cgen_check_options(const CgenOptions *o, DlcErr *e) {
  if (!is_ident(o->name) || strlen(o->name) > 100)
    return dlc_errf(e, "cgen: model name '%s' is not a C identifier (of 100 characters at most)",
                    o->name ? o->name : "");
  if (!is_include_name(o->header_name))
    return dlc_errf(e, "cgen: header name '%s' cannot be #included (quotes, backslashes, '?' and "
                    "control characters are refused)", o->header_name ? o->header_name : "");
  return 0;
}

int cgen_c(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, FILE *c,
           FILE *h, FILE *weights, DlcErr *e) {
  if (cgen_check_options(o, e)) return -1;
  CEmit ce = {.g = g, .s = s, .p = p, .o = o, .f = h, .e = e,
              .embedded = !cgen_c_needs_weights_file(g, p, o), .mutable_weights = g->nstep > 0};
  cgen_ident(o->name, true, ce.uname, sizeof ce.uname);
  ce.cpu = o->cpu ? o->cpu : cgen_cpu_native();
  ce.scratch_at = (p->arena_bytes + 63) / 64 * 64;
  ce.scratch_bytes = cgen_scratch_bytes(&ce);
  if (cgen_c_header(&ce)) return -1;
  ce.f = c;
  cgen_c_prelude(&ce);
  cgen_c_threads(&ce);
  if (cgen_c_weights(&ce, weights) || cgen_c_kernels(&ce)) return -1;
  cgen_c_api(&ce);
  cgen_c_threads_api(&ce);
  if (ce.mutable_weights) cgen_c_train(&ce);
  if (ferror(c) || ferror(h)) return dlc_errf(e, "cgen: writing the generated code failed");
  return 0;
}

/* emit.c — cgen_c: the C backend's entry point.
 *
 * Needs: a graph, its kernel schedule and its memory plan (passes/passes.h); reads
 * nothing else and changes nothing.  Gives: a header that is the model's whole
 * interface, a C99 file that compiles warning-free under -Wall -Wextra -pedantic with
 * gcc and clang, and a data file: for large weights a weights file, else the blob of
 * the embedded weights and packed panels that the code links (weights.c).  The same input always gives
 * the same bytes.
 *
 * The .c reads top to bottom as: prelude (prelude.c), weights (weights.c), one
 * function per kernel (kernel.c and the family emitters), the blob's .incbin and
 * check (weights.c), entry points (api.c). */
#include <ctype.h>
#include <string.h>

#include "cgen_c.h"

int cgen_c_needs_weights_file(const Graph *g, const Plan *p, const CgenOptions *o) {
  (void)g;
  if (o->split) p = o->split->p;
  return p->weight_bytes > o->embed_max_bytes;
}

int cgen_c_needs_blob(const Graph *g, const Plan *p, const CgenOptions *o) {
  if (o->split) g = o->split->g, p = o->split->p;
  return !cgen_c_needs_weights_file(g, p, o) && o->weights_as == CGEN_WEIGHTS_INCBIN && p->weight_bytes > 0;
}

const char *cgen_blob_name(const CgenOptions *o, char *buf, size_t n) {
  const char *h = o->header_name ? o->header_name : "model.h";
  size_t k = strlen(h);
  if (o->blob_name) snprintf(buf, n, "%s", o->blob_name);
  else if (k > 2 && !strcmp(h + k - 2, ".h")) snprintf(buf, n, "%.*s.bin", (int)(k - 2), h);
  else snprintf(buf, n, "%s.bin", h);
  return buf;
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
  char blob[300];
  if (o->blob_name && (!is_include_name(o->blob_name) || strlen(o->blob_name) > 250))
    return dlc_errf(e, "cgen: blob name '%s' cannot be named in .incbin (quotes, backslashes, '?' and "
                    "control characters are refused; 250 characters at most)", o->blob_name);
  if (!o->blob_name && strlen(cgen_blob_name(o, blob, sizeof blob)) > 250)
    return dlc_errf(e, "cgen: header name '%s' is too long", o->header_name);
  return 0;
}

int64_t cgen_arena_total(const CEmit *ce) {
  return ce->heap_bytes ? ce->heap_at + ce->heap_bytes : ce->scratch_bytes ? ce->scratch_at + ce->scratch_bytes
                                                                           : ce->p->arena_bytes;
}

int cgen_c(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, FILE *c,
           FILE *h, FILE *weights, DlcErr *e) {
  if (o->split) return cgen_c_split(g, s, p, o, c, h, weights, e);
  return cgen_c_module(g, s, p, o, c, h, weights, NULL, e);
}

int cgen_c_module(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, FILE *c, FILE *h,
                  FILE *weights, int64_t *arena, DlcErr *e) {
  if (cgen_check_options(o, e)) return -1;
  CEmit ce = {.g = g, .s = s, .p = p, .o = o, .f = h, .e = e,
              .embedded = !cgen_c_needs_weights_file(g, p, o), .mutable_weights = g->nstep > 0,
              .incbin = cgen_c_needs_blob(g, p, o)};
  cgen_ident(o->name, true, ce.uname, sizeof ce.uname);
  ce.cpu = o->cpu ? o->cpu : cgen_cpu_native();
  if (cgen_tables(&ce)) return -1;
  ce.scratch_at = (p->arena_bytes + 63) / 64 * 64;
  ce.scratch_bytes = cgen_scratch_bytes(&ce);
  ce.heap_bytes = cgen_heap_bytes(&ce);
  ce.heap_at = (ce.scratch_at + ce.scratch_bytes + 63) / 64 * 64;
  if (ce.mutable_weights && cgen_graph_has_str(g)) {
    cgen_tables_free(&ce);
    return dlc_errf(e, "cgen: a graph with training steps cannot hold str values");
  }
  char what[320];
  snprintf(what, sizeof what, "%.256s%sthe arena with the kernels' scratch", g->file ? g->file : "", g->file ? ": " : "");
  if (ir_limit_bytes(what, (double)(ce.heap_at + ce.heap_bytes), ir_limits.arena_bytes, "--max-arena-bytes", e)) {
    cgen_tables_free(&ce);
    return -1;
  }
  if (arena) *arena = cgen_arena_total(&ce);
  int r = cgen_c_header(&ce);
  if (!r) {
    ce.f = c;
    cgen_c_prelude(&ce);
    cgen_c_threads(&ce);
    r = cgen_c_weights(&ce, weights) || cgen_c_kernels(&ce) || cgen_c_weights_end(&ce, weights) ? -1 : 0;
    cgen_blob_free(&ce);
  }
  if (!r) {
    cgen_c_api(&ce);
    cgen_c_threads_api(&ce);
    if (ce.mutable_weights) cgen_c_train(&ce);
    if (o->dyn) cgen_c_dyn(&ce, h);
  }
  cgen_tables_free(&ce);
  if (r) return -1;
  if (ferror(c) || ferror(h)) return dlc_errf(e, "cgen: writing the generated code failed");
  return 0;
}

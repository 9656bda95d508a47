/* emit.c — cgen_cuda: the CUDA backend's entry point.
 *
 * Needs: a graph, its kernel schedule and its memory plan, like cgen_c; reads nothing
 * else and changes nothing.  Gives: the C backend's header (plus NAME_ERR_DEVICE and
 * NAME_device_error), host C that compiles warning-free under -Wall -Wextra -pedantic
 * -std=c99, and, for large weights, the C backend's weights file.  The kernels are
 * CUDA C that NVRTC compiles without warnings for sm_80 and later; with aot_arch they
 * are compiled now and the host C carries their PTX instead.
 *
 * The .c reads top to bottom as: the loader's declarations and the kernels as strings
 * (host.c), the weights (the C backend's weights.c), the entry points (api.c), and for
 * a graph with training steps, the steps and the parameters' file (train.c). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cuda.h"
#include "rt_cuda.h"

static int emitter_init(CuEmit *ce, const Graph *g, const Schedule *s, const Plan *p,
                        const CgenOptions *o, const CudaOptions *cu, DlcErr *e) {
  static const CudaOptions none = {0};
  memset(ce, 0, sizeof *ce);
  if (cgen_graph_has_str(g)) /* strings stay on the CPU: codegen/c/strings.c */
    return dlc_errf(e, "cgen cuda: the CUDA backend has no str (string) tensors; compile this model for the CPU");
  ce->c = (CEmit){.g = g, .s = s, .p = p, .o = o, .e = e, .device = true,
                  .embedded = !cgen_c_needs_weights_file(g, p, o), .mutable_weights = g->nstep > 0,
                  .incbin = cgen_c_needs_blob(g, p, o)};
  ce->opt = cu ? cu : &none;
  ce->it = "int";
  cgen_ident(o->name, true, ce->c.uname, sizeof ce->c.uname);
  ce->scratch = dlc_try_malloc(sizeof(int64_t) * (size_t)(g->n ? g->n : 1));
  ce->kfirst = dlc_try_calloc((size_t)s->nk + 1, sizeof(int));
  if (!ce->scratch || !ce->kfirst) return dlc_errf(e, "cuda: out of memory");
  for (int i = 0; i < g->n; i++) ce->scratch[i] = -1;
  return cgen_tables(&ce->c);
}

static void emitter_free(CuEmit *ce) {
  for (int i = 0; i < ce->nl; i++) free(ce->l[i].args);
  free(ce->l);
  free(ce->scratch);
  free(ce->kfirst);
  cgen_tables_free(&ce->c);
}

/* The kernels' CUDA C, into a string (malloc'd). */
static int device_source(CuEmit *ce, char **src) {
  size_t size = 0;
  FILE *f = open_memstream(src, &size);
  if (!f) return dlc_errf(ce->c.e, "cuda: out of memory");
  ce->c.f = f;
  cuda_device_prelude(ce);
  int r = cuda_kernels(ce);
  char what[320];
  const Graph *g = ce->c.g;
  snprintf(what, sizeof what, "%.256s%sthe device's arena and scratch", g->file ? g->file : "", g->file ? ": " : "");
  if (!r && ir_limit_bytes(what, (double)(ce->c.p->arena_bytes + ce->scratch_bytes), ir_limits.arena_bytes,
                           "--max-arena-bytes", ce->c.e))
    r = -1;
  if (fclose(f) && !r) r = dlc_errf(ce->c.e, "cuda: out of memory for the kernels' source");
  ce->c.f = NULL;
  if (r) free(*src), *src = NULL;
  return r;
}

int cgen_cuda_source(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, char **src,
                     DlcErr *e) {
  CuEmit ce;
  memset(&ce, 0, sizeof ce);
  *src = NULL;
  int r = cgen_check_options(o, e) || emitter_init(&ce, g, s, p, o, NULL, e) ? -1
                                                                                        : device_source(&ce, src);
  emitter_free(&ce);
  return r;
}

/* With aot_arch, the PTX of the source in place of the source. */
static int kernel_text(CuEmit *ce, char **src) {
  if (device_source(ce, src)) return -1;
  if (!ce->opt->aot_arch) return 0;
  char *ptx = NULL;
  if (rt_nvrtc_compile(*src, ce->opt->aot_arch, 1, &ptx, NULL, ce->c.e)) return free(*src), *src = NULL, -1;
  free(*src);
  *src = ptx;
  return 0;
}

int cgen_cuda(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, const CudaOptions *cu,
              FILE *c, FILE *h, FILE *weights, DlcErr *e) {
  CuEmit ce;
  char *text = NULL;
  memset(&ce, 0, sizeof ce);
  if (cgen_check_options(o, e) || emitter_init(&ce, g, s, p, o, cu, e))
    return emitter_free(&ce), -1;
  ce.c.f = h;
  int r = cgen_c_header(&ce.c) || kernel_text(&ce, &text) ? -1 : 0;
  if (!r) {
    ce.c.f = c;
    cuda_host_prelude(&ce, text);
    r = cgen_c_weights(&ce.c, weights) || cgen_c_weights_end(&ce.c, weights) ? -1 : 0;
    cgen_blob_free(&ce.c);
  }
  if (!r) cuda_host_api(&ce);
  if (!r && g->nstep) cuda_train(&ce);
  if (!r && o->dyn) cuda_dyn_api(&ce, h);
  free(text);
  emitter_free(&ce);
  if (!r && (ferror(c) || ferror(h))) return dlc_errf(e, "cgen: writing the generated code failed");
  return r;
}

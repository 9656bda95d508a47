/* dyn_api.c — the interface of a --dynamic build (passes/dynamic.c).
 *
 * The joined graph is compiled as an internal module (o->name, e.g. model__all), one
 * build per combination of sizes.  Here: one static run function per build (only that
 * build's kernels), then the public module (o->dyn_name).  NAME_run(m, dims, in, out)
 * finds the exact dimensions' combination, then splits the bound dimension's n samples
 * into its sizes, largest first, and runs each part on its slice of the caller's
 * buffers: in place where the samples are the outermost axis, else through a staging
 * buffer that NAME_init makes (an input [T, batch, F] is copied T rows at a time).
 * Where the layout of each input and output lies is in tables, per combination.
 * Both backends: the run functions come from the backend (cgen_c_run_part here, and
 * codegen/cuda/api.c's for a device, whose parts copy to and from the GPU). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgen_c.h"

enum { MODE_SAME, MODE_SLICE, MODE_STAGE }; /* how a part sees a buffer */

static int mode(const DynIO *io) { return io->axis < 0 ? MODE_SAME : io->outer > 1 ? MODE_STAGE : MODE_SLICE; }

/* The IO's name in the model (the joined graph's, without its __SUFFIX), upper case. */
static void io_macro(const CEmit *ce, int which, bool output, char *buf, size_t n) {
  const char *name = cgen_io_name(ce, which, output), *cut = NULL;
  for (const char *p = strstr(name, "__"); p; p = strstr(p + 1, "__")) cut = p;
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%.*s", (int)(cut ? (size_t)(cut - name) : strlen(name)), name);
  cgen_ident(tmp, true, buf, n);
}

static const DynIO *io_at(const DynInfo *d, int c, int i) { return &d->io[c * (d->nin + d->nout) + i]; }

static void header(CEmit *ce, const DynInfo *d, const char *pub, const char *up) {
  int nc = dyn_combos(d);
  cgen_printf(ce, "\n/* ---- %s: the model with run-time dimensions ----\n", pub);
  cgen_printf(ce, " * %s_run(m, dims, inputs, outputs) takes the size of each, in this order:\n", pub);
  for (int j = 0; j < d->ndim; j++) {
    const DynDim *dd = &d->dim[j];
    char shown[160];
    cgen_printf(ce, " *   dims[%d]: '%s', ", j, cgen_comment_name(dd->name, shown, sizeof shown));
    if (dd->bound) cgen_printf(ce, "any size from 0 to %" PRId64 " (run as a sum of ", dd->max);
    else cgen_printf(ce, "one of ");
    for (int i = 0; i < dd->n; i++) cgen_printf(ce, "%" PRId64 "%s", dd->size[i], i + 1 < dd->n ? ", " : "");
    cgen_printf(ce, "%s\n", dd->bound ? ")" : "");
  }
  cgen_printf(ce, " * Each buffer holds the tensor at those sizes, %s_numel(output, i, dims)\n"
                  " * elements.  The %s__all_* symbols above are the module it runs, one build per\n"
                  " * combination of sizes. */\n", pub, pub);
  cgen_printf(ce, "#ifndef %s_DYN_H_INCLUDED\n#define %s_DYN_H_INCLUDED\n", up, up);
  cgen_printf(ce, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  cgen_printf(ce, "typedef struct %s %s;\n\n", pub, pub);
  cgen_printf(ce, "enum { %s_NUM_INPUTS = %d, %s_NUM_OUTPUTS = %d, %s_NUM_DIMS = %d };\n", up, d->nin, up, d->nout, up,
              d->ndim);
  for (int j = 0; j < d->ndim; j++) {
    char dim[80];
    cgen_ident(d->dim[j].name, true, dim, sizeof dim);
    cgen_printf(ce, "#define %s_DIM_%s_MAX %" PRId64 "\n", up, dim, d->dim[j].max);
  }
  cgen_printf(ce, "#define %s_ARENA_BYTES %s__ALL_ARENA_BYTES /* one arena for every size: the largest build's */\n", up, up);
  cgen_printf(ce, "#define %s_WEIGHT_BYTES %s__ALL_WEIGHT_BYTES /* stored once */\n", up, up);
  for (int i = 0; i < d->nin + d->nout; i++) {
    bool out = i >= d->nin;
    char m[256];
    io_macro(ce, out ? i - d->nin : i, out, m, sizeof m);
    int64_t most = 0;
    for (int c = 0; c < nc; c++)
      if (io_at(d, c, i)->numel > most) most = io_at(d, c, i)->numel;
    cgen_printf(ce, "#define %s_%s_MAX_SIZE %" PRId64 " /* elements at the largest sizes */\n", up, m, most);
  }
  cgen_printf(ce, "\nenum {\n  %s_OK = 0,\n  %s_ERR_NOMEM = %s__ALL_ERR_NOMEM,\n", up, up, up);
  /* the inner module's statuses; a device's has DEVICE where the C backend has CPU */
  static const char *const pass[] = {"WEIGHTS_OPEN", "WEIGHTS_BAD", "WEIGHTS_ARG", "INDEX", "CPU", "DEVICE"};
  for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
    if (strcmp(pass[i], ce->device ? "CPU" : "DEVICE"))
      cgen_printf(ce, "  %s_ERR_%s = %s__ALL_ERR_%s,\n", up, pass[i], up, pass[i]);
  cgen_printf(ce, "  %s_ERR_DIM = 8 /* a size that is not one the model was built for */\n};\n\n", up);
  cgen_printf(ce, "int %s_init(%s **m, const char *weights);\n", pub, pub);
  cgen_printf(ce, "/* dims: %s_NUM_DIMS sizes; one pointer per input, then one per output. */\n", up);
  cgen_printf(ce, "int %s_run(%s *m, const int64_t *dims, const void *const *inputs, void *const *outputs);\n", pub, pub);
  cgen_printf(ce, "/* Elements of input (output = 0) or output (1) i at sizes dims; -1 if they are not valid. */\n");
  cgen_printf(ce, "int64_t %s_numel(int output, int i, const int64_t *dims);\n", pub);
  cgen_printf(ce, "void %s_free(%s *m);\nconst char *%s_strerror(int status);\n", pub, pub, pub);
  if (ce->device)
    cgen_printf(ce, "/* After %s_ERR_DEVICE: what failed, as one line (the call, its status, the kernel). */\n"
                    "const char *%s_device_error(void);\n", up, pub);
  else
    cgen_printf(ce, "int %s_set_threads(int n);\n", pub);
  cgen_printf(ce, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
}

/* The staging buffer: each staged IO's offset per combination, and the largest total. */
static int64_t stage_layout(const DynInfo *d, int64_t *at) {
  int64_t most = 0, nio = d->nin + d->nout;
  int64_t max = d->bound >= 0 ? d->dim[d->bound].max : 1;
  for (int c = 0; c < dyn_combos(d); c++) {
    int64_t total = 0;
    for (int i = 0; i < nio; i++) {
      const DynIO *io = io_at(d, c, i);
      at[c * nio + i] = total;
      if (mode(io) == MODE_STAGE) total += (io->outer * max * io->row * io->bytes + 63) / 64 * 64;
    }
    if (total > most) most = total;
  }
  return most;
}

/* static const TYPE NAME[nc][nio] = {{..}, ..}: one value per combination and IO. */
static void table(CEmit *ce, const DynInfo *d, const char *type, const char *name, int64_t (*get)(const DynInfo *, int, int, const int64_t *),
                  const int64_t *at) {
  int nc = dyn_combos(d), nio = d->nin + d->nout;
  cgen_printf(ce, "static const %s %s[%d][%d] = {", type, name, nc, nio);
  for (int c = 0; c < nc; c++) {
    cgen_printf(ce, "%s{", c ? ", " : "");
    for (int i = 0; i < nio; i++) cgen_printf(ce, "%s%" PRId64, i ? ", " : "", get(d, c, i, at));
    cgen_printf(ce, "}");
  }
  cgen_printf(ce, "};\n");
}

static int64_t get_mode(const DynInfo *d, int c, int i, const int64_t *at) { return (void)at, mode(io_at(d, c, i)); }
static int64_t get_outer(const DynInfo *d, int c, int i, const int64_t *at) { return (void)at, io_at(d, c, i)->outer; }
static int64_t get_row(const DynInfo *d, int c, int i, const int64_t *at) {
  return (void)at, io_at(d, c, i)->row * io_at(d, c, i)->bytes;
}
static int64_t get_numel(const DynInfo *d, int c, int i, const int64_t *at) { return (void)at, io_at(d, c, i)->numel; }
static int64_t get_at(const DynInfo *d, int c, int i, const int64_t *at) { return at[c * (d->nin + d->nout) + i]; }

static void emit_boilerplate(CEmit *ce, const char *pub, const char *up, int64_t stage) {
  const char *nm = ce->o->name;
  cgen_printf(ce, "struct %s {\n  %s *m;\n  unsigned char *stage; /* inputs and outputs whose samples are not outermost */\n};\n",
              pub, nm);
  cgen_printf(ce, "\nint %s_init(%s **mp, const char *weights) {\n", pub, pub);
  cgen_line(ce, 1, "%s *m;", pub);
  cgen_line(ce, 1, "int st;");
  cgen_line(ce, 1, "*mp = NULL;");
  cgen_line(ce, 1, "m = (%s *)calloc(1, sizeof *m);", pub);
  cgen_line(ce, 1, "if (!m) return %s_ERR_NOMEM;", up);
  cgen_line(ce, 1, "st = %s_init(&m->m, weights);", nm);
  if (stage)
    cgen_line(ce, 1, "if (!st && !(m->stage = (unsigned char *)malloc(%" PRId64 "))) st = %s_ERR_NOMEM;", stage, up);
  cgen_line(ce, 1, "if (st) {");
  cgen_line(ce, 2, "%s_free(m);", pub);
  cgen_line(ce, 2, "return st;");
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "*mp = m;");
  cgen_line(ce, 1, "return %s_OK;", up);
  cgen_printf(ce, "}\n\nvoid %s_free(%s *m) {\n", pub, pub);
  cgen_line(ce, 1, "if (!m) return;");
  cgen_line(ce, 1, "%s_free(m->m);", nm);
  cgen_line(ce, 1, "free(m->stage);");
  cgen_line(ce, 1, "free(m);");
  cgen_printf(ce, "}\n\nconst char *%s_strerror(int status) {\n", pub);
  cgen_line(ce, 1, "return status == %s_ERR_DIM ? \"a run-time dimension has a size the model was not built for\" "
                   ": %s_strerror(status);", up, nm);
  cgen_printf(ce, "}\n");
  if (ce->device) cgen_printf(ce, "\nconst char *%s_device_error(void) { return %s_device_error(); }\n", pub, nm);
  else cgen_printf(ce, "\nint %s_set_threads(int n) { return %s_set_threads(n); }\n", pub, nm);
}

/* Code setting `c`, the combination of the exact dimensions' sizes in dims, or
 * returning `fail` when one is not a size built. */
static void emit_combo(CEmit *ce, const DynInfo *d, const char *fail) {
  cgen_line(ce, 1, "int c = 0, i;");
  for (int j = 0; j < d->ndim; j++) {
    const DynDim *dd = &d->dim[j];
    if (dd->bound) continue;
    cgen_printf(ce, "  {\n    static const int64_t s[%d] = {", dd->n);
    for (int i = 0; i < dd->n; i++) cgen_printf(ce, "%s%" PRId64, i ? ", " : "", dd->size[i]);
    cgen_printf(ce, "};\n");
    cgen_line(ce, 2, "for (i = 0; i < %d && s[i] != dims[%d]; i++) {}", dd->n, j);
    cgen_line(ce, 2, "if (i == %d) return %s;", dd->n, fail);
    cgen_line(ce, 2, "c = c * %d + i;", dd->n);
    cgen_line(ce, 1, "}");
  }
}

static void code(CEmit *ce, const DynInfo *d, const char *pub, const char *up, CgenRunPart part, void *ctx) {
  const char *nm = ce->o->name;
  int nc = dyn_combos(d), nio = d->nin + d->nout;
  int nb = d->bound >= 0 ? d->dim[d->bound].n : 1;
  int64_t *at = dlc_malloc(sizeof(int64_t) * (size_t)(nc * nio + 1));
  DLC_ASSERT(at);
  int64_t stage = stage_layout(d, at);
  for (int v = 0; v < d->nv; v++) {
    char f[200], sfx[160];
    dyn_suffix(d, v, sfx, sizeof sfx);
    snprintf(f, sizeof f, "%s_run_%s", nm, sfx);
    part(ctx, ce, f, v * d->nout, d->nout);
  }
  cgen_printf(ce, "\n/* ---- %s: the sizes chosen at run time (the header says how) ---- */\n\n", pub);
  emit_boilerplate(ce, pub, up, stage);
  cgen_printf(ce, "\nstatic int (*const %s_part[%d])(%s *, const void *const *, void *const *) = {\n", pub, d->nv, nm);
  for (int v = 0; v < d->nv; v++) {
    char sfx[160];
    dyn_suffix(d, v, sfx, sizeof sfx);
    cgen_printf(ce, "    %s_run_%s%s\n", nm, sfx, v + 1 < d->nv ? "," : "");
  }
  cgen_printf(ce, "};\n");
  /* the layout tables: for each combination, each input then each output */
  char tn[200];
  snprintf(tn, sizeof tn, "%s_numel_at", pub);
  table(ce, d, "int64_t", tn, get_numel, at);
  if (d->bound >= 0) {
    snprintf(tn, sizeof tn, "%s_mode", pub);
    table(ce, d, "unsigned char", tn, get_mode, at);
    snprintf(tn, sizeof tn, "%s_outer", pub);
    table(ce, d, "int64_t", tn, get_outer, at);
    snprintf(tn, sizeof tn, "%s_row", pub);
    table(ce, d, "int64_t", tn, get_row, at);
    snprintf(tn, sizeof tn, "%s_stage_at", pub);
    table(ce, d, "int64_t", tn, get_at, at);
  }
  int64_t bmax = d->bound >= 0 ? d->dim[d->bound].max : 1;

  cgen_printf(ce, "\nint64_t %s_numel(int output, int which, const int64_t *dims) {\n", pub);
  emit_combo(ce, d, "-1");
  cgen_line(ce, 1, "(void)i;");
  cgen_line(ce, 1, "if (which < 0 || which >= (output ? %d : %d)) return -1;", d->nout, d->nin);
  cgen_line(ce, 1, "i = output ? %d + which : which;", d->nin);
  if (d->bound < 0) {
    cgen_line(ce, 1, "return %s_numel_at[c][i];", pub);
  } else {
    cgen_line(ce, 1, "if (dims[%d] < 0 || dims[%d] > %" PRId64 ") return -1;", d->bound, d->bound, bmax);
    cgen_line(ce, 1, "return %s_mode[c][i] == %d ? %s_numel_at[c][i] : %s_numel_at[c][i] / %" PRId64 " * dims[%d];", pub,
              MODE_SAME, pub, pub, bmax, d->bound);
  }
  cgen_printf(ce, "}\n");

  cgen_printf(ce, "\nint %s_run(%s *m, const int64_t *dims, const void *const *inputs, void *const *outputs) {\n", pub, pub);
  cgen_line(ce, 1, "const void *in[%d];", d->nin ? d->nv * d->nin : 1);
  cgen_line(ce, 1, "void *out[%d];", d->nv * d->nout);
  cgen_line(ce, 1, "if (!m || !dims) return %s_ERR_DIM;", up);
  char dimerr[160];
  snprintf(dimerr, sizeof dimerr, "%s_ERR_DIM", up);
  emit_combo(ce, d, dimerr);
  cgen_line(ce, 1, "memset((void *)in, 0, sizeof in);");
  cgen_line(ce, 1, "memset(out, 0, sizeof out);");
  if (d->bound < 0) {
    cgen_line(ce, 1, "for (i = 0; i < %d; i++) in[c * %d + i] = inputs[i];", d->nin, d->nin);
    cgen_line(ce, 1, "for (i = 0; i < %d; i++) out[c * %d + i] = outputs[i];", d->nout, d->nout);
    cgen_line(ce, 1, "return %s_part[c](m->m, in, out);", pub);
    cgen_printf(ce, "}\n");
    free(at);
    return;
  }
  cgen_printf(ce, "  {\n    static const int64_t size[%d] = {", nb);
  for (int b = 0; b < nb; b++) cgen_printf(ce, "%s%" PRId64, b ? ", " : "", d->dim[d->bound].size[b]);
  cgen_printf(ce, "};\n");
  cgen_line(ce, 2, "const int64_t n = dims[%d];", d->bound);
  cgen_line(ce, 2, "int64_t r0 = 0;");
  cgen_line(ce, 2, "if (n < 0 || n > %" PRId64 ") return %s_ERR_DIM;", bmax, up);
  cgen_line(ce, 2, "while (r0 < n) {");
  cgen_line(ce, 3, "int b = 0, v, st;");
  cgen_line(ce, 3, "int64_t k;");
  cgen_line(ce, 3, "while (size[b] > n - r0) b++;");
  cgen_line(ce, 3, "k = size[b], v = c * %d + b;", nb);
  cgen_line(ce, 3, "for (i = 0; i < %d; i++) {", nio);
  cgen_line(ce, 4, "const int out_ = i >= %d;", d->nin);
  cgen_line(ce, 4, "unsigned char *u = (unsigned char *)(out_ ? outputs[i - %d] : (void *)(uintptr_t)inputs[i]), *p = u;", d->nin);
  cgen_line(ce, 4, "const int64_t row = %s_row[c][i], outer = %s_outer[c][i];", pub, pub);
  cgen_line(ce, 4, "if (%s_mode[c][i] == %d) p = u + r0 * row;", pub, MODE_SLICE);
  cgen_line(ce, 4, "if (%s_mode[c][i] == %d) {", pub, MODE_STAGE);
  cgen_line(ce, 5, "p = m->stage + %s_stage_at[c][i];", pub);
  cgen_line(ce, 5, "for (int64_t o = 0; !out_ && o < outer; o++) memcpy(p + o * k * row, u + (o * n + r0) * row, (size_t)(k * row));");
  cgen_line(ce, 4, "}");
  cgen_line(ce, 4, "if (out_) out[v * %d + i - %d] = p;", d->nout, d->nin);
  cgen_line(ce, 4, "else in[v * %d + i] = p;", d->nin);
  cgen_line(ce, 3, "}");
  cgen_line(ce, 3, "if ((st = %s_part[v](m->m, in, out)) != 0) return st;", pub);
  cgen_line(ce, 3, "for (i = %d; i < %d; i++)", d->nin, nio);
  cgen_line(ce, 4, "if (%s_mode[c][i] == %d)", pub, MODE_STAGE);
  cgen_line(ce, 5, "for (int64_t o = 0; o < %s_outer[c][i]; o++)", pub);
  cgen_line(ce, 6, "memcpy((unsigned char *)outputs[i - %d] + (o * n + r0) * %s_row[c][i], m->stage + %s_stage_at[c][i] + "
                   "o * k * %s_row[c][i], (size_t)(k * %s_row[c][i]));", d->nin, pub, pub, pub, pub);
  cgen_line(ce, 3, "r0 += k;");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "return %s_OK;", up);
  cgen_printf(ce, "}\n");
  free(at);
}

static void c_part(void *ctx, CEmit *ce, const char *fname, int out0, int nout) {
  (void)ctx;
  cgen_c_run_part(ce, fname, out0, nout);
}

void cgen_c_dyn(CEmit *ce, FILE *h) { cgen_dyn_api(ce, h, c_part, NULL); }

void cgen_dyn_api(CEmit *ce, FILE *h, CgenRunPart part, void *ctx) {
  const DynInfo *d = ce->o->dyn;
  const char *pub = ce->o->dyn_name;
  char up[128];
  cgen_ident(pub, true, up, sizeof up);
  FILE *c = ce->f;
  ce->f = h;
  header(ce, d, pub, up);
  ce->f = c;
  code(ce, d, pub, up, part, ctx);
}

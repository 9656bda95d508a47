/* dyn_api.c — the interface of a --dynamic build (passes/dynamic.c).
 *
 * The joined graph is compiled as an internal module (o->name, e.g. model__all), one
 * build per size.  Here: one static run function per size (only that build's kernels),
 * then the public module (o->dyn_name): NAME_run(m, dims, in, out) splits dims[0]
 * samples into sizes, largest first, and runs each part on its slice of the caller's
 * buffers: in place where the samples are the outermost axis, else through a staging
 * buffer made by NAME_init (an input [T, batch, F] is copied T rows at a time). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgen_c.h"

/* Bytes of one sample of io within one outer index. */
static int64_t row_bytes(const DynIO *io) { return io->row * io->bytes; }

static bool staged(const DynIO *io) { return io->axis >= 0 && io->outer > 1; }

/* The IO's name in the model (the joined graph's, without its __SIZE suffix), upper
 * case for macros. */
static void io_macro(const CEmit *ce, int which, bool output, char *buf, size_t n) {
  const char *name = cgen_io_name(ce, which, output), *cut = strrchr(name, '_');
  char tmp[256];
  size_t len = cut && cut > name + 1 ? (size_t)(cut - 1 - name) : strlen(name);
  snprintf(tmp, sizeof tmp, "%.*s", (int)len, name);
  cgen_ident(tmp, true, buf, n);
}

static void header(CEmit *ce, const DynInfo *d, const char *pub, const char *up) {
  char dim[80], m[256];
  cgen_ident(d->dim, true, dim, sizeof dim);
  cgen_printf(ce, "\n/* ---- %s: the model with its dimension '%s' chosen at run time, 0..%" PRId64 " ----\n",
              pub, d->dim, d->max);
  cgen_printf(ce, " * %s_run(m, dims, inputs, outputs): dims[0] is the size of '%s'; each buffer holds\n"
                  " * that many samples (%s_<NAME>_SIZE(n) elements).  The %s__all_* symbols above are the\n"
                  " * module it runs, one build per size: ", pub, d->dim, up, pub);
  for (int i = 0; i < d->nv; i++) cgen_printf(ce, "%" PRId64 "%s", d->size[i], i + 1 < d->nv ? ", " : ".");
  cgen_printf(ce, " */\n#ifndef %s_DYN_H_INCLUDED\n#define %s_DYN_H_INCLUDED\n", up, up);
  cgen_printf(ce, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  cgen_printf(ce, "typedef struct %s %s;\n\n", pub, pub);
  cgen_printf(ce, "enum { %s_NUM_INPUTS = %d, %s_NUM_OUTPUTS = %d, %s_NUM_DIMS = 1 };\n", up, d->nin, up, d->nout, up);
  cgen_printf(ce, "#define %s_DIM_%s_MAX %" PRId64 "\n", up, dim, d->max);
  for (int out = 0; out < 2; out++)
    for (int i = 0; i < (out ? d->nout : d->nin); i++) {
      const DynIO *io = out ? &d->out[i] : &d->in[i];
      io_macro(ce, i, out, m, sizeof m);
      if (io->axis < 0)
        cgen_printf(ce, "#define %s_%s_SIZE(n) %" PRId64 " /* does not depend on %s */\n", up, m, io->row, d->dim);
      else
        cgen_printf(ce, "#define %s_%s_SIZE(n) (%" PRId64 " * (n)) /* axis %d holds %s%s */\n", up, m,
                    io->outer * io->row, io->axis, d->dim, io->k > 1 ? " (times a fixed factor)" : "");
    }
  cgen_printf(ce, "\nenum {\n  %s_OK = 0,\n  %s_ERR_NOMEM = %s__ALL_ERR_NOMEM,\n", up, up, up);
  static const char *const pass[] = {"WEIGHTS_OPEN", "WEIGHTS_BAD", "WEIGHTS_ARG", "INDEX", "CPU"};
  for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
    cgen_printf(ce, "  %s_ERR_%s = %s__ALL_ERR_%s,\n", up, pass[i], up, pass[i]);
  cgen_printf(ce, "  %s_ERR_DIM = 8 /* a size outside 0..%s_DIM_%s_MAX */\n};\n\n", up, up, dim);
  cgen_printf(ce, "int %s_init(%s **m, const char *weights);\n", pub, pub);
  cgen_printf(ce, "int %s_run(%s *m, const int64_t *dims, const void *const *inputs, void *const *outputs);\n", pub, pub);
  cgen_printf(ce, "void %s_free(%s *m);\nconst char *%s_strerror(int status);\nint %s_set_threads(int n);\n", pub, pub,
              pub, pub);
  cgen_printf(ce, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
}

/* The staging buffer's offset of each staged input and output, and its size. */
static int64_t stage_layout(const DynInfo *d, int64_t *at) {
  int64_t total = 0;
  for (int i = 0; i < d->nin + d->nout; i++) {
    const DynIO *io = i < d->nin ? &d->in[i] : &d->out[i - d->nin];
    at[i] = total;
    if (staged(io)) total += (io->outer * d->max * row_bytes(io) + 63) / 64 * 64;
  }
  return total;
}

static void code(CEmit *ce, const DynInfo *d, const char *pub, const char *up) {
  const char *nm = ce->o->name;
  int64_t *at = dlc_malloc(sizeof(int64_t) * (size_t)(d->nin + d->nout + 1));
  DLC_ASSERT(at);
  int64_t stage = stage_layout(d, at);
  for (int v = 0; v < d->nv; v++) {
    char f[160];
    snprintf(f, sizeof f, "%s_run_%" PRId64, nm, d->size[v]);
    cgen_c_run_part(ce, f, v * d->nout, d->nout);
  }
  cgen_printf(ce, "\n/* ---- %s: '%s' at run time (the header says how) ---- */\n\n", pub, d->dim);
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
  cgen_line(ce, 1, "return status == %s_ERR_DIM ? \"a dynamic dimension is outside 0..its bound\" : %s_strerror(status);",
            up, nm);
  cgen_printf(ce, "}\n\nint %s_set_threads(int n) { return %s_set_threads(n); }\n", pub, nm);

  int nin = d->nv * d->nin, nout = d->nv * d->nout;
  cgen_printf(ce, "\nint %s_run(%s *m, const int64_t *dims, const void *const *inputs, void *const *outputs) {\n", pub, pub);
  cgen_line(ce, 1, "static const int64_t size[%d] = {", d->nv);
  for (int v = 0; v < d->nv; v++) cgen_printf(ce, "%s%" PRId64, v ? ", " : "    ", d->size[v]);
  cgen_printf(ce, "};\n");
  cgen_line(ce, 1, "int64_t n, r0 = 0;");
  cgen_line(ce, 1, "(void)inputs;");
  cgen_line(ce, 1, "if (!m || !dims || dims[0] < 0 || dims[0] > %" PRId64 ") return %s_ERR_DIM;", d->max, up);
  cgen_line(ce, 1, "n = dims[0];");
  cgen_line(ce, 1, "while (r0 < n) {");
  cgen_line(ce, 2, "const void *in[%d];", nin ? nin : 1);
  cgen_line(ce, 2, "void *out[%d];", nout ? nout : 1);
  cgen_line(ce, 2, "int v = 0, st = %s_OK;", up);
  cgen_line(ce, 2, "int64_t b;");
  cgen_line(ce, 2, "while (size[v] > n - r0) v++;");
  cgen_line(ce, 2, "b = size[v];");
  cgen_line(ce, 2, "memset((void *)in, 0, sizeof in);");
  cgen_line(ce, 2, "memset(out, 0, sizeof out);");
  for (int i = 0; i < d->nin + d->nout; i++) {
    bool o = i >= d->nin;
    int j = o ? i - d->nin : i, per = o ? d->nout : d->nin;
    const DynIO *io = o ? &d->out[j] : &d->in[j];
    const char *arr = o ? "out" : "in", *user = o ? "outputs" : "inputs", *cq = o ? "" : "const ";
    int64_t rb = row_bytes(io);
    if (io->axis < 0) {
      cgen_line(ce, 2, "%s[v * %d + %d] = %s[%d];", arr, per, j, user, j);
    } else if (!staged(io)) {
      cgen_line(ce, 2, "%s[v * %d + %d] = (%sunsigned char *)%s[%d] + r0 * %" PRId64 ";", arr, per, j, cq, user, j, rb);
    } else {
      cgen_line(ce, 2, "%s[v * %d + %d] = m->stage + %" PRId64 ";", arr, per, j, at[i]);
      if (!o) {
        cgen_line(ce, 2, "for (int64_t o = 0; o < %" PRId64 "; o++)", io->outer);
        cgen_line(ce, 3, "memcpy(m->stage + %" PRId64 " + o * b * %" PRId64 ", (const unsigned char *)inputs[%d] + "
                         "(o * n + r0) * %" PRId64 ", (size_t)(b * %" PRId64 "));", at[i], rb, j, rb, rb);
      }
    }
  }
  cgen_line(ce, 2, "switch (v) {");
  for (int v = 0; v < d->nv; v++)
    cgen_line(ce, 2, "case %d: st = %s_run_%" PRId64 "(m->m, in, out); break;", v, nm, d->size[v]);
  cgen_line(ce, 2, "default: break;");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 2, "if (st) return st;");
  for (int j = 0; j < d->nout; j++) {
    const DynIO *io = &d->out[j];
    if (!staged(io)) continue;
    int64_t rb = row_bytes(io);
    cgen_line(ce, 2, "for (int64_t o = 0; o < %" PRId64 "; o++)", io->outer);
    cgen_line(ce, 3, "memcpy((unsigned char *)outputs[%d] + (o * n + r0) * %" PRId64 ", m->stage + %" PRId64
                     " + o * b * %" PRId64 ", (size_t)(b * %" PRId64 "));", j, rb, at[d->nin + j], rb, rb);
  }
  cgen_line(ce, 2, "r0 += b;");
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "return %s_OK;", up);
  cgen_printf(ce, "}\n");
  free(at);
}

void cgen_c_dyn(CEmit *ce, FILE *h) {
  const DynInfo *d = ce->o->dyn;
  const char *pub = ce->o->dyn_name;
  char up[128];
  cgen_ident(pub, true, up, sizeof up);
  FILE *c = ce->f;
  ce->f = h;
  header(ce, d, pub, up);
  ce->f = c;
  code(ce, d, pub, up);
}

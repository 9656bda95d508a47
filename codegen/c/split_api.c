/* split_api.c — a batch run in parts (`dlc compile --micro-batch M`).
 *
 * The model of `total` samples keeps them apart (passes/dynamic.c, dyn_split_check), so
 * it runs as total / M parts of M samples each on the model built for M samples: the
 * inner module NAME__mb, written first, whole.  A part's activations fit the caches
 * where the whole batch's would go through memory, and the parts share out among
 * threads, each thread with an arena of its own (the weights stored once).  Here: the
 * public module NAME around it, with the static interface of the whole batch (the
 * header is the one the model at `total` samples would have), its run a loop over the
 * parts.  Every sample's values come from the same kernels whichever thread runs its
 * part, so the results do not depend on the thread count. */
#include <inttypes.h>
#include <string.h>

#include "cgen_c.h"

/* Bytes from one part's slice of IO i to the next's; 0: the whole buffer, every part
 * reads it (an input that no sample owns). */
static int64_t step(const CgenSplit *sp, int i) {
  const DynIO *io = &sp->io[i];
  return io->axis < 0 ? 0 : sp->part * io->row * io->bytes;
}

static void face_init_free(CEmit *ce, const char *in, const char *iu, int inst) {
  const char *nm = ce->o->name, *u = ce->uname;
  cgen_printf(ce, "\nstruct %s {\n", nm);
  cgen_line(ce, 1, "%s *inst[%d]; /* inst[0] owns the weights; the others share them, each with its own arena */", in,
            inst);
  cgen_line(ce, 1, "int ninst;");
  cgen_printf(ce, "};\n");
  cgen_printf(ce, "\nvoid %s_free(%s *m) {\n", nm, nm);
  cgen_line(ce, 1, "int i;");
  cgen_line(ce, 1, "if (!m) return;");
  cgen_line(ce, 1, "for (i = 1; i < m->ninst; i++) {");
  cgen_line(ce, 2, "free(m->inst[i]->arena_block);");
  cgen_line(ce, 2, "free(m->inst[i]);");
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "%s_free(m->inst[0]);", in);
  cgen_line(ce, 1, "free(m);");
  cgen_printf(ce, "}\n");
  cgen_printf(ce, "\n/* One instance of %s per thread that may run parts (the cores, or OpenMP's\n"
                  " * threads if more), at most one per part. */\n", in);
  cgen_printf(ce, "int %s_init(%s **mp, const char *weights) {\n", nm, nm);
  cgen_line(ce, 1, "%s *m;", nm);
  cgen_line(ce, 1, "int st, want = 1;");
  cgen_line(ce, 1, "*mp = NULL;");
  cgen_line(ce, 1, "m = (%s *)calloc(1, sizeof *m);", nm);
  cgen_line(ce, 1, "if (!m) return %s_ERR_NOMEM;", u);
  cgen_line(ce, 1, "st = %s_init(&m->inst[0], weights);", in);
  cgen_line(ce, 1, "if (st) {");
  cgen_line(ce, 2, "free(m);");
  cgen_line(ce, 2, "return st;");
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "m->ninst = 1;");
  cgen_printf(ce, "#ifdef _OPENMP\n");
  cgen_line(ce, 1, "want = omp_get_max_threads() > omp_get_num_procs() ? omp_get_max_threads() : omp_get_num_procs();");
  cgen_line(ce, 1, "if (want > %d) want = %d;", inst, inst);
  cgen_printf(ce, "#endif\n");
  cgen_line(ce, 1, "while (m->ninst < want) {");
  cgen_line(ce, 2, "%s *x = (%s *)malloc(sizeof *x);", in, in);
  cgen_line(ce, 2, "if (!x) break;");
  cgen_line(ce, 2, "*x = *m->inst[0];");
  cgen_line(ce, 2, "x->arena_block = malloc((size_t)%s_ARENA_BYTES + 64);", iu);
  cgen_line(ce, 2, "if (!x->arena_block) {");
  cgen_line(ce, 3, "free(x);");
  cgen_line(ce, 3, "break;");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 2, "x->arena = dlc_align64(x->arena_block);");
  cgen_line(ce, 2, "m->inst[m->ninst++] = x;");
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "if (m->ninst < want) {");
  cgen_line(ce, 2, "%s_free(m);", nm);
  cgen_line(ce, 2, "return %s_ERR_NOMEM;", u);
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "*mp = m;");
  cgen_line(ce, 1, "return %s_OK;", u);
  cgen_printf(ce, "}\n");
  cgen_printf(ce, "\nconst char *%s_strerror(int status) { return %s_strerror(status); }\n", nm, in);
  cgen_printf(ce, "\nint %s_set_threads(int n) { return %s_set_threads(n); }\n", nm, in);
}

static void face_run(CEmit *ce, const CgenSplit *sp, const char *in) {
  const char *nm = ce->o->name, *u = ce->uname;
  int ni = ir_num_inputs(ce->g), no = ir_num_model_outputs(ce->g);
  int64_t parts = sp->total / sp->part;
  cgen_printf(ce, "\n/* The %" PRId64 " samples as %" PRId64 " parts of %" PRId64 ", shared among the threads; the\n"
                  " * status of the first part that fails. */\n",
              sp->total, parts, sp->part);
  cgen_printf(ce, "int %s_run(%s *m, const void *const *inputs, void *const *outputs) {\n", nm, nm);
  cgen_line(ce, 1, "int64_t p, first = %" PRId64 ";", parts);
  cgen_line(ce, 1, "int st = %s_OK;", u);
  cgen_printf(ce, "#ifdef _OPENMP\n");
  cgen_line(ce, 1, "int nt = DLC_NUM_THREADS;");
  cgen_line(ce, 1, "if (nt > m->ninst) nt = m->ninst;");
  cgen_line(ce, 1, "if (nt > %" PRId64 ") nt = %" PRId64 ";", parts, parts);
  cgen_printf(ce, "#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)\n");
  cgen_printf(ce, "#endif\n");
  cgen_line(ce, 1, "for (p = 0; p < %" PRId64 "; p++) {", parts);
  cgen_printf(ce, "#ifdef _OPENMP\n");
  cgen_line(ce, 2, "%s *x = m->inst[omp_get_thread_num()];", in);
  cgen_printf(ce, "#else\n");
  cgen_line(ce, 2, "%s *x = m->inst[0];", in);
  cgen_printf(ce, "#endif\n");
  cgen_line(ce, 2, "const void *in[%d];", ni ? ni : 1);
  cgen_line(ce, 2, "void *out[%d];", no ? no : 1);
  cgen_line(ce, 2, "int s;");
  for (int i = 0; i < ni; i++) {
    int64_t b = step(sp, i);
    if (b) cgen_line(ce, 2, "in[%d] = (const unsigned char *)inputs[%d] + p * %" PRId64 ";", i, i, b);
    else cgen_line(ce, 2, "in[%d] = inputs[%d];", i, i);
  }
  for (int j = 0; j < no; j++)
    cgen_line(ce, 2, "out[%d] = (unsigned char *)outputs[%d] + p * %" PRId64 ";", j, j, step(sp, ni + j));
  if (!ni) cgen_line(ce, 2, "(void)inputs, in[0] = NULL;");
  if (!no) cgen_line(ce, 2, "(void)outputs, out[0] = NULL;");
  cgen_line(ce, 2, "s = %s_run(x, in, out);", in);
  cgen_line(ce, 2, "if (s) {");
  cgen_printf(ce, "#ifdef _OPENMP\n#pragma omp critical\n#endif\n");
  cgen_line(ce, 3, "if (p < first) first = p, st = s;");
  cgen_line(ce, 2, "}");
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "return st;");
  cgen_printf(ce, "}\n");
}

int cgen_c_split(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, FILE *c, FILE *h,
                 FILE *weights, DlcErr *e) {
  const CgenSplit *sp = o->split;
  if (cgen_check_options(o, e)) return -1;
  if (strlen(o->name) > 96) return dlc_errf(e, "cgen: model name '%s' is too long for --micro-batch", o->name);
  char in[128], iu[128];
  snprintf(in, sizeof in, "%s__mb", o->name);
  CgenOptions oi = *o;
  oi.name = in, oi.split = NULL;
  int64_t arena = 0;
  /* the inner module's header goes into the .c: the public header is the whole batch's alone */
  fprintf(c, "/* %s: the model at %" PRId64 " samples, which %s_run (at the end) runs in parts.  Its\n"
             " * declarations first; %s declares the whole batch's interface. */\n",
          in, sp->part, o->name, o->header_name);
  if (cgen_c_module(sp->g, sp->s, sp->p, &oi, c, c, weights, &arena, e)) return -1;
  cgen_ident(in, true, iu, sizeof iu);
  CEmit ce = {.g = g, .s = s, .p = p, .o = o, .f = h, .e = e, .embedded = !cgen_c_needs_weights_file(g, p, o),
              .split_arena = arena};
  cgen_ident(o->name, true, ce.uname, sizeof ce.uname);
  ce.cpu = o->cpu ? o->cpu : cgen_cpu_native();
  int64_t parts = sp->total / sp->part;
  int inst = parts < 64 ? (int)parts : 64;
  if (cgen_c_header(&ce)) return -1;
  ce.f = c;
  cgen_printf(&ce, "\n/* ---- %s: %" PRId64 " samples run as %" PRId64 " parts of %" PRId64 " on %s ---- */\n", o->name,
              sp->total, parts, sp->part, in);
  face_init_free(&ce, in, iu, inst);
  face_run(&ce, sp, in);
  cgen_c_infer(&ce);
  if (ferror(c) || ferror(h)) return dlc_errf(e, "cgen: writing the generated code failed");
  return 0;
}

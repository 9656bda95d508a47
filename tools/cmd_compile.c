/* cmd_compile.c — `dlc compile MODEL -o OUT.c`: OUT.c, OUT.h and OUT.bin (the embedded
 * weights, linked by OUT.c) or, for large models, OUT.weights (read at run time).
 *
 * Each file is written under a temporary name in its final folder and renamed into
 * place only when all of them are complete, so a failure never leaves a half-written
 * file nor clobbers an earlier good one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgen.h"
#include "cmd.h"
#include "dlcrt.h"
#include "passes.h"

enum { OUT_C, OUT_H, OUT_W, OUT_B, OUT_COUNT };

typedef struct OutFile {
  char path[4096]; /* final name */
  char tmp[4200];  /* where it is written first */
  FILE *f;
} OutFile;

/* ---- names ---- */

static bool is_c_keyword(const char *s) {
  static const char *const words[] = {
      "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
      "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
      "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
      "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool", "_Complex"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (!strcmp(s, words[i])) return true;
  return false;
}

/* Why a name cannot name the generated struct, or NULL: it would collide with what the
 * generated code declares or includes (the struct's name is an ordinary identifier of
 * the whole file): a keyword, the C library's names it uses, the entry points'
 * parameters and locals, and the patterns of its own file-scope names (dlc_*, k12_*). */
static const char *reserved_why(const char *s) {
  static const char *const lib[] = {
      "free", "malloc", "calloc", "realloc", "abort", "exit", "memcpy", "memset", "memcmp", "memmove", "strcmp",
      "strlen", "strerror", "fopen", "fclose", "fread", "fwrite", "fgetc", "fseek", "ftell", "printf", "fprintf",
      "snprintf", "puts", "stdout", "stderr", "size_t", "ptrdiff_t", "FILE", "int8_t", "int16_t", "int32_t",
      "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "intptr_t", "uintptr_t", "exp", "expf", "log",
      "logf", "log1p", "log1pf", "expm1", "expm1f", "sqrt", "sqrtf", "tanh", "tanhf", "erf", "erff", "erfc", "erfcf",
      "pow", "powf", "fabs", "fabsf", "fma", "fmaf", "floor", "floorf", "ceil", "ceilf", "round", "roundf", "rint",
      "rintf", "nearbyint", "nearbyintf", "trunc", "truncf", "fmod", "fmodf", "copysign", "copysignf", "sin",
      "sinf", "cos", "cosf", "tan", "tanf", "asin", "asinf", "acos", "acosf", "atan", "atanf", "atan2", "atan2f",
      "sinh", "sinhf", "cosh", "coshf", "asinh", "asinhf", "acosh", "acoshf", "atanh", "atanhf", "fmax", "fmaxf",
      "fmin", "fminf", "isnan", "isinf", "ldexp", "ldexpf", "frexp", "frexpf", "main",
      /* the entry points' parameters and locals */
      "m", "mp", "in", "out", "st", "f", "path", "weights", "status", "n", "inputs", "outputs", "dims", "loss",
      "step", "update", "name", "stage", "size", "which", "output", "blob"};
  if (is_c_keyword(s)) return "a C keyword";
  for (size_t i = 0; i < sizeof lib / sizeof lib[0]; i++)
    if (!strcmp(s, lib[i])) return "a name the generated code uses";
  static const char *const prefix[] = {"dlc_", "DLC_", "rt_", "omp_", "_"};
  for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++)
    if (!strncmp(s, prefix[i], strlen(prefix[i]))) return "a prefix of the generated code's own names";
  if (s[0] == 'k' && isdigit((unsigned char)s[1])) { /* the kernels: k12_matmul */
    const char *p = s + 1;
    while (isdigit((unsigned char)*p)) p++;
    if (!*p || *p == '_') return "the pattern of the generated kernels' names (k12_matmul)";
  }
  return NULL;
}

/* The graph's name as a C identifier: other characters become '_', and a reserved
 * name (a model named `int` or `free`) gets a suffix, since it names the generated
 * struct. */
static void c_identifier(const char *s, char *buf, size_t n) {
  size_t k = 0;
  if (!isalpha((unsigned char)*s)) buf[k++] = 'm';
  for (; *s && k + 8 < n; s++) buf[k++] = isalnum((unsigned char)*s) ? *s : '_';
  buf[k] = 0;
  if (reserved_why(buf)) strcat(buf, "_model");
}

static bool is_c_identifier(const char *s) {
  if (!isalpha((unsigned char)*s) && *s != '_') return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_') return false;
  return true;
}

/* OUT.c -> OUT.h, OUT.weights, OUT.bin */
static int out_paths(const char *out, OutFile *o) {
  size_t n = strlen(out);
  if (n < 3 || strcmp(out + n - 2, ".c") || out[n - 3] == '/' || n + 16 > sizeof o->path)
    return cmd_fail("-o '%s': the output must be a file name ending in .c", out);
  snprintf(o[OUT_C].path, sizeof o->path, "%s", out);
  snprintf(o[OUT_H].path, sizeof o->path, "%.*s.h", (int)(n - 2), out);
  snprintf(o[OUT_W].path, sizeof o->path, "%.*s.weights", (int)(n - 2), out);
  snprintf(o[OUT_B].path, sizeof o->path, "%.*s.bin", (int)(n - 2), out);
  return 0;
}

/* ---- temporary files ---- */

static int open_tmp(OutFile *o, DlcErr *e) {
  snprintf(o->tmp, sizeof o->tmp, "%s.tmpXXXXXX", o->path);
  int fd = mkstemp(o->tmp);
  if (fd < 0) return o->tmp[0] = 0, dlc_errf(e, "cannot create '%s': %s", o->path, strerror(errno));
  mode_t mask = umask(0); /* mkstemp makes 0600; give the usual permissions */
  umask(mask);
  if (fchmod(fd, 0666 & ~mask) || !(o->f = fdopen(fd, "w"))) {
    close(fd);
    return dlc_errf(e, "cannot write '%s': %s", o->tmp, strerror(errno));
  }
  return 0;
}

static int close_tmp(OutFile *o, int r, DlcErr *e) {
  if (o->f && fclose(o->f) && !r) r = dlc_errf(e, "cannot write '%s': %s", o->path, strerror(errno));
  o->f = NULL;
  return r;
}

static void discard(OutFile *o) {
  for (int i = 0; i < OUT_COUNT; i++)
    if (o[i].tmp[0]) unlink(o[i].tmp);
}

/* Each file may be written: absent, or a regular file that is not an input (the model,
 * its external data).  Checked for all of them before any is renamed, so that OUT.h is
 * never replaced when OUT.c cannot be. */
static int writable(const OutFile *o, int data, DlcErr *e) {
  for (int i = 0; i < OUT_COUNT; i++) {
    const char *why = (i == OUT_W || i == OUT_B) && i != data ? NULL : rt_output_check(o[i].path);
    if (why) return dlc_errf(e, "cannot write '%s': %s", o[i].path, why);
  }
  return 0;
}

/* The header and code are renamed last, so OUT.c never refers to a missing file. */
static int commit(OutFile *o, int data, DlcErr *e) {
  static const int order[] = {OUT_W, OUT_B, OUT_H, OUT_C};
  if (writable(o, data, e)) return -1;
  for (int i = 0; i < 4; i++) {
    OutFile *f = &o[order[i]];
    if ((order[i] == OUT_W || order[i] == OUT_B) && order[i] != data) continue;
    if (rename(f->tmp, f->path)) return dlc_errf(e, "cannot write '%s': %s", f->path, strerror(errno));
    f->tmp[0] = 0;
  }
  return 0;
}

/* ---- compiling ---- */

/* The code for the target: C, or CUDA (with --cuda-aot, its PTX for --cuda-arch). */
static int emit(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *co,
               const CmdArgs *a, OutFile *o, FILE *data, DlcErr *e) {
  if (!a->cuda) return cgen_c(g, s, p, co, o[OUT_C].f, o[OUT_H].f, data, e);
  CudaOptions cu = {.aot_arch = a->cuda_aot ? (a->cuda_arch ? a->cuda_arch : "sm_80") : NULL};
  return cgen_cuda(g, s, p, co, &cu, o[OUT_C].f, o[OUT_H].f, data, e);
}

static int generate(Graph **gp, CgenOptions *co, const CmdArgs *a, SplitBuild *sp, OutFile *o, DlcErr *e) {
  Schedule *s;
  Plan *p;
  PassOptions po = a->passes;
  po.training = a->train;
  if (a->stats) po.stats_to = stdout;
  for (int i = 0; a->stats && i < (*gp)->nnotes; i++) printf("frontend: %s\n", (*gp)->notes[i]);
  if (pass_pipeline(gp, &po, &s, &p, e) || plan_check(*gp, s, p, e)) return -1;
  Graph *g = *gp;
  CgenSplit cs;
  if (sp->g) { /* the part's model through the same passes */
    if (a->stats) printf("micro-batch: the model at %lld samples, run %lld times:\n", (long long)sp->part,
                         (long long)(sp->total / sp->part));
    Schedule *ss;
    Plan *spl;
    if (pass_pipeline(&sp->g, &po, &ss, &spl, e) || plan_check(sp->g, ss, spl, e)) return -1;
    cs.g = sp->g, cs.s = ss, cs.p = spl, cs.total = sp->total, cs.part = sp->part, cs.io = sp->io;
    co->split = &cs;
  } else if (a->stats && sp->why[0]) {
    printf("micro-batch: the batch runs whole: %s\n", sp->why);
  }
  bool weights = cgen_c_needs_weights_file(g, p, co);
  int data = weights ? OUT_W : cgen_c_needs_blob(g, p, co) ? OUT_B : -1; /* the data file */
  int r = writable(o, data, e);
  if (!r) r = open_tmp(&o[OUT_C], e);
  if (!r) r = open_tmp(&o[OUT_H], e);
  if (!r && data >= 0) r = open_tmp(&o[data], e);
  if (!r) r = emit(g, s, p, co, a, o, data >= 0 ? o[data].f : NULL, e);
  for (int i = 0; i < OUT_COUNT; i++) r = close_tmp(&o[i], r, e);
  if (!r) r = commit(o, data, e);
  if (!r && a->stats && co->dyn) {
    printf("dynamic: %d builds joined (", co->dyn->nv);
    for (int j = 0; j < co->dyn->ndim; j++) {
      const DynDim *dd = &co->dyn->dim[j];
      printf("%s%s %s", j ? "; " : "", dd->name, dd->bound ? "sizes" : "exactly");
      for (int i = 0; i < dd->n; i++) printf("%s%lld", i ? ", " : " ", (long long)dd->size[i]);
    }
    printf(")\n");
  }
  if (!r && a->stats && co->split)
    printf("parts: %lld of %lld samples; arena %lld bytes per thread that runs them\n",
           (long long)(sp->total / sp->part), (long long)sp->part, (long long)co->split->p->arena_bytes);
  if (!r && a->stats)
    printf("kernels %d, arena %lld bytes, weights %lld bytes%s\n", s->nk, (long long)p->arena_bytes,
           (long long)p->weight_bytes, weights ? " (in a weights file)" : data == OUT_B ? " (embedded, in OUT.bin)" : " (embedded)");
  return r;
}

static int compile_model(const CmdArgs *a, OutFile *o) {
  DlcErr e;
  DynInfo dyn = {0};
  Graph *g = a->ndynamic ? cmd_load_dynamic(a, &dyn, &e) : cmd_load(a, &e);
  if (!g) {
    dyn_free(&dyn);
    return cmd_fail("%s", e.msg);
  }
  if (a->train && cmd_train_graph(g, a, 0, &e)) {
    ir_graph_free(g);
    return cmd_fail("%s", e.msg);
  }
  char name[128], inner[160];
  c_identifier(a->name ? a->name : g->name ? g->name : "model", name, sizeof name);
  snprintf(inner, sizeof inner, "%s__all", name);
  const char *slash = strrchr(o[OUT_H].path, '/');
  const char *bslash = strrchr(o[OUT_B].path, '/');
  CgenOptions co = {.name = name, .header_name = slash ? slash + 1 : o[OUT_H].path,
                    .embed_max_bytes = a->embed_max, .cpu = cgen_cpu_resolve(a->cpu),
                    .weights_as = (CgenWeightsAs)a->weights_as, .blob_name = bslash ? bslash + 1 : o[OUT_B].path};
  if (a->ndynamic) co.name = inner, co.dyn = &dyn, co.dyn_name = name;
  if (!co.cpu) {
    ir_graph_free(g);
    dyn_free(&dyn);
    return cmd_fail("DLC_CPU '%s': not a target CPU (dlc compile --cpu list)", getenv("DLC_CPU"));
  }
  SplitBuild sp;
  int r = cmd_load_split(a, g, &sp, &e);
  if (!r) r = generate(&g, &co, a, &sp, o, &e);
  split_free(&sp);
  ir_graph_free(g);
  dyn_free(&dyn);
  if (r) {
    discard(o);
    return cmd_fail("%s", e.msg);
  }
  return 0;
}

/* --list-ops: the ONNX operators the frontend builds, then the core ops of the IR (the
 * names the .dlc format calls), each with the operand dtypes ir/ops.def lets it take. */
static int list_ops(void) {
#ifdef DLC_HAVE_ONNX
  printf("ONNX operators (default domain):\n");
  int k = onnx_op_list(stdout);
  printf("(%d operators)\n\n", k);
#else
  printf("ONNX: this dlc was built without the ONNX frontend\n\n");
#endif
  printf("core ops (.dlc), with the dtypes their operands may have:\n");
  for (int op = 0; op < OP_COUNT; op++) {
    printf("%-16s", ir_ops[op].name);
    for (int d = 0; d < DT_COUNT && ir_ops[op].nin; d++)
      if (op_takes_dtype((Op)op, (DType)d)) printf(" %s", dtype_name((DType)d));
    printf("%s\n", ir_ops[op].nin ? "" : " (no operands)");
  }
  printf("(%d core ops)\n", (int)OP_COUNT);
  return 0;
}

int cmd_compile(int argc, char **argv) {
  CmdArgs a;
  if (cmd_parse(&a, "compile", CMD_COMPILE, argc, argv)) return 1;
  a.load.train = a.train;
  if (a.help) {
    cmd_help("compile", CMD_COMPILE, "MODEL -o OUT.c [options]",
             "Compile a model to C: OUT.c and OUT.h, with the weights either in OUT.bin,\n"
             "bytes that OUT.c links with .incbin (build it with -I<the folder of OUT.c>),\n"
             "or, when larger than --embed-max, in OUT.weights, read by NAME_init at run\n"
             "time.  With --target cuda, OUT.c is host C that runs the kernels on a GPU\n"
             "(build: cc OUT.c -ldlcrt -ldl; see docs/CUDA.md).");
    return 0;
  }
  if (a.list_ops) return list_ops();
  if (!a.out) return cmd_fail("'dlc compile' needs -o OUT.c (see 'dlc compile --help')");
  if ((a.cuda_aot || a.cuda_arch) && !a.cuda)
    return cmd_fail("--cuda-aot and --cuda-arch need --target cuda");
  if (a.cuda_arch && !a.cuda_aot) return cmd_fail("--cuda-arch is the architecture of --cuda-aot's PTX; add --cuda-aot");
  if (!a.train && (a.loss_given || a.optim_given || a.sched_given || a.lr > 0))
    return cmd_fail("--loss, --optimizer, --schedule and --lr need --train");
  if (a.name && !is_c_identifier(a.name))
    return cmd_fail("--name '%s': not a C identifier", a.name);
  if (a.name && reserved_why(a.name))
    return cmd_fail("--name '%s': %s; the generated code would not compile (choose another, e.g. %s_model)", a.name,
                    reserved_why(a.name), a.name);
  OutFile *o = dlc_try_calloc(OUT_COUNT, sizeof *o);
  if (!o) return cmd_fail("out of memory");
  int r = out_paths(a.out, o) ? 1 : compile_model(&a, o);
  free(o);
  return r;
}

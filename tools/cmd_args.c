/* cmd_args.c — the command line: one table of options, read in any order.
 *
 * Each option names the commands it belongs to, its value's placeholder (NULL for a
 * flag), its help line and the function that stores it; --help is printed from the
 * same table, so the two never disagree.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgen.h"
#include "cmd.h"

/* The one way an error reaches the terminal: names from a model or the command line
 * may hold any byte, so control bytes (ESC, BEL, CR, newline) are written as \xNN and
 * the error stays one harmless line. */
int cmd_fail(const char *fmt, ...) {
  char msg[2 * DLC_ERR_MAX], shown[8 * DLC_ERR_MAX + 1];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dlc_escape_ctl(shown, sizeof shown, msg);
  fprintf(stderr, "dlc: error: %s\n", shown);
  return 1;
}

/* ---- values ---- */

/* A whole decimal integer in [lo, hi]. */
static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *v) {
  char *end;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  if (!*s || *end || errno || x < lo || x > hi) return -1;
  *v = x;
  return 0;
}

/* "NAME=REST": NAME non-empty; returns REST or NULL. */
static const char *split_eq(const char *s) {
  const char *eq = strchr(s, '=');
  return eq && eq != s ? eq + 1 : NULL;
}

/* A copy of s[0..n) in a's string pool, so nothing needs freeing; NULL when full. */
const char *cmd_keep_name(CmdArgs *a, const char *s, size_t n) {
  if (a->npool + n + 1 > sizeof a->pool) return NULL;
  char *p = a->pool + a->npool;
  memcpy(p, s, n);
  p[n] = 0;
  a->npool += n + 1;
  return p;
}

/* 1x3x224x224 */
/* "2x3x4"; "" or "scalar": rank 0. */
static int parse_dims(const char *s, Shape *sh) {
  sh->rank = 0;
  char buf[256];
  if (!*s || !strcmp(s, "scalar")) return 0;
  if (strlen(s) >= sizeof buf) return -1;
  snprintf(buf, sizeof buf, "%s", s);
  for (char *tok = buf, *next; tok; tok = next) {
    next = strchr(tok, 'x');
    if (next) *next++ = 0;
    if (sh->rank == IR_MAX_RANK || parse_int(tok, 0, INT32_MAX, &sh->d[sh->rank++])) return -1;
  }
  return 0;
}

/* ---- storing each option ---- */

typedef int (*SetFn)(CmdArgs *a, const char *opt, const char *v);

static int set_out(CmdArgs *a, const char *opt, const char *v) { (void)opt; a->out = v; return 0; }
static int set_name(CmdArgs *a, const char *opt, const char *v) { (void)opt; a->name = v; return 0; }
static int set_output(CmdArgs *a, const char *opt, const char *v) {
  if (!*v) return cmd_fail("%s '': expected a folder", opt);
  a->output_dir = v;
  return 0;
}
static int set_cflags(CmdArgs *a, const char *opt, const char *v) { (void)opt; a->cflags = v; return 0; }

static int set_cpu(CmdArgs *a, const char *opt, const char *v) {
  if (!strcmp(v, "list")) {
    printf("target CPUs of --cpu (default native, the host's; or $DLC_CPU):\n  native     the CPU dlc runs on: %s\n",
           cgen_cpu_native()->name);
    cgen_cpu_list(stdout);
    exit(0);
  }
  if (strcmp(v, "native") && !cgen_cpu_find(v))
    return cmd_fail("%s '%s': not a target CPU (native, generic, x86-64-v2, x86-64-v3, x86-64-v4, x86-64-v4-vnni, aarch64; "
                    "--cpu list)", opt, v);
  a->cpu = v;
  return 0;
}
static int set_stats(CmdArgs *a, const char *opt, const char *v) { (void)opt, (void)v; a->stats = true; return 0; }
static int set_check(CmdArgs *a, const char *opt, const char *v) { (void)opt, (void)v; a->check = true; return 0; }
static int set_keep(CmdArgs *a, const char *opt, const char *v) { (void)opt, (void)v; a->keep = true; return 0; }
static int set_compare(CmdArgs *a, const char *opt, const char *v) { (void)opt; a->compare = v; return 0; }
static int set_at(CmdArgs *a, const char *opt, const char *v) { (void)opt; a->at = v; return 0; }
static int set_plot(CmdArgs *a, const char *opt, const char *v) {
  size_t n = strlen(v);
  if (n < 5 || strcmp(v + n - 4, ".svg") || v[n - 5] == '/') return cmd_fail("%s '%s': expected a file name ending in .svg", opt, v);
  a->plot = v;
  return 0;
}
static int set_json(CmdArgs *a, const char *opt, const char *v) { (void)opt, (void)v; a->json = true; return 0; }
static int set_profile(CmdArgs *a, const char *opt, const char *v) { (void)opt, (void)v; a->profile = true; return 0; }

static int set_clock(CmdArgs *a, const char *opt, const char *v) {
  if (strcmp(v, "wall") && strcmp(v, "cpu")) return cmd_fail("%s '%s': expected wall or cpu", opt, v);
  a->cpu_clock = !strcmp(v, "cpu");
  return 0;
}

static int set_threads(CmdArgs *a, const char *opt, const char *v) {
  int64_t x;
  if (parse_int(v, 1, 1024, &x)) return cmd_fail("%s '%s': expected an integer from 1 to 1024", opt, v);
  a->threads = (int)x;
  return 0;
}

static int set_count(CmdArgs *a, const char *opt, const char *v) {
  int64_t x;
  bool runs = !strcmp(opt, "--runs");
  if (parse_int(v, runs ? 1 : 0, 1000000, &x)) return cmd_fail("%s '%s': expected an integer from %d to 1000000", opt, v, runs);
  if (runs) a->runs = (int)x;
  else a->warmup = (int)x;
  return 0;
}

/* -O0, -O1, -O2: the digit is the level */
static int set_level(CmdArgs *a, const char *opt, const char *v) {
  (void)v;
  a->passes.opt_level = opt[2] - '0';
  return 0;
}

static int set_fuse(CmdArgs *a, const char *opt, const char *v) {
  static const char *const modes[] = {[FUSE_NONE] = "none", [FUSE_OP] = "op", [FUSE_ALL] = "all"};
  for (int m = FUSE_NONE; m <= FUSE_ALL; m++)
    if (!strcmp(v, modes[m])) {
      a->passes.fuse = (FuseMode)m, a->fuse_given = true;
      return 0;
    }
  return cmd_fail("%s '%s': expected none, op or all", opt, v);
}

static int set_no_fuse(CmdArgs *a, const char *opt, const char *v) {
  (void)opt, (void)v;
  a->passes.fuse = FUSE_NONE, a->fuse_given = true;
  return 0;
}

static int pass_name(const char *opt, const char *v) {
  if (pass_known(v)) return 0;
  return cmd_fail("%s '%s': not a pass (fold, cse, dce, bnfold, fuse, plan)", opt, v);
}

static int set_print_after(CmdArgs *a, const char *opt, const char *v) {
  a->passes.print_after = v;
  return pass_name(opt, v);
}

static int set_after(CmdArgs *a, const char *opt, const char *v) {
  a->after = v;
  return pass_name(opt, v);
}

static int set_target(CmdArgs *a, const char *opt, const char *v) {
  if (strcmp(v, "c") && strcmp(v, "cuda")) return cmd_fail("%s '%s': expected c or cuda", opt, v);
  a->cuda = !strcmp(v, "cuda");
  return 0;
}

static int set_cuda_arch(CmdArgs *a, const char *opt, const char *v) {
  if (strncmp(v, "sm_", 3) || strlen(v) < 5 || strspn(v + 3, "0123456789") < 2)
    return cmd_fail("%s '%s': expected an architecture such as sm_80 or sm_90", opt, v);
  a->cuda_arch = v;
  return 0;
}

static int set_cuda_aot(CmdArgs *a, const char *opt, const char *v) { (void)opt, (void)v; a->cuda_aot = true; return 0; }

static int set_batch(CmdArgs *a, const char *opt, const char *v) {
  if (parse_int(v, 1, INT32_MAX, &a->load.batch))
    return cmd_fail("%s '%s': expected an integer from 1 to %d", opt, v, INT32_MAX);
  return 0;
}

static int set_embed(CmdArgs *a, const char *opt, const char *v) {
  if (parse_int(v, 0, INT64_MAX, &a->embed_max))
    return cmd_fail("%s '%s': expected a size in bytes", opt, v);
  return 0;
}

/* --max-elements, --max-nodes, --max-weight-bytes, --max-arena-bytes, --max-code-bytes: the budgets
 * (ir_limits, docs/SECURITY.md), process-wide. */
static int set_limit(CmdArgs *a, const char *opt, const char *v) {
  (void)a;
  int64_t x;
  if (parse_int(v, 1, INT64_MAX, &x)) return cmd_fail("%s '%s': expected a positive integer", opt, v);
  int64_t *dst = ir_limit_named(opt + 2);
  DLC_ASSERT(dst);
  *dst = x;
  return 0;
}

static int set_weights_as(CmdArgs *a, const char *opt, const char *v) {
  if (!strcmp(v, "incbin")) a->weights_as = CGEN_WEIGHTS_INCBIN;
  else if (!strcmp(v, "c-array")) a->weights_as = CGEN_WEIGHTS_C_ARRAY;
  else return cmd_fail("%s '%s': expected incbin or c-array", opt, v);
  return 0;
}

static int set_seed(CmdArgs *a, const char *opt, const char *v) {
  int64_t s;
  if (parse_int(v, 0, INT64_MAX, &s)) return cmd_fail("%s '%s': expected a non-negative integer", opt, v);
  a->seed = (uint64_t)s;
  return 0;
}

static int set_dim(CmdArgs *a, const char *opt, const char *v) {
  const char *val = split_eq(v);
  int64_t x;
  if (!val || parse_int(val, 1, INT32_MAX, &x))
    return cmd_fail("%s '%s': expected NAME=SIZE with SIZE from 1 to %d, e.g. seq=128", opt, v, INT32_MAX);
  if (a->load.ndims == LOAD_MAX_BIND) return cmd_fail("too many %s (at most %d)", opt, LOAD_MAX_BIND);
  a->load.dims[a->load.ndims].name = cmd_keep_name(a, v, (size_t)(val - 1 - v));
  if (!a->load.dims[a->load.ndims].name) return cmd_fail("%s '%s': name too long", opt, v);
  a->load.dims[a->load.ndims++].value = x;
  return 0;
}

static int set_dynamic(CmdArgs *a, const char *opt, const char *v) {
  if (a->ndynamic == DYN_MAX_DIMS) return cmd_fail("%s: at most %d run-time dimensions", opt, DYN_MAX_DIMS);
  a->dynamic[a->ndynamic++] = v;
  return 0;
}

static int set_micro(CmdArgs *a, const char *opt, const char *v) {
  if (!strcmp(v, "auto")) a->micro = -1;
  else if (!strcmp(v, "off")) a->micro = 0;
  else if (parse_int(v, 1, INT32_MAX, &a->micro))
    return cmd_fail("%s '%s': expected auto, off, or the samples of a part (an integer from 1)", opt, v);
  return 0;
}

static int set_shape(CmdArgs *a, const char *opt, const char *v) {
  const char *val = split_eq(v);
  Shape s;
  if (!val || parse_dims(val, &s))
    return cmd_fail("%s '%s': expected INPUT=D1xD2x..., e.g. x=1x784 (INPUT= or INPUT=scalar: rank 0)", opt, v);
  if (a->load.nshapes == LOAD_MAX_BIND) return cmd_fail("too many %s (at most %d)", opt, LOAD_MAX_BIND);
  a->load.shapes[a->load.nshapes].input = cmd_keep_name(a, v, (size_t)(val - 1 - v));
  if (!a->load.shapes[a->load.nshapes].input) return cmd_fail("%s '%s': name too long", opt, v);
  a->load.shapes[a->load.nshapes++].shape = s;
  return 0;
}

static int set_input(CmdArgs *a, const char *opt, const char *v) {
  const char *val = split_eq(v);
  if (!val || !*val) return cmd_fail("%s '%s': expected NAME=FILE.npy", opt, v);
  if (a->ninputs == LOAD_MAX_BIND) return cmd_fail("too many %s (at most %d)", opt, LOAD_MAX_BIND);
  a->inputs[a->ninputs].name = cmd_keep_name(a, v, (size_t)(val - 1 - v));
  if (!a->inputs[a->ninputs].name) return cmd_fail("%s '%s': name too long", opt, v);
  a->inputs[a->ninputs++].path = val;
  return 0;
}

static int set_list_ops(CmdArgs *a, const char *opt, const char *v) {
  (void)opt, (void)v;
  a->list_ops = true;
  return 0;
}

static int set_const_input(CmdArgs *a, const char *opt, const char *v) {
  const char *val = split_eq(v);
  if (!val || !*val) return cmd_fail("%s '%s': expected INPUT=FILE.npy", opt, v);
  if (a->load.nconsts == LOAD_MAX_BIND) return cmd_fail("too many %s (at most %d)", opt, LOAD_MAX_BIND);
  a->load.consts[a->load.nconsts].input = cmd_keep_name(a, v, (size_t)(val - 1 - v));
  if (!a->load.consts[a->load.nconsts].input) return cmd_fail("%s '%s': name too long", opt, v);
  a->load.consts[a->load.nconsts++].path = val;
  return 0;
}

/* ---- training ---- */

static int set_train(CmdArgs *a, const char *opt, const char *v) { (void)opt, (void)v; a->train = true; return 0; }
static int set_data(CmdArgs *a, const char *opt, const char *v) { (void)opt; a->data = v; return 0; }
static int set_out_dir(CmdArgs *a, const char *opt, const char *v) { (void)opt; a->out_dir = v; return 0; }

static int set_loss(CmdArgs *a, const char *opt, const char *v) {
  if (loss_parse(v, &a->loss)) return cmd_fail("%s '%s': expected ce, bce, mse or l1", opt, v);
  a->loss_given = true;
  return 0;
}

static int set_epochs(CmdArgs *a, const char *opt, const char *v) {
  int64_t x;
  bool limit = !strcmp(opt, "--limit");
  if (parse_int(v, 1, limit ? INT64_MAX : 100000, &x))
    return cmd_fail("%s '%s': expected a positive integer%s", opt, v, limit ? "" : " up to 100000");
  if (limit) a->limit = x;
  else a->epochs = (int)x;
  return 0;
}

static int set_lr(CmdArgs *a, const char *opt, const char *v) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (!*v || *end || errno || !(x > 0 && x < 1e9)) return cmd_fail("%s '%s': expected a positive number", opt, v);
  a->lr = x;
  return 0;
}

/* "k=v,k=v" after the name: each setting through optim_set. */
static int optim_settings(CmdArgs *a, const char *opt, const char *v, const char *s) {
  while (*s) {
    size_t n = strcspn(s, ",");
    char kv[128], *end;
    if (n >= sizeof kv) return cmd_fail("%s '%s': a setting is too long", opt, v);
    memcpy(kv, s, n), kv[n] = 0;
    s += n + (s[n] == ',');
    char *eq = strchr(kv, '=');
    if (!eq) return cmd_fail("%s '%s': expected KEY=VALUE settings, found '%s'", opt, v, kv);
    *eq = 0;
    errno = 0;
    double x = strtod(eq + 1, &end);
    DlcErr e;
    if (!eq[1] || *end || errno) return cmd_fail("%s '%s': '%s' is not a number", opt, v, eq + 1);
    if (optim_set(&a->optim, kv, x, &e)) return cmd_fail("%s '%s': %s", opt, v, e.msg);
  }
  return 0;
}

/* --optimizer adam:lr=1e-3,beta1=0.9 and --schedule cosine:steps=1000 */
static int set_optim(CmdArgs *a, const char *opt, const char *v) {
  bool sched = !strcmp(opt, "--schedule");
  const char *colon = strchr(v, ':');
  char name[32];
  snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - v) : (int)strlen(v), v);
  Optim keep = a->optim;
  int bad = sched ? optim_schedule(name, &a->optim) : optim_named(name, &a->optim);
  if (bad) return cmd_fail("%s '%s': expected %s", opt, v, sched ? "constant, step or cosine" : "sgd, momentum, nesterov, adam or adamw");
  if (!sched) optim_copy_schedule(&a->optim, &keep);
  a->sched_given |= sched, a->optim_given |= !sched;
  return colon ? optim_settings(a, opt, v, colon + 1) : 0;
}

/* ---- the table ---- */

typedef struct CmdOpt {
  const char *name;
  const char *meta; /* NULL: a flag */
  unsigned cmds;
  SetFn set;
  const char *help;
} CmdOpt;

#define ALL (CMD_COMPILE | CMD_RUN | CMD_DUMP | CMD_BENCH | CMD_TRAIN | CMD_DOT)

static const CmdOpt opts[] = {
    {"-o", "OUT.c", CMD_COMPILE, set_out, "write OUT.c, OUT.h and OUT.bin (or OUT.weights for large models)"},
    {"-o", "OUT.dot", CMD_DOT, set_out, "write the graph there (default: standard output)"},
    {"--name", "N", CMD_COMPILE, set_name, "prefix of the generated symbols (default: the model's name)"},
    {"--embed-max", "BYTES", CMD_COMPILE, set_embed, "embed weights up to this size, else write OUT.weights"},
    {"--weights-as", "incbin|c-array", CMD_COMPILE, set_weights_as,
     "embedded weights as bytes in OUT.bin that OUT.c links (default; cc -I<its folder>) or as C arrays"},
    {"--list-ops", NULL, CMD_COMPILE, set_list_ops, "print the ONNX operators (opsets, dtypes) and core ops dlc supports"},
    {"--stats", NULL, CMD_COMPILE, set_stats, "print each pass with node counts, then kernels, arena and weight bytes"},
    {"--target", "c|cuda", CMD_COMPILE | CMD_RUN | CMD_BENCH | CMD_TRAIN, set_target, "generate C for the CPU (default) or CUDA for a GPU"},
    {"--cuda-arch", "SM", CMD_COMPILE, set_cuda_arch, "with --cuda-aot: the PTX's architecture (default sm_80)"},
    {"--cuda-aot", NULL, CMD_COMPILE, set_cuda_aot, "compile the kernels to PTX now (NVRTC) and embed it"},
    {"--input", "NAME=FILE.npy", CMD_RUN | CMD_BENCH, set_input, "an input's values (others are seeded random)"},
    {"--output", "DIR", CMD_RUN, set_output, "write each output as DIR/NAME.npy"},
    {"--seed", "S", CMD_RUN | CMD_BENCH | CMD_TRAIN, set_seed, "seed of the random inputs (train: of the shuffles; default 0)"},
    {"--check", NULL, CMD_RUN, set_check, "compare with the reference interpreter; exit 1 if they differ"},
    {"--cflags", "FLAGS", CMD_RUN | CMD_BENCH | CMD_TRAIN, set_cflags, "flags for the C compiler (default -O2; bench, train: -O3), before --cpu's -march"},
    {"--cpu", "CPU", CMD_COMPILE | CMD_RUN | CMD_BENCH | CMD_TRAIN, set_cpu,
     "target CPU: native (default), generic, x86-64-v2, x86-64-v3, x86-64-v4, x86-64-v4-vnni, aarch64; list"},
    {"--threads", "T", CMD_RUN | CMD_BENCH | CMD_TRAIN, set_threads,
     "threads of the generated code's heavy loops (built with -fopenmp; default 1)"},
    {"--compare", "V1,V2..", CMD_BENCH, set_compare, "variants: fused (the pipeline), unfused, none, op, all, parts (fused, the batch in parts: --micro-batch) (default fused,unfused)"},
    {"--runs", "R", CMD_BENCH, set_count, "timed runs of each variant (default 50)"},
    {"--warmup", "W", CMD_BENCH, set_count, "untimed runs first (default 5)"},
    {"--json", NULL, CMD_BENCH, set_json, "print a JSON array, one object per variant"},
    {"--plot", "OUT.svg", CMD_BENCH, set_plot, "also draw the variants as a bar chart: median us per run, min-max whiskers"},
    {"--clock", "wall|cpu", CMD_BENCH, set_clock, "time by the wall clock (default) or the thread's CPU time"},
    {"--profile", NULL, CMD_BENCH, set_profile, "also time each kernel of each variant (by --clock) and list them in schedule order"},
    {"--keep", NULL, CMD_RUN | CMD_BENCH | CMD_TRAIN, set_keep, "keep the folder of the generated code and say where it is"},
    {"--train", NULL, CMD_COMPILE, set_train, "also generate the training steps (NAME_<step>_step, NAME_save, NAME_load)"},
    {"--loss", "ce|bce|mse|l1", CMD_COMPILE | CMD_TRAIN, set_loss, "the loss of a model without a training statement (default ce)"},
    {"--optimizer", "NAME:K=V,..", CMD_COMPILE | CMD_TRAIN, set_optim,
     "sgd, momentum, nesterov, adam (default), adamw, e.g. adam:lr=1e-3,weight_decay=1e-4"},
    {"--schedule", "NAME:K=V,..", CMD_COMPILE | CMD_TRAIN, set_optim,
     "learning rate: constant, step:every=N,gamma=G, cosine:steps=T,lr_min=M"},
    {"--lr", "LR", CMD_COMPILE | CMD_TRAIN, set_lr, "the learning rate of every step (overrides the model's)"},
    {"--data", "SET", CMD_TRAIN, set_data, "fashion-mnist, or a folder: x_train.npy.., train.csv/test.csv or IDX files"},
    {"--epochs", "E", CMD_TRAIN, set_epochs, "passes over the training set (default 5)"},
    {"--limit", "N", CMD_TRAIN, set_epochs, "train on N samples per epoch (a quick run)"},
    {"--out", "DIR", CMD_TRAIN, set_out_dir, "write the loss curve (CSV, SVG) and the parameters there"},
    {"-O0", NULL, ALL, set_level, "only what correctness needs: no graph passes, no fusion"},
    {"-O1", NULL, ALL, set_level, "fold constants and identities, merge equal nodes, drop dead ones"},
    {"-O2", NULL, ALL, set_level, "-O1, batchnorm folded into weights, fusion across operators (default)"},
    {"--fuse", "none|op|all", ALL, set_fuse, "kernels per core op, per source operator, or fused across"},
    {"--no-fuse", NULL, ALL, set_no_fuse, "the same as --fuse=none"},
    {"--print-after", "PASS", ALL & ~CMD_DOT, set_print_after, "print the graph to stderr after PASS (fold, cse, dce, bnfold, fuse, plan)"},
    {"--after", "PASS", CMD_DUMP, set_after, "print the graph after PASS instead of as loaded"},
    {"--after", "PASS", CMD_DOT, set_after, "draw the graph after PASS (default plan: the kernels and the memory plan)"},
    {"--batch", "N", ALL, set_batch, "bind the dimension named batch"},
    {"--dim", "NAME=V", ALL, set_dim, "bind a symbolic dimension"},
    {"--at", "N1,N2..", CMD_BENCH, set_at, "with --dynamic: the sizes to time (default 1, MAX/2, MAX)"},
    {"--dynamic", "NAME<=MAX", CMD_COMPILE | CMD_BENCH | CMD_RUN, set_dynamic,
     "a dimension chosen at run time: any size to MAX (batch<=64), or NAME=S1,S2,.. exactly those"},
    {"--micro-batch", "auto|N|off", CMD_COMPILE | CMD_BENCH | CMD_RUN, set_micro,
     "run the batch as parts of N samples, threads sharing the parts (default auto: picks N, or runs whole)"},
    {"--shape", "INPUT=1x784", ALL, set_shape, "set an input's whole shape (INPUT=scalar: rank 0)"},
    {"--const-input", "INPUT=FILE.npy", ALL, set_const_input,
     "make an input a constant with these values (ONNX; e.g. a shape tensor)"},
    {"--max-elements", "N", ALL, set_limit, "elements one tensor may have (default 2^31)"},
    {"--max-nodes", "N", ALL, set_limit, "nodes a graph may have after unrolling (default 2^20)"},
    {"--max-weight-bytes", "B", ALL, set_limit, "bytes of all weights together (default 2^29)"},
    {"--max-arena-bytes", "B", ALL, set_limit, "bytes of the memory plan's arena (default 2^34)"},
    {"--max-code-bytes", "B", ALL, set_limit, "bytes of generated source, C or CUDA (default 2^28)"},
    {"--string-heap", "B", ALL, set_limit, "bytes for the strings a model makes in one run (default 2^20)"},
    {"--split-pieces", "N", ALL, set_limit, "pieces per string of a StringSplit without maxsplit (default 64)"},
    {"--max-trip", "N", ALL, set_limit, "iterations of an ONNX Loop whose trip count or condition is known only at run time (no default)"},
};

void cmd_help(const char *cmd, unsigned which, const char *usage, const char *what) {
  printf("usage: dlc %s %s\n\n%s\n\noptions:\n", cmd, usage, what);
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    if (!(opts[i].cmds & which)) continue;
    char left[64];
    snprintf(left, sizeof left, "%s%s%s", opts[i].name, opts[i].meta ? " " : "",
             opts[i].meta ? opts[i].meta : "");
    printf("  %-26s %s\n", left, opts[i].help);
  }
  printf("  %-26s %s\n", "-h, --help", "show this help");
}

/* The row of option arg[0..n) for the commands `which` (an option may have a row per
 * command, e.g. -o), else NULL. */
static const CmdOpt *find_opt(const char *arg, size_t n, unsigned which) {
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    if (strlen(opts[i].name) == n && !strncmp(opts[i].name, arg, n) && (opts[i].cmds & which)) return &opts[i];
  return NULL;
}

/* One option at argv[*i]: "--opt value" or "--opt=value". */
static int parse_opt(CmdArgs *a, int argc, char **argv, int *i) {
  const char *arg = argv[*i], *eq = strchr(arg, '=');
  size_t n = eq && arg[1] == '-' ? (size_t)(eq - arg) : strlen(arg);
  const CmdOpt *o = find_opt(arg, n, a->which);
  if (!o)
    return cmd_fail("unknown option '%.*s' for 'dlc %s' (see 'dlc %s --help')", (int)n, arg, a->cmd, a->cmd);
  if (!o->meta) {
    if (n != strlen(arg)) return cmd_fail("option '%s' takes no value", o->name);
    return o->set(a, o->name, NULL);
  }
  const char *v = n != strlen(arg) ? arg + n + 1 : NULL;
  if (!v && *i + 1 < argc) v = argv[++*i];
  if (!v) return cmd_fail("option '%s' needs a value (%s) (see 'dlc %s --help')", o->name, o->meta, a->cmd);
  return o->set(a, o->name, v);
}

int cmd_parse(CmdArgs *a, const char *cmd, unsigned which, int argc, char **argv) {
  memset(a, 0, sizeof *a);
  a->cmd = cmd, a->which = which, a->embed_max = CGEN_EMBED_DEFAULT;
  a->passes = pass_options(2);
  a->runs = 50, a->warmup = 5, a->epochs = 5;
  a->micro = which & (CMD_COMPILE | CMD_RUN | CMD_BENCH) ? -1 : 0; /* --micro-batch auto */
  optim_named("adam", &a->optim);
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      a->help = true;
      return 0;
    }
    if (arg[0] == '-' && arg[1]) {
      if (parse_opt(a, argc, argv, &i)) return 1;
    } else if (a->model) {
      return cmd_fail("unexpected argument '%s': one model at a time (see 'dlc %s --help')", arg, cmd);
    } else {
      a->model = arg;
    }
  }
  if (!a->model && !a->list_ops) return cmd_fail("'dlc %s' needs a model file (see 'dlc %s --help')", cmd, cmd);
  if (!a->fuse_given) a->passes.fuse = pass_options(a->passes.opt_level).fuse;
  if (a->threads > 1 && a->cuda) return cmd_fail("--threads is for the C target (the GPU runs its own threads)");
  if (a->threads > 1 && a->cpu_clock)
    return cmd_fail("--clock cpu counts the calling thread alone: time --threads %d by the wall clock", a->threads);
  return 0;
}

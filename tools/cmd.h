/* cmd.h — the dlc command's parts, private to tools/.
 *
 * Sections: the parsed command line (cmd_args.c), loading a model (cmd_load.c), the
 * commands (cmd_compile.c, cmd_run.c, cmd_dump.c, cmd_dot.c, ...), inputs and outputs of `run`
 * (cmd_io.c), the comparison with the interpreter (cmd_check.c).
 *
 * Every command returns the process's exit status; a user error is reported by
 * cmd_fail as one line, "dlc: error: ...", and gives 1.
 */
#ifndef DLC_CMD_H
#define DLC_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "cgen.h"
#include "dlc_err.h"
#include "frontend.h"
#include "passes.h"
#include "split_load.h"

/* ---- the command line (cmd_args.c) ------------------------------------------------ */

/* Which commands an option belongs to. */
enum { CMD_COMPILE = 1, CMD_RUN = 2, CMD_DUMP = 4, CMD_BENCH = 8, CMD_TRAIN = 16, CMD_DOT = 32 };

typedef struct CmdInput { /* --input NAME=FILE.npy */
  const char *name;
  const char *path;
} CmdInput;

typedef struct CmdArgs {
  const char *cmd;       /* "compile", "run", "dump" */
  unsigned which;        /* CMD_* of cmd */
  const char *model;     /* the one positional argument; "-" is stdin */
  LoadOptions load;      /* --batch, --dim, --shape */
  PassOptions passes;    /* -O0/-O1/-O2, --fuse, --no-fuse, --print-after */
  bool fuse_given;       /* --fuse or --no-fuse: else the level's default */
  const char *after;     /* dump, dot --after PASS */
  /* compile */
  const char *out;       /* -o OUT.c; dot: -o OUT.dot */
  const char *name;      /* --name */
  int64_t embed_max;     /* --embed-max, else CGEN_EMBED_DEFAULT */
  int weights_as;        /* --weights-as: a CgenWeightsAs */
  bool stats;            /* --stats */
  const char *dynamic[DYN_MAX_DIMS]; /* --dynamic NAME<=MAX[:S1,..] or NAME=S1,S2,.. (passes/dynamic.c) */
  int ndynamic;
  int64_t micro;         /* --micro-batch: samples per part; 0: off, -1: auto (the default) */
  /* compile, run */
  bool cuda;             /* --target cuda (else c) */
  const char *cuda_arch; /* --cuda-arch sm_XY: the PTX of --cuda-aot (default sm_80) */
  bool cuda_aot;         /* --cuda-aot: PTX compiled now and embedded */
  /* run */
  int ninputs;
  CmdInput inputs[LOAD_MAX_BIND];
  const char *output_dir; /* --output DIR */
  uint64_t seed;          /* --seed */
  bool check;             /* --check */
  const char *cflags;     /* --cflags */
  const char *cpu;        /* --cpu (NULL: $DLC_CPU, else native) */
  int threads;            /* --threads T (0: not given, one thread) */
  bool keep;              /* --keep: keep the jit folder */
  /* bench */
  const char *compare;    /* --compare fused,unfused (variants) */
  const char *at;         /* --at 1,32: with --dynamic, the sizes bench times */
  int runs, warmup;       /* --runs, --warmup */
  bool json;              /* --json */
  bool cpu_clock;         /* --clock cpu: the thread's CPU time, else wall time */
  const char *plot;       /* --plot OUT.svg: a bar chart of the variants */
  bool profile;           /* --profile: the time of each kernel */
  /* compile --train, train (docs/TRAINING.md) */
  bool train;             /* --train */
  LossKind loss;          /* --loss (default ce) */
  bool loss_given;
  Optim optim;            /* --optimizer NAME:k=v,.. (default adam), --schedule */
  bool optim_given, sched_given;
  double lr;              /* --lr, else 0: the optimizer's */
  const char *data;       /* --data fashion-mnist */
  int epochs;             /* --epochs (default 5) */
  int64_t limit;          /* --limit N: train on the first N samples of each epoch's order */
  const char *out_dir;    /* --out DIR */
  bool help;              /* --help was given: print it and stop */
  bool list_ops;          /* compile --list-ops: print what is supported and stop */
  char pool[4096];        /* the names inside NAME=VALUE options */
  size_t npool;
} CmdArgs;

/* A copy of s[0..n) in a's string pool (nothing to free); NULL when the pool is full. */
const char *cmd_keep_name(CmdArgs *a, const char *s, size_t n);
/* Parses argv (after the command word).  0, or 1 after printing the error. */
int cmd_parse(CmdArgs *a, const char *cmd, unsigned which, int argc, char **argv);
void cmd_help(const char *cmd, unsigned which, const char *usage, const char *what);

/* Prints "dlc: error: <msg>" as one line and returns 1, the exit status. */
int cmd_fail(const char *fmt, ...) DLC_PRINTF(1, 2);

/* ---- loading (cmd_load.c) ---------------------------------------------------------- */

/* Reads and verifies the model a names; NULL with e set. */
Graph *cmd_load(const CmdArgs *a, DlcErr *e);
/* --dynamic: the model built at every combination of the run-time dimensions' sizes,
 * checked and joined (passes/dynamic.c); d filled.  NULL with e set. */
Graph *cmd_load_dynamic(const CmdArgs *a, DynInfo *d, DlcErr *e);
/* --micro-batch (split_load.h): split_build with the model of a reloaded at a part's
 * samples; training, CUDA and --dynamic run whole (an explicit part is an error). */
int cmd_load_split(const CmdArgs *a, const Graph *big, SplitBuild *sp, DlcErr *e);
/* The model with d's run-time dimensions bound to sz (--dim NAME=SIZE each, and --batch
 * for `batch`, which also binds an unnamed leading dimension). */
Graph *cmd_load_sizes(const CmdArgs *a, const DynInfo *d, const int64_t *sz, DlcErr *e);

/* ---- commands ------------------------------------------------------------------------ */

int cmd_compile(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_dot(int argc, char **argv);   /* cmd_dot.c */
int cmd_bench(int argc, char **argv); /* cmd_bench.c */
/* bench --dynamic: the dynamic build against static builds at each --at size (cmd_bench_dyn.c) */
int cmd_bench_dynamic(const CmdArgs *a);
uint64_t cmd_thread_cpu_ns(void); /* the calling thread's CPU time (cmd_bench.c) */
int cmd_train(int argc, char **argv); /* cmd_train.c */

/* ---- training steps (cmd_train_graph.c) ---------------------------------------------- */

/* The training steps of a model loaded with a->load.train: its own training statements,
 * else the default of --loss and --optimizer; --optimizer, --lr and --schedule applied
 * to every statement (a schedule without steps= runs over `steps`, the run's steps,
 * when known); then pass_train.  0, or -1 with e set. */
int cmd_train_graph(Graph *g, const CmdArgs *a, int64_t steps, DlcErr *e);
/* What cmd_train_graph refuses before it builds anything (--loss with statements). */
int cmd_train_check(const Graph *g, const CmdArgs *a, DlcErr *e);

/* ---- run's inputs and outputs (cmd_io.c) ---------------------------------------------- */

/* Buffers for the graph's inputs, from --input files or seeded random values. */
int cmd_inputs(const Graph *g, const CmdArgs *a, void **bufs, DlcErr *e);
/* One line on stderr saying which inputs were random, after a successful run, so that
 * a failing run still prints one line only. */
void cmd_note_random(const Graph *g, const CmdArgs *a);
void *cmd_alloc_value(const Node *n); /* numel elements of n's dtype, zeroed */
/* The str outputs' strings copied to memory that lives until exit (they pointed into
 * the model, which jit_free releases).  0, or -1 with e set. */
int cmd_own_strings(const Graph *g, void *const *outs, DlcErr *e);
void cmd_print_output(const char *name, const Node *n, const void *data);
int cmd_save_outputs(const Graph *g, const char *dir, void *const *outs, DlcErr *e);
/* Output j as the caller sees it: *view its node with the real length along an axis the
 * data decides (ir_output_extent), and the compacted values (malloc'd; free them), or
 * NULL when outs[j] is that already. */
void *cmd_output_view(const Graph *g, int j, void *const *outs, Node *view);
const char *cmd_output_name(const Graph *g, int j, char *buf, size_t n);

/* ---- comparing with the reference interpreter (cmd_check.c) ---------------------------- */

/* Runs interp_run on the same inputs and compares; 0 if every output agrees, 1 if one
 * does not (after printing the report), -1 with e set if the interpreter failed. */
int cmd_check(const Graph *g, void *const *inputs, void *const *outputs, DlcErr *e);

#endif

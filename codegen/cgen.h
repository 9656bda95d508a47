/* cgen.h — code generators.  They read a graph, its schedule and its plan, and nothing
 * else; they never change the graph. */
#ifndef DLC_CGEN_H
#define DLC_CGEN_H

#include <stdio.h>

#include "ir.h"
#include "passes.h"

/* A CPU the C backend writes code for (codegen/c/target.c; dlc --cpu). */
typedef struct CpuTarget {
  const char *name, *desc;
  const char *cflags; /* what dlc run, bench and train give the C compiler for it */
  const char *guard;  /* preprocessor condition the compiler must meet; NULL: any */
  const char *attr;   /* the kernels' __attribute__((target(..))); NULL: none */
  const char *check;  /* C expression, true when the running CPU has the ISA; NULL: any */
  int vw;             /* floats per vector of its intrinsics; 0: plain C loops */
  int mr, nr;         /* the register tile of f32 products: rows, columns */
  const char *const *vmacros; /* DLC_VF, DLC_VLOAD, .. for the tile */
  int nvmacros;
  int mm_wide;        /* >1: matmul's tiles are MR / mm_wide rows over mm_wide panels */
} CpuTarget;

const CpuTarget *cgen_cpu_find(const char *name);    /* NULL: no such target */
const CpuTarget *cgen_cpu_native(void);              /* the host's */
/* A name, "native" (the host's), or NULL: the environment's DLC_CPU, else native. */
const CpuTarget *cgen_cpu_resolve(const char *name);
/* The compiler flags for that choice: "-march=native" for the host, else the row's. */
const char *cgen_cpu_cflags(const char *name);
void cgen_cpu_list(FILE *f);                         /* one line per target */
bool cgen_cpu_runs_here(const CpuTarget *t);         /* code for t runs on this CPU */

/* How embedded weights (and matmul's packed panels) enter the build. */
typedef enum CgenWeightsAs {
  CGEN_WEIGHTS_INCBIN,  /* bytes in a blob beside the code (model.bin), linked by the
                           assembler's .incbin: gcc or clang on ELF (or Mach-O) */
  CGEN_WEIGHTS_C_ARRAY, /* static arrays of exact C literals in the code: any C99 compiler,
                           slow to compile for large models */
} CgenWeightsAs;

/* --micro-batch: the model of `total` samples runs as total / part parts on the model
 * built for `part` samples (g, through the pipeline: s, p).  io: the whole model's
 * inputs, then outputs, as dyn_split_check laid them out (samples outermost). */
typedef struct CgenSplit {
  const Graph *g;
  const Schedule *s;
  const Plan *p;
  int64_t total, part;
  const DynIO *io;
} CgenSplit;

typedef enum CgenProfile { CGEN_PROFILE_NONE, CGEN_PROFILE_WALL, CGEN_PROFILE_CPU } CgenProfile;

/* A kernel's name in the generated code ("k29_epilogue": its last node's id and its
 * kind, or the op of a single-node kernel), the name NAME_profile's entries go by. */
void cgen_kernel_label(const Graph *g, const Kernel *k, char *buf, size_t n);

typedef struct CgenOptions {
  const char *name;         /* prefix of every public symbol: a C identifier */
  const char *header_name;  /* what model.c #includes, e.g. "model.h" */
  int64_t embed_max_bytes;  /* weights up to this size are embedded, else in a weights file */
  const CpuTarget *cpu;     /* the C backend's target; NULL: the host's */
  CgenWeightsAs weights_as; /* how embedded weights are written */
  const char *blob_name;    /* the blob's name in .incbin, found beside the code through
                               -I (NULL: header_name with .bin for .h, "model.bin") */
  /* --dynamic: the graph joins one build per size (dyn_merge); `name` names the joined
   * module (its symbols are internal) and dyn_name the public one around it. */
  const DynInfo *dyn;
  const char *dyn_name;
  /* The graph given is the whole batch's, for its interface; the code runs `split` (C
   * only; not with dyn). */
  const CgenSplit *split;
  /* dlc bench --profile: NAME_run times each kernel it calls into a table that
   * `int64_t *NAME_profile(int *n)` returns (nanoseconds summed over runs, one entry per
   * kernel of the schedule, in its order; the caller may zero it).  Not with dyn or
   * split. */
  CgenProfile profile;
} CgenOptions;

#define CGEN_EMBED_DEFAULT (16 << 20)

/* Writes the C source, its header and, into `weights`, the data file when there is
 * one: the weights file (cgen_c_needs_weights_file) or the blob that the code links
 * (cgen_c_needs_blob); else `weights` is untouched and may be NULL.
 * 0, or -1 with e set. */
int cgen_c(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, FILE *c,
           FILE *h, FILE *weights, DlcErr *e);
/* The options both backends accept: name a C identifier, header_name safe in #include. */
int cgen_check_options(const CgenOptions *o, DlcErr *e);
/* Whether cgen_c would write a weights file for g under o: read by NAME_init at run time. */
int cgen_c_needs_weights_file(const Graph *g, const Plan *p, const CgenOptions *o);
/* Whether cgen_c would write a blob for g under o: embedded weights (and packed panels)
 * that the code links with .incbin at build time, so needed when the .c is compiled. */
int cgen_c_needs_blob(const Graph *g, const Plan *p, const CgenOptions *o);
/* The blob's file name (o->blob_name, or the one derived from header_name) in buf. */
const char *cgen_blob_name(const CgenOptions *o, char *buf, size_t n);

/* ---- CUDA (codegen/cuda, docs/CUDA.md) ---- */

typedef struct CudaOptions {
  const char *aot_arch; /* "sm_90": compile the kernels to PTX now (NVRTC) and embed it;
                           NULL: embed the CUDA C, compiled by NVRTC in NAME_init */
} CudaOptions;

/* The same files as cgen_c, same header interface (plus NAME_ERR_DEVICE and
 * NAME_device_error): host C that runs the kernels on a GPU through libdlcrt's CUDA
 * loader.  0, or -1 with e set (an op without a CUDA kernel names the op). */
int cgen_cuda(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o,
              const CudaOptions *cu, FILE *c, FILE *h, FILE *weights, DlcErr *e);
/* The kernels alone, as the CUDA C that NVRTC compiles (malloc'd into *src). */
int cgen_cuda_source(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o,
                     char **src, DlcErr *e);

#endif

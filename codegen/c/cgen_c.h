/* cgen_c.h — the C backend's private interface.
 *
 * Sections, in order: the emitter state, writing text, loops and index expressions,
 * literals and names, the parts of the generated file (one file each), and the kernel
 * emitters (one per IMPL family of ops.def, one file per family or two).
 *
 * A kernel emitter writes the body of one kernel function.  Inside it, operand i is
 * the pointer `a<i>` and the result is `y`; shapes and dtypes are baked in as
 * constants.  Elementwise families also expose their expression (cgen_elem_expr) so
 * that a fused kernel can chain them in one loop. */
#ifndef DLC_CGEN_C_H
#define DLC_CGEN_C_H

#include <stdbool.h>

#include "cgen.h"

/* ---- the emitter state ---------------------------------------------------------- */

typedef struct CEmit {
  const Graph *g;
  const Schedule *s;
  const Plan *p;
  const CgenOptions *o;
  FILE *f;            /* where text goes: the .c, or the header while it is written */
  DlcErr *e;
  bool embedded;      /* weights in the code (a linked blob or static arrays); else read
                         from a file by NAME_init */
  bool incbin;        /* embedded as a blob linked by .incbin (below); else C arrays */
  unsigned char *blob; /* with incbin, the data: the weight block, then packed panels */
  size_t blob_len, blob_cap; /* bytes used (a multiple of 64) and allocated */
  struct CgenData *data; /* what cgen_c_data wrote, to write equal data once */
  int ndata, data_cap;
  bool device;        /* a device backend (CUDA): NAME_ERR_DEVICE and NAME_device_error */
  bool mutable_weights; /* the graph has training steps: the weights live in m->weights,
                           which the steps update (embedded arrays are copied there) */
  char uname[128];    /* o->name in upper case: the prefix of macros and status codes */
  const CpuTarget *cpu; /* o->cpu, or the host's */
  int64_t scratch_at;   /* where the kernels' scratch starts in m->arena (after the plan's) */
  int64_t scratch_bytes; /* the most scratch one kernel uses (tile.h) */
  int64_t heap_at;      /* where the string heap starts in m->arena (strings.c) */
  int64_t heap_bytes;   /* its bytes, with its head; 0: no kernel makes strings */
  bool *used;           /* per node: read by a kernel or copied out (cgen_tables) */
  const Node **pack_mm; /* per node: a weight packed at init, its first matmul (pack.c) */
  int64_t *pack_at;     /*   and where its panels start after the weight block */
  int64_t pack_at_total; /* the bytes of all packed panels */
  int64_t split_arena;  /* --micro-batch's public header: the inner module's arena bytes */
  int vtile_nr[2];      /* the panel widths the tile functions were written for (tile.c;
                           0: none): a tile of another width is written inline */
} CEmit;

/* The per-node tables above, computed once (each a pass over the graph): 0, or -1
 * with ce->e set.  cgen_tables_free releases them. */
int cgen_tables(CEmit *ce);
void cgen_tables_free(CEmit *ce);

#define CGEN_EXPR_MAX 1024

/* ---- writing text (text.c) ------------------------------------------------------ */

void cgen_printf(CEmit *ce, const char *fmt, ...) DLC_PRINTF(2, 3);
/* The generated-code budget (ir_limits.code_bytes, --max-code-bytes): 0, or -1 with the
 * error once ce->f holds more; checked after each kernel, so that a small model cannot
 * make dlc write gigabytes. */
int cgen_code_budget(CEmit *ce);
int64_t cgen_unique_scratch(const CEmit *ce, const Node *n); /* dynamic.c: bytes of ws */
int64_t cgen_nms_scratch(const CEmit *ce, const Node *n);
/* One line indented by `depth` levels; the newline is added. */
void cgen_line(CEmit *ce, int depth, const char *fmt, ...) DLC_PRINTF(3, 4);
/* lines[0..n) as they are, each followed by a newline: fixed text such as macros. */
void cgen_lines(CEmit *ce, const char *const *lines, size_t n);
const char *cgen_shape(const Shape *s, char *buf, size_t n); /* "[2,3]" */
/* A name made safe inside a C comment (no "*" "/", no control characters). */
const char *cgen_comment_name(const char *name, char *buf, size_t n);
/* A user-given string as a C string literal, quotes included: every name from a model
 * file goes through here (escapes '?' against trigraphs, quotes, backslashes, control
 * and non-ASCII bytes). */
void cgen_c_string(FILE *f, const char *s, size_t len);
void cgen_str(CEmit *ce, const char *s); /* NULL: "" */
/* `name` as a C identifier: other characters become '_'; upper-cased when asked. */
void cgen_ident(const char *name, bool upper, char *buf, size_t n);
const Node *cgen_in(const CEmit *ce, const Node *n, int i);
const char *cgen_ctype(const Node *n);

/* ---- loops and index expressions (loops.c) -------------------------------------- */

/* Opens one `for` per dimension of s, variables <var>0, <var>1, ...; returns the depth
 * inside them.  cgen_loops_close closes what cgen_loops_open opened. */
int cgen_loops_open(CEmit *ce, const Shape *s, const char *var, int depth);
void cgen_loops_close(CEmit *ce, int rank, int depth);
/* cgen_loops_open, with DLC_PARALLEL_FOR on the loop cgen_par_dim picks when `par`. */
int cgen_loops_open_par(CEmit *ce, const Shape *s, const char *var, int depth, bool par);
/* The dimension of s whose loop threads share: the first of at least 4 iterations with
 * few iterations outside it (each of which opens the threads again), else the first
 * longer than 1; -1 when none is. */
int cgen_par_dim(const Shape *s);

/* A sum of constant-strided loop variables: "i0 * 12 + i1 * 4 + 7". */
typedef struct CgenIndex {
  char s[CGEN_EXPR_MAX];
  int64_t base;
} CgenIndex;
void cgen_index_init(CgenIndex *ix, int64_t base);
void cgen_index_add(CgenIndex *ix, const char *var, const int64_t *st, int rank);
const char *cgen_index_str(CgenIndex *ix); /* "0" when empty */

/* Strides that read `in` as if broadcast to `out` (numpy: align right, size-1 dims
 * repeat with stride 0). */
void cgen_bcast_strides(const Shape *in, const Shape *out, int64_t *st);

/* ---- literals (literal.c) ------------------------------------------------------- */

/* v, a value of dtype t, as an exact C literal: hex floats, NAN/INFINITY, integers
 * that survive -pedantic (INT64_MIN is written as an expression). */
void cgen_literal(DType t, double v, char *buf, size_t n);
void cgen_literal_i64(int64_t v, char *buf, size_t n); /* exact beyond 2^53 */

/* ---- the parts of the generated files ------------------------------------------- */

int cgen_c_header(CEmit *ce);                   /* header.c: the user interface */
const Node *cgen_io_node(const CEmit *ce, int which, bool output);
const char *cgen_io_name(const CEmit *ce, int which, bool output);
void cgen_param_name(const CEmit *ce, int which, bool output, char *buf, size_t n);
void cgen_typed_params(CEmit *ce); /* ", const float *x, float *y" */
void cgen_c_prelude(CEmit *ce);                 /* prelude.c: includes, helpers */
int cgen_c_weights(CEmit *ce, FILE *weights);   /* weights.c: blob, arrays or the file */
/* After the kernels: the blob file into `weights`, its .incbin and dlc_blob_check. */
int cgen_c_weights_end(CEmit *ce, FILE *weights);
void cgen_blob_free(CEmit *ce);
/* Constant data that the kernels read under `name` (a const T * expression): with
 * incbin, count values of dtype t appended to the blob at a 64-byte aligned offset and
 * `#define name` pointing there; else a static array of exact literals.  Data equal to
 * earlier data (the same B packed for each step of an unrolled RNN) is not written
 * again: `#define name <the earlier name>`. */
int cgen_c_data(CEmit *ce, const char *name, DType t, const void *vals, int64_t count, const char *comment);
const char *cgen_weight_name(const Node *n, char *buf, size_t n_buf);
uint64_t cgen_fnv1a(const unsigned char *p, size_t n, uint64_t h);
int cgen_c_kernels(CEmit *ce);                  /* kernel.c: one function per kernel */
void cgen_c_api(CEmit *ce);                     /* api.c: run, infer, init, free */
void cgen_c_infer(CEmit *ce); /* NAME_infer: the typed face of NAME_run (api.c) */
/* A static FNAME(m, in, out) running only the kernels outputs out0..out0+nout-1 need,
 * then their copies (api.c; one size of a --dynamic build). */
void cgen_c_run_part(CEmit *ce, const char *fname, int out0, int nout);
/* The interface of a --dynamic build around the joined graph (dyn_api.c). */
void cgen_c_dyn(CEmit *ce, FILE *h);
/* The same for either backend: part(ctx, ce, fname, out0, nout) writes
 * `static int fname(NAME *m, const void *const *in, void *const *out)`, which runs the
 * build whose outputs are out0 .. out0 + nout - 1 of the joined graph. */
typedef void (*CgenRunPart)(void *ctx, CEmit *ce, const char *fname, int out0, int nout);
void cgen_dyn_api(CEmit *ce, FILE *h, CgenRunPart part, void *ctx);
/* NAME_ARENA_BYTES: the plan's values, then the kernels' scratch, then the string heap. */
int64_t cgen_arena_total(const CEmit *ce);
/* cgen_c for one module; *arena (when not NULL) gets its NAME_ARENA_BYTES. */
int cgen_c_module(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, FILE *c, FILE *h,
                  FILE *weights, int64_t *arena, DlcErr *e);
/* --micro-batch (split_api.c): the inner module for the part, then the public one. */
int cgen_c_split(const Graph *g, const Schedule *s, const Plan *p, const CgenOptions *o, FILE *c, FILE *h,
                 FILE *weights, DlcErr *e);
/* The C expression for node id's buffer inside NAME_run, cast to its pointer type. */
void cgen_loc_expr(const CEmit *ce, int id, bool writable, char *buf, size_t n);
bool cgen_is_used(const CEmit *ce, int id);     /* read by a kernel or copied out */
bool cgen_kernel_can_fail(const CEmit *ce, const Kernel *k);
bool cgen_same_buffer(const CEmit *ce, int a, int b);
void cgen_kernel_call(CEmit *ce, const Kernel *k); /* "  kname(a, b, y);" (api.c) */

/* ---- the target CPU (target.c) ---------------------------------------------------- */

/* The target's vector macros, DLC_KERNEL (the kernels' attribute) and DLC_CPU_OK(). */
void cgen_cpu_prelude(CEmit *ce);
bool cgen_tile_vector(const CEmit *ce, DType t); /* the tile uses the target's intrinsics */
int cgen_tile_mr(const CEmit *ce, DType t);      /* register tile rows */
int cgen_tile_nr(const CEmit *ce, DType t);      /* register tile columns */
/* A panel of one vector, for products with few columns (tile.c), or 0 where the tile
 * is one vector wide already or not vectorised. */
int cgen_tile_nr_narrow(const CEmit *ce, DType t);
int cgen_tile_wide(const CEmit *ce, DType t);    /* matmul: panels side by side in a tile (1: one) */
typedef enum { INT8_PLAIN, INT8_MADD256, INT8_MADD512, INT8_VNNI } CgenInt8;
CgenInt8 cgen_int8_isa(const CEmit *ce);         /* how matmul_int's tile computes (matmul_int.c) */
int64_t matmul_int_scratch(const CEmit *ce, const Node *n); /* its kernel's scratch bytes */
/* Before kernel k: the int8 helpers (before the first such kernel) and the B of each
 * matmul_int of k baked in panels.  0, or -1 with ce->e set. */
int matmul_int_before(CEmit *ce, const Kernel *k);

/* ---- threads (threads.c) ------------------------------------------------------------ */

/* Loops with less work than this stay serial: waking the threads costs more. */
#define CGEN_PAR_MIN_FLOPS (1 << 19)
void cgen_c_threads(CEmit *ce);     /* the DLC_PARALLEL_FOR macro, after the prelude */
void cgen_c_threads_api(CEmit *ce); /* NAME_set_threads */
bool cgen_par_worth(double flops);  /* whether a loop of this much work is shared */
void cgen_par_for(CEmit *ce, int depth); /* marks the loop written next */
/* Threads of a loop whose iterations use per-thread scratch, DLC_SLOT() of them. */
#define CGEN_SLOTS 8
void cgen_par_for_slots(CEmit *ce, int depth);
/* Whether a memory-bound loop over `elems` elements, each worth `cost` flops, is
 * shared: a copied element counts CGEN_PAR_COPY (a measured break-even, see
 * docs/PERFORMANCE.md "Threads"). */
#define CGEN_PAR_COPY 8.0
bool cgen_par_elems(int64_t elems, double cost);

/* ---- scratch (kernel.c) ------------------------------------------------------------- */

/* Bytes of scratch kernel k uses (im2col blocks, copied panels), 0 for none: it gets
 * `unsigned char *restrict ws`, m->arena + ce->scratch_at, as its last parameter. */
int64_t cgen_kernel_scratch(const CEmit *ce, const Kernel *k);
int64_t cgen_scratch_bytes(const CEmit *ce); /* the most of any kernel */

/* ---- training steps (train_step.c, train_params.c) -------------------------------- */

/* Whether NAME_infer takes input `which`: every input, or, in a graph with training
 * steps, those the model's own outputs read. */
bool cgen_infer_input(const CEmit *ce, int which);
/* Per kernel: whether it computes something that outputs[0..n) need (malloc'd). */
bool *cgen_needed_kernels(const CEmit *ce, const int *outputs, int n);
/* Whether the values outputs[0..n) need read input `which`. */
bool cgen_reads_input(const CEmit *ce, const int *outputs, int n, int which);
/* The node ids of step k's outputs into ids (room for nupd + 1): its loss, then, with
 * update, the new values of its parameters and state.  Returns their count. */
int cgen_step_outputs(const CEmit *ce, int k, bool update, int *ids);
void cgen_c_train_header(CEmit *ce); /* the steps' and parameters' prototypes */
void cgen_c_train(CEmit *ce);        /* the step functions (train_step.c) */
/* NAME_<step>_step, NAME_<step>_loss, NAME_step and NAME_step_name over the bodies
 * `static int dlc_step<k>_update|loss(NAME *m, const void *const *in, float *loss)`
 * that the backend wrote before (train_step.c; both backends). */
void cgen_train_faces(CEmit *ce);
void cgen_c_train_params(CEmit *ce); /* NAME_save, NAME_load, NAME_param (train_params.c) */
/* The table of parameters (dlc_params, DLC_NUM_PARAMS) and the static helpers that
 * write and read one record of the parameters' file over a weight block:
 * dlc_save_one(FILE *, const unsigned char *w, const struct dlc_param *) and
 * dlc_load_one(FILE *, unsigned char *w) (both backends). */
void cgen_param_io(CEmit *ce);
/* Copies the embedded weights into m->weights and makes the outputs' scratch:
 * `static int dlc_train_init(NAME *m)`, emitted before NAME_init. */
void cgen_c_train_init(CEmit *ce);
/* Whether a training model embeds node n's values as a C array, which dlc_train_init
 * copies into m->weights: every PARAM and CONST but those of zeros (calloc's).  A blob
 * (incbin) is copied whole instead. */
bool cgen_train_embeds(const CEmit *ce, const Node *n);

/* ---- kernel emitters ------------------------------------------------------------ */

/* One per IMPL family: writes the body of node n's kernel.  0, or -1 with ce->e set. */
#define OP(id, name, nin, impl, types, result, attrs, scalar, cexpr, grad) \
  int cgen_##impl(CEmit *ce, const Node *n);
#include "ops.def"
#undef OP

/* What a kernel needs at file scope before its function: the FMA macro and the
 * weights packed in panels of a tiled matmul or conv (pack.c). */
int cgen_before_kernel(CEmit *ce, const Kernel *k);

/* The C expression of an elementwise node with its operands' expressions in `opnd`. */
void cgen_elem_expr(const CEmit *ce, const Node *n, const char *const *opnd, char *buf,
                    size_t size);
/* The sliding window of conv and pool (conv.c): spatial sizes, attributes, strides. */
typedef struct Win {
  int nsp;
  const int64_t *in, *k, *out; /* spatial sizes of x, the kernel, y */
  const int64_t *stride, *pad, *dil;
  int64_t in_st[IR_MAX_RANK], k_st[IR_MAX_RANK], out_st[IR_MAX_RANK];
  int64_t in_plane, k_plane, out_plane;
} Win;
Win cgen_window(const Node *n, const Shape *x, const int64_t *kernel);
/* Opens one loop per tap dimension (k<d>), computing p<d> from q<d> and skipping taps
 * in the padding; returns the depth inside.  Close with cgen_loops_close(nsp). */
int cgen_window_taps(CEmit *ce, const Win *w, int depth);

/* A float sum kept in CGEN_SUM_LANES partial sums part[] (reduce.c, fused_reduce.c),
 * element j of its last axis in lane j % CGEN_SUM_LANES: a power of two. */
enum { CGEN_SUM_LANES = 8 };
/* "acc = " the lanes added as a balanced tree, at depth. */
void cgen_sum_lanes_total(CEmit *ce, int depth);

/* A reduction's accumulator start (the cexpr column before ';', as a literal of the
 * accumulator type) and its combine with the accumulator `acc` and element x. */
void cgen_reduce_identity(const Node *n, char *buf, size_t size);
void cgen_reduce_combine(const Node *n, const char *x, char *buf, size_t size);

/* The saturating float to integer helper for dtype t, e.g. "dlc_sat_i32". */
const char *cgen_sat_name(DType t);
/* f16 and bf16 (half.c): the helper that widens one to float, the call that rounds an
 * operand `x` of dtype `from` to one; cgen_half_helpers writes those the graph's casts
 * call, each `qual` (static, or static __device__ for CUDA). */
const char *cgen_half_from(DType t);
void cgen_half_to(DType from, DType t, int round, const char *x, char *buf, size_t size);
void cgen_half_helpers(CEmit *ce, const char *qual);

/* Whether elementwise node n calls one of dlc's f32 functions (its cexpr has '@', its
 * operands are f32, the target is C), and those the kernels call, written into the
 * prelude (vecmath.c). */
bool cgen_vecmath_used(const CEmit *ce, const Node *n);
void cgen_c_vecmath(CEmit *ce);

/* ---- strings (strings.c) ------------------------------------------------------------ */

#define CGEN_HEAP_HEAD 16              /* the heap's bytes used, before its strings */
bool cgen_graph_has_str(const Graph *g);
bool cgen_kernel_heap(const CEmit *ce, const Kernel *k); /* takes `heap`: makes strings */
int64_t cgen_heap_bytes(const CEmit *ce);  /* the heap with its head, 0 for none */
void cgen_str_prelude(CEmit *ce);          /* the heap's and the case mapping's helpers */
int cgen_str_const(CEmit *ce, const Node *n); /* a str constant as string literals, dlc_w<id> */
/* str_match: the kernel's regex (takes `const regex_t *re`, m->re[index]), or -1; the
 * model's count; their regcomp calls in NAME_init. */
int cgen_kernel_regex(const CEmit *ce, const Kernel *k);
int cgen_regex_count(const CEmit *ce);
void cgen_regex_init(CEmit *ce);
/* A kernel whose failure is NAME_ERR_STRINGS (a full heap, a split over its bound, a
 * string a pattern cannot match). */
bool cgen_kernel_strings_fail(const CEmit *ce, const Kernel *k);

/* ---- kernels of several nodes (fused*.c) ------------------------------------------ */

/* The values kernel k reads from outside, in the order its function takes them (a0,
 * a1.., or seq_in0.. for SEQ): for SINGLE, its node's operands as they are; for the other
 * kinds each value once, in order of first use, a view's operand standing for the
 * view.  ids has room for every operand slot of k's nodes.  Returns the count. */
int cgen_kernel_inputs(const CEmit *ce, const Kernel *k, int *ids);
int cgen_kernel_input_index(const CEmit *ce, const Kernel *k, int id); /* -1: not read */
/* A RESHAPE of a loop-fused kernel, not its result, whose operand is outside k. */
bool cgen_is_view(const CEmit *ce, const Kernel *k, int id);
/* "k12_max" for SINGLE (k<result id>_<op>), "k12_row" (k<result id>_<kind>) else. */
void cgen_kernel_name(const CEmit *ce, const Kernel *k, char *buf, size_t n);
/* Whether NAME_run times its kernels (CgenOptions.profile, on the C backend's plain
 * module: not a --dynamic or --micro-batch build, not a device's). */
bool cgen_c_profiled(const CEmit *ce);
/* The body of a single node's kernel: its IMPL family's emitter (kernel.c). */
int cgen_node_body(CEmit *ce, const Node *n);

/* The index space a fused loop walks: `shape`, with loop variables <var>0, <var>1..,
 * or one flat variable <var> when every read covers the whole space or one element.
 * With nloop > 0 the loops are merged dimensions instead: loop j walks the run of
 * dimensions that ends at dimension last[j] (size loops.d[j]), which every read walks
 * with one constant stride. */
typedef struct CgenSpace {
  const Shape *shape;
  const char *var;
  bool flat;
  int nloop;
  int last[IR_MAX_RANK];
  Shape loops;
} CgenSpace;
/* The index of a read of shape s broadcast onto the space. */
void cgen_space_index(const CgenSpace *sp, const Shape *s, char *buf, size_t size);
/* Operand i of node n of kernel k, at the space's current index: "v<id>" for a value
 * of the kernel, "a<i>[index]" for one from outside (through a view's shape). */
void cgen_fused_operand(const CEmit *ce, const Kernel *k, const Node *n, int i, const CgenSpace *sp,
                        char *buf, size_t size);
/* "const T v<id> = expr;" for elementwise node n of kernel k. */
void cgen_fused_value(CEmit *ce, const Kernel *k, const Node *n, const CgenSpace *sp, int depth);
/* A reduction's accumulator start (a literal of the accumulator type: double for
 * floats, int64_t else) and "acc" combined with x (fused_reduce.c). */
const char *cgen_fused_acc_type(DType t);
void cgen_fused_acc_identity(const Node *red, char *buf, size_t size);
void cgen_fused_acc_combine(const Node *red, const char *x, char *buf, size_t size);

/* Bodies of the loop-fused kinds and of SEQ (fused.c, fused_reduce.c, fused_row.c,
 * fused_seq.c); KERNEL_EPILOGUE belongs to the matmul and conv emitters. */
int cgen_fused_elemwise(CEmit *ce, const Kernel *k);
int cgen_fused_reduce(CEmit *ce, const Kernel *k);
int cgen_fused_row(CEmit *ce, const Kernel *k);
int cgen_fused_seq(CEmit *ce, const Kernel *k);
/* KERNEL_EPILOGUE: the matmul or conv tile with the elementwise tail applied to each
 * sum before it is stored (epilogue.c). */
int cgen_epilogue(CEmit *ce, const Kernel *k);

#endif

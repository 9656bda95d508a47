/* cuda.h — the CUDA backend's private interface.
 *
 * The backend shares the C backend's emitter state (CEmit), its text and index
 * helpers, the elementwise templates (cgen_elem_expr over the cexpr column of
 * ops.def), the reductions' identities and combines, the header and the weights; it
 * overrides what runs on the device and the host code that drives it.
 *
 * Sections, in order: the emitter state and launches, the device source (device.c),
 * the schedule walk (kernels.c), indices and fused element chains (index.c), the
 * kernel emitters (one per IMPL family of ops.def), the host code (host.c, api.c).
 *
 * Inside a kernel the device buffer of node <id> is the parameter buf<id>, an element
 * value computed in registers is v<id>, and `IT` stands for the index type the
 * kernel's sizes need (ce->it: "int", or "int64_t" past 2^31 elements). */
#ifndef DLC_CUDA_H
#define DLC_CUDA_H

#include "../c/cgen_c.h"

/* ---- the emitter state and launches ---------------------------------------------- */

#define CUDA_BLOCK 256     /* threads per block of the grid-stride kernels */
#define CUDA_MAX_GRID 8192 /* blocks of a grid-stride kernel: the loop covers the rest */
#define CUDA_ARG_ERR (-1)  /* an argument that is the device's error flag (an int) */
#define CUDA_ARG_WS (-2)   /* an argument that is the kernel's workspace in the scratch buffer */

/* One __global__ function and how the host launches it. */
typedef struct CuLaunch {
  char name[64];     /* k<id>_<op>, after the node it computes */
  int nargs;
  int *args;         /* node ids whose device buffers are passed, the result last;
                        CUDA_ARG_ERR for the error flag */
  int64_t grid[3];   /* blocks in x, y, z */
  int block;         /* threads per block */
  int64_t ws_at;     /* CUDA_ARG_WS: the workspace's offset in the scratch buffer */
} CuLaunch;

typedef struct CuEmit {
  CEmit c;                 /* the shared state; c.f is the device source while it is written */
  const CudaOptions *opt;
  CuLaunch *l;             /* every launch, in schedule order */
  int nl, capl;
  int64_t *scratch;        /* per node id: offset in the scratch buffer, or -1 (the plan's place) */
  int64_t scratch_bytes;   /* the largest scratch a kernel run as a sequence needs */
  const char *it;          /* the index type of the kernel being written */
  const int *kids;         /* the nodes of the schedule kernel being written */
  int kn;
  int *kfirst;             /* per schedule kernel: its first launch; kfirst[nk] = nl */
  int64_t ws_at;           /* where in the scratch buffer a kernel's workspace starts: past
                              the values of the sequence being written (CUDA_ARG_WS) */
} CuEmit;

/* The launch of the nodes ids[0..n) (the result is the last): its arguments, its
 * index type, and its signature written; the caller writes the body and the "}". */
CuLaunch *cuda_begin(CuEmit *ce, const int *ids, int n);
/* The device address of node id inside NAME_run, e.g. "m->arena + 128". */
void cuda_dev_addr(const CuEmit *ce, int id, char *buf, size_t n);

/* ---- the device source ------------------------------------------------------------ */

void cuda_device_prelude(CuEmit *ce);                 /* device.c: types, macros, casts */
int cuda_kernels(CuEmit *ce);                         /* kernels.c: every kernel */

/* ---- indices and element chains (index.c) ----------------------------------------- */

/* for (IT var = global thread; var < count; var += all threads) {  — sets l's grid
 * and block; returns the depth inside. */
int cuda_grid_loop(CuEmit *ce, CuLaunch *l, const char *var, int64_t count, int depth);
/* for (IT var = blockIdx.x; var < count; var += gridDim.x) {  — one block per item. */
int cuda_block_loop(CuEmit *ce, CuLaunch *l, const char *var, int64_t count, int block, int depth);
/* const IT <var><d> = flat / stride % dim;  for each d with need[d] (NULL: all). */
void cuda_unravel(CuEmit *ce, const Shape *s, const char *flat, const char *var, const bool *need,
                  int depth);

/* A chain: the kernel's nodes ids[0..n) evaluated in order at one element, each as
 * `const T v<id> = ...;`, reading operands among them, or among known[0..nknown) (values
 * the caller already put in v<id>), from registers. */
typedef struct CuRegs {
  const int *ids;
  int n;
  const int *known;
  int nknown;
} CuRegs;

/* Writes the chain at the element of `space` whose flat index is `flat`; loads from
 * memory are broadcast onto space through coordinates <var><d>, unravelled as needed.
 * Views (cuda_is_view) are never computed: a use reads the viewed buffer in place.
 * Opens no scope: once per scope, or with a distinct var prefix. */
void cuda_chain(CuEmit *ce, const CuRegs *r, const Shape *space, const char *flat, const char *var,
                int depth);
/* The expression of operand a at that element: a register, or a load (a view's reads
 * its operand's buffer through the view's own shape). */
void cuda_operand(CuEmit *ce, int a, const CuRegs *regs, const Shape *space, const char *flat,
                  const char *var, char *buf, size_t size);
/* A RESHAPE of the current kernel whose operand is outside it (passes.h: views). */
bool cuda_is_view(const CuEmit *ce, int id);

/* ---- kernel emitters ------------------------------------------------------------------ */

/* A family's emitter: writes the body of node n's kernel after the signature and
 * sets l's grid and block.  `epi` is the kernel's elementwise tail (KERNEL_EPILOGUE; for
 * other kernels epi->n is 0), applied to each result before it is stored into buf<out>.
 * 0, or -1 with ce->c.e set. */
typedef struct CuEpilogue {
  const int *ids; /* the elementwise nodes after the heavy one */
  int n;
  int out;        /* the node whose buffer gets the result: the last one */
} CuEpilogue;
typedef int (*CudaFn)(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);

/* Stores v<n> (computed at flat index `flat` of n's shape), through the epilogue. */
void cuda_store(CuEmit *ce, const Node *n, const CuEpilogue *epi, const char *flat, int depth);

int cuda_elementwise(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_reduce(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_arg(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_reshape(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_transpose(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_broadcast(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_slice(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_pad(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_concat(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_iota(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_gather(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_matmul(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_matmul_int(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l); /* matmul_int.c */
/* matmul.c's 64x64 tiles, shared with conv.c: the shared slices As[16][64 + 1] and
 * Bs[16][64] and the thread's place (ty, tx) in a 16x16 grid; then, once a slice is
 * staged, acc[4][4] += its product, between two __syncthreads. */
void cuda_tile_shared(CuEmit *ce, const char *t);
void cuda_tile_product(CuEmit *ce, const char *t, int depth);
int cuda_conv(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_pool(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_scatter(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);          /* grad.c */
/* nonzero, unique, nms: one thread over the C backend's code (dynamic.c); the bytes of
 * workspace each needs (CUDA_ARG_WS). */
int cuda_dynamic(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int64_t cuda_dynamic_ws(CuEmit *ce, const Node *n);
int cuda_conv_grad_input(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_conv_grad_weight(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_pool_max_grad(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_pool_avg_grad(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);
int cuda_rng(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l);              /* rng.c */

/* A REDUCE kernel: the reduction (last of ids) reads its operand through the
 * elementwise prologue ids[0..n-1).  1 when the shape does not suit (the caller runs
 * the nodes one by one instead), 0 done, -1 error. */
int cuda_reduce_fused(CuEmit *ce, const int *ids, int n);
/* A ROW kernel (row.c): one block per row.  1 when the nodes are not a row pattern it
 * knows, 0 done, -1 error. */
int cuda_row(CuEmit *ce, const int *ids, int n);

/* ---- the host code ------------------------------------------------------------------ */

/* host.c: the top of the .c, the kernels' source (or PTX) as strings, the struct. */
int cuda_host_prelude(CuEmit *ce, const char *text);
bool cuda_has_err(const CuEmit *ce); /* a kernel takes the error flag */
/* api.c: NAME_run, NAME_infer, NAME_init, NAME_free, NAME_strerror, NAME_device_error. */
void cuda_host_api(CuEmit *ce);
/* The launches of the schedule kernels with need[t] (NULL: all), in order, inside a
 * function returning the model's status. */
void cuda_launches(CuEmit *ce, const bool *need);
/* Uploads in[i] for each input that the values outputs[0..n) read; how many. */
int cuda_uploads(CuEmit *ce, const int *outputs, int n);
/* A --dynamic build's public module around the joined graph's (dyn_api.c), its header
 * part into h: one run function per build, each copying only its own inputs and
 * outputs (api.c). */
void cuda_dyn_api(CuEmit *ce, FILE *h);
/* The end of a run: the copies queued before it, then `int flag` downloaded (when a
 * kernel can set it), the stream synchronised and the flag checked. */
void cuda_finish(CuEmit *ce);

/* train.c: for a graph with training steps, the step bodies, their faces (the C
 * backend's), NAME_param, NAME_save and NAME_load over a host copy of the weights. */
void cuda_train(CuEmit *ce);

#endif

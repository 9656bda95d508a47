/* matmul.c — batched products [.., M, K] x [.., K, N] with broadcast batch dimensions,
 * transposed operands and an elementwise epilogue.
 *
 * The tiled kernel: a block of 256 threads computes a 64x64 tile of y; the k
 * dimension goes by slices of 16, each slice of a and b staged in shared memory (read
 * from global memory along their contiguous dimension, so the loads coalesce), and
 * each thread keeps a 4x4 block of results in registers, rows ty + 16r and columns
 * tx + 16c, so a warp's shared-memory reads are broadcasts or consecutive words and
 * its stores to y are consecutive.  Grid: x over column tiles, y over row tiles, z
 * over the batch (each loops when the grid's limits are exceeded).
 *
 * Products with at most 4 rows (a vector times a matrix: inference at batch 1) take
 * one thread per result instead, reading b's rows in step across a warp.
 *
 * Sums run over k in increasing order in the result's type, as in the C backend; the
 * tiles only change which thread does it. */
#include <inttypes.h>

#include "cuda.h"

#define TILE 64
#define SLICE 16
#define THREADS 256

typedef struct Mat {
  int64_t m, k, n, batch;
  int64_t a_rs, a_cs, b_rs, b_cs; /* strides of A(i, k) and B(k, j) */
  Shape yb;                       /* y's batch dimensions */
  int64_t ast[IR_MAX_RANK], bst[IR_MAX_RANK]; /* batch strides of a and b, in elements */
} Mat;

static Mat mat_dims(const CuEmit *ce, const Node *n) {
  const Shape *as = &cgen_in(&ce->c, n, 0)->shape, *bs = &cgen_in(&ce->c, n, 1)->shape;
  bool ta = node_int(n, A_TRANS_A), tb = node_int(n, A_TRANS_B);
  int64_t ar = as->d[as->rank - 2], ac = as->d[as->rank - 1];
  int64_t br = bs->d[bs->rank - 2], bc = bs->d[bs->rank - 1];
  Mat d = {.m = ta ? ac : ar, .k = ta ? ar : ac, .n = tb ? br : bc,
           .a_rs = ta ? 1 : ac, .a_cs = ta ? ac : 1, .b_rs = tb ? 1 : bc, .b_cs = tb ? bc : 1};
  d.yb = shape_make(n->shape.rank - 2, n->shape.d);
  d.batch = shape_numel(&d.yb);
  Shape ab = shape_make(as->rank - 2, as->d), bb = shape_make(bs->rank - 2, bs->d);
  cgen_bcast_strides(&ab, &d.yb, d.ast);
  cgen_bcast_strides(&bb, &d.yb, d.bst);
  for (int i = 0; i < d.yb.rank; i++) {
    d.ast[i] = d.yb.d[i] == 1 ? 0 : d.ast[i] * ar * ac;
    d.bst[i] = d.yb.d[i] == 1 ? 0 : d.bst[i] * br * bc;
  }
  return d;
}

/* const T *A = buf<a> + ..., *B = buf<b> + ...; for batch index `b`. */
static void batch_pointers(CuEmit *ce, const Node *n, const Mat *d, int depth) {
  bool need[IR_MAX_RANK];
  for (int i = 0; i < d->yb.rank; i++) need[i] = d->ast[i] || d->bst[i];
  cuda_unravel(ce, &d->yb, "b", "z", need, depth);
  CgenIndex ai, bi;
  cgen_index_init(&ai, 0), cgen_index_add(&ai, "z", d->ast, d->yb.rank);
  cgen_index_init(&bi, 0), cgen_index_add(&bi, "z", d->bst, d->yb.rank);
  const char *t = cgen_ctype(n);
  cgen_line(&ce->c, depth, "const %s *A = buf%d + %s;", t, n->in[0], cgen_index_str(&ai));
  cgen_line(&ce->c, depth, "const %s *B = buf%d + %s;", t, n->in[1], cgen_index_str(&bi));
}

/* Stores acc (the result at row i, column j of batch b) through the epilogue. */
static void store(CuEmit *ce, const Node *n, const CuEpilogue *epi, const Mat *d, const char *acc, int depth) {
  char flat[128];
  snprintf(flat, sizeof flat, "(b * %" PRId64 " + i) * %" PRId64 " + j", d->m, d->n);
  cgen_line(&ce->c, depth, "const %s v%d = %s;", cgen_ctype(n), n->id, acc);
  cgen_line(&ce->c, depth, "const %s yi = %s;", ce->it, flat);
  cuda_store(ce, n, epi, "yi", depth);
}

static void one_per_result(CuEmit *ce, const Node *n, const CuEpilogue *epi, const Mat *d, CuLaunch *l) {
  int depth = cuda_grid_loop(ce, l, "o", d->batch * d->m * d->n, 1);
  cgen_line(&ce->c, depth, "const %s b = o / %" PRId64 ", i = o / %" PRId64 " %% %" PRId64
                           ", j = o %% %" PRId64 ";",
            ce->it, d->m * d->n, d->n, d->m, d->n);
  batch_pointers(ce, n, d, depth);
  cgen_line(&ce->c, depth, "%s acc = 0;", cgen_ctype(n));
  cgen_line(&ce->c, depth, "for (%s k = 0; k < %" PRId64 "; k++) acc += A[i * %" PRId64 " + k * %" PRId64
                           "] * B[k * %" PRId64 " + j * %" PRId64 "];",
            ce->it, d->k, d->a_rs, d->a_cs, d->b_rs, d->b_cs);
  store(ce, n, epi, d, "acc", depth);
  cgen_line(&ce->c, 1, "}");
}

/* Stages one SLICE-deep slice of a (as As[k][m]) and of b (as Bs[k][n]); consecutive
 * threads take consecutive addresses of whichever dimension is contiguous. */
static void stage(CuEmit *ce, const char *t, const Mat *d, int depth) {
  bool a_k_fast = d->a_cs == 1, b_n_fast = d->b_cs == 1;
  cgen_line(&ce->c, depth, "for (int e = threadIdx.x; e < %d; e += %d) {", TILE * SLICE, THREADS);
  cgen_line(&ce->c, depth + 1, "const int kk = %s, mm = %s;", a_k_fast ? "e % 16" : "e / 64",
            a_k_fast ? "e / 16" : "e % 64");
  cgen_line(&ce->c, depth + 1, "const %s gi = m0 + mm, gk = k0 + kk;", ce->it);
  cgen_line(&ce->c, depth + 1, "As[kk][mm] = gi < %" PRId64 " && gk < %" PRId64 " ? A[gi * %" PRId64
                               " + gk * %" PRId64 "] : (%s)0;",
            d->m, d->k, d->a_rs, d->a_cs, t);
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "for (int e = threadIdx.x; e < %d; e += %d) {", TILE * SLICE, THREADS);
  cgen_line(&ce->c, depth + 1, "const int kk = %s, nn = %s;", b_n_fast ? "e / 64" : "e % 16",
            b_n_fast ? "e % 64" : "e / 16");
  cgen_line(&ce->c, depth + 1, "const %s gk = k0 + kk, gj = n0 + nn;", ce->it);
  cgen_line(&ce->c, depth + 1, "Bs[kk][nn] = gk < %" PRId64 " && gj < %" PRId64 " ? B[gk * %" PRId64
                               " + gj * %" PRId64 "] : (%s)0;",
            d->k, d->n, d->b_rs, d->b_cs, t);
  cgen_line(&ce->c, depth, "}");
}

void cuda_tile_shared(CuEmit *ce, const char *t) {
  cgen_line(&ce->c, 1, "__shared__ %s As[%d][%d + 1];", t, SLICE, TILE);
  cgen_line(&ce->c, 1, "__shared__ %s Bs[%d][%d];", t, SLICE, TILE);
  cgen_line(&ce->c, 1, "const int tx = threadIdx.x %% 16, ty = threadIdx.x / 16;");
}

void cuda_tile_product(CuEmit *ce, const char *t, int depth) {
  cgen_line(&ce->c, depth, "__syncthreads();");
  cgen_line(&ce->c, depth, "#pragma unroll");
  cgen_line(&ce->c, depth, "for (int kk = 0; kk < %d; kk++) {", SLICE);
  cgen_line(&ce->c, depth + 1, "%s ar[4], br[4];", t);
  cgen_line(&ce->c, depth + 1, "#pragma unroll");
  cgen_line(&ce->c, depth + 1, "for (int r = 0; r < 4; r++) ar[r] = As[kk][ty + 16 * r];");
  cgen_line(&ce->c, depth + 1, "#pragma unroll");
  cgen_line(&ce->c, depth + 1, "for (int c = 0; c < 4; c++) br[c] = Bs[kk][tx + 16 * c];");
  cgen_line(&ce->c, depth + 1, "#pragma unroll");
  cgen_line(&ce->c, depth + 1, "for (int r = 0; r < 4; r++)");
  cgen_line(&ce->c, depth + 2, "#pragma unroll");
  cgen_line(&ce->c, depth + 2, "for (int c = 0; c < 4; c++) acc[r][c] += ar[r] * br[c];");
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "__syncthreads();");
}

static void tiled(CuEmit *ce, const Node *n, const CuEpilogue *epi, const Mat *d, CuLaunch *l) {
  const char *t = cgen_ctype(n), *it = ce->it;
  int64_t mt = (d->m + TILE - 1) / TILE, nt = (d->n + TILE - 1) / TILE;
  l->grid[0] = nt, l->grid[1] = mt < 65535 ? mt : 65535, l->grid[2] = d->batch < 65535 ? d->batch : 65535;
  l->block = THREADS;
  cuda_tile_shared(ce, t);
  cgen_line(&ce->c, 1, "const %s n0 = (%s)blockIdx.x * %d;", it, it, TILE);
  cgen_line(&ce->c, 1, "for (%s b = blockIdx.z; b < %" PRId64 "; b += gridDim.z) {", it, d->batch);
  batch_pointers(ce, n, d, 2);
  cgen_line(&ce->c, 2, "for (%s m0 = (%s)blockIdx.y * %d; m0 < %" PRId64 "; m0 += (%s)gridDim.y * %d) {", it,
            it, TILE, d->m, it, TILE);
  cgen_line(&ce->c, 3, "%s acc[4][4] = {{0}};", t);
  cgen_line(&ce->c, 3, "for (%s k0 = 0; k0 < %" PRId64 "; k0 += %d) {", it, d->k, SLICE);
  stage(ce, t, d, 4);
  cuda_tile_product(ce, t, 4);
  cgen_line(&ce->c, 3, "}");
  cgen_line(&ce->c, 3, "for (int r = 0; r < 4; r++)");
  cgen_line(&ce->c, 4, "for (int c = 0; c < 4; c++) {");
  cgen_line(&ce->c, 5, "const %s i = m0 + ty + 16 * r, j = n0 + tx + 16 * c;", it);
  cgen_line(&ce->c, 5, "if (i >= %" PRId64 " || j >= %" PRId64 ") continue;", d->m, d->n);
  store(ce, n, epi, d, "acc[r][c]", 5);
  cgen_line(&ce->c, 4, "}");
  cgen_line(&ce->c, 2, "}");
  cgen_line(&ce->c, 1, "}");
}

int cuda_matmul(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  Mat d = mat_dims(ce, n);
  if (d.m <= 4) one_per_result(ce, n, epi, &d, l);
  else tiled(ce, n, epi, &d, l);
  return 0;
}

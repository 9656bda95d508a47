/* tile.h — the register-tiled product that matmul and conv share (private to
 * codegen/c: tile.c, pack.c, store.c, epilogue.c, matmul.c, conv.c).
 *
 * Both heavy ops become Y[i, j] = sum_k A(i, k) * P[k, j] over a packed panel P of NR
 * columns: matmul's B (packed when the model is compiled, if it is a weight, else per
 * panel while it runs), or conv's im2col of the input (per panel while it runs).  A
 * tile keeps MR x NR sums in local arrays, runs k outermost over the whole depth, and
 * hands each finished sum to a store: a plain store, or the elementwise tail of a
 * KERNEL_EPILOGUE applied while the sum is still in a register.
 *
 * Every element is one chain of multiply-adds over k = 0..K-1 in order, whatever the
 * tile, panel or thread that computes it, so results are deterministic. */
#ifndef DLC_TILE_H
#define DLC_TILE_H

#include "cgen_c.h"

/* Register tile: MR rows of NR columns, from the target's row (target.c:
 * cgen_tile_mr, cgen_tile_nr). */
#define TILE_MC 64 /* rows of A a block of tiles reuses one B panel for */

/* Where the elementwise tail reads its operands and where the result goes (epilogue.c).
 * The head's result is indexed [outer.., row, col..]: matmul's batch dims, M and N;
 * conv's batch, channel and spatial dims.  Emitted expressions use the driver's loop
 * variables: b<d> for outer dims, the row and column expressions given to the store. */
typedef struct Epi {
  const Kernel *k;        /* NULL: no tail, a plain store into y */
  const Node *head;       /* the matmul or conv */
  const Node *res;        /* the kernel's result (the head itself when no tail) */
  const int *inputs;      /* the kernel's parameters a0, a1, ..: node ids */
  int ninputs;
  int nouter;             /* dims before the row dim */
  int64_t fold_m;         /* a matmul whose batch is folded into its rows: M (else 0) */
  int ncol;               /* dims after it (flattened into one column index) */
  const char *to;         /* non-NULL: no tail; sum (row, col) goes to */
  int64_t to_rs, to_cs;   /*   to[row * to_rs + col * to_cs] (conv's gradients) */
  bool accumulate;        /*   added to what is there instead of stored */
} Epi;

Epi epi_plain(const Node *head); /* a single matmul or conv: a0, a1, a plain store */
/* Sums stored, or added with `accumulate`, at to[row * rs + col * cs]. */
Epi epi_to(const Node *head, const char *to, int64_t rs, int64_t cs, bool accumulate);
/* Writes the statements that finish element (row, col) of value `v` (a C expression):
 * the tail, then the store. */
void epi_store(CEmit *ce, const Epi *ep, int depth, const char *v, const char *row, const char *col);
/* The C name of the kernel parameter holding node id: "a<i>". */
void epi_input(const Epi *ep, int id, char *buf, size_t n);

/* One tile: rows row0 .. row0+mr-1, columns col0 .. col0+nstore-1 of the product. */
typedef struct Tile {
  const char *t;       /* C type of the sums */
  int nr;              /* panel width */
  int mr;              /* rows computed */
  int nstore;          /* columns kept (the panel may be padded) */
  int64_t depth;       /* K */
  const char *a;       /* A's base pointer */
  int64_t a_rs, a_cs;  /* A(i, k) = a[i * a_rs + k * a_cs], i from row0 */
  const char *row0;    /* expression of the tile's first row */
  const char *panel;   /* the packed panel: P[k, j] = panel[k * pstride + j] */
  int64_t pstride;     /* 0: nr (a panel of its own) */
  int np;              /* panels side by side (0: 1), each pnext values after the last; */
  int64_t pnext;       /* for few rows, so that enough sums are in flight */
  const char *col0;    /* expression of the panel's first column */
  bool swap;           /* the result is stored transposed: (row, col) is the head's (col, row) */
  int a_pack;          /* non-zero: A in panels of a_pack rows, [M / a_pack][depth][a_pack], and row0
                        * a multiple of a_pack: A(i, k) = a[i * depth + k * a_pack] for the panel's
                        * first row i (a_rs, a_cs unused; vector tiles only) */
} Tile;

void tile_emit(CEmit *ce, const Tile *t, const Epi *ep, int depth);
DType tile_dtype(const Tile *t); /* f32 or f64, from t->t */

/* The rows rows_begin..rows_end (expressions) of one panel: full MR tiles, then the
 * rows left over (rem, a constant) as one smaller tile. */
typedef struct Rows {
  const char *begin, *end; /* loop bounds over full tiles, expressions */
  int64_t rem;             /* rows after the last full tile, when `rem_at` is non-NULL */
  const char *rem_at;      /* expression of the first leftover row */
} Rows;
void tile_rows(CEmit *ce, const Tile *proto, const Rows *r, const Epi *ep, int depth);
/* The same rows over the panels jp = from .. to - 1 (an expression's loop variable
 * `jp`, which the tile's panel and col0 expressions read), each row tile over all of
 * them before the next. */
void tile_rows_panels(CEmit *ce, const Tile *proto, const Rows *r, const Epi *ep, int depth, const char *from,
                      const char *to);

/* The FMA macro the tiles use, once per file before the first tile kernel. */
void tile_prelude(CEmit *ce);

/* ---- packing (pack.c) ---- */

/* Whether conv n's shape is one that conv.c runs by channels (conv_by_channels) when its
 * weight is packed: rows of the product are output positions, panels output channels. */
bool conv_by_channels_shape(const CEmit *ce, const Node *n);
/* Whether conv n runs by positions with its weight packed, when it can be, in panels of
 * MR rows (conv_rows_packed): its B in pack.c's sense is then W as [O, K] in MR-wide
 * panels. */
bool conv_rows_packed_shape(const CEmit *ce, const Node *n);
/* Whether conv n runs by Winograd's F(2x2, 3x3) when its weight is packed (conv_wino.c):
 * its B in pack.c's sense is then the transformed weight, conv_wino_count floats. */
bool conv_wino_shape(const CEmit *ce, const Node *n);
int64_t conv_wino_count(const CEmit *ce, const Node *n);
void conv_wino_fill(const CEmit *ce, const Node *n, const float *w, float *u);
void conv_wino_fill_code(CEmit *ce, const Node *n, int depth); /* src, dst in scope */
void conv_wino_u_code(CEmit *ce);                              /* dlc_wino_u, once */
void conv_wino_helpers(CEmit *ce); /* the transforms' loops, once per file (tile_prelude) */

/* Whether matmul n's B operand is a weight whose values the code may bake in.  The
 * pack_b_* functions take a conv run by channels as well: its B is the weight read as
 * [O, K], transposed. */
bool pack_b_constant(const CEmit *ce, const Node *mm);
/* Constant, and a product with something to compute: the kernel reads pack_b_name. */
bool pack_b_wanted(const CEmit *ce, const Node *mm);
/* The name (a const T * expression) of matmul n's packed B. */
void pack_b_name(const Node *mm, char *buf, size_t n);
/* A B in a weights file that only this matmul reads: packed by NAME_init after the
 * weight block (DLC_PACKED_AT), and the kernel's B argument is the packed copy. */
bool pack_b_at_init(const CEmit *ce, const Node *mm);
void pack_b_init_tables(CEmit *ce); /* ce->pack_mm, pack_at, pack_at_total (cgen_tables) */
int64_t pack_b_init_offset(const CEmit *ce, const Node *mm); /* mm NULL: the total bytes */
void pack_b_init_expr(const CEmit *ce, const Node *mm, char *buf, size_t n); /* in NAME_run */
void pack_b_init_code(CEmit *ce); /* static void dlc_pack_weights(NAME *m) */
/* The packed copy of a constant B: per batch matrix of B, per panel, [K][NR] values of
 * the matmul's dtype, the last panel padded with zeros.  pack_b_count values; fill
 * writes them (bit-exact copies of B's) into dst. */
int64_t pack_b_count(const CEmit *ce, const Node *mm);
void pack_b_fill(const CEmit *ce, const Node *mm, void *dst);
/* Writes it through cgen_c_data under pack_b_name. */
int pack_b_emit(CEmit *ce, const Node *mm);


/* Scratch: the bytes the product's kernel needs (cgen_kernel_scratch). */
int64_t matmul_scratch(const CEmit *ce, const Node *n);
int64_t conv_scratch(const CEmit *ce, const Node *n);

/* Emitters with a tail (matmul.c, conv.c). */
int matmul_emit(CEmit *ce, const Node *n, const Epi *ep, const char *a, const char *b);
/* The product of A (m x k, A(i, k) = A[i * a_rs + k * a_cs]) with the packed panels at
 * B (pack.c) into the epilogue ep, swapped when `swap`; A and B are names in scope. */
void matmul_packed(CEmit *ce, const Node *n, const Epi *ep, int64_t m, int64_t k, int64_t nn, int64_t a_rs,
                   int64_t a_cs, bool swap, int depth);
int conv_emit(CEmit *ce, const Node *n, const Epi *ep, const char *x, const char *w);

#endif

/* conv.h — the convolution as a product, shared by the forward op (conv.c) and its
 * gradients (conv_grad.c); private to codegen/c.
 *
 * Per image and group the three ops are products over the im2col of x, col[k, q]
 * (k: an input channel of the group and a tap, q: an output position):
 *   conv:             Y[o, q]  = sum_k  W[o, k] col[k, q]
 *   conv_grad_weight: dW[o, k] = sum_q dY[o, q] col[k, q]   (summed over the images)
 *   conv_grad_input:  dcol[k, q] = sum_o W[o, k] dY[o, q], then dx = col2im(dcol)
 * The im2col goes in blocks of whole output rows (as many as a stack array holds), each
 * row of a block a few contiguous runs of x; col2im is its adjoint, the same runs added
 * back into dx. */
#ifndef DLC_CONV_H
#define DLC_CONV_H

#include "tile.h"

typedef struct Conv {
  const Node *n;
  const Epi *ep;
  const char *t;
  Win w;
  int64_t groups, cg, og; /* groups, input and output channels per group */
  int64_t depth;          /* K = cg * taps */
  int64_t q;              /* output positions per channel */
  int mr, nr;             /* the register tile (target.c) */
  bool inside;            /* threads share the work of each block (conv.c) */
  int a_pack;             /* W packed in panels of this many rows (0: read in place) */
} Conv;

/* The forward conv's im2col blocks: about the L2 cache, and never above the second. */
#define CONV_BLOCK_BYTES (1 << 20)
#define CONV_ROW_MAX_BYTES (16 << 20)
/* The panels of a block that each row tile runs over before the next (conv.c). */
#define CONV_CHUNK_BYTES (128 << 10)

/* The gradients' local arrays stay within this many bytes of stack each. */
#define CONV_GRAD_STACK_BYTES (128 * 1024)

/* Node n's window over x [N, C, S..] with weights w [O, C/groups, K..] and output
 * spatial sizes `out` (y's, or gy's for the gradients). */
Conv conv_of(const CEmit *ce, const Node *n, const Epi *ep, const Shape *x, const Shape *w,
             const int64_t *out);

/* Output positions are [outer, W]: W the last spatial dimension, outer the others
 * flattened.  A block is `rows` outer positions, all their W columns. */
typedef struct Block {
  int64_t w, outer;     /* W, and outer positions in all */
  int64_t rows;         /* outer positions per full block (0: not even one fits) */
} Block;

int64_t conv_round_up(int64_t x, int64_t m);

/* The generated code's names: X points at the group's channels of x (of dx for
 * col2im), col at a [K][cols] array, ob is the block's first outer position. */
/* col[k][o * W + j] = im2col(x) for the block's `rows` outer positions from ob; zero
 * columns from rows * W up to `cols`. */
void conv_im2col_rows(CEmit *ce, const Conv *c, const Block *b, int64_t rows, int64_t cols, int depth);
/* Its adjoint: X[p] += col[k][o * W + j] for every tap of the block that falls inside
 * x, channel by channel, tap by tap, row by row (a fixed order). */
void conv_col2im_rows(CEmit *ce, const Conv *c, const Block *b, int64_t rows, int64_t cols, int depth);

/* Depthwise convolutions (conv_dw.c): one input channel per group, 1 or 2 spatial
 * dimensions.  x and wt are the kernel's operand names; batch and channels are x's. */
bool conv_dw_wanted(const Conv *c);
int64_t conv_dw_scratch(const Conv *c, int64_t batch);
int conv_dw_emit(CEmit *ce, const Conv *c, const char *x, const char *wt, int64_t batch, int64_t channels);

/* 3x3 stride-1 convolutions by Winograd's F(2x2, 3x3) (conv_wino.c), the weight
 * transformed and packed by pack.c: conv_wino_count floats, [16][O / MR][C][MR]. */
bool conv_wino_wanted(const CEmit *ce, const Conv *c);
int64_t conv_wino_scratch(const Conv *c, bool slots);
/* One image: X (the image's channels) in scope, u the packed weight, scratch a float *. */
void conv_wino_emit(CEmit *ce, const Conv *c, const char *u, const char *scratch, int depth);
void conv_wino_u(const float g[9], float u[16]);

/* The direct loops of the gradients (grad_window.c): the fallback for shapes whose
 * blocks do not fit on the stack. */
int conv_grad_input_direct(CEmit *ce, const Node *n);
/* Whether a conv_grad_weight of the graph takes panels of one vector (conv_grad.c): the
 * narrow tile functions are written only then. */
bool conv_grad_narrow_used(const CEmit *ce);
int conv_grad_weight_direct(CEmit *ce, const Node *n);

#endif

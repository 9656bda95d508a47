/* rt_data.h — what `dlc train` reads and writes besides the model: labelled
 * datasets (rt_data.c: IDX images; rt_data_user.c: .npy and CSV) and the curves
 * and pictures of a run, and bar charts of a benchmark (rt_plot.c).
 * Errors as everywhere in libdlcrt: -1 with one line in a DlcErr naming the file. */
#ifndef DLC_RT_DATA_H
#define DLC_RT_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dlcrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- datasets (rt_data.c) ---------------------------------------------------------- */

typedef struct RtDataset {
  int64_t n;         /* samples */
  int rank;          /* of one sample: 2 for images [rows, cols], 1 for a table's rows */
  int64_t dims[4];
  int64_t size;      /* values per sample (784 for 28x28) */
  float *x;          /* n * size values (IDX images: pixels scaled from 0..255 to [0, 1]) */
  int64_t *y;        /* n labels */
  int64_t classes;   /* largest label + 1 */
} RtDataset;

/* The split "train" or "t10k" of the dataset in dir, in the format its training split
 * has (rt_data_user.c): dir/x_train.npy (then x_<split>.npy and y_<split>.npy, "test"
 * for t10k: samples [N, ...] of any numeric dtype as they are, integer labels [N]),
 * else dir/train.csv (then <split>.csv: rows of numbers, the class label last, an
 * optional header line), else MNIST-style IDX files (rt_data_mnist). */
int rt_data_dir(const char *dir, const char *split, RtDataset *d, DlcErr *e);

/* The split "train" or "t10k" of an MNIST-style set in dir: <split>-images-idx3-ubyte.gz
 * and <split>-labels-idx1-ubyte.gz (or the files without .gz).  0, or -1 with e set
 * (a missing file is named). */
int rt_data_mnist(const char *dir, const char *split, RtDataset *d, DlcErr *e);
void rt_data_free(RtDataset *d);

/* order[0..n): the samples' order in epoch `epoch`, a permutation drawn with the
 * counter-based Philox generator (stream seed, numbers from epoch * n on), so a run
 * is the same on every machine. */
void rt_data_shuffle(uint64_t seed, uint64_t epoch, int64_t n, int64_t *order);

/* Label formats a model may take. */
typedef enum { RT_LABEL_I64, RT_LABEL_I32, RT_LABEL_ONEHOT_F32 } RtLabelKind;

/* Batch of b samples order[first..first+b) (order NULL: first..first+b): x gets b * size floats, y b labels (class
 * ids, or one-hot rows of `width` floats); either may be NULL.  Past the end of order the samples are
 * zeros, their labels 0 (the last, partial batch of an evaluation). */
void rt_data_batch(const RtDataset *d, const int64_t *order, int64_t first, int64_t b, float *x,
                   void *y, RtLabelKind kind, int64_t width);

/* ---- curves and pictures (rt_plot.c) ------------------------------------------------- */

typedef struct RtCurve {
  const char *name; /* "train loss" */
  int n;
  const double *x, *y;
} RtCurve;

/* A CSV of the columns header[0..ncol), one row per row of values (row-major). */
int rt_plot_csv(const char *path, const char *const *header, int ncol, const double *values,
                int nrow, DlcErr *e);
/* An SVG line chart of the curves over shared axes, titled, with axis labels. */
int rt_plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const RtCurve *c, int nc, DlcErr *e);
/* A bar per entry: `value` (a median) with a whisker from `lo` to `hi` (min to max). */
typedef struct RtBar {
  const char *name; /* the label under the bar */
  double value, lo, hi;
} RtBar;
/* An SVG bar chart of b[0..n) from zero, titled, the y axis labelled; each bar is a
 * <rect class='bar'>, each label a <text class='label'>.  Text is escaped. */
int rt_plot_bars(const char *path, const char *title, const char *ylabel, const RtBar *b, int n, DlcErr *e);
/* A grid of grey images (values in [0, 1], rows x cols each) as a binary PGM file:
 * n images, `per_row` to a row. */
int rt_plot_grid(const char *path, const float *img, int n, int rows, int cols, int per_row,
                 DlcErr *e);

#ifdef __cplusplus
}
#endif

#endif

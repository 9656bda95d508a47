/* cmd_train.h — `dlc train`, private to cmd_train*.c: the run's state, how the model's
 * inputs are fed from the dataset (cmd_train_feed.c) and what the run reports
 * (cmd_train_report.c). */
#ifndef DLC_CMD_TRAIN_H
#define DLC_CMD_TRAIN_H

#include "cmd.h"
#include "jit.h"
#include "rt_data.h"

/* What each INPUT of the training graph gets from a batch. */
typedef enum { FEED_IMAGES, FEED_LABELS } FeedRole;

typedef struct Feed {
  int ni;
  FeedRole role[32];
  RtLabelKind kind[32]; /* FEED_LABELS: class ids (i64, i32) or one-hot rows */
  int64_t width[32];    /* one-hot: classes */
  void *buf[32];        /* one batch, in the input's dtype and shape */
  int64_t batch;        /* B: the leading dimension of every input */
  int64_t classes;      /* of the model's output [B, K] (0: not a classifier) */
} Feed;

typedef struct TrainRun {
  const CmdArgs *a;
  Graph *g;             /* the training graph, as built */
  JitModel *m;
  Feed feed;
  RtDataset train, test;
  int64_t *order;
  int64_t per_epoch;    /* batches per epoch */
  double *curve;        /* per batch: step, epoch (fraction), loss */
  int64_t ncurve;
  double *epochs;       /* per epoch: epoch, train loss, test loss, test accuracy %, seconds */
  int nout;             /* the model's outputs, for one batch (out[0]: the scores) */
  void **out;
} TrainRun;

/* Which input takes the images and which the labels; errors name the input and say
 * what fits.  Allocates the batch buffers.  0, or -1 with e set. */
int feed_bind(Feed *f, const Graph *g, const RtDataset *d, DlcErr *e);
void feed_fill(Feed *f, const RtDataset *d, const int64_t *order, int64_t first);
void feed_free(Feed *f);

/* A copy of the ONNX file src at dst with its float initializers replaced by the
 * trained parameters of the same names (cmd_train_onnx.c, built with the ONNX
 * frontend).  0, or -1 with e set. */
int train_write_onnx(const char *src, const char *dst, JitModel *m, DlcErr *e);

/* Progress of the current epoch: a bar redrawn in place on a terminal, else a plain
 * line at every fifth of the epoch. */
void report_progress(const TrainRun *r, int epoch, int64_t batch, double loss, double seconds);
/* loss.csv, loss.svg and epochs.csv in --out. */
int report_write(const TrainRun *r, int epochs_done, DlcErr *e);
/* When the model's first output is an image per sample (an autoencoder): samples.pgm
 * in --out, the first 16 test images over the model's outputs for them. */
int report_images(TrainRun *r, DlcErr *e);

#endif

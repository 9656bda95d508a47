/* cmd_train_report.c — what `dlc train` shows while it runs and leaves in --out:
 * a progress bar (a plain line at every fifth of an epoch when stdout is not a
 * terminal), loss.csv (per batch: step, epoch, loss), epochs.csv (per epoch: train
 * loss, test loss, test accuracy, seconds) and loss.svg (both losses over epochs);
 * for a model whose output is an image, samples.pgm (inputs over outputs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_train.h"

void report_progress(const TrainRun *r, int epoch, int64_t batch, double loss, double seconds) {
  int64_t total = r->per_epoch, done = batch + 1;
  double rate = seconds > 0 ? (double)(done * r->feed.batch) / seconds : 0;
  if (isatty(fileno(stdout))) {
    int w = 30, fill = (int)(w * done / total);
    printf("\repoch %d [%.*s%*s] %lld/%lld  loss %.4f  %.0f samples/s ", epoch, fill,
           "##############################", w - fill, "", (long long)done, (long long)total, loss, rate);
    if (done == total) printf("\r%*s\r", 90, "");
    fflush(stdout);
    return;
  }
  int64_t fifth = total / 5 ? total / 5 : 1;
  if (done % fifth == 0 && done != total) {
    printf("epoch %d: %lld/%lld batches, loss %.4f, %.0f samples/s\n", epoch, (long long)done,
           (long long)total, loss, rate);
    fflush(stdout);
  }
}

static void path(const TrainRun *r, const char *file, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s", r->a->out_dir, file);
}

/* The train loss averaged over each epoch's batches, at the epoch's end. */
static int write_svg(const TrainRun *r, int ne, DlcErr *e) {
  double *x = dlc_malloc(sizeof(double) * (size_t)(ne + 1) * 3);
  DLC_ASSERT(x);
  double *tr = x + ne + 1, *te = tr + ne + 1;
  for (int k = 0; k < ne; k++) x[k] = k + 1, tr[k] = r->epochs[5 * k + 1], te[k] = r->epochs[5 * k + 2];
  RtCurve c[2] = {{"train loss", ne, x, tr}, {"test loss", ne, x, te}};
  char p[4200];
  path(r, "loss.svg", p, sizeof p);
  char title[256];
  snprintf(title, sizeof title, "%s: loss per epoch", r->g->name);
  int rc = rt_plot_svg(p, title, "epoch", "loss", c, 2, e);
  free(x);
  return rc;
}

int report_write(const TrainRun *r, int ne, DlcErr *e) {
  static const char *const batch_cols[] = {"step", "epoch", "loss"};
  static const char *const epoch_cols[] = {"epoch", "train_loss", "test_loss", "test_accuracy", "seconds"};
  char p[4200];
  path(r, "loss.csv", p, sizeof p);
  if (rt_plot_csv(p, batch_cols, 3, r->curve, (int)r->ncurve, e)) return -1;
  path(r, "epochs.csv", p, sizeof p);
  if (rt_plot_csv(p, epoch_cols, 5, r->epochs, ne, e)) return -1;
  return write_svg(r, ne, e);
}

int report_images(TrainRun *r, DlcErr *e) {
  const Node *y = r->g->nodes[r->g->out[0]];
  int64_t size = r->test.size, n = r->feed.batch < 16 ? r->feed.batch : 16;
  if (!dtype_is_float(y->dtype) || y->dtype != DT_F32 || shape_numel(&y->shape) != r->feed.batch * size) return 0;
  feed_fill(&r->feed, &r->test, NULL, 0);
  if (jit_run(r->m, (const void *const *)r->feed.buf, r->out, e)) return -1;
  float *img = dlc_malloc(sizeof(float) * (size_t)(2 * n * size));
  DLC_ASSERT(img);
  memcpy(img, r->test.x, sizeof(float) * (size_t)(n * size));
  memcpy(img + n * size, r->out[0], sizeof(float) * (size_t)(n * size));
  char p[4200];
  path(r, "samples.pgm", p, sizeof p);
  int rc = rt_plot_grid(p, img, (int)(2 * n), (int)r->test.dims[0], (int)r->test.dims[1], (int)n, e);
  free(img);
  return rc;
}

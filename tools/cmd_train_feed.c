/* cmd_train_feed.c — the model's inputs from a dataset's batch.
 *
 * The first float input gets the images (or whatever samples the dataset holds); it
 * must hold a sample's number of values ([B, 784], [B, 1, 28, 28], [B, 28, 28]: the
 * same values in the same order, so any of these shapes takes the images as they are).  Another float input of that size gets
 * the same images (an autoencoder's target), an integer input [B] the class ids, and
 * another float input [B, K] the class ids one-hot.  Every input's
 * leading dimension is the batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_train.h"

static int64_t per_sample(const Node *n) {
  return n->shape.rank && n->shape.d[0] ? shape_numel(&n->shape) / n->shape.d[0] : 0;
}

static const char *sample_str(const RtDataset *d, char *buf, size_t n) {
  rt_shape_str(d->rank, d->dims, buf, n);
  return buf;
}

/* The first float input takes the images; the others are labels. */
static int role(Feed *f, int i, const Node *n, const RtDataset *d, bool images, DlcErr *e) {
  char s[96], ds[96];
  shape_str(&n->shape, s, sizeof s);
  if (!images && dtype_is_float(n->dtype)) {
    if (per_sample(n) == d->size && n->shape.rank >= 2) return f->role[i] = FEED_IMAGES, 0;
    return dlc_errf(e, "input '%s' is %s %s: the dataset's samples are %s (an input [B, %lld]%s)", n->name,
                    dtype_name(n->dtype), s, sample_str(d, ds, sizeof ds), (long long)d->size,
                    d->rank == 2 ? " or [B, 1, H, W]" : "");
  }
  if (dtype_is_float(n->dtype) && per_sample(n) == d->size && n->shape.rank >= 2)
    return f->role[i] = FEED_IMAGES, 0; /* the images again: an autoencoder's target */
  if (n->shape.rank == 1 && (n->dtype == DT_I64 || n->dtype == DT_I32)) {
    f->role[i] = FEED_LABELS, f->kind[i] = n->dtype == DT_I64 ? RT_LABEL_I64 : RT_LABEL_I32;
    return 0;
  }
  if (n->dtype == DT_F32 && n->shape.rank == 2) {
    f->role[i] = FEED_LABELS, f->kind[i] = RT_LABEL_ONEHOT_F32, f->width[i] = n->shape.d[1];
    return 0;
  }
  return dlc_errf(e, "input '%s' (%s %s): dlc train feeds images and class labels only "
                     "(labels: i64 or i32 [B], or f32 [B, classes] one-hot)", n->name, dtype_name(n->dtype), s);
}

static int check_batch(Feed *f, const Node *n, DlcErr *e) {
  int64_t b = n->shape.rank ? n->shape.d[0] : 0;
  if (!f->batch) f->batch = b;
  if (b != f->batch || b < 1)
    return dlc_errf(e, "input '%s' has %lld samples, another input %lld: every input's first dimension is the batch",
                    n->name, (long long)b, (long long)f->batch);
  return 0;
}

/* A model that reads labels is a classifier when its first output is [B, K] scores;
 * class ids must index them: labels up to classes-1 < K. */
static int check_classes(Feed *f, const Graph *g, const RtDataset *d, DlcErr *e) {
  const Node *y = g->nodes[g->out[0]];
  bool labels = false;
  for (int i = 0; i < f->ni; i++) labels |= f->role[i] == FEED_LABELS;
  if (labels && y->shape.rank == 2 && dtype_is_float(y->dtype)) f->classes = y->shape.d[1];
  if (f->classes && d->classes > f->classes)
    return dlc_errf(e, "the labels run from 0 to %lld, but the model's output '%s' has %lld classes",
                    (long long)d->classes - 1, g->out_name[0], (long long)f->classes);
  for (int i = 0; i < f->ni; i++)
    if (f->role[i] == FEED_LABELS && f->kind[i] == RT_LABEL_ONEHOT_F32 && f->width[i] < d->classes)
      return dlc_errf(e, "the labels need %lld one-hot columns", (long long)d->classes);
  return 0;
}

int feed_bind(Feed *f, const Graph *g, const RtDataset *d, DlcErr *e) {
  *f = (Feed){.ni = ir_num_inputs(g)};
  if (f->ni > 32) return dlc_errf(e, "the model has %d inputs; dlc train feeds at most 32", f->ni);
  bool images = false;
  for (int i = 0; i < f->ni; i++) {
    const Node *n = g->nodes[ir_input_id(g, i)];
    if (role(f, i, n, d, images, e) || check_batch(f, n, e)) return -1;
    images |= f->role[i] == FEED_IMAGES;
    DLC_ASSERT((f->buf[i] = cmd_alloc_value(n)));
  }
  char s[96];
  if (!images) return dlc_errf(e, "no input takes the samples %s (a float input [B, %lld]%s)", sample_str(d, s, sizeof s),
                               (long long)d->size, d->rank == 2 ? " or [B, 1, H, W]" : "");
  return check_classes(f, g, d, e);
}

void feed_fill(Feed *f, const RtDataset *d, const int64_t *order, int64_t first) {
  const float *x = NULL;
  for (int i = 0; i < f->ni; i++) {
    if (f->role[i] == FEED_LABELS) rt_data_batch(d, order, first, f->batch, NULL, f->buf[i], f->kind[i], f->width[i]);
    else if (x) memcpy(f->buf[i], x, sizeof(float) * (size_t)(f->batch * d->size));
    else {
      rt_data_batch(d, order, first, f->batch, f->buf[i], NULL, RT_LABEL_I64, 0);
      x = f->buf[i];
    }
  }
}

void feed_free(Feed *f) {
  for (int i = 0; i < f->ni; i++) free(f->buf[i]);
}

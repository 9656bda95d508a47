/* rt_data.c — labelled image datasets for `dlc train`: MNIST-style IDX files read
 * into floats, shuffled per epoch with Philox, cut into batches.
 *
 * Pixels are scaled to [0, 1] as p / 255 and nothing else (no mean subtracted), the
 * convention of the Keras and PyTorch examples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_data.h"

/* dir/<split>-<kind>-ubyte.gz, or without .gz when only that exists. */
static void idx_path(const char *dir, const char *split, const char *kind, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s-%s-ubyte.gz", dir, split, kind);
  if (access(buf, R_OK)) {
    char plain[4096];
    snprintf(plain, sizeof plain, "%s/%s-%s-ubyte", dir, split, kind);
    if (!access(plain, R_OK)) snprintf(buf, n, "%s", plain);
  }
}

static int read_idx(const char *dir, const char *split, const char *kind, RtTensor *t, DlcErr *e) {
  char path[4096];
  idx_path(dir, split, kind, path, sizeof path);
  if (access(path, R_OK))
    return rt_fail(e, RT_E_OPEN, path, "the dataset is missing (tools/install-deps.sh installs it)");
  return rt_idx_read(path, t, e);
}

static int check(const RtTensor *img, const RtTensor *lab, const char *dir, const char *split, DlcErr *e) {
  if (img->rank < 2 || img->rank > 5 || lab->rank != 1 || img->dims[0] != lab->dims[0])
    return dlc_errf(e, "%s/%s: the images and labels do not match (%lld images, %lld labels)", dir, split,
                    (long long)img->dims[0], lab->rank ? (long long)lab->dims[0] : 0LL);
  return 0;
}

static void convert(RtDataset *d, const RtTensor *img, const RtTensor *lab) {
  const uint8_t *px = img->data, *lb = lab->data;
  d->n = img->dims[0], d->rank = img->rank - 1, d->size = 1;
  for (int i = 1; i < img->rank; i++) d->dims[i - 1] = img->dims[i], d->size *= img->dims[i];
  for (int64_t i = 0; i < d->n * d->size; i++) d->x[i] = (float)px[i] / 255.0f;
  for (int64_t i = 0; i < d->n; i++) {
    d->y[i] = lb[i];
    if (lb[i] + 1 > d->classes) d->classes = lb[i] + 1;
  }
}

int rt_data_mnist(const char *dir, const char *split, RtDataset *d, DlcErr *e) {
  RtTensor img = {0}, lab = {0};
  memset(d, 0, sizeof *d);
  int rc = read_idx(dir, split, "images-idx3", &img, e) || read_idx(dir, split, "labels-idx1", &lab, e) ||
                   check(&img, &lab, dir, split, e)
               ? -1
               : 0;
  if (!rc) {
    int64_t n = img.dims[0], size = rt_tensor_numel(&img) / (n ? n : 1);
    d->x = dlc_try_malloc(sizeof(float) * (size_t)(n * size + 1));
    d->y = dlc_try_malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (!d->x || !d->y) rc = rt_fail(e, RT_E_NOMEM, dir, NULL);
    else convert(d, &img, &lab);
  }
  rt_tensor_free(&img), rt_tensor_free(&lab);
  if (rc) rt_data_free(d);
  return rc;
}

void rt_data_free(RtDataset *d) {
  free(d->x), free(d->y);
  memset(d, 0, sizeof *d);
}

/* Fisher-Yates from the back: j uniform in [0, i] from the i-th number of the epoch. */
void rt_data_shuffle(uint64_t seed, uint64_t epoch, int64_t n, int64_t *order) {
  for (int64_t i = 0; i < n; i++) order[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {
    uint32_t w[4];
    rt_philox(seed, epoch * (uint64_t)n + (uint64_t)i, w);
    uint64_t r = (uint64_t)w[0] << 32 | w[1];
    int64_t j = (int64_t)(r % (uint64_t)(i + 1)), t = order[i];
    order[i] = order[j], order[j] = t;
  }
}

static void put_label(void *y, int64_t i, int64_t label, RtLabelKind kind, int64_t width) {
  if (kind == RT_LABEL_I64) ((int64_t *)y)[i] = label;
  else if (kind == RT_LABEL_I32) ((int32_t *)y)[i] = (int32_t)label;
  else
    for (int64_t c = 0; c < width; c++) ((float *)y)[i * width + c] = c == label ? 1.0f : 0.0f;
}

void rt_data_batch(const RtDataset *d, const int64_t *order, int64_t first, int64_t b, float *x,
                   void *y, RtLabelKind kind, int64_t width) {
  for (int64_t i = 0; i < b; i++) {
    bool in = first + i < d->n;
    int64_t s = !in ? 0 : order ? order[first + i] : first + i;
    if (x && in) memcpy(x + i * d->size, d->x + s * d->size, sizeof(float) * (size_t)d->size);
    else if (x) memset(x + i * d->size, 0, sizeof(float) * (size_t)d->size);
    if (y) put_label(y, i, in ? d->y[s] : 0, kind, width);
  }
}

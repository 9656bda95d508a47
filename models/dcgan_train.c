/* dcgan_train.c — trains models/dcgan.dlc on Fashion-MNIST through its generated
 * training interface (dlc compile --train; run by dcgan_train.sh).
 *
 *     dcgan_train DATA_DIR OUT_DIR EPOCHS SAMPLES
 *
 * Each batch runs the discriminator's step (step_d) and then the generator's (step_g),
 * each on fresh standard-normal noise from the runtime's Philox stream, on the first
 * SAMPLES training images in a new shuffled order every epoch.  After each epoch it
 * prints the mean of both losses, the discriminator's mean probability that a real
 * and a generated image is real (after its step, on that step's batch) and the epoch's
 * wall time, writes OUT_DIR/samples_<epoch>.pgm (a grid of 64 images from one fixed
 * noise batch) and, at the end, OUT_DIR/gan_losses.csv (the same columns). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dcgan.h"
#include "dlc_rng.h"
#include "rt_data.h"

#define B (DCGAN_X_SIZE / 784)      /* batch */
#define NZ (DCGAN_Z_SIZE / B)       /* noise per image */
#define NOISE_SEED 20240601ull
#define SHOW_SEED 7ull              /* the fixed noise of the sample grids */

static float x[DCGAN_X_SIZE], z[DCGAN_Z_SIZE], image[DCGAN_IMAGE_SIZE], logits[DCGAN_LOGITS_SIZE];

static void noise(uint64_t seed, uint64_t *ctr) {
  for (int i = 0; i < DCGAN_Z_SIZE; i++) z[i] = (float)rt_rand_normal(seed, (*ctr)++);
}

static double sigmoid(double v) { return 1 / (1 + exp(-v)); }

/* Mean D(x) over the real row and D(G(z)) over the generated row of the logits. */
static void probs(double *real, double *fake) {
  *real = *fake = 0;
  for (int i = 0; i < B; i++) *real += sigmoid(logits[i]) / B, *fake += sigmoid(logits[B + i]) / B;
}

static int samples(dcgan *m, const char *out, int epoch) {
  char path[4096];
  uint64_t ctr = 0;
  DlcErr e = {0};
  noise(SHOW_SEED, &ctr);
  if (dcgan_infer(m, z, x, image, logits)) return -1;
  snprintf(path, sizeof path, "%s/samples_%d.pgm", out, epoch);
  if (rt_plot_grid(path, image, B < 64 ? B : 64, 28, 28, 8, &e)) return fprintf(stderr, "%s\n", e.msg), -1;
  return 0;
}

/* Moves the entries of order[0..total) below n, in their order, to its front: of a
 * shuffle of all the samples, a shuffle of the first n.  Returns how many (n). */
static int64_t keep_first(int64_t *order, int64_t total, int64_t n) {
  int64_t j = 0;
  for (int64_t k = 0; k < total; k++)
    if (order[k] < n) order[j++] = order[k];
  return j;
}

/* One epoch; row gets epoch, loss_d, loss_g, D(real), D(fake), seconds. */
static int epoch(dcgan *m, const RtDataset *d, int64_t n, int ep, uint64_t *ctr, double *row) {
  int64_t *order = malloc(sizeof(int64_t) * (size_t)d->n), batches = n / B;
  double ld = 0, lg = 0, pr = 0, pf = 0;
  uint64_t t0 = rt_now_ns();
  rt_data_shuffle(NOISE_SEED, (uint64_t)ep, d->n, order);
  keep_first(order, d->n, n);
  for (int64_t b = 0; b < batches; b++) {
    float l1, l2;
    double r, f;
    rt_data_batch(d, order, b * B, B, x, NULL, RT_LABEL_I64, 0);
    noise(NOISE_SEED, ctr);
    if (dcgan_step_d_step(m, z, x, &l1) || dcgan_run(m, (const void *const[]){z, x}, (void *const[]){image, logits}))
      return free(order), -1;
    probs(&r, &f);
    noise(NOISE_SEED, ctr);
    if (dcgan_step_g_step(m, z, x, &l2)) return free(order), -1;
    ld += l1, lg += l2, pr += r, pf += f;
  }
  free(order);
  row[0] = ep, row[1] = ld / batches, row[2] = lg / batches, row[3] = pr / batches, row[4] = pf / batches;
  row[5] = (double)(rt_now_ns() - t0) * 1e-9;
  printf("epoch %d: loss_d %.4f  loss_g %.4f  D(real) %.3f  D(fake) %.3f  (%.1f s)\n", ep, row[1], row[2], row[3],
         row[4], row[5]);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) return fprintf(stderr, "usage: dcgan_train DATA_DIR OUT_DIR EPOCHS SAMPLES\n"), 2;
  RtDataset d;
  DlcErr e = {0};
  dcgan *m;
  int epochs = atoi(argv[3]);
  uint64_t ctr = 0;
  if (rt_data_mnist(argv[1], "train", &d, &e)) return fprintf(stderr, "%s\n", e.msg), 1;
  int64_t n = atoll(argv[4]) < d.n ? atoll(argv[4]) : d.n;
  double *rows = calloc((size_t)(epochs + 1) * 6, sizeof(double));
  if (dcgan_init(&m, NULL) || samples(m, argv[2], 0)) return fprintf(stderr, "dcgan_train: init\n"), 1;
  for (int ep = 1; ep <= epochs; ep++)
    if (epoch(m, &d, n, ep, &ctr, &rows[(ep - 1) * 6]) || samples(m, argv[2], ep))
      return fprintf(stderr, "dcgan_train: epoch %d failed\n", ep), 1;
  char path[4096];
  const char *head[6] = {"epoch", "loss_d", "loss_g", "d_real", "d_fake", "seconds"};
  snprintf(path, sizeof path, "%s/gan_losses.csv", argv[2]);
  if (rt_plot_csv(path, head, 6, rows, epochs, &e)) return fprintf(stderr, "%s\n", e.msg), 1;
  dcgan_free(m);
  rt_data_free(&d);
  free(rows);
  return 0;
}

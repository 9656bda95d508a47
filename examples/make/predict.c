/* predict.c — logistic regression (models/logreg.onnx), compiled by `dlc compile` in
 * the Makefile beside this file.
 *
 *   predict IMAGE.npy [REFERENCE.npy]
 *
 * Reads one image (f32, 784 values) with libdlcrt's .npy reader and prints the class
 * probabilities; given another implementation's output for the same image (ONNX
 * Runtime, say), exits 1 unless every value agrees within 1e-5. */
#include <math.h>
#include <stdio.h>

#include "dlcrt.h"  /* rt_npy_read */
#include "logreg.h" /* generated: logreg_init, logreg_infer, LOGREG_X_SIZE, LOGREG_Y_SIZE */

static int read_values(const char *path, int64_t want, RtTensor *t) {
  DlcErr e;
  if (rt_npy_read(path, t, &e)) return fprintf(stderr, "predict: %s\n", e.msg), -1;
  if (t->dtype != RT_F32 || rt_tensor_numel(t) != want)
    return fprintf(stderr, "predict: %s: expected %lld f32 values\n", path, (long long)want), -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) return fprintf(stderr, "usage: predict IMAGE.npy [REFERENCE.npy]\n"), 2;
  RtTensor x = {0}, ref = {0};
  if (read_values(argv[1], LOGREG_X_SIZE, &x) || (argc == 3 && read_values(argv[2], LOGREG_Y_SIZE, &ref)))
    return 1;
  logreg *m = NULL;
  float y[LOGREG_Y_SIZE];
  int st = logreg_init(&m, NULL);
  if (!st) st = logreg_infer(m, x.data, y);
  if (st) return fprintf(stderr, "predict: %s\n", logreg_strerror(st)), 1;
  const float *r = ref.data;
  int bad = 0;
  for (int i = 0; i < LOGREG_Y_SIZE; i++) {
    printf("class %d: %.6f\n", i, y[i]);
    if (r && !(fabsf(y[i] - r[i]) <= 1e-5f + 1e-4f * fabsf(r[i]))) bad++;
  }
  if (r) printf("%s: %d of %d values differ from %s\n", bad ? "FAIL" : "ok", bad, LOGREG_Y_SIZE, argv[2]);
  logreg_free(m);
  rt_tensor_free(&x), rt_tensor_free(&ref);
  return bad ? 1 : 0;
}

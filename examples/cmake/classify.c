/* classify.c — LeNet-5 (models/lenet.onnx) compiled into this program by dlc_add_model.
 *
 *   classify IMAGE.npy [REFERENCE.npy]
 *
 * Reads one image (f32, 784 values) with libdlcrt's .npy reader, prints the ten class
 * scores and the best class; given the scores another implementation computed for the
 * same image (ONNX Runtime, say), exits 1 unless every score agrees within 1e-4. */
#include <math.h>
#include <stdio.h>

#include "dlcrt.h" /* rt_npy_read */
#include "lenet.h" /* generated: lenet_init, lenet_infer, LENET_X_SIZE, LENET_Y_SIZE */

static int read_values(const char *path, int64_t want, RtTensor *t) {
  DlcErr e;
  if (rt_npy_read(path, t, &e)) return fprintf(stderr, "classify: %s\n", e.msg), -1;
  if (t->dtype != RT_F32 || rt_tensor_numel(t) != want)
    return fprintf(stderr, "classify: %s: expected %lld f32 values\n", path, (long long)want), -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) return fprintf(stderr, "usage: classify IMAGE.npy [REFERENCE.npy]\n"), 2;
  RtTensor x = {0}, ref = {0};
  if (read_values(argv[1], LENET_X_SIZE, &x) || (argc == 3 && read_values(argv[2], LENET_Y_SIZE, &ref)))
    return 1;
  lenet *m = NULL;
  float y[LENET_Y_SIZE];
  int st = lenet_init(&m, NULL); /* the weights are embedded */
  if (!st) st = lenet_infer(m, x.data, y);
  if (st) return fprintf(stderr, "classify: %s\n", lenet_strerror(st)), 1;
  int best = 0, bad = 0;
  for (int i = 0; i < LENET_Y_SIZE; i++) {
    printf("class %d: %9.5f\n", i, y[i]);
    if (y[i] > y[best]) best = i;
    if (ref.data && !(fabsf(y[i] - ((float *)ref.data)[i]) <= 1e-4f + 1e-4f * fabsf(((float *)ref.data)[i]))) bad++;
  }
  printf("best: class %d\n", best);
  if (ref.data) printf("%s: %d of %d scores differ from %s\n", bad ? "FAIL" : "ok", bad, LENET_Y_SIZE, argv[2]);
  lenet_free(m);
  rt_tensor_free(&x), rt_tensor_free(&ref);
  return bad ? 1 : 0;
}

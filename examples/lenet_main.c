/* lenet_main.c — using the code `dlc compile models/lenet.dlc --name lenet` generates.
 * It draws a 28x28 test image (a ring, the rough shape of a bag's outline), runs the
 * network once and prints the ten class scores.  The weights are the initial ones the
 * model file declares; train them with `dlc train` to get meaningful scores. */
#include <math.h>
#include <stdio.h>

#include "lenet.h"

int main(void) {
  static float image[LENET_X_SIZE];
  static float scores[LENET_PROBS_SIZE];
  for (int r = 0; r < 28; r++)
    for (int c = 0; c < 28; c++) {
      double d = sqrt((r - 13.5) * (r - 13.5) + (c - 13.5) * (c - 13.5));
      image[r * 28 + c] = fabs(d - 9.0) < 2.5 ? 1.0f : 0.0f;
    }

  lenet *m;
  int rc = lenet_init(&m, NULL);
  if (rc) {
    fprintf(stderr, "lenet_init: %s\n", lenet_strerror(rc));
    return 1;
  }
  rc = lenet_infer(m, image, scores);
  lenet_free(m);
  if (rc) {
    fprintf(stderr, "lenet_infer: %s\n", lenet_strerror(rc));
    return 1;
  }
  int best = 0;
  for (int k = 0; k < LENET_PROBS_SIZE; k++) {
    printf("class %d: %.6f\n", k, scores[k]);
    if (scores[k] > scores[best]) best = k;
  }
  printf("most likely: class %d\n", best);
  return 0;
}

/* api_main.c — a program on the generated training interface of models/mlp.dlc
 * (dlc compile --train --name mlp): the step fits one fixed batch (its loss falls),
 * mlp_train_loss changes nothing, mlp_save and mlp_load bring the parameters back,
 * a damaged file is refused and changes nothing.  Exit status 0 when all hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

#define B MLP_X_SIZE / 784

static int fail(const char *what) {
  fprintf(stderr, "api_main: %s\n", what);
  return 1;
}

int main(int argc, char **argv) {
  static float x[MLP_X_SIZE], probs[MLP_PROBS_SIZE];
  static int64_t label[B];
  mlp *m;
  float first = 0, loss = 0, again = 0;
  int i;
  if (argc != 2) return fail("usage: api_main FOLDER");
  for (i = 0; i < MLP_X_SIZE; i++) x[i] = (float)((i * 7919) % 255) / 255.0f;
  for (i = 0; i < B; i++) label[i] = i % 10;
  if (mlp_init(&m, NULL)) return fail("init");
  if (mlp_train_loss(m, x, label, &first) || mlp_train_loss(m, x, label, &again) || first != again)
    return fail("train_loss is not repeatable");
  for (i = 0; i < 40; i++)
    if (mlp_train_step(m, x, label, i ? &loss : NULL)) return fail("step");
  if (mlp_train_loss(m, x, label, &loss) || !(loss < 0.5f * first)) return fail("the loss did not fall");
  if (mlp_infer(m, x, probs) || !(probs[0] >= 0 && probs[0] <= 1)) return fail("infer");
  {
    char path[4096], bad[4096];
    float *w = (float *)mlp_param(m, "dense1.w"), keep = w ? w[3] : 0, after = 0;
    FILE *f;
    long size;
    char *bytes;
    if (!w || mlp_param(m, "no.such") || !mlp_param(m, "train.m.dense1.w")) return fail("param");
    snprintf(path, sizeof path, "%s/mlp.params", argv[1]);
    snprintf(bad, sizeof bad, "%s/bad.params", argv[1]);
    if (mlp_save(m, path)) return fail("save");
    w[3] = 1234.5f;
    if (mlp_load(m, path) || w[3] != keep) return fail("load did not restore the parameter");
    if (mlp_train_loss(m, x, label, &after) || after != loss) return fail("the loss after load differs");
    f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    bytes = malloc((size_t)size);
    if (fread(bytes, 1, (size_t)size, f) != (size_t)size) return fail("read back");
    fclose(f);
    f = fopen(bad, "wb");
    fwrite(bytes, 1, (size_t)size - 5, f);
    fclose(f);
    free(bytes);
    w[3] = 99.0f;
    if (mlp_load(m, bad) != MLP_ERR_WEIGHTS_BAD || w[3] != 99.0f) return fail("a damaged file was taken");
    if (mlp_load(m, "/nonexistent/file") != MLP_ERR_WEIGHTS_OPEN) return fail("a missing file was taken");
  }
  if (mlp_step(m, 5, 1, NULL, NULL) != MLP_ERR_STEP || strcmp(mlp_step_name(0), "train")) return fail("step index");
  mlp_free(m);
  printf("api_main: loss %.4f -> %.4f\n", first, loss);
  return 0;
}

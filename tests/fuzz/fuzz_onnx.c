/* fuzz_onnx.c — libFuzzer target for the ONNX loader.  onnx_load reads a path (and
 * external data beside it), so each input is written to model.onnx in a private folder
 * made once per process and removed at exit; nothing else is in that folder. */
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096], path[4200];

static void remove_dir(void) {
  unlink(path);
  rmdir(dir);
}

static const char *model_path(void) {
  if (!dir[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/dlc-fuzz-onnx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
      perror("fuzz_onnx: mkdtemp");
      abort();
    }
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    atexit(remove_dir);
  }
  return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = model_path();
  FILE *f = fopen(p, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
    perror("fuzz_onnx: writing the model");
    abort();
  }
  fuzz_setup();
  LoadOptions o = {.batch = 2};
  DlcErr e = {0};
  Graph *g = onnx_load(p, &o, &e);
  fuzz_check_result(g, &e);
  return 0;
}

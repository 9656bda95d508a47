/* fuzz_txt.c — libFuzzer target for the .dlc text parser: txt_parse on the bytes. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_setup();
  LoadOptions o = {.batch = 2};
  DlcErr e = {0};
  Graph *g = txt_parse((const char *)data, size, "fuzz.dlc", &o, &e);
  fuzz_check_result(g, &e);
  return 0;
}

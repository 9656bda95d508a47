/* half_tool.c — ir/dtype.c's conversions of the storage dtypes as a filter, for
 * half_numpy.py and narrow_oracle.py to check against numpy, ml_dtypes and ONNX's
 * reference.
 *
 *   half_tool round T [MODE] < doubles > bits   each f64 rounded into T: uint16 for f16
 *                                               and bf16, uint8 for the one-byte types;
 *                                               MODE: f8e8m0's (ir.h DTYPE_E8M0_*)
 *   half_tool value T < bits > doubles          each bit pattern of T as an f64 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

int main(int argc, char **argv) {
  DType t;
  if (argc < 3 || argc > 4 || dtype_parse(argv[2], strlen(argv[2]), &t) || strlen(argv[2]) != strlen(dtype_name(t)) ||
      !dtype_is_storage(t)) {
    fprintf(stderr, "usage: half_tool round|value TYPE [MODE]  (a storage dtype: f16, bf16, f8e4m3fn, ..., u2)\n");
    return 1;
  }
  bool round = !strcmp(argv[1], "round");
  int size = dtype_size(t), mode = argc == 4 ? atoi(argv[3]) : -1;
  for (;;) {
    double d;
    unsigned char h[2];
    if (round) {
      if (fread(&d, sizeof d, 1, stdin) != 1) break;
      if (mode >= 0) d = dtype_e8m0_round(d, mode);
      dtype_store(t, h, 0, d);
      fwrite(h, (size_t)size, 1, stdout);
    } else {
      if (fread(h, (size_t)size, 1, stdin) != 1) break;
      d = dtype_load(t, h, 0);
      if (dtype_round(t, d) != d && d == d) return 2; /* a stored value rounds to itself */
      fwrite(&d, sizeof d, 1, stdout);
    }
  }
  return 0;
}

/* half_tool.c — ir/dtype.c's f16 and bf16 conversions as a filter, for half_numpy.py
 * to check against numpy and ml_dtypes.
 *
 *   half_tool round T < doubles > bits      each f64 rounded into T (f16 or bf16): uint16
 *   half_tool value T < bits    > doubles   each uint16 pattern of T as an f64 */
#include <stdio.h>
#include <string.h>

#include "ir.h"

int main(int argc, char **argv) {
  DType t;
  if (argc != 3 || dtype_parse(argv[2], strlen(argv[2]), &t) || !dtype_is_storage(t)) {
    fprintf(stderr, "usage: half_tool round|value f16|bf16\n");
    return 1;
  }
  bool round = !strcmp(argv[1], "round");
  for (;;) {
    double d;
    uint16_t h;
    if (round) {
      if (fread(&d, sizeof d, 1, stdin) != 1) break;
      dtype_store(t, &h, 0, d);
      fwrite(&h, sizeof h, 1, stdout);
    } else {
      if (fread(&h, sizeof h, 1, stdin) != 1) break;
      d = dtype_load(t, &h, 0);
      if (dtype_round(t, d) != d && d == d) return 2; /* a stored value rounds to itself */
      fwrite(&d, sizeof d, 1, stdout);
    }
  }
  return 0;
}

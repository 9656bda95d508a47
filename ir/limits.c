/* limits.c — the budgets of one compilation (ir_limits, docs/SECURITY.md). */
#include <string.h>

#include "ir.h"

IrLimits ir_limits = {
    .elements = (int64_t)1 << 31,
    .nodes = (int64_t)1 << 20,
    .weight_bytes = (int64_t)1 << 29,
    .arena_bytes = (int64_t)1 << 34,
    .code_bytes = (int64_t)1 << 28,
    .string_heap = (int64_t)1 << 20,
    .split_pieces = 64,
};

int64_t *ir_limit_named(const char *name) {
  static const struct {
    const char *name;
    int64_t *v;
  } tab[] = {
      {"max-elements", &ir_limits.elements},     {"max-nodes", &ir_limits.nodes},
      {"max-weight-bytes", &ir_limits.weight_bytes}, {"max-arena-bytes", &ir_limits.arena_bytes},
      {"max-code-bytes", &ir_limits.code_bytes}, {"string-heap", &ir_limits.string_heap},
      {"split-pieces", &ir_limits.split_pieces}, {"max-trip", &ir_limits.max_trip},
  };
  for (size_t i = 0; name && i < sizeof tab / sizeof tab[0]; i++)
    if (!strcmp(tab[i].name, name)) return tab[i].v;
  return NULL;
}

int ir_limit_elements(const char *what, double n, DlcErr *e) {
  if (n <= (double)ir_limits.elements) return 0;
  return dlc_errf(e, "%s: %.0f elements, over the limit of %lld per tensor (--max-elements)", what, n,
                  (long long)ir_limits.elements);
}

int ir_limit_bytes(const char *what, double bytes, int64_t limit, const char *flag, DlcErr *e) {
  if (bytes <= (double)limit) return 0;
  return dlc_errf(e, "%s: %.0f bytes, over the limit of %lld (%s)", what, bytes, (long long)limit, flag);
}

/* limits.c — the budgets of one compilation (ir_limits, docs/SECURITY.md). */
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

int ir_limit_elements(const char *what, double n, DlcErr *e) {
  if (n <= (double)ir_limits.elements) return 0;
  return dlc_errf(e, "%s: %.0f elements, over the limit of %lld per tensor (--max-elements)", what, n,
                  (long long)ir_limits.elements);
}

int ir_limit_bytes(const char *what, double bytes, int64_t limit, const char *flag, DlcErr *e) {
  if (bytes <= (double)limit) return 0;
  return dlc_errf(e, "%s: %.0f bytes, over the limit of %lld (%s)", what, bytes, (long long)limit, flag);
}

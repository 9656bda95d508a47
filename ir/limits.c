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

static const struct {
  const char *name;
  int64_t *v;
} named[] = {
    {"max-elements", &ir_limits.elements},     {"max-nodes", &ir_limits.nodes},
    {"max-weight-bytes", &ir_limits.weight_bytes}, {"max-arena-bytes", &ir_limits.arena_bytes},
    {"max-code-bytes", &ir_limits.code_bytes}, {"string-heap", &ir_limits.string_heap},
    {"split-pieces", &ir_limits.split_pieces}, {"max-trip", &ir_limits.max_trip},
};
enum { NNAMED = sizeof named / sizeof named[0] };

const char *ir_limit_name(int i) { return i >= 0 && i < (int)NNAMED ? named[i].name : NULL; }

int64_t *ir_limit_named(const char *name) {
  for (size_t i = 0; name && i < NNAMED; i++)
    if (!strcmp(named[i].name, name)) return named[i].v;
  return NULL;
}

int ir_limit_set(const char *name, int64_t value, DlcErr *e) {
  int64_t *v = ir_limit_named(name);
  if (!v) {
    char shown[4 * 64 + 1], list[256]; /* the name as the caller gave it, control bytes as \xNN */
    size_t m = 0;
    dlc_escape_ctl(shown, sizeof shown, name);
    for (size_t i = 0; i < NNAMED; i++)
      m += (size_t)snprintf(list + m, sizeof list - m, "%s%s", i ? ", " : "", named[i].name);
    return dlc_errf(e, "no limit named '%s' (%s)", shown, list);
  }
  if (value < (v == &ir_limits.max_trip ? 0 : 1))
    return dlc_errf(e, "limit %s: %lld is not a %s count", name, (long long)value,
                    v == &ir_limits.max_trip ? "non-negative" : "positive");
  *v = value;
  return 0;
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

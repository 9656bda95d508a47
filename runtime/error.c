/* error.c — DlcErr formatting and the internal-invariant abort. */
#include "dlc_err.h"

#include <stdio.h>
#include <stdlib.h>

int dlc_verrf(DlcErr *e, const char *fmt, va_list ap) {
  if (e) vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  return -1;
}

int dlc_errf(DlcErr *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  dlc_verrf(e, fmt, ap);
  va_end(ap);
  return -1;
}

_Noreturn void dlc_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "dlc: internal error: %s:%d: assertion '%s' failed\n", file, line, expr);
  abort();
}

/* rt_status.c — the runtime's error codes and their messages, kept in one table. */
#include <stdarg.h>
#include <stdio.h>

#include "dlcrt.h"

static const char *const status_msgs[RT_STATUS_COUNT] = {
    [RT_OK] = "ok",
    [RT_E_OPEN] = "cannot open",
    [RT_E_IO] = "read or write failed",
    [RT_E_FORMAT] = "bad file format",
    [RT_E_DTYPE] = "unsupported element type",
    [RT_E_ORDER] = "unsupported data layout",
    [RT_E_TRUNC] = "file is truncated",
    [RT_E_NOMEM] = "out of memory",
    [RT_E_NOZLIB] = "gzip-compressed, but dlc was built without zlib",
};

const char *rt_status_msg(RtStatus s) {
  return (unsigned)s < RT_STATUS_COUNT ? status_msgs[s] : "unknown error";
}

int rt_fail(DlcErr *e, RtStatus s, const char *path, const char *detail_fmt, ...) {
  char detail[DLC_ERR_MAX] = "";
  if (detail_fmt) {
    va_list ap;
    va_start(ap, detail_fmt);
    vsnprintf(detail, sizeof detail, detail_fmt, ap);
    va_end(ap);
  }
  if (detail[0]) return dlc_errf(e, "%s: %s: %s", path, rt_status_msg(s), detail);
  return dlc_errf(e, "%s: %s", path, rt_status_msg(s));
}

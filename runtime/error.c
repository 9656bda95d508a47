/* error.c — DlcErr formatting and the internal-invariant abort. */
#include "dlc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

size_t dlc_escape_ctl(char *buf, size_t n, const char *s) {
  size_t k = 0;
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    int ctl = *p < 0x20 || *p == 0x7f;
    if (k + (ctl ? 4 : 1) >= n) break;
    if (ctl) k += (size_t)snprintf(buf + k, n - k, "\\x%02x", *p);
    else buf[k++] = (char)*p;
  }
  if (n) buf[k] = 0;
  return k;
}

_Noreturn void dlc_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "dlc: internal error: %s:%d: assertion '%s' failed\n", file, line, expr);
  abort();
}

/* ---- checked allocation ---- */

static long long fail_at = -1; /* DLC_FAIL_ALLOC: -1 unread, 0 off, N the one to fail */
static long long allocations;
static DlcOomHandler oom_handler;

static void print_count(void) {
  char line[64];
  int n = snprintf(line, sizeof line, "dlc: %lld checked allocations\n", allocations);
  if (n > 0 && write(2, line, (size_t)n) < 0) { /* nothing more to do */
  }
}

/* Whether this allocation is the one DLC_FAIL_ALLOC names. */
static int injected(void) {
  if (fail_at < 0) {
    const char *v = getenv("DLC_FAIL_ALLOC");
    fail_at = 0;
    if (v && !strcmp(v, "count")) {
      atexit(print_count);
    } else if (v && *v) {
      fail_at = strtoll(v, NULL, 10);
      if (fail_at < 0) fail_at = 0;
    }
  }
  ++allocations;
  return fail_at > 0 && allocations == fail_at;
}

void *dlc_try_malloc(size_t n) { return injected() ? NULL : malloc(n ? n : 1); }
void *dlc_try_calloc(size_t n, size_t size) { return injected() ? NULL : calloc(n ? n : 1, size ? size : 1); }
void *dlc_try_realloc(void *p, size_t n) { return injected() ? NULL : realloc(p, n ? n : 1); }

void dlc_set_oom_handler(DlcOomHandler h) { oom_handler = h; }

_Noreturn void dlc_oom(void) {
  if (oom_handler) oom_handler();
  static const char msg[] = "dlc: error: out of memory\n";
  if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */
  }
  exit(1);
}

void *dlc_malloc(size_t n) {
  void *p = dlc_try_malloc(n);
  if (!p) dlc_oom();
  return p;
}

void *dlc_calloc(size_t n, size_t size) {
  void *p = dlc_try_calloc(n, size);
  if (!p) dlc_oom();
  return p;
}

void *dlc_realloc(void *p, size_t n) {
  void *q = dlc_try_realloc(p, n);
  if (!q) dlc_oom();
  return q;
}

char *dlc_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = dlc_malloc(n);
  memcpy(d, s, n);
  return d;
}

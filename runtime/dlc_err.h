/* dlc_err.h — the one error type shared by the compiler and the runtime.
 *
 * Library code never exits: a function that can fail returns -1 (or NULL) and
 * writes one line into a DlcErr the caller passed.  The CLI prints that line. */
#ifndef DLC_ERR_H
#define DLC_ERR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLC_ERR_MAX 768

typedef struct DlcErr {
  char msg[DLC_ERR_MAX];
} DlcErr;

#if defined(__GNUC__)
#define DLC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DLC_PRINTF(f, a)
#endif

/* Formats into e (which may be NULL) and returns -1, so `return dlc_errf(...)` reads well. */
int dlc_errf(DlcErr *e, const char *fmt, ...) DLC_PRINTF(2, 3);
int dlc_verrf(DlcErr *e, const char *fmt, va_list ap);
/* s into buf (n >= 1 bytes, always terminated; cut where it does not fit, never within
 * an escape) with each control byte (below 0x20, and 0x7f) written as \xNN: names from a
 * model or a command line may hold any byte, and must reach a terminal or a log as one
 * harmless line.  Returns the length written. */
size_t dlc_escape_ctl(char *buf, size_t n, const char *s);

/* Internal invariants: abort with the file and line.  Never for user errors. */
#define DLC_ASSERT(c) ((c) ? (void)0 : dlc_assert_fail(#c, __FILE__, __LINE__))
#if defined(__cplusplus)
#define DLC_NORETURN [[noreturn]]
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define DLC_NORETURN _Noreturn
#elif defined(__GNUC__)
#define DLC_NORETURN __attribute__((noreturn))
#else
#define DLC_NORETURN
#endif
DLC_NORETURN void dlc_assert_fail(const char *expr, const char *file, int line);

/* Checked allocation for the compiler (error.c).  dlc_try_* return NULL when memory
 * runs out, for callers that report it as a status; dlc_malloc and the rest never
 * return NULL: they call the out-of-memory handler, which by default prints
 * "dlc: error: out of memory" and exits with status 1 (no crash, no partial output:
 * every file is written to a temporary and renamed).  An embedding may install its own
 * handler; it must not return.  For tests, DLC_FAIL_ALLOC=N in the environment makes
 * the Nth checked allocation of the process fail, and DLC_FAIL_ALLOC=count prints at
 * exit how many there were ("dlc: N checked allocations"): the SQLite way of proving
 * every allocation site handles failure (tests/hostile/alloc_fail.sh). */
void *dlc_try_malloc(size_t n);
void *dlc_try_calloc(size_t n, size_t size);
void *dlc_try_realloc(void *p, size_t n);
void *dlc_malloc(size_t n);
void *dlc_calloc(size_t n, size_t size);
void *dlc_realloc(void *p, size_t n);
char *dlc_strdup(const char *s);
typedef void (*DlcOomHandler)(void);
void dlc_set_oom_handler(DlcOomHandler h); /* NULL: the default */
DLC_NORETURN void dlc_oom(void);

#ifdef __cplusplus
}
#endif

#endif

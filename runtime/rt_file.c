/* rt_file.c — opening a file to read without blocking on it.
 *
 * fopen on a named pipe waits for a writer (forever, if none comes), and a device may
 * never end.  Every file dlc reads is opened here: O_NONBLOCK so that the open itself
 * returns at once, fstat, regular files only, then back to blocking reads. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dlcrt.h"

FILE *rt_fopen_regular(const char *path, const char **why) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return *why = strerror(errno), NULL;
  struct stat st;
  const char *bad = fstat(fd, &st) ? strerror(errno)
                  : S_ISDIR(st.st_mode) ? strerror(EISDIR)
                  : !S_ISREG(st.st_mode) ? "not a regular file"
                  : NULL;
  int fl = bad ? 0 : fcntl(fd, F_GETFL);
  if (!bad && (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) bad = strerror(errno);
  FILE *f = bad ? NULL : fdopen(fd, "rb");
  if (!f) {
    if (!bad) bad = strerror(errno);
    close(fd);
    *why = bad;
  }
  return f;
}

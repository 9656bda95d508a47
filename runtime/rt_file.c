/* rt_file.c — the files of one command: read without blocking, written whole, and
 * never an input written over.
 *
 * fopen on a named pipe waits for a writer (forever, if none comes), and a device may
 * never end.  Every file dlc reads is opened here: O_NONBLOCK so that the open itself
 * returns at once, fstat, regular files only, then back to blocking reads; each is
 * remembered (device and inode).  Every file dlc writes goes to a temporary beside it
 * and is renamed over it only when complete, and never over a file this command read
 * (a trained model written over the model it came from, `-o` naming the input). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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
  if (f) rt_note_input(fd);
  if (!f) {
    if (!bad) bad = strerror(errno);
    close(fd);
    *why = bad;
  }
  return f;
}

/* ---- the inputs of this command, never written over ---- */

#define RT_MAX_INPUTS 256
static struct {
  dev_t dev;
  ino_t ino;
} inputs[RT_MAX_INPUTS];
static int ninputs;

void rt_note_input(int fd) {
  struct stat st;
  if (ninputs == RT_MAX_INPUTS || fstat(fd, &st)) return;
  for (int i = 0; i < ninputs; i++)
    if (inputs[i].dev == st.st_dev && inputs[i].ino == st.st_ino) return;
  inputs[ninputs].dev = st.st_dev, inputs[ninputs].ino = st.st_ino;
  ninputs++;
}

const char *rt_output_check(const char *path) {
  struct stat st;
  if (lstat(path, &st)) return errno == ENOENT ? NULL : strerror(errno);
  if (S_ISDIR(st.st_mode)) return "it is a directory";
  if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return "it exists and is not a regular file";
  if (stat(path, &st)) return NULL; /* a dangling link: replaced by the rename */
  for (int i = 0; i < ninputs; i++)
    if (inputs[i].dev == st.st_dev && inputs[i].ino == st.st_ino) return "it is an input of this command";
  return NULL;
}

/* ---- writing: a temporary beside the file, renamed over it when complete ---- */

int rt_wfile_open(RtWFile *w, const char *path, DlcErr *e) {
  memset(w, 0, sizeof *w);
  const char *bad = rt_output_check(path);
  if (bad) return dlc_errf(e, "%s: will not write it: %s", path, bad);
  if ((size_t)snprintf(w->path, sizeof w->path, "%s", path) >= sizeof w->path)
    return dlc_errf(e, "%.200s...: the path is too long", path);
  snprintf(w->tmp, sizeof w->tmp, "%s.tmpXXXXXX", path);
  int fd = mkstemp(w->tmp);
  if (fd < 0) return w->tmp[0] = 0, dlc_errf(e, "%s: cannot create it: %s", path, strerror(errno));
  mode_t mask = umask(0); /* mkstemp makes 0600; give the usual permissions */
  umask(mask);
  if (fchmod(fd, 0666 & ~mask) || !(w->f = fdopen(fd, "wb"))) {
    close(fd);
    unlink(w->tmp);
    w->tmp[0] = 0;
    return dlc_errf(e, "%s: cannot write it: %s", path, strerror(errno));
  }
  return 0;
}

int rt_wfile_commit(RtWFile *w, DlcErr *e) {
  bool bad = !w->f || ferror(w->f);
  if (w->f && fclose(w->f)) bad = true;
  w->f = NULL;
  const char *why = bad ? "a write failed" : rt_output_check(w->path);
  if (!why && rename(w->tmp, w->path)) why = strerror(errno);
  if (why) {
    rt_wfile_discard(w);
    return dlc_errf(e, "%s: cannot write it: %s", w->path, why);
  }
  w->tmp[0] = 0;
  return 0;
}

void rt_wfile_discard(RtWFile *w) {
  if (w->f) fclose(w->f);
  w->f = NULL;
  if (w->tmp[0]) unlink(w->tmp);
  w->tmp[0] = 0;
}

int rt_cache_dir(const char *env, const char *sub, unsigned mode, bool private_dir, char *buf, size_t n) {
  const char *v = getenv(env), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  const char *sep = sub && *sub ? "/" : "";
  int len;
  if (v && !strcmp(v, "off")) return -1;
  if (v && *v) len = snprintf(buf, n, "%s", v);
  else if (xdg && *xdg) len = snprintf(buf, n, "%s/dlc%s%s", xdg, sep, sub ? sub : "");
  else if (home && *home) len = snprintf(buf, n, "%s/.cache/dlc%s%s", home, sep, sub ? sub : "");
  else return -1;
  if (len < 0 || (size_t)len >= n) return -1;
  for (char *p = buf + 1; *p; p++) /* mkdir -p */
    if (*p == '/') {
      *p = 0;
      if (mkdir(buf, (mode_t)mode) && errno != EEXIST) return -1;
      *p = '/';
    }
  if (mkdir(buf, (mode_t)mode) && errno != EEXIST) return -1;
  struct stat st;
  if (private_dir && (lstat(buf, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)))
    return -1;
  return 0;
}

/* jit_cache.c — the jit's build cache.  Compiling generated C takes most of `dlc run`'s
 * time on a large model (a minute or more), and the same code is often built again: a
 * `--dynamic` model run at another size, a test rerun, `dlc bench` after `dlc run`.
 * The shared object the compiler made is kept as
 *
 *   DIR/<SHA-256 of everything that made it, 64 hex digits>.so
 *
 * DIR is $DLC_JIT_CACHE, else $XDG_CACHE_HOME/dlc/jit, else $HOME/.cache/dlc/jit;
 * DLC_JIT_CACHE=off turns the cache off.  A hit loads code, so the folder must be the
 * user's own and writable by nobody else (made 0700; a folder that is not is not used),
 * and so must each entry; the key is a cryptographic hash so that no model can be
 * made to match another's entry.  Entries are written to a temporary name and renamed,
 * so a reader never sees half of one; past 32 entries or 1 GiB the least recently used
 * go.  A hit is copied into the model's private folder before it is loaded, so two
 * models of the same code in one process never share one loaded object (nor its
 * static data).  Every failure here means "not cached": the caller compiles. */
#define _GNU_SOURCE
#include "jit_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dlcrt.h"
#include "sha256.h"

enum { MAX_ENTRIES = 32 };
#define MAX_BYTES ((long long)1 << 30)

/* The folder, made if needed (0700); 0, or -1 when there is none to use. */
static int cache_dir(char *buf, size_t n) { return rt_cache_dir("DLC_JIT_CACHE", "jit", 0700, true, buf, n); }

static int entry_path(const char *key, char *buf, size_t n) {
  char dir[4096];
  if (cache_dir(dir, sizeof dir)) return -1;
  int len = snprintf(buf, n, "%s/%s.so", dir, key);
  return len < 0 || (size_t)len >= n ? -1 : 0;
}

static void add_str(Sha256 *h, const char *s) { sha256_add(h, s ? s : "", strlen(s ? s : "") + 1); }

static void add_id(Sha256 *h, const struct stat *st) {
  long long v[5] = {(long long)st->st_dev, (long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
                    (long long)st->st_mtim.tv_nsec};
  sha256_add(h, v, sizeof v);
}

/* The compiler: cmd's first word, a path or found on PATH; its identity into h. */
static int add_compiler(Sha256 *h, const char *cmd) {
  char word[1024], p[4096];
  size_t k = strspn(cmd, " \t"), w = strcspn(cmd + k, " \t");
  if (!w || w >= sizeof word) return -1;
  memcpy(word, cmd + k, w), word[w] = 0;
  struct stat st;
  if (strchr(word, '/')) return stat(word, &st) ? -1 : (add_id(h, &st), 0);
  const char *path = getenv("PATH");
  for (const char *s = path ? path : ""; *s;) {
    size_t d = strcspn(s, ":");
    if (snprintf(p, sizeof p, "%.*s/%s", (int)d, s, word) < (int)sizeof p && !stat(p, &st) && S_ISREG(st.st_mode) &&
        !access(p, X_OK))
      return add_str(h, p), add_id(h, &st), 0;
    s += d + (s[d] == ':');
  }
  return -1;
}

/* For a command built for "native": the host CPU's identity, its first processor's
 * lines of /proc/cpuinfo that name it and its instruction sets (not its clock), so a
 * cache shared between machines (a home folder on NFS) never hands one CPU's code to
 * another. */
static void add_host_cpu(Sha256 *h) {
  static const char *const keep[] = {"vendor_id", "cpu family", "model", "model name", "stepping", "flags",
                                     "Features", "CPU implementer", "CPU architecture", "CPU variant", "CPU part"};
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[8192];
  while (f && fgets(line, sizeof line, f) && line[0] != '\n') {
    size_t k = strcspn(line, "\t:");
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
      if (k == strlen(keep[i]) && !strncmp(line, keep[i], k)) add_str(h, line);
  }
  if (f) fclose(f);
}

static int add_file(Sha256 *h, const char *dir, const char *name) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "rb");
  if (!f) return errno == ENOENT ? 0 : -1; /* absent: not part of this build */
  add_str(h, name);
  unsigned char buf[1 << 16];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) sha256_add(h, buf, got);
  int bad = ferror(f);
  fclose(f);
  return bad ? -1 : 0;
}

int jit_cache_key(const char *dir, const char *cmd, const char *const *files, const char *const *also,
                  char key[JIT_CACHE_KEY]) {
  char cdir[4096];
  if (cache_dir(cdir, sizeof cdir)) return -1;
  Sha256 h;
  sha256_init(&h);
  add_str(&h, "dlc jit cache 1");
  add_str(&h, cmd);
  if (add_compiler(&h, cmd)) return -1;
  if (strstr(cmd, "=native")) add_host_cpu(&h);
  static const char *const env[] = {"CPATH", "C_INCLUDE_PATH", "LIBRARY_PATH", "GCC_EXEC_PREFIX", "COMPILER_PATH",
                                    "GCC_COMPARE_DEBUG", "SOURCE_DATE_EPOCH", "LD_RUN_PATH"};
  for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) add_str(&h, env[i]), add_str(&h, getenv(env[i]));
  for (int i = 0; also && also[i]; i++) {
    struct stat st;
    if (stat(also[i], &st)) return -1;
    add_str(&h, also[i]);
    add_id(&h, &st);
  }
  for (int i = 0; files[i]; i++)
    if (add_file(&h, dir, files[i])) return -1;
  unsigned char d[32];
  sha256_done(&h, d);
  for (int i = 0; i < 32; i++) snprintf(key + 2 * i, 3, "%02x", d[i]);
  return 0;
}

/* Copies the open file in to path out (created exclusively, 0700); 0 or -1. */
static int copy_fd(int in, const char *out) {
  int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  if (fd < 0) return -1;
  char buf[1 << 16];
  ssize_t got;
  int r = 0;
  while (!r && (got = read(in, buf, sizeof buf)) != 0) {
    if (got < 0) {
      if (errno != EINTR) r = -1;
      continue;
    }
    for (ssize_t off = 0; !r && off < got;) {
      ssize_t put = write(fd, buf + off, (size_t)(got - off));
      if (put < 0 && errno != EINTR) r = -1;
      else if (put > 0) off += put;
    }
  }
  if (close(fd)) r = -1;
  if (r) unlink(out);
  return r;
}

bool jit_cache_get(const char *key, const char *dest) {
  char p[4200];
  if (entry_path(key, p, sizeof p)) return false;
  int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); /* a FIFO there: never waited on */
  if (fd < 0) return false;
  struct stat st;
  bool ok = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 022) &&
            !copy_fd(fd, dest);
  close(fd);
  if (ok) utimensat(AT_FDCWD, p, NULL, 0); /* recently used */
  return ok;
}

void jit_cache_drop(const char *key) {
  char p[4200];
  if (!entry_path(key, p, sizeof p)) unlink(p);
}

typedef struct Entry {
  char name[80];
  long long bytes;
  struct timespec used;
} Entry;

static int older(const void *a, const void *b) {
  const Entry *x = a, *y = b;
  if (x->used.tv_sec != y->used.tv_sec) return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
  return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

/* Drops the least recently used entries while there are more than the bounds allow,
 * and copies some process left unfinished an hour ago. */
static void evict(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  int dfd = dirfd(d);
  Entry *e = NULL;
  size_t n = 0, cap = 0;
  long long total = 0;
  time_t now = time(NULL);
  for (struct dirent *de; (de = readdir(d));) {
    size_t len = strlen(de->d_name);
    struct stat st;
    if (len < 67 || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode)) continue;
    if (de->d_name[0] == '.') {
      if (now - st.st_mtime > 3600) unlinkat(dfd, de->d_name, 0);
      continue;
    }
    if (len != 67 || strcmp(de->d_name + 64, ".so")) continue;
    if (n == cap) {
      Entry *m = dlc_try_realloc(e, sizeof *e * (cap = cap ? 2 * cap : 64));
      if (!m) break;
      e = m;
    }
    memcpy(e[n].name, de->d_name, len + 1);
    e[n].bytes = (long long)st.st_size, e[n].used = st.st_mtim;
    total += e[n++].bytes;
  }
  if (n) qsort(e, n, sizeof *e, older);
  for (size_t i = 0; i + 1 < n && (n - i > MAX_ENTRIES || total > MAX_BYTES); i++) /* the newest stays */
    if (!unlinkat(dfd, e[i].name, 0)) total -= e[i].bytes;
  closedir(d);
  free(e);
}

void jit_cache_put(const char *key, const char *src) {
  char dir[4096], tmp[4200], p[4200];
  if (cache_dir(dir, sizeof dir)) return;
  snprintf(p, sizeof p, "%s/%s.so", dir, key);
  snprintf(tmp, sizeof tmp, "%s/.%s.%ld", dir, key, (long)getpid());
  int fd = open(src, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  unlink(tmp); /* one this process left behind */
  int r = copy_fd(fd, tmp);
  close(fd);
  if (r) return;
  if (rename(tmp, p)) {
    unlink(tmp);
    return;
  }
  evict(dir);
}

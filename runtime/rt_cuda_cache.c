/* rt_cuda_cache.c — compiled PTX on disk, one file per key (a hash of the source, the
 * architecture, the options and NVRTC's version):
 *
 *   DIR/<key as 16 hex digits>.ptx  =  "DLCPTX01 <key>\n" then the PTX
 *
 * DIR is $DLC_CUDA_CACHE, else $XDG_CACHE_HOME/dlc, else $HOME/.cache/dlc;
 * DLC_CUDA_CACHE=off turns the cache off.  An entry is written to a temporary name and
 * renamed, so a reader never sees half of one.  Every failure here means "not cached":
 * the caller compiles instead. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dlcrt.h"
#include "rt_cuda_lib.h"

#define MAGIC "DLCPTX01"

unsigned long long rt_cuda_hash(const void *p, size_t n, unsigned long long h) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
  return h;
}

/* The folder, made if needed; 0, or -1 when there is none to use. */
static int cache_dir(char *buf, size_t n) { return rt_cache_dir("DLC_CUDA_CACHE", "", 0755, false, buf, n); }

static int entry_path(unsigned long long key, char *buf, size_t n) {
  char dir[4096];
  if (cache_dir(dir, sizeof dir)) return -1;
  int len = snprintf(buf, n, "%s/%016llx.ptx", dir, key);
  return len < 0 || (size_t)len >= n ? -1 : 0;
}

static char *read_all(FILE *f) {
  if (fseek(f, 0, SEEK_END)) return NULL;
  long size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET)) return NULL;
  char *b = dlc_try_malloc((size_t)size + 1);
  if (b && fread(b, 1, (size_t)size, f) != (size_t)size) free(b), b = NULL;
  if (b) b[size] = 0;
  return b;
}

char *rt_cuda_cache_get(unsigned long long key) {
  char path[4200], head[64];
  if (entry_path(key, path, sizeof path)) return NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *all = read_all(f);
  fclose(f);
  int len = snprintf(head, sizeof head, MAGIC " %016llx\n", key);
  if (!all || strncmp(all, head, (size_t)len)) return free(all), NULL;
  memmove(all, all + len, strlen(all + len) + 1);
  return all;
}

void rt_cuda_cache_put(unsigned long long key, const char *ptx) {
  char path[4200], tmp[4300];
  if (entry_path(key, path, sizeof path)) return;
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) return;
  int ok = fprintf(f, MAGIC " %016llx\n", key) > 0 && fputs(ptx, f) >= 0;
  if (fclose(f) || !ok || rename(tmp, path)) unlink(tmp);
}

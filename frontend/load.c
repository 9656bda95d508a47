/* load.c — reads a model file and hands it to the frontend its extension names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dlcrt.h"
#include "frontend.h"

#define LOAD_MAX_BYTES ((long long)1 << 30)

/* The whole file in one malloc'ed buffer; NULL with e set. */
static char *read_all(const char *path, size_t *len, DlcErr *e) {
  struct stat st;
  memset(&st, 0, sizeof st);
  const char *why;
  FILE *f = rt_fopen_regular(path, &why);
  if (!f || fstat(fileno(f), &st)) {
    if (f) why = strerror(errno), fclose(f);
    return dlc_errf(e, "%s: cannot open: %s", path, why), NULL;
  }
  if ((long long)st.st_size > LOAD_MAX_BYTES) {
    fclose(f);
    return dlc_errf(e, "%s: the file is larger than 1 GiB", path), NULL;
  }
  char *buf = dlc_malloc((size_t)st.st_size + 1);
  size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
  const char *bad = !buf ? "out of memory" : ferror(f) || n != (size_t)st.st_size ? "short read" : NULL;
  fclose(f);
  if (bad) {
    free(buf);
    return dlc_errf(e, "%s: cannot read: %s", path, bad), NULL;
  }
  *len = n;
  return buf;
}

static Graph *load_dlc(const char *path, const LoadOptions *o, DlcErr *e) {
  size_t len;
  char *src = read_all(path, &len, e);
  if (!src) return NULL;
  const char *nul = memchr(src, '\0', len);
  if (nul) {
    dlc_errf(e, "%s: NUL byte at offset %lld: not a text file", path, (long long)(nul - src));
    free(src);
    return NULL;
  }
  Graph *g = txt_parse(src, len, path, o, e);
  free(src);
  return g;
}

Graph *frontend_load(const char *path, const LoadOptions *o, DlcErr *e) {
  const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
  if (dot && slash && dot < slash) dot = NULL;
  if (dot && !strcmp(dot, ".dlc")) {
    if (o && o->nconsts)
      return dlc_errf(e, "%s: --const-input applies to ONNX models; a .dlc file declares its constants", path), NULL;
    return load_dlc(path, o, e);
  }
#ifdef DLC_HAVE_ONNX
  if (dot && !strcmp(dot, ".onnx")) return onnx_load(path, o, e);
  dlc_errf(e, "%s: unknown model format '%s' (expected .dlc or .onnx)", path, dot ? dot : "");
#else
  if (dot && !strcmp(dot, ".onnx"))
    return dlc_errf(e, "%s: this dlc was built without the ONNX frontend (needs protobuf-c)", path), NULL;
  dlc_errf(e, "%s: unknown model format '%s' (expected .dlc)", path, dot ? dot : "");
#endif
  return NULL;
}

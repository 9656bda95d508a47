/* test_rt_cuda.c — libdlcrt's CUDA loader where no GPU is needed: NVRTC's errors carry
 * the call and the program log, a bad architecture is refused, one newer than NVRTC
 * knows falls back to the newest it has, the PTX cache stores,
 * serves, survives a corrupt entry and an unusable folder, and can be turned off.
 *
 * Skips (exit 77) when libnvrtc cannot be opened, unless told it must be (require).
 *
 * Usage: test_rt_cuda [ROOT] [onnx] [require]  (only require counts)
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "rt_cuda.h"

static const char *good = "extern \"C\" __global__ void k(float *y) { y[threadIdx.x] = expf(1.0f); }\n";

static int entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *de; d && (de = readdir(d));) n += strstr(de->d_name, ".ptx") != NULL;
  if (d) closedir(d);
  return n;
}

static void check_errors(void) {
  char *ptx = NULL, *log = NULL;
  DlcErr e;
  CHECK(rt_nvrtc_compile("__global__ void k() { undefined_thing(); }", "sm_80", 0, &ptx, &log, &e) == -1);
  CHECK(strstr(e.msg, "nvrtcCompileProgram") && strstr(e.msg, "undefined_thing"));
  CHECK(!strcmp(rt_cuda_last_error(), e.msg));
  CHECK(ptx == NULL);
  CHECK(rt_nvrtc_compile(good, "sm_x", 0, &ptx, NULL, &e) == -1 && strstr(e.msg, "not an architecture"));
  CHECK(rt_nvrtc_compile(good, "compute_80", 0, &ptx, &log, &e) == 0 && ptx && strstr(ptx, ".target sm_80"));
  CHECK(log && !log[0]);
  free(ptx), free(log), ptx = NULL;
  /* a device newer than NVRTC knows: PTX for the newest architecture it has */
  CHECK(rt_nvrtc_compile(good, "sm_990", 0, &ptx, NULL, &e) == 0 && ptx && strstr(ptx, ".target sm_"));
  free(ptx);
}

static void check_cache(void) {
  char dir[] = "/tmp/dlc-rt-cuda-XXXXXX", path[600], *a = NULL, *b = NULL;
  DlcErr e;
  CHECK(mkdtemp(dir) != NULL);
  setenv("DLC_CUDA_CACHE", dir, 1);
  CHECK(rt_nvrtc_compile(good, "sm_90", 1, &a, NULL, &e) == 0);
  CHECK(entries(dir) == 1);
  CHECK(rt_nvrtc_compile(good, "sm_90", 1, &b, NULL, &e) == 0 && a && b && !strcmp(a, b));
  free(b), b = NULL;
  DIR *d = opendir(dir); /* corrupt the entry: the next compile must not trust it */
  for (struct dirent *de; d && (de = readdir(d));)
    if (strstr(de->d_name, ".ptx")) {
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      FILE *f = fopen(path, "w");
      if (f) fputs("garbage", f), fclose(f);
    }
  if (d) closedir(d);
  CHECK(rt_nvrtc_compile(good, "sm_90", 1, &b, NULL, &e) == 0 && b && !strcmp(a, b));
  free(b), b = NULL;
  setenv("DLC_CUDA_CACHE", "/proc/no-such-folder/dlc", 1); /* unusable: compiles anyway */
  CHECK(rt_nvrtc_compile(good, "sm_90", 1, &b, NULL, &e) == 0 && b && !strcmp(a, b));
  free(b), b = NULL;
  setenv("DLC_CUDA_CACHE", "off", 1);
  CHECK(rt_nvrtc_compile(good, "sm_80", 1, &b, NULL, &e) == 0);
  CHECK(entries(dir) == 1);
  free(a), free(b);
  snprintf(path, sizeof path, "rm -rf '%s'", dir);
  CHECK(system(path) == 0);
}

int main(int argc, char **argv) {
  bool require = false;
  for (int i = 1; i < argc; i++) require |= !strcmp(argv[i], "require");
  DlcErr e;
  if (rt_nvrtc_load(&e)) {
    fprintf(stderr, "%s: %s\n", require ? "FAIL (DLC_CUDA=ON)" : "SKIP: no NVRTC here", e.msg);
    return require ? 1 : 77;
  }
  check_errors();
  check_cache();
  return check_report("test_rt_cuda");
}

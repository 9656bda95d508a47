/* jit_cache.h — shared objects the jit built, kept on disk by what built them
 * (jit_cache.c), so that the same code built the same way is compiled once. */
#ifndef DLC_JIT_CACHE_H
#define DLC_JIT_CACHE_H

#include <stdbool.h>

#define JIT_CACHE_KEY 65 /* 64 hex digits and a NUL */

/* The key of building `cmd` (the compiler command, run in dir) over the files `files`
 * of dir (those that exist): SHA-256 of the command, the compiler's identity (the
 * first word of cmd found on PATH: its size, time and inode), the identity of each
 * path in `also` (libdlcrt), the environment variables that steer the compiler, the
 * host CPU when cmd builds for "native", and each file's name and bytes.  0, or -1 when there is no cache to use (turned off,
 * no folder, the compiler not found). */
int jit_cache_key(const char *dir, const char *cmd, const char *const *files, const char *const *also,
                  char key[JIT_CACHE_KEY]);
/* A hit copies the cached object to `dest`: true.  A miss, or any failure: false. */
bool jit_cache_get(const char *key, const char *dest);
/* Keeps a copy of `src` under key (written whole, then renamed), then drops the oldest
 * entries beyond the cache's bounds.  Failures are silent: the cache is an aid. */
void jit_cache_put(const char *key, const char *src);
/* Removes the entry of key (one that failed to load). */
void jit_cache_drop(const char *key);

#endif

/* dlcrt.h — libdlcrt, the small dependency-free runtime that tools and generated
 * programs share.
 *
 * Sections: errors (dlc_err.h), random numbers (dlc_rng.h), tensors, .npy files,
 * IDX files, timers.  Every function that can fail returns -1 and writes one line
 * into a DlcErr that names the file; nothing here exits or prints.
 */
#ifndef DLCRT_H
#define DLCRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dlc_err.h"
#include "dlc_rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors: one code per kind of failure, one message per code (rt_status.c) ---- */

typedef enum {
  RT_OK,
  RT_E_OPEN,     /* the file cannot be opened or created */
  RT_E_IO,       /* a read or write failed part way */
  RT_E_FORMAT,   /* not the format it claims to be */
  RT_E_DTYPE,    /* an element type the runtime does not handle */
  RT_E_ORDER,    /* Fortran order or big-endian data */
  RT_E_TRUNC,    /* fewer bytes than the header promises */
  RT_E_NOMEM,    /* out of memory */
  RT_E_NOZLIB,   /* gzip input but libdlcrt was built without zlib */
  RT_STATUS_COUNT
} RtStatus;

const char *rt_status_msg(RtStatus s);
/* Writes "PATH: <message of s>[: detail]" into e and returns -1. */
int rt_fail(DlcErr *e, RtStatus s, const char *path, const char *detail_fmt, ...)
    DLC_PRINTF(4, 5);

/* ---- files (rt_file.c) ---------------------------------------------------------- */

/* Opens a regular file to read without ever blocking on the open (a named pipe or a
 * device is refused, not waited on).  NULL with *why set to the reason. */
FILE *rt_fopen_regular(const char *path, const char **why);
/* Remembers an open file as an input of this command (rt_fopen_regular does it). */
void rt_note_input(int fd);
/* NULL when path may be written (absent, or a regular file that is not an input of
 * this command), else why not. */
const char *rt_output_check(const char *path);
/* The cache folder of dlc's caches: $ENV when set (its value "off": none), else
 * $XDG_CACHE_HOME/dlc/SUB, else $HOME/.cache/dlc/SUB (SUB "" for dlc itself), made with
 * its parents (mode for the last).  private: the folder must also be this user's and
 * writable by nobody else.  0, or -1 when there is none to use. */
int rt_cache_dir(const char *env, const char *sub, unsigned mode, bool private_dir, char *buf, size_t n);

/* A file written under a temporary name beside it and renamed over it by
 * rt_wfile_commit only when complete; rt_wfile_discard removes the temporary. */
typedef struct RtWFile {
  FILE *f;
  char path[4096];
  char tmp[4200];
} RtWFile;
int rt_wfile_open(RtWFile *w, const char *path, DlcErr *e);
int rt_wfile_commit(RtWFile *w, DlcErr *e); /* closes, renames; -1 with e set (and no file left) */
void rt_wfile_discard(RtWFile *w);

/* ---- tensors: a dense C-order array the runtime reads and writes ---------------- */

/* Same names and order as the IR's dtypes, so tools map one to the other by name.  The
 * one-byte types of ml_dtypes (float8, float4, int4, int2: one element per byte) are
 * written as '|V1', numpy's raw byte, and a '|V1' (or ml_dtypes' '<f1') file reads as
 * RAW8, which stands for any of them: the reader of the file knows which it expects. */
#define RT_DTYPES(X) \
  X(F32, "f32", 4)   \
  X(F64, "f64", 8)   \
  X(I8, "i8", 1)     \
  X(I16, "i16", 2)   \
  X(I32, "i32", 4)   \
  X(I64, "i64", 8)   \
  X(U8, "u8", 1)     \
  X(BOOL, "bool", 1) \
  X(U16, "u16", 2)   \
  X(U32, "u32", 4)   \
  X(U64, "u64", 8)   \
  X(F16, "f16", 2)   \
  X(BF16, "bf16", 2) \
  X(F8E4M3FN, "f8e4m3fn", 1)     \
  X(F8E4M3FNUZ, "f8e4m3fnuz", 1) \
  X(F8E5M2, "f8e5m2", 1)         \
  X(F8E5M2FNUZ, "f8e5m2fnuz", 1) \
  X(F8E8M0, "f8e8m0", 1)         \
  X(F4E2M1, "f4e2m1", 1)         \
  X(I4, "i4", 1)                 \
  X(U4, "u4", 1)                 \
  X(I2, "i2", 1)                 \
  X(U2, "u2", 1)                 \
  X(STR, "str", 8)               \
  X(RAW8, "raw8", 1)

typedef enum {
#define X(id, name, size) RT_##id,
  RT_DTYPES(X)
#undef X
  RT_DTYPE_COUNT
} RtDType;

#define RT_MAX_RANK 8

/* STR: data is numel `const char *`, each NUL-terminated UTF-8; .npy holds them as
 * numpy's '<U' arrays (UCS-4, padded with NULs).  Read, the pointers and the strings are
 * one block (rt_tensor_free frees both); written, they are the caller's. */
typedef struct RtTensor {
  RtDType dtype;
  int rank;
  int64_t dims[RT_MAX_RANK];
  void *data; /* numel elements, owned (malloc) when read by the runtime */
} RtTensor;

const char *rt_dtype_name(RtDType t);
bool rt_dtype_matches(RtDType file, const char *name); /* the dtype named, or RAW8 for a one-byte one */
int rt_dtype_size(RtDType t);
int rt_dtype_parse(const char *name, RtDType *t); /* 0, or -1 if unknown */
int64_t rt_tensor_numel(const RtTensor *t);
int64_t rt_tensor_bytes(const RtTensor *t);
void rt_tensor_free(RtTensor *t); /* frees data; t itself is the caller's */
int rt_shape_str(int rank, const int64_t *dims, char *buf, size_t n); /* "[2,3]" */

/* ---- .npy (NumPy format 1.0/2.0/3.0; little-endian, C order) --------------------- */

/* Reads path into t (t->data malloc'd; free with rt_tensor_free).  0 or -1. */
int rt_npy_read(const char *path, RtTensor *t, DlcErr *e);
/* Writes t as version 1.0 (2.0 when the header needs it).  0 or -1. */
int rt_npy_write(const char *path, const RtTensor *t, DlcErr *e);

/* ---- IDX (the MNIST family's format; gzip-compressed too when built with zlib) ---- */

/* Reads an IDX file of unsigned bytes into t (dtype RT_U8, dims from the file). */
int rt_idx_read(const char *path, RtTensor *t, DlcErr *e);
bool rt_idx_has_gzip(void);

/* ---- timers -------------------------------------------------------------------- */

uint64_t rt_now_ns(void); /* monotonic nanoseconds, for differences only */

#ifdef __cplusplus
}
#endif

#endif

/* sha256.h — SHA-256 over data given in pieces (sha256.c). */
#ifndef DLC_SHA256_H
#define DLC_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256 {
  uint32_t h[8];
  uint64_t len; /* bytes added */
  unsigned char buf[64];
  size_t fill;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_add(Sha256 *s, const void *data, size_t n);
void sha256_done(Sha256 *s, unsigned char out[32]); /* the digest; s is spent */

#endif

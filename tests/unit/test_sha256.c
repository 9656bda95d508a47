/* test_sha256.c — tools/sha256.c (the build cache's keys) against the FIPS 180-4
 * example vectors, whole and fed in uneven pieces. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sha256.h"

static void hex(const unsigned char d[32], char out[65]) {
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void digest(const void *p, size_t n, size_t piece, char out[65]) {
  Sha256 s;
  unsigned char d[32];
  sha256_init(&s);
  for (size_t at = 0; at < n; at += piece) sha256_add(&s, (const char *)p + at, n - at < piece ? n - at : piece);
  sha256_done(&s, d);
  hex(d, out);
}

int main(void) {
  static const struct {
    const char *msg, *want;
  } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  char got[65];
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    for (size_t piece = 1; piece <= 130; piece += 43) {
      digest(v[i].msg, strlen(v[i].msg), piece, got);
      CHECK(!strcmp(got, v[i].want));
    }
  static char a[1000000];
  memset(a, 'a', sizeof a);
  digest(a, sizeof a, 4093, got);
  CHECK(!strcmp(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  for (size_t n = 55; n <= 65; n++) { /* the padding's edges: one block or two */
    char once[65], bytes[65];
    digest(a, n, n, once);
    digest(a, n, 1, bytes);
    CHECK(!strcmp(once, bytes));
  }
  return check_report("test_sha256");
}

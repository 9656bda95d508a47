/* arena.c — one memory pool per compilation, freed with one call. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Block {
  struct Block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} Block;

struct Arena {
  Block *head;
};

Arena *arena_new(void) {
  Arena *a = dlc_calloc(1, sizeof *a); /* never NULL: out of memory exits (dlc_err.h) */
  return a;
}

static Block *block_new(size_t cap, Block *next) {
  Block *b = dlc_malloc(sizeof *b + cap); /* never NULL */
  b->next = next, b->used = 0, b->cap = cap;
  return b;
}

void *arena_alloc(Arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (n == 0) n = 16;
  Block *b = a->head;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > (1u << 20) ? n : (1u << 20);
    if (n > (1u << 18) && b) {   /* a big request gets its own block behind the current one */
      Block *big = block_new(n, b->next);
      b->next = big;
      big->used = n;
      memset(big->data, 0, n);
      return big->data;
    }
    b = a->head = block_new(cap, a->head);
  }
  void *p = b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

char *arena_strdup(Arena *a, const char *s) {
  return s ? arena_memdup(a, s, strlen(s) + 1) : NULL;
}

void *arena_memdup(Arena *a, const void *p, size_t n) {
  void *q = arena_alloc(a, n);
  if (n) memcpy(q, p, n);
  return q;
}

void *arena_grow(Arena *a, const void *old, int n, int cap, size_t size) {
  void *p = arena_alloc(a, size * (size_t)arena_grown(cap));
  if (n) memcpy(p, old, size * (size_t)n);
  return p;
}

void arena_free(Arena *a) {
  if (!a) return;
  for (Block *b = a->head, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(a);
}

/* The bare-metal stand-ins declared in bare-metal.h. */
#include "bare-metal.h"

void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

void put_str(const char *s) {
  while (*s) __asm__ volatile("outb %0, $0xe9" : : "a"(*s++));
}

void put_int(int64_t v) {
  char buf[24];
  int i = 23;
  buf[i] = 0;
  uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
  do buf[--i] = (char)('0' + u % 10); while (u /= 10);
  if (v < 0) buf[--i] = '-';
  put_str(buf + i);
}

static unsigned char pool[128 << 20] __attribute__((aligned(64)));
static size_t pool_used;

void *bump_alloc(size_t bytes) {
  size_t at = (pool_used + 63) & ~(size_t)63;
  if (at + bytes > sizeof pool) {
    put_str("bare-metal: out of pool memory\n");
    return 0;
  }
  pool_used = at + bytes;
  return memset(pool + at, 0, bytes);
}

uint64_t rng_next(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

int32_t rng_int(uint64_t *state, int32_t lo, int32_t hi) {
  return lo + (int32_t)(rng_next(state) % (uint64_t)((int64_t)hi - lo + 1));
}

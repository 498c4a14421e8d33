/*
 * 4 KiB aliasing: a load whose address matches a still-pending store's in bits 0-11 waits for that store, though
 * the two do not overlap. Kernels that store a block and then load the next one can choose the direction they walk
 * their blocks in so that those loads miss the stores just made. No vector code: safe to include from any ISA's file.
 */
#ifndef TESSERA_ALIAS4K_H
#define TESSERA_ALIAS4K_H

#include <stddef.h>
#include <stdint.h>

/* The 64-byte lines of a 4 KiB page (bit i: bytes 64 i .. 64 i + 63 modulo 4096) that `count` 64-byte vectors
 * `stride` bytes apart from p touch. */
static inline uint64_t lines_mod_4k(const void *p, size_t count, ptrdiff_t stride) {
  uint64_t m = 0;
  for (size_t i = 0; i < count; i++) {
    const uintptr_t a = (uintptr_t)p + (uintptr_t)((ptrdiff_t)i * stride);
    m |= (uint64_t)1 << ((a >> 6) & 63) | (uint64_t)1 << (((a + 63) >> 6) & 63);
  }
  return m;
}

static inline uint64_t rotl_lines(uint64_t v, unsigned k) {
  k &= 63;
  return k ? v << k | v >> (64 - k) : v;
}

/*
 * Whether to walk blocks that lie 64 bytes apart downward: each block stores `stores` and the next ones load
 * `loads` shifted by 64 bytes per block (upward: +64, +128; downward: -64, -128). Down when fewer of the next two
 * blocks' loads land on the lines just stored that way (the nearer block counted twice); up on a tie.
 */
static inline int walk_down_4k(uint64_t stores, uint64_t loads) {
  const int up = 2 * __builtin_popcountll(stores & rotl_lines(loads, 1)) + __builtin_popcountll(stores & rotl_lines(loads, 2));
  const int down = 2 * __builtin_popcountll(stores & rotl_lines(loads, 63)) + __builtin_popcountll(stores & rotl_lines(loads, 62));
  return down < up;
}

#endif /* TESSERA_ALIAS4K_H */

/*
 * Which filter taps of a window land inside the input, shared by the depthwise kernels. No vector code:
 * safe to include from any ISA's file.
 */
#ifndef TESSERA_TAPS_H
#define TESSERA_TAPS_H

#include <stddef.h>

/* First tap t (0..) with base + t * dil >= 0. */
static inline size_t first_tap(ptrdiff_t base, size_t dil) {
  return base >= 0 ? 0 : (size_t)((-base + (ptrdiff_t)dil - 1) / (ptrdiff_t)dil);
}

/* One past the last tap t < taps with base + t * dil < size (0 when none is). */
static inline size_t end_tap(ptrdiff_t base, size_t dil, size_t size, size_t taps) {
  if (base >= (ptrdiff_t)size) return 0;
  const size_t e = (size_t)((ptrdiff_t)size - 1 - base) / dil + 1;
  return e < taps ? e : taps;
}

#endif /* TESSERA_TAPS_H */

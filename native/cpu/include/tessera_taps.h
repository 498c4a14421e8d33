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

/* Outputs [lo, hi) along one axis: those whose whole window lies inside the input. */
typedef struct {
  size_t lo, hi;
} output_range;

/* The outputs along one axis whose window of `taps` (dilated) taps lies inside [0, size). */
static inline output_range whole_windows(size_t size, size_t taps, size_t stride, size_t pad, size_t dil, size_t out) {
  const ptrdiff_t last = (ptrdiff_t)size - 1 - (ptrdiff_t)((taps - 1) * dil) + (ptrdiff_t)pad;
  size_t lo = (pad + stride - 1) / stride, hi = last < 0 ? 0 : (size_t)last / stride + 1;
  if (hi > out) hi = out;
  if (lo > out) lo = out;
  if (hi < lo) hi = lo;
  return (output_range){lo, hi};
}

#endif /* TESSERA_TAPS_H */

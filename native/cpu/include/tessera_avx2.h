/*
 * Helpers shared by the *-avx2.c kernels. Include only from files compiled with the AVX2 flags.
 * Everything is `static inline` so no AVX2-compiled copy can be picked by the linker for a baseline caller.
 */
#ifndef TESSERA_AVX2_H
#define TESSERA_AVX2_H

#include <immintrin.h>
#include <stddef.h>

/* Lane mask with the first n (0..8) lanes set, for _mm256_maskload_ps / _mm256_maskstore_ps: masked
 * lanes are neither read nor written, so a tail never touches memory past the row's end. */
static inline __m256i tsr_avx2_tail_mask(size_t n) {
  static const int table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i *)(table + 8 - n));
}

#endif /* TESSERA_AVX2_H */

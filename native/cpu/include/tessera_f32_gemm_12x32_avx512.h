/*
 * Pieces of the f32 12x32 AVX-512 tiles shared by the GEMM (f32-gemm-12x32-avx512.c) and the implicit-GEMM
 * convolution (f32-conv2d-igemm-12x32-avx512.c). Static: include only from files compiled with the AVX-512 flags.
 */
#ifndef TESSERA_F32_GEMM_12X32_AVX512_H
#define TESSERA_F32_GEMM_12X32_AVX512_H

#include <immintrin.h>

#include "tessera_f32_gemm_6x16_avx2.h"

/* One zmm of the epilogue: alpha * ab, + beta * C (first k block) or + C, then bias and ReLU (last block).
 * The AVX2 finish() operation for operation, so both give the same bits. */
static inline __attribute__((always_inline)) __m512 finish_16(__m512 ab, const float *c, __mmask16 mask,
                                                              const epilogue *e, const float *bias) {
  __m512 x = _mm512_mul_ps(_mm512_set1_ps(e->alpha), ab);
  if (e->first) {
    if (e->beta != 0.0f) x = _mm512_fmadd_ps(_mm512_set1_ps(e->beta), _mm512_maskz_loadu_ps(mask, c), x);
  } else {
    x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, c));
  }
  if (e->last) {
    if (bias) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, bias));
    if (e->relu) x = _mm512_max_ps(_mm512_setzero_ps(), x); /* NaN stays NaN */
  }
  return x;
}

/* Finishes (epilogue e) and stores the top-left mr x nr of a (rows x 16 * panels) accumulator tile: row r at
 * rows[r] + col. */
static inline __attribute__((always_inline)) void store_rows_16(__m512 acc[2 * MR][2], size_t panels,
                                                                float *const *rows, size_t col, size_t mr, size_t nr,
                                                                const epilogue *e) {
  for (size_t q = 0; q < panels; q++) {
    const size_t cols = nr > q * NR ? (nr - q * NR < NR ? nr - q * NR : NR) : 0;
    if (cols == 0) break;
    const __mmask16 mask = (__mmask16)((1u << cols) - 1);
    const float *bias = e->bias ? e->bias + q * NR : NULL;
    for (size_t r = 0; r < mr; r++) {
      float *cr = rows[r] + col + q * NR;
      _mm512_mask_storeu_ps(cr, mask, finish_16(acc[r][q], cr, mask, e, bias));
    }
  }
}

/* store_rows_16 into C rows at a stride of ldc. */
static inline __attribute__((always_inline)) void store_tile_16(__m512 acc[2 * MR][2], size_t panels, float *c,
                                                                size_t ldc, size_t mr, size_t nr, const epilogue *e) {
  float *rows[2 * MR];
  for (size_t r = 0; r < mr; r++) rows[r] = c + r * ldc;
  store_rows_16(acc, panels, rows, 0, mr, nr, e);
}

#endif /* TESSERA_F32_GEMM_12X32_AVX512_H */

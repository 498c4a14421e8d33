/*
 * The 6x16 f32 GEMM core shared by the GEMM driver (f32-gemm-6x16-avx2.c) and the implicit-GEMM
 * convolution (f32-conv2d-igemm-6x16-avx2.c): block sizes, A packing, the microkernel and the macro-kernel.
 * Everything is static: each AVX2 translation unit that includes it gets its own copy. Include only from
 * files compiled with the AVX2 flags. Design notes (tile, block sizes) are in f32-gemm-6x16-avx2.c.
 */
#ifndef TESSERA_F32_GEMM_6X16_AVX2_H
#define TESSERA_F32_GEMM_6X16_AVX2_H

#include <stddef.h>

#include "tessera_avx2.h"

#define MR 6
#define NR 16
#define KC 256
#define MC 144  /* 24 micro-panels of A: MC x KC floats = 144 KiB, a quarter-plus of L2 */
#define NC 4080 /* 255 micro-panels of B: KC x NC floats = ~4 MiB of L3 */

/* A block (mc x kc) at a, row-major with row stride lda (or transposed: stored kc x mc) into 6-row
 * micro-panels: panel i holds ap[p * 6 + r] = A[i*6 + r][p], rows past mc zero. */
static inline void pack_a__avx2(int trans, size_t mc, size_t kc, const float *a, size_t lda, float *ap) {
  for (size_t i = 0; i < mc; i += MR, ap += MR * kc) {
    const size_t rows = mc - i < MR ? mc - i : MR;
    if (trans) { /* A[i + r][p] = a[p * lda + i + r]: 6 contiguous floats per p */
      for (size_t p = 0; p < kc; p++) {
        const float *src = a + p * lda + i;
        size_t r = 0;
        for (; r < rows; r++) ap[p * MR + r] = src[r];
        for (; r < MR; r++) ap[p * MR + r] = 0.0f;
      }
    } else if (rows == MR) { /* six row streams; 8 columns at a time through a register transpose */
      const float *r0 = a + i * lda;
      size_t p = 0;
      for (; p + 8 <= kc; p += 8) {
        __m256 v[MR];
        for (size_t r = 0; r < MR; r++) v[r] = _mm256_loadu_ps(r0 + r * lda + p);
        float t[MR][8];
        for (size_t r = 0; r < MR; r++) _mm256_storeu_ps(t[r], v[r]);
        for (size_t q = 0; q < 8; q++)
          for (size_t r = 0; r < MR; r++) ap[(p + q) * MR + r] = t[r][q];
      }
      for (; p < kc; p++)
        for (size_t r = 0; r < MR; r++) ap[p * MR + r] = r0[r * lda + p];
    } else {
      for (size_t p = 0; p < kc; p++) {
        size_t r = 0;
        for (; r < rows; r++) ap[p * MR + r] = a[(i + r) * lda + p];
        for (; r < MR; r++) ap[p * MR + r] = 0.0f;
      }
    }
  }
}

/* Up to 8 rows of a B block into its 16-column micro-panels: rows[q] is row p0 + q of B, columns from the
 * block's first; bp points at row p0 of panel 0 (block + p0 * 16); kc is the block's rows, so panel j starts
 * j * kc * 16 floats further. Padding columns of the last panel are zero. 8 rows across the whole width: 8
 * sequential read streams, 512 contiguous bytes written per panel (panel by panel instead would read 64 bytes
 * per row with ldb stride -- for a power-of-two ldb all in one cache set, measured at 3 GB/s). */
static inline void pack_b_rows__avx2(const float *const rows[8], size_t count, size_t kc, size_t nc, float *bp) {
  const size_t full = nc / NR * NR;
  for (size_t j = 0; j < full; j += NR) {
    float *dst = bp + j * kc;
    for (size_t r = 0; r < count; r++) {
      _mm256_store_ps(dst + r * NR, _mm256_loadu_ps(rows[r] + j));
      _mm256_store_ps(dst + r * NR + 8, _mm256_loadu_ps(rows[r] + j + 8));
    }
  }
  if (full < nc) { /* last, partial panel: masked loads leave its padding columns zero */
    const size_t cols = nc - full;
    const __m256i m0 = tsr_avx2_tail_mask(cols < 8 ? cols : 8), m1 = tsr_avx2_tail_mask(cols > 8 ? cols - 8 : 0);
    float *dst = bp + full * kc;
    for (size_t r = 0; r < count; r++) {
      _mm256_store_ps(dst + r * NR, _mm256_maskload_ps(rows[r] + full, m0));
      _mm256_store_ps(dst + r * NR + 8, _mm256_maskload_ps(rows[r] + full + 8, m1));
    }
  }
}

/* ---- microkernel ---------------------------------------------------------------------------------- */

/* How a microkernel call finishes its tile. */
typedef struct {
  float alpha, beta;
  int first;         /* first k block: apply beta (0: ignore what C held) */
  int last;          /* last k block: add bias, apply ReLU */
  const float *bias; /* (n) per column, already offset to this tile; or NULL */
  int relu;
} epilogue;

static inline __attribute__((always_inline)) __m256 finish(__m256 ab, const float *c, __m256i mask, int masked,
                                                           const epilogue *e, const float *bias) {
  __m256 x = _mm256_mul_ps(_mm256_set1_ps(e->alpha), ab);
  if (e->first) {
    if (e->beta != 0.0f) {
      __m256 cv = masked ? _mm256_maskload_ps(c, mask) : _mm256_loadu_ps(c);
      x = _mm256_fmadd_ps(_mm256_set1_ps(e->beta), cv, x);
    }
  } else {
    x = _mm256_add_ps(x, masked ? _mm256_maskload_ps(c, mask) : _mm256_loadu_ps(c));
  }
  if (e->last) {
    if (bias) x = _mm256_add_ps(x, masked ? _mm256_maskload_ps(bias, mask) : _mm256_loadu_ps(bias));
    if (e->relu) x = _mm256_max_ps(_mm256_setzero_ps(), x); /* NaN stays NaN */
  }
  return x;
}

/* Finishes (epilogue e) and stores the top-left mr x nr of a 6x16 accumulator tile: row r at rows[r] + col. */
static inline __attribute__((always_inline)) void store_rows_6x16(const __m256 acc[MR][2], float *const *rows,
                                                                  size_t col, size_t mr, size_t nr, const epilogue *e) {
  if (nr == NR) {
    const __m256i all = _mm256_set1_epi32(-1);
    for (size_t r = 0; r < mr; r++) {
      float *cr = rows[r] + col;
      const __m256 x0 = finish(acc[r][0], cr, all, 0, e, e->bias);
      const __m256 x1 = finish(acc[r][1], cr + 8, all, 0, e, e->bias ? e->bias + 8 : NULL);
      _mm256_storeu_ps(cr, x0);
      _mm256_storeu_ps(cr + 8, x1);
    }
  } else { /* right edge: masked loads and stores touch only the nr valid columns */
    const __m256i m0 = tsr_avx2_tail_mask(nr < 8 ? nr : 8), m1 = tsr_avx2_tail_mask(nr > 8 ? nr - 8 : 0);
    for (size_t r = 0; r < mr; r++) {
      float *cr = rows[r] + col;
      _mm256_maskstore_ps(cr, m0, finish(acc[r][0], cr, m0, 1, e, e->bias));
      if (nr > 8) _mm256_maskstore_ps(cr + 8, m1, finish(acc[r][1], cr + 8, m1, 1, e, e->bias ? e->bias + 8 : NULL));
    }
  }
}

/* store_rows_6x16 into C rows at a stride of ldc. */
static inline __attribute__((always_inline)) void store_tile_6x16(const __m256 acc[MR][2], float *c, size_t ldc, size_t mr,
                                                                  size_t nr, const epilogue *e) {
  float *rows[MR];
  for (size_t r = 0; r < mr; r++) rows[r] = c + r * ldc;
  store_rows_6x16(acc, rows, 0, mr, nr, e);
}

/* C tile (mr x nr, mr <= 6, nr <= 16) from kc steps of packed A (6 per step) and packed B (16 per step). */
static inline void ukernel_6x16__avx2(size_t kc, const float *restrict a, const float *restrict b, float *c, size_t ldc,
                         size_t mr, size_t nr, const epilogue *e) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (size_t r = 0; r < mr; r++) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
  for (size_t p = 0; p < kc; p++, a += MR, b += NR) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
  }
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  store_tile_6x16(acc, c, ldc, mr, nr, e);
}

/* All micro-tiles of one (mc x nc) block of C from packed A (mc x kc) and packed B (kc x nc). */
static inline void macro_kernel__avx2(size_t mc, size_t nc, size_t kc, const float *ap, const float *bp, float *c, size_t ldc,
                         epilogue e, const float *bias) {
  for (size_t j = 0; j < nc; j += NR) {
    const size_t nr = nc - j < NR ? nc - j : NR;
    e.bias = bias ? bias + j : NULL;
    for (size_t i = 0; i < mc; i += MR) {
      const size_t mr = mc - i < MR ? mc - i : MR;
      ukernel_6x16__avx2(kc, ap + i * kc, bp + j * kc, c + i * ldc + j, ldc, mr, nr, &e);
    }
  }
}

/* A macro-kernel: macro_kernel__avx2 above, or tsr_f32_macro_kernel_12x32__avx512 (f32-gemm-12x32-avx512.c) on the
 * same packed panels; the GEMM drivers take either. */
typedef void (*tsr_f32_macro_kernel_fn)(size_t mc, size_t nc, size_t kc, const float *ap, const float *bp, float *c,
                                        size_t ldc, epilogue e, const float *bias);
void tsr_f32_macro_kernel_12x32__avx512(size_t mc, size_t nc, size_t kc, const float *ap, const float *bp, float *c,
                                        size_t ldc, epilogue e, const float *bias);

static inline float *align64(void *p) { return (float *)(((size_t)p + 63) & ~(size_t)63); }

#endif /* TESSERA_F32_GEMM_6X16_AVX2_H */

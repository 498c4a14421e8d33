/*
 * f32_gemm_12x32__avx512: the macro-kernel of the f32 GEMM on AVX-512 F, 12x32 register tiles. The
 * drivers (f32-gemm-6x16-avx2.c: blocking, packing, the pre-packed B) are the AVX2 ones; only the tiles
 * change, so every layout is shared and results are bit-identical to the AVX2 kernel: each C element is
 * the same chain of FMAs over k in the same order, finished by the same epilogue.
 *
 * A 12x32 tile reads two 6-row A micro-panels (a, a + 6 kc) and two 16-column B micro-panels (b, b + 16 kc)
 * of the AVX2 packing: a 16-column B row is exactly one zmm. 24 accumulators + 2 B + 1 A broadcast = 27 of
 * 32 registers; per k step 2 loads + 12 broadcasts against 24 FMAs (768 flops, against 192 per step of
 * the AVX2 6x16 tile with its 15 of 16 ymm registers).
 *
 * Why, on a core whose FMA peak is the same at 256 and 512 bits (Zen 4 splits a zmm FMA in two): the AVX2
 * tile reaches ~77% of that peak there, a 12x32 tile ~98% (macro-kernel alone, L2-resident, one thread:
 * 80 -> 103 GFLOP/s of 105), because it issues a quarter of the loads, broadcasts and loop overhead per
 * flop. On cores with two 512-bit FMA pipes the peak itself doubles.
 *
 * Edges: rows past mc in the last 6-row panel are zeros (pack_a); a block's last tile uses 6 rows when at
 * most 6 remain, so it never reads past the packed block. Columns past nc are masked at the store.
 */
#include "tessera_f32_gemm_12x32_avx512.h"

/* A rows x (16 * panels) tile, rows 6 or 12, panels 1 or 2 (constants at every call, so each instance keeps
 * its accumulators in registers); stores the top-left mr x nr of it. */
static inline __attribute__((always_inline)) void tile(size_t rows, size_t panels, size_t kc, const float *a,
                                                       const float *b, float *c, size_t ldc, size_t mr, size_t nr,
                                                       const epilogue *e) {
  __m512 acc[2 * MR][2];
  for (size_t r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (size_t r = 0; r < mr; r++) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
  const float *a1 = a + MR * kc, *b1 = b + NR * kc;
  for (size_t p = 0; p < kc; p++) {
    const __m512 b0v = _mm512_load_ps(b + p * NR);
    const __m512 b1v = panels == 2 ? _mm512_load_ps(b1 + p * NR) : b0v;
#pragma GCC unroll 12
    for (size_t r = 0; r < rows; r++) {
      const __m512 av = _mm512_set1_ps(r < MR ? a[p * MR + r] : a1[p * MR + r - MR]);
      acc[r][0] = _mm512_fmadd_ps(av, b0v, acc[r][0]);
      if (panels == 2) acc[r][1] = _mm512_fmadd_ps(av, b1v, acc[r][1]);
    }
  }
  store_tile_16(acc, panels, c, ldc, mr, nr, e);
}

void tsr_f32_macro_kernel_12x32__avx512(size_t mc, size_t nc, size_t kc, const float *ap, const float *bp, float *c,
                                        size_t ldc, epilogue e, const float *bias) {
  for (size_t j = 0; j < nc; j += 2 * NR) {
    const size_t nr = nc - j < 2 * NR ? nc - j : 2 * NR;
    e.bias = bias ? bias + j : NULL;
    const float *b = bp + j * kc;
    for (size_t i = 0; i < mc; i += 2 * MR) {
      const size_t mr = mc - i < 2 * MR ? mc - i : 2 * MR;
      const float *a = ap + i * kc;
      float *ct = c + i * ldc + j;
      if (mr > MR) {
        if (nr > NR) tile(2 * MR, 2, kc, a, b, ct, ldc, mr, nr, &e);
        else tile(2 * MR, 1, kc, a, b, ct, ldc, mr, nr, &e);
      } else {
        if (nr > NR) tile(MR, 2, kc, a, b, ct, ldc, mr, nr, &e);
        else tile(MR, 1, kc, a, b, ct, ldc, mr, nr, &e);
      }
    }
  }
}

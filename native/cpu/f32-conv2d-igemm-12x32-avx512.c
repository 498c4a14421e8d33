/*
 * f32_conv2d_igemm_12x32__avx512: the tiles of the implicit-GEMM convolution on AVX-512 F, 12 pixels x 32
 * filters. The blocking, tap-pointer tables and filter packing are the AVX2 kernel's
 * (f32-conv2d-igemm-6x16-avx2.c, which exports the entry point); a 12-pixel tile reads two of its 6-pixel
 * tables, a 32-filter tile two of its 16-column B panels (one zmm per B row). Every output is the same FMA
 * chain over the patch in the same order as the 6x16 tile's, finished by the same epilogue, so the results
 * are bit-identical to the AVX2 kernel's.
 *
 * Why: as for the GEMM (f32-gemm-12x32-avx512.c), on Zen 4 the 6x16 ymm tile tops out near 75% of the FMA
 * peak; 24 zmm accumulators issue a quarter of the loads, broadcasts and loop steps per flop.
 * Per patch column: 2 B loads + 12 broadcasts (from twelve pixel runs) for 24 FMAs.
 *
 * Loop order: pixel tiles outside, filter tiles inside (the AVX2 kernel does the opposite). A 32-filter block
 * of a k block is 32 KiB, all of L1, so with filters outside every tile's input runs came from L2: 70-82
 * GFLOP/s. With pixels outside, a tile's input runs stay in L1 across its filter tiles and the filters stream
 * from L2 at 128 bytes per 24 FMAs: 92-101 GFLOP/s of a measured 103 peak (3x3 56x56x64, one thread).
 */
#include "tessera_f32_gemm_12x32_avx512.h"

/* A rows x (16 * panels) tile, rows 6 or 12, panels 1 or 2 (constants at each call): ta / tb are the two
 * 6-pixel tables (tb unused for 6 rows), b the first 16-column panel. */
static inline __attribute__((always_inline)) void tile(size_t rows, size_t panels, const float *const *ta,
                                                       const float *const *tb, size_t cg, size_t ch0, size_t kc,
                                                       const float *b, float *c, size_t ldc, size_t mr, size_t nr,
                                                       const epilogue *e) {
  __m512 acc[2 * MR][2];
  for (size_t r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (size_t r = 0; r < mr; r++) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
  const size_t b1 = NR * kc; /* second panel, in floats from the first */
  size_t left = kc, run = cg - ch0 < kc ? cg - ch0 : kc;
  for (;;) {
    const float *a[2 * MR];
    for (size_t r = 0; r < rows; r++) a[r] = r < MR ? ta[r] : tb[r - MR];
    for (size_t p = 0; p < run; p++, b += NR) {
      const __m512 b0v = _mm512_load_ps(b);
      const __m512 b1v = panels == 2 ? _mm512_load_ps(b + b1) : b0v;
#pragma GCC unroll 12
      for (size_t r = 0; r < rows; r++) {
        const __m512 av = _mm512_set1_ps(a[r][p]);
        acc[r][0] = _mm512_fmadd_ps(av, b0v, acc[r][0]);
        if (panels == 2) acc[r][1] = _mm512_fmadd_ps(av, b1v, acc[r][1]);
      }
    }
    left -= run;
    if (left == 0) break;
    ta += MR;
    tb += MR;
    run = cg < left ? cg : left;
  }
  store_tile_16(acc, panels, c, ldc, mr, nr, e);
}

void tsr_f32_igemm_block_12x32__avx512(const float *const *table, size_t stride, size_t cg, size_t ch0, size_t kc,
                                       const float *bp, size_t j0, size_t j1, size_t mc, float *y, size_t ldy,
                                       const float *bias, epilogue e) {
  for (size_t i = 0; i < mc; i += 2 * MR) {
    const size_t mr = mc - i < 2 * MR ? mc - i : 2 * MR;
    const float *const *ta = table + i / MR * stride, *const *tb = ta + stride;
    for (size_t j = j0; j < j1; j += 2 * NR) {
      const size_t nr = j1 - j < 2 * NR ? j1 - j : 2 * NR;
      e.bias = bias ? bias + j : NULL;
      const float *b = bp + j * kc;
      float *ct = y + i * ldy + j;
      if (mr > MR) {
        if (nr > NR) tile(2 * MR, 2, ta, tb, cg, ch0, kc, b, ct, ldy, mr, nr, &e);
        else tile(2 * MR, 1, ta, tb, cg, ch0, kc, b, ct, ldy, mr, nr, &e);
      } else {
        if (nr > NR) tile(MR, 2, ta, tb, cg, ch0, kc, b, ct, ldy, mr, nr, &e);
        else tile(MR, 1, ta, tb, cg, ch0, kc, b, ct, ldy, mr, nr, &e);
      }
    }
  }
}

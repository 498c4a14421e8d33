/*
 * f32_conv2d_igemm_12x32__avx512: the implicit-GEMM convolution of f32-conv2d-igemm-6x16-avx2.c on AVX-512 F
 * tiles of 12 pixels x 32 filters, with the same driver (tessera_f32_conv2d_igemm_pixels.h: pixel order,
 * tap-pointer tables), packed filters (a 32-filter tile reads two of their 16-column panels, one zmm per B row)
 * and workspace.
 *
 * Why: as for the GEMM (f32-gemm-12x32-avx512.c), on Zen 4 the 6x16 ymm tile tops out below the 12x32 one;
 * 24 zmm accumulators issue a quarter of the loads, broadcasts and loop steps per flop.
 * Per patch column: 2 B loads + 12 broadcasts (from twelve pixel runs) for 24 FMAs.
 *
 * Loop order (the driver's): pixel tiles outside, filter tiles inside. A 32-filter block of a k block is 32
 * KiB, all of L1, so with filters outside every tile's input runs came from L2: 70-82 GFLOP/s. With pixels
 * outside, a tile's input runs stay in L1 across its filter tiles and the filters stream from L2 at 128 bytes
 * per 24 FMAs: 92-101 GFLOP/s of a measured 103 peak (3x3 56x56x64, one thread).
 *
 * Spans: a tile runs two packed k blocks (SPAN = 512 patch columns) before it stores, halving the accumulator
 * loads and stores and the tile starts; its input runs (24 KiB for 12 pixels) still fit L1. C harness A/B, one
 * thread, medians: 3x3 14x14x256 2,663 -> 2,606 us, 56x56x64 3,039 -> 2,981, 14x14 32 -> 64 channels 70.5 -> 67.9.
 * Within one k block each output is the 6x16 tile's FMA chain over the patch in the same order, with the same
 * epilogue: for patches of at most KC columns and finite filters the bits are the AVX2 kernel's (a skipped FMA
 * added 0 * w); longer patches round at every SPAN columns where the AVX2 kernel rounds at every KC.
 */
#include "tessera_cpu.h"
#include "tessera_f32_gemm_12x32_avx512.h"
#include "tessera_f32_conv2d_igemm_pixels.h"

#define TR (2 * MR) /* pixels per tile */
#define SPAN (2 * KC) /* patch columns a tile runs before it stores: two packed k blocks */

/*
 * A rows x (16 * panels) tile over kc patch columns, rows 2 to 12 and panels 1 or 2 (constants at each call):
 * t holds TR tap pointers per tap run (the first run cg - ch0 long, then cg, the last cut at kc); runs in the
 * padding for every pixel are skipped. The columns lie in up to two packed k blocks: kc0 columns from b, the
 * first 16-column panel of the first, then kc - kc0 from b_next. Row q of the result goes to y[q] + col.
 */
static inline __attribute__((always_inline)) void tile(size_t rows, size_t panels, const float *const *t,
                                                       const float *zero, size_t cg, size_t ch0, size_t kc,
                                                       const float *b, size_t kc0, const float *b_next,
                                                       float *const *y, size_t col, size_t mr, size_t nr,
                                                       const epilogue *e) {
  __m512 acc[TR][2];
  for (size_t r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (size_t r = 0; r < mr; r++) _mm_prefetch((const char *)(y[r] + col), _MM_HINT_T0);
  size_t b1 = NR * kc0;       /* second panel, in floats from the first, in the current k block */
  size_t block_left = kc0;    /* columns of the current k block still to run */
  size_t left = kc, run = cg - ch0 < kc ? cg - ch0 : kc;
  for (;;) {
    const float *a[TR];
    int inside = 0;
    for (size_t r = 0; r < rows; r++) a[r] = t[r], inside |= t[r] != zero;
    for (size_t p = 0; p < run;) { /* a run that crosses into the second k block: two pieces */
      const size_t end = run - p < block_left ? run : p + block_left;
      block_left -= end - p;
      if (!inside) {
        b += (end - p) * NR;
        p = end;
      } else {
        for (; p < end; p++, b += NR) {
          const __m512 b0v = _mm512_load_ps(b);
          const __m512 b1v = panels == 2 ? _mm512_load_ps(b + b1) : b0v;
#pragma GCC unroll 12
          for (size_t r = 0; r < rows; r++) {
            const __m512 av = _mm512_set1_ps(a[r][p]);
            acc[r][0] = _mm512_fmadd_ps(av, b0v, acc[r][0]);
            if (panels == 2) acc[r][1] = _mm512_fmadd_ps(av, b1v, acc[r][1]);
          }
        }
      }
      if (block_left == 0) {
        b = b_next;
        block_left = kc - kc0;
        b1 = NR * block_left;
      }
    }
    left -= run;
    if (left == 0) break;
    t += TR;
    run = cg < left ? cg : left;
  }
  store_rows_16(acc, panels, y, col, mr, nr, e);
}

/*
 * Every 32-filter tile of columns [j0, j1) for one pixel tile of mr pixels over one k block. A short tile (the end
 * of a rectangle or range) runs on 6, 4 or 2 rows: at 14x14 each top and bottom band ends in 2 pixels, which on
 * 6 rows were 4% of the FMAs (3x3 14x14x256, one thread, C harness A/B: medians 2,010 -> 1,955 us).
 */
static void filter_tiles__avx512(const float *const *t, const float *zero, size_t cg, size_t ch0, size_t kc,
                                 const float *bp, size_t kc0, const float *bp_next, size_t j0, size_t j1, size_t mr,
                                 float *const *y, const float *bias, epilogue e) {
  for (size_t j = j0; j < j1; j += 2 * NR) {
    const size_t nr = j1 - j < 2 * NR ? j1 - j : 2 * NR;
    e.bias = bias ? bias + j : NULL;
    const float *b = bp + j * kc0, *bn = bp_next ? bp_next + j * (kc - kc0) : NULL;
    if (mr > MR) {
      if (nr > NR) tile(TR, 2, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
      else tile(TR, 1, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
    } else if (mr > 4) {
      if (nr > NR) tile(MR, 2, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
      else tile(MR, 1, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
    } else if (mr > 2) {
      if (nr > NR) tile(4, 2, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
      else tile(4, 1, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
    } else {
      if (nr > NR) tile(2, 2, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
      else tile(2, 1, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
    }
  }
}

/* Needs AVX-512 F; Java calls it only then. p0, p1: positions in the driver's pixel order. */
void tsr_f32_conv2d_igemm_12x32__avx512(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                        size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                        size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t j0,
                                        size_t j1, size_t p0, size_t p1, const float *x, const float *packed,
                                        const float *bias, int relu, float *y, size_t ldy, void *workspace) {
  const size_t cg = c / groups;
  const igemm_geometry g = {h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w,
                            out_h, out_w, cg, group * cg, x};
  igemm_pixel_tiles(&g, TR, SPAN, kg, j0, j1, p0, p1, packed, bias, relu, y, ldy, workspace, filter_tiles__avx512);
}

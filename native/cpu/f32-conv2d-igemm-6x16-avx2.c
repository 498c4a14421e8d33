/*
 * f32_conv2d_igemm_6x16__avx2: convolution as an implicit GEMM on the 6x16 register tile, with no A packing.
 *
 * For group g, C (pixels x kg) = A (pixels x r*s*cg) * B, where row p of A is output pixel p's input patch
 * in (r, s, c) order (the im2col matrix) and B is the group's filters, pre-packed by the caller with
 * tsr_f32_gemm_pack_b_cols_6x16__avx2 (transposed: filters are (kg, r*s*cg) rows), in KC-row blocks.
 *
 * A is neither written out nor packed. For each 6-pixel tile and each tap of a k block, a table holds six
 * pointers: to each pixel's run of cg input channels under that tap (contiguous in NHWC), or to a row of
 * zeros where the tap falls in the padding or the pixel is past the range. The microkernel broadcasts
 * straight from those six runs, as from a packed A micro-panel, so every stride, dilation and padding
 * takes the same loop. (The first version gathered each patch into a buffer and transposed it into a
 * micro-panel; with only 64 filters to amortize it, that copy cost about an eighth of the time: 3x3 at
 * 56x56x64, 1 thread, 81 -> 93 GFLOP/s without it, same output bit for bit.)
 *
 * The driver (tessera_f32_conv2d_igemm_pixels.h, shared with the 12x32 AVX-512 kernel) runs pixel tiles
 * outside and filter tiles inside, in its edge-band pixel order, so tiles skip tap runs in the padding and
 * short tiles at band ends run on 4 or 2 rows:
 *
 *   for pixel block (as many tiles as the table holds for the taps of a k block)
 *     for k block (KC patch columns; a block may start and end inside a tap's channels)
 *       tap pointers of the block's tiles (table, in L1)
 *       for 6-pixel tile: its six input runs (6 KiB) stay in L1
 *         for 16-column panel of B (KC x 16, streamed from L2): 12 accumulators, then C updated once
 *
 * Until the twenty-third session the loops ran the other way round (each 16 KiB B panel in L1 against every
 * tile of a pixel block, the BLIS order, tuned on Zen 3); with plain pixel order a tile skipped only runs
 * padded for all six pixels. On the Zen 4 VM, AVX2 code only (C harness, one thread, medians, same bits):
 * 3x3 14x14x256 3,341 -> 2,854 us, 56x56x64 3,731 -> 3,233, 1x1 28x28x128 365 -> 327, 14x14 32 -> 64 channels
 * 99.5 -> 88.8. Not measured on Zen 3: there the B block of a k block for 256 filters (256 KiB) is half of L2,
 * and each patch column streams 64 bytes of it per 12 FMAs.
 */
#include "tessera_avx2.h"
#include "tessera_cpu.h"
#include "tessera_f32_gemm_6x16_avx2.h"
#include "tessera_f32_conv2d_igemm_pixels.h"

/*
 * A rows x 16 tile over kc patch columns (rows 6, 4 or 2, a constant at each call): t holds MR tap pointers per
 * tap run (the first run cg - ch0 long, then cg, the last cut at kc); a run in the padding for every pixel is
 * skipped (for finite filters the same bits as multiplying its zeros). b: the panel's kc x 16 floats. Row q of
 * the result goes to y[q] + col.
 */
static inline __attribute__((always_inline)) void tile(size_t rows, const float *const *t, const float *zero,
                                                       size_t cg, size_t ch0, size_t kc, const float *restrict b,
                                                       float *const *y, size_t col, size_t mr, size_t nr,
                                                       const epilogue *e) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m256 c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (size_t r = 0; r < mr; r++) _mm_prefetch((const char *)(y[r] + col), _MM_HINT_T0);
  size_t left = kc, run = cg - ch0 < kc ? cg - ch0 : kc;
  for (;;) {
    const float *a0 = t[0], *a1 = t[1], *a2 = rows > 2 ? t[2] : zero, *a3 = rows > 2 ? t[3] : zero;
    const float *a4 = rows > 4 ? t[4] : zero, *a5 = rows > 4 ? t[5] : zero;
    if (a0 == zero && a1 == zero && a2 == zero && a3 == zero && a4 == zero && a5 == zero) {
      b += run * NR;
    } else {
      for (size_t p = 0; p < run; p++, b += NR) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#define ROW_FMA(a, lo, hi)                               \
  do {                                                   \
    const __m256 av = _mm256_broadcast_ss((a) + p);      \
    lo = _mm256_fmadd_ps(av, b0, lo);                    \
    hi = _mm256_fmadd_ps(av, b1, hi);                    \
  } while (0)
        ROW_FMA(a0, c00, c01);
        ROW_FMA(a1, c10, c11);
        if (rows > 2) {
          ROW_FMA(a2, c20, c21);
          ROW_FMA(a3, c30, c31);
        }
        if (rows > 4) {
          ROW_FMA(a4, c40, c41);
          ROW_FMA(a5, c50, c51);
        }
#undef ROW_FMA
      }
    }
    left -= run;
    if (left == 0) break;
    t += MR;
    run = cg < left ? cg : left;
  }
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  store_rows_6x16(acc, y, col, mr, nr, e);
}

/* Every 16-filter tile of columns [j0, j1) for one pixel tile of mr pixels over one k block (spans of KC: kc0 == kc). */
static void filter_tiles__avx2(const float *const *t, const float *zero, size_t cg, size_t ch0, size_t kc,
                               const float *bp, size_t kc0, const float *bp_next, size_t j0, size_t j1, size_t mr,
                               float *const *y, const float *bias, epilogue e) {
  (void)kc0, (void)bp_next;
  for (size_t j = j0; j < j1; j += NR) {
    const size_t nr = j1 - j < NR ? j1 - j : NR;
    e.bias = bias ? bias + j : NULL;
    const float *b = bp + j * kc;
    if (mr > 4) tile(MR, t, zero, cg, ch0, kc, b, y, j, mr, nr, &e);
    else if (mr > 2) tile(4, t, zero, cg, ch0, kc, b, y, j, mr, nr, &e);
    else tile(2, t, zero, cg, ch0, kc, b, y, j, mr, nr, &e);
  }
}

size_t tsr_f32_conv2d_igemm_workspace_bytes__avx2(void) { return igemm_pixel_tiles_workspace_bytes(); }

/* p0, p1: positions in the driver's pixel order. */
void tsr_f32_conv2d_igemm_6x16__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                     size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                     size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t j0,
                                     size_t j1, size_t p0, size_t p1, const float *x, const float *packed,
                                     const float *bias, int relu, float *y, size_t ldy, void *workspace) {
  const size_t cg = c / groups;
  const igemm_geometry g = {h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w,
                            out_h, out_w, cg, group * cg, x};
  igemm_pixel_tiles(&g, MR, KC, kg, j0, j1, p0, p1, packed, bias, relu, y, ldy, workspace, filter_tiles__avx2);
}

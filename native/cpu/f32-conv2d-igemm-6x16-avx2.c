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
 *   for pixel block (up to MC pixels: as many tiles as the table holds for the taps of a k block)
 *     for k block (KC patch columns; a block may start and end inside a tap's channels)
 *       tap pointers of the block's tiles (table, in L1)
 *       for 16-column panel of B (KC x 16, in L1)
 *         for 6-pixel tile: 12 accumulators over the k block, then C updated once
 *
 * f32_conv2d_igemm_12x32__avx512 (f32-conv2d-igemm-12x32-avx512.c) keeps this blocking and filter packing on
 * 12x32 tiles, in another pixel order.
 */
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"
#include "tessera_f32_conv2d_igemm.h"
#include "tessera_f32_gemm_6x16_avx2.h"

/*
 * table[j * 6 + q] = where the pixel of origin o[q] reads the k block's tap j (offsets tap[j], j < taps): into x,
 * or at `zero` for taps in the padding and for q >= n (pixels past the range).
 */
static void tap_pointers(const igemm_geometry *g, const pixel_origin *o, size_t n, const tap_offset *tap, size_t taps,
                         const float *zero, const float **table) {
  for (size_t q = 0; q < MR; q++) {
    if (q < n) {
      origin_tap_pointers(g, o[q], tap, taps, zero, table + q, MR);
    } else {
      for (size_t j = 0; j < taps; j++) table[j * MR + q] = zero;
    }
  }
}

/*
 * One 6x16 tile over kc patch columns: the first run of cg - ch0 columns (at most kc) from the table's first
 * six pointers, then cg columns from each next six, the last run cut at kc. b: the panel's kc x 16 floats.
 * A run in the padding for all six pixels (a tile within the top or bottom output rows) is skipped: for finite
 * filters the same bits as multiplying its zeros.
 */
static void tile_6x16(const float *const *table, const float *zero, size_t cg, size_t ch0, size_t kc,
                      const float *restrict b, float *c, size_t ldc, size_t mr, size_t nr, const epilogue *e) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (size_t r = 0; r < mr; r++) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
  size_t left = kc, run = cg - ch0 < kc ? cg - ch0 : kc;
  for (;;) {
    const float *a0 = table[0], *a1 = table[1], *a2 = table[2], *a3 = table[3], *a4 = table[4], *a5 = table[5];
    if (a0 == zero && a1 == zero && a2 == zero && a3 == zero && a4 == zero && a5 == zero) b += run * NR;
    else for (size_t p = 0; p < run; p++, b += NR) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
      __m256 av = _mm256_broadcast_ss(a0 + p);
      c00 = _mm256_fmadd_ps(av, b0, c00);
      c01 = _mm256_fmadd_ps(av, b1, c01);
      av = _mm256_broadcast_ss(a1 + p);
      c10 = _mm256_fmadd_ps(av, b0, c10);
      c11 = _mm256_fmadd_ps(av, b1, c11);
      av = _mm256_broadcast_ss(a2 + p);
      c20 = _mm256_fmadd_ps(av, b0, c20);
      c21 = _mm256_fmadd_ps(av, b1, c21);
      av = _mm256_broadcast_ss(a3 + p);
      c30 = _mm256_fmadd_ps(av, b0, c30);
      c31 = _mm256_fmadd_ps(av, b1, c31);
      av = _mm256_broadcast_ss(a4 + p);
      c40 = _mm256_fmadd_ps(av, b0, c40);
      c41 = _mm256_fmadd_ps(av, b1, c41);
      av = _mm256_broadcast_ss(a5 + p);
      c50 = _mm256_fmadd_ps(av, b0, c50);
      c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    left -= run;
    if (left == 0) break;
    table += MR;
    run = cg < left ? cg : left;
  }
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  store_tile_6x16(acc, c, ldc, mr, nr, e);
}

/* Every 6x16 tile of an (mc pixels x [j0, j1)) block over one k block: tile i / 6's tap pointers at
 * table + i / 6 * stride, y the block's first row. */
static void block_6x16__avx2(const float *const *table, size_t stride, const float *zero, size_t cg, size_t ch0, size_t kc, const float *bp,
                             size_t j0, size_t j1, size_t mc, float *y, size_t ldy, const float *bias, epilogue e) {
  for (size_t j = j0; j < j1; j += NR) {
    const size_t nr = j1 - j < NR ? j1 - j : NR;
    e.bias = bias ? bias + j : NULL;
    for (size_t i = 0; i < mc; i += MR) {
      const size_t mr = mc - i < MR ? mc - i : MR;
      tile_6x16(table + i / MR * stride, zero, cg, ch0, kc, bp + j * kc, y + i * ldy + j, ldy, mr, nr, &e);
    }
  }
}

size_t tsr_f32_conv2d_igemm_workspace_bytes__avx2(void) {
  /* the zero run (two k blocks long for the AVX-512 kernel), the tap table and (AVX-512) the C row of each pixel */
  return 2 * (size_t)KC * sizeof(float) + TABLE_PTRS * sizeof(float *) + MC * sizeof(float *) + 128;
}

void tsr_f32_conv2d_igemm_6x16__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                     size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                     size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t j0,
                                     size_t j1, size_t p0, size_t p1, const float *x, const float *packed,
                                     const float *bias, int relu, float *y, size_t ldy, void *workspace) {
  const size_t cg = c / groups, k = r * s * cg, npad = (kg + NR - 1) / NR * NR;
  const igemm_geometry g = {h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, cg, group * cg, x};
  float *zero = align64(workspace);
  const float **table = (const float **)(zero + KC);
  memset(zero, 0, KC * sizeof(float));
  const size_t block = igemm_block_tiles(KC, cg, r * s, MR, MC) * MR;
  pixel_origin origin[MC];
  for (size_t ic = p0; ic < p1; ic += block) {
    const size_t mc = p1 - ic < block ? p1 - ic : block;
    pixel_origins(&g, ic, mc, origin);
    for (size_t pc = 0; pc < k; pc += KC) {
      const size_t kc = k - pc < KC ? k - pc : KC;
      const size_t t0 = pc / cg, ch0 = pc % cg, taps = (pc + kc - 1) / cg - t0 + 1;
      const size_t stride = taps * MR;
      tap_offset tap[KC + 2];
      block_tap_offsets(&g, t0 / s, t0 % s, taps, ch0, tap);
      for (size_t i = 0; i < mc; i += MR) tap_pointers(&g, origin + i, mc - i, tap, taps, zero, table + i / MR * stride);
      const epilogue e = {1.0f, 0.0f, pc == 0, pc + kc == k, NULL, relu};
      block_6x16__avx2(table, stride, zero, cg, ch0, kc, packed + pc * npad, j0, j1, mc, y + ic * ldy, ldy, bias, e);
    }
  }
}

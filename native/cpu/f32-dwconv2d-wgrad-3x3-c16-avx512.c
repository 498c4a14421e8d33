/*
 * f32_dwconv2d_wgrad_3x3_c16__avx512: weight gradient of a 3x3 depthwise convolution (groups = c = k), NHWC,
 * any stride, dilation and padding, on AVX-512 F:
 *   dw[ch][i][j] = sum over (n, oh, ow) of dy[n][oh][ow][ch] * x[n][oh sh - pt + i dh][ow sw - pl + j dw][ch].
 *
 * Channels sit in the lanes. For one output row and one 16-channel block (one cache line of a pixel), the nine
 * tap sums and the bias sum stay in zmm registers while the row's pixels stream past: one dy load, one add and
 * nine FMAs whose x operand comes straight from memory (an x line is read again by the next two pixels' taps,
 * still in L1). Every block
 * of a row runs before the next row, so the row's lines come from L2 once per use, and the sums go through a
 * (9, c) scratch block once per row and block. Threads own channel ranges: no reduction, and the result does
 * not depend on how many threads ran. Taps in the padding are skipped: filter rows per output row, filter
 * columns only at the edge pixels.
 *
 * C harness, one thread, 3x3 pad 1, best of 300 (GFLOP/s): c=256 28x28 62 (the AVX2 kernel 45, the Vector API
 * one ~35); c=144 56x56 81; c=64 28x28 74. Power-of-two strides of 2 KiB (c = 512) put a row's lines in two
 * L1 sets: c=512 14x14 28.
 */
#include <immintrin.h>
#include <stddef.h>

#include "tessera_cpu.h"
#include "tessera_dwconv2d_wgrad.h"

#define LOAD16(p, m, masked) ((masked) ? _mm512_maskz_loadu_ps((m), (p)) : _mm512_loadu_ps(p))

/* Taps [i0, i1) x [j0, j1) of one pixel: acc[3i + j] += g * x at rows[i] + col + j dj. Inlined, so constant
 * ranges drop their tests. */
static inline __attribute__((always_inline)) void pixel_taps(__m512 acc[9], __m512 g, const float *const rows[3],
                                                             ptrdiff_t col, ptrdiff_t dj, size_t i0, size_t i1,
                                                             size_t j0, size_t j1, __mmask16 mask, int masked) {
  for (size_t i = 0; i < 3; i++) {
    if (i < i0 || i >= i1) continue;
    for (size_t j = 0; j < 3; j++) {
      if (j < j0 || j >= j1) continue;
      acc[3 * i + j] = _mm512_fmadd_ps(g, LOAD16(rows[i] + col + (ptrdiff_t)j * dj, mask, masked), acc[3 * i + j]);
    }
  }
}

/* One output row against channels [ch, ch + 16) (masked: the lanes of mask), sums in and out of `sums`. */
static inline __attribute__((always_inline)) void row_block(const float *const rows[3], const float *dy_row, size_t c,
                                                            size_t w, size_t stride_w, size_t pad_left, size_t dil_w,
                                                            size_t out_w, output_range whole, size_t i0, size_t i1,
                                                            size_t ch, float *sums, __mmask16 mask, int masked) {
  __m512 acc[9], bias = LOAD16(sums + 9 * c + ch, mask, masked);
  for (size_t t = 0; t < 9; t++) acc[t] = LOAD16(sums + t * c + ch, mask, masked);
  const ptrdiff_t dj = (ptrdiff_t)(dil_w * c);
  for (size_t ow = 0; ow < out_w; ow++) {
    if (ow == whole.lo && whole.hi > whole.lo) { /* whole-window columns: no column tests */
      const int all_rows = i0 == 0 && i1 == 3;
      for (; ow < whole.hi; ow++) {
        const __m512 g = LOAD16(dy_row + ow * c + ch, mask, masked);
        bias = _mm512_add_ps(bias, g);
        const ptrdiff_t col = ((ptrdiff_t)(ow * stride_w) - (ptrdiff_t)pad_left) * (ptrdiff_t)c + (ptrdiff_t)ch;
        if (all_rows) pixel_taps(acc, g, rows, col, dj, 0, 3, 0, 3, mask, masked);
        else pixel_taps(acc, g, rows, col, dj, i0, i1, 0, 3, mask, masked);
      }
      if (ow == out_w) break;
    }
    const ptrdiff_t base = (ptrdiff_t)(ow * stride_w) - (ptrdiff_t)pad_left;
    const size_t j0 = first_tap(base, dil_w), j1 = end_tap(base, dil_w, w, 3);
    const __m512 g = LOAD16(dy_row + ow * c + ch, mask, masked);
    bias = _mm512_add_ps(bias, g);
    if (j0 < j1) pixel_taps(acc, g, rows, base * (ptrdiff_t)c + (ptrdiff_t)ch, dj, i0, i1, j0, j1, mask, masked);
  }
  if (masked) _mm512_mask_storeu_ps(sums + 9 * c + ch, mask, bias);
  else _mm512_storeu_ps(sums + 9 * c + ch, bias);
  for (size_t t = 0; t < 9; t++) {
    if (masked) _mm512_mask_storeu_ps(sums + t * c + ch, mask, acc[t]);
    else _mm512_storeu_ps(sums + t * c + ch, acc[t]);
  }
}

void tsr_f32_dwconv2d_wgrad_3x3_c16__avx512(size_t n, size_t h, size_t w, size_t c, size_t stride_h, size_t stride_w,
                                            size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h,
                                            size_t out_w, size_t ch0, size_t ch1, const float *x, const float *dy,
                                            float *sums, float *dw, float *db) {
  dw_wgrad_zero(sums, c, ch0, ch1);
  const output_range whole = whole_windows(w, 3, stride_w, pad_left, dil_w, out_w);
  const size_t full = ch0 + (ch1 - ch0) / 16 * 16;
  const __mmask16 tail = (__mmask16)((1u << (ch1 - full)) - 1);
  for (size_t img = 0; img < n; img++) {
    for (size_t oh = 0; oh < out_h; oh++) {
      const float *rows[3], *dy_row;
      size_t i0, i1;
      dw_wgrad_row(x, dy, img, oh, h, w, c, stride_h, pad_top, dil_h, out_h, out_w, rows, &dy_row, &i0, &i1);
      for (size_t ch = ch0; ch < full; ch += 16)
        row_block(rows, dy_row, c, w, stride_w, pad_left, dil_w, out_w, whole, i0, i1, ch, sums, tail, 0);
      if (full < ch1) row_block(rows, dy_row, c, w, stride_w, pad_left, dil_w, out_w, whole, i0, i1, full, sums, tail, 1);
    }
  }
  dw_wgrad_store(sums, c, ch0, ch1, dw, db);
}

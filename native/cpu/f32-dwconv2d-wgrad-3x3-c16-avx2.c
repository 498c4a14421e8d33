/*
 * f32_dwconv2d_wgrad_3x3_c16__avx2: weight gradient of a 3x3 depthwise convolution (groups = c = k), NHWC, any
 * stride, dilation and padding, on AVX2:
 *   dw[ch][i][j] = sum over (n, oh, ow) of dy[n][oh][ow][ch] * x[n][oh sh - pt + i dh][ow sw - pl + j dw][ch].
 *
 * The AVX-512 kernel's scheme (f32-dwconv2d-wgrad-3x3-c16-avx512.c: per output row and channel block, the tap
 * sums in registers while the row's pixels stream past) on 16 ymm registers. Blocks stay 16 channels wide, a
 * whole cache line per pixel: with 8-channel blocks every line came into L1 twice, once per half, and the
 * kernel was bound by L2 traffic (c=256 28x28: 34 GFLOP/s). Nine taps x 16 channels would need 18 accumulators,
 * so a row runs in two passes: filter rows 0-1 (12 accumulators), then filter row 2 (6) and the bias sum (2);
 * dy is loaded twice, x once. C harness, one thread, 3x3 pad 1, best of 300 (GFLOP/s): c=256 28x28 40-48, c=64 28x28 57-59,
 * c=512 14x14 25-28 (8-channel blocks: 31-37, 50-63, 13-14).
 */
#include <stddef.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"
#include "tessera_dwconv2d_wgrad.h"

#define LOAD8(p, m, masked) ((masked) ? _mm256_maskload_ps((p), (m)) : _mm256_loadu_ps(p))

/* Filter rows [ia, ib) (at most two) of taps [i0, i1) x [j0, j1) of one pixel, 16 channels as two halves:
 * acc[half][3 (i - ia) + j] += g_half * x at rows[i] + col + j dj. Inlined, so constant ranges drop their tests. */
static inline __attribute__((always_inline)) void pixel_taps(__m256 acc[2][6], __m256 g0, __m256 g1,
                                                             const float *const rows[3], ptrdiff_t col, ptrdiff_t dj,
                                                             size_t ia, size_t ib, size_t i0, size_t i1, size_t j0,
                                                             size_t j1, __m256i m0, __m256i m1, int masked) {
  for (size_t i = ia; i < ib; i++) {
    if (i < i0 || i >= i1) continue;
    for (size_t j = 0; j < 3; j++) {
      if (j < j0 || j >= j1) continue;
      const float *p = rows[i] + col + (ptrdiff_t)j * dj;
      const size_t t = 3 * (i - ia) + j;
      acc[0][t] = _mm256_fmadd_ps(g0, LOAD8(p, m0, masked), acc[0][t]);
      acc[1][t] = _mm256_fmadd_ps(g1, LOAD8(p + 8, m1, masked), acc[1][t]);
    }
  }
}

/* One output row, filter rows [ia, ib), against channels [ch, ch + 16) (masked: the lanes of m0, m1). */
static inline __attribute__((always_inline)) void row_pass(const float *const rows[3], const float *dy_row, size_t c,
                                                           size_t w, size_t stride_w, size_t pad_left, size_t dil_w,
                                                           size_t out_w, output_range whole, size_t i0, size_t i1,
                                                           size_t ia, size_t ib, size_t ch, float *sums, __m256i m0,
                                                           __m256i m1, int masked) {
  __m256 acc[2][6], bias0 = _mm256_setzero_ps(), bias1 = bias0;
  const int with_bias = ib == 3; /* the last pass sums the bias */
  const size_t taps = 3 * (ib - ia);
  if (with_bias) {
    bias0 = LOAD8(sums + 9 * c + ch, m0, masked);
    bias1 = LOAD8(sums + 9 * c + ch + 8, m1, masked);
  }
  for (size_t t = 0; t < taps; t++) {
    const float *s = sums + (3 * ia + t) * c + ch;
    acc[0][t] = LOAD8(s, m0, masked);
    acc[1][t] = LOAD8(s + 8, m1, masked);
  }
  const ptrdiff_t dj = (ptrdiff_t)(dil_w * c);
  for (size_t ow = 0; ow < out_w; ow++) {
    if (ow == whole.lo && whole.hi > whole.lo) { /* whole-window columns: no column tests */
      const int all_rows = i0 == 0 && i1 == 3;
      for (; ow < whole.hi; ow++) {
        const float *g = dy_row + ow * c + ch;
        const __m256 g0 = LOAD8(g, m0, masked), g1 = LOAD8(g + 8, m1, masked);
        if (with_bias) {
          bias0 = _mm256_add_ps(bias0, g0);
          bias1 = _mm256_add_ps(bias1, g1);
        }
        const ptrdiff_t col = ((ptrdiff_t)(ow * stride_w) - (ptrdiff_t)pad_left) * (ptrdiff_t)c + (ptrdiff_t)ch;
        if (all_rows) pixel_taps(acc, g0, g1, rows, col, dj, ia, ib, 0, 3, 0, 3, m0, m1, masked);
        else pixel_taps(acc, g0, g1, rows, col, dj, ia, ib, i0, i1, 0, 3, m0, m1, masked);
      }
      if (ow == out_w) break;
    }
    const ptrdiff_t base = (ptrdiff_t)(ow * stride_w) - (ptrdiff_t)pad_left;
    const size_t j0 = first_tap(base, dil_w), j1 = end_tap(base, dil_w, w, 3);
    const float *g = dy_row + ow * c + ch;
    const __m256 g0 = LOAD8(g, m0, masked), g1 = LOAD8(g + 8, m1, masked);
    if (with_bias) {
      bias0 = _mm256_add_ps(bias0, g0);
      bias1 = _mm256_add_ps(bias1, g1);
    }
    if (j0 < j1) pixel_taps(acc, g0, g1, rows, base * (ptrdiff_t)c + (ptrdiff_t)ch, dj, ia, ib, i0, i1, j0, j1, m0, m1, masked);
  }
  if (with_bias && masked) {
    _mm256_maskstore_ps(sums + 9 * c + ch, m0, bias0);
    _mm256_maskstore_ps(sums + 9 * c + ch + 8, m1, bias1);
  } else if (with_bias) {
    _mm256_storeu_ps(sums + 9 * c + ch, bias0);
    _mm256_storeu_ps(sums + 9 * c + ch + 8, bias1);
  }
  for (size_t t = 0; t < taps; t++) {
    float *s = sums + (3 * ia + t) * c + ch;
    if (masked) {
      _mm256_maskstore_ps(s, m0, acc[0][t]);
      _mm256_maskstore_ps(s + 8, m1, acc[1][t]);
    } else {
      _mm256_storeu_ps(s, acc[0][t]);
      _mm256_storeu_ps(s + 8, acc[1][t]);
    }
  }
}

void tsr_f32_dwconv2d_wgrad_3x3_c16__avx2(size_t n, size_t h, size_t w, size_t c, size_t stride_h, size_t stride_w,
                                          size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h,
                                          size_t out_w, size_t ch0, size_t ch1, const float *x, const float *dy,
                                          float *sums, float *dw, float *db) {
  dw_wgrad_zero(sums, c, ch0, ch1);
  const output_range whole = whole_windows(w, 3, stride_w, pad_left, dil_w, out_w);
  const size_t full = ch0 + (ch1 - ch0) / 16 * 16, rest = ch1 - full;
  const __m256i m0 = tsr_avx2_tail_mask(rest < 8 ? rest : 8), m1 = tsr_avx2_tail_mask(rest > 8 ? rest - 8 : 0);
  for (size_t img = 0; img < n; img++) {
    for (size_t oh = 0; oh < out_h; oh++) {
      const float *rows[3], *dy_row;
      size_t i0, i1;
      dw_wgrad_row(x, dy, img, oh, h, w, c, stride_h, pad_top, dil_h, out_h, out_w, rows, &dy_row, &i0, &i1);
      for (size_t ch = ch0; ch < full; ch += 16) {
        row_pass(rows, dy_row, c, w, stride_w, pad_left, dil_w, out_w, whole, i0, i1, 0, 2, ch, sums, m0, m1, 0);
        row_pass(rows, dy_row, c, w, stride_w, pad_left, dil_w, out_w, whole, i0, i1, 2, 3, ch, sums, m0, m1, 0);
      }
      if (rest) {
        row_pass(rows, dy_row, c, w, stride_w, pad_left, dil_w, out_w, whole, i0, i1, 0, 2, full, sums, m0, m1, 1);
        row_pass(rows, dy_row, c, w, stride_w, pad_left, dil_w, out_w, whole, i0, i1, 2, 3, full, sums, m0, m1, 1);
      }
    }
  }
  dw_wgrad_store(sums, c, ch0, ch1, dw, db);
}

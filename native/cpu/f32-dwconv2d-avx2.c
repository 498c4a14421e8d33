/*
 * f32_dwconv2d__avx2: depthwise 2-D convolution (groups = c = k), NHWC, direct.
 *
 * NHWC keeps a pixel's channels adjacent, so each output pixel is computed 32 channels (4 YMM accumulators)
 * at a time, then 8, then a masked tail, over the taps that land inside the input (their range is computed
 * per row and per pixel, so the inner loop has no bounds tests). Filters come transposed to (r, s, c) so a
 * tap's weights are adjacent too. Depthwise layers do ~r*s flops per loaded element: the loop is bound by
 * loads and memory, not FMAs, so it stays simple.
 */
#include <stddef.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

static inline size_t first_tap(ptrdiff_t base, size_t dil) {
  return base >= 0 ? 0 : (size_t)((-base + (ptrdiff_t)dil - 1) / (ptrdiff_t)dil);
}

static inline size_t end_tap(ptrdiff_t base, size_t dil, size_t size, size_t taps) {
  if (base >= (ptrdiff_t)size) return 0;
  const size_t e = (size_t)((ptrdiff_t)size - 1 - base) / dil + 1;
  return e < taps ? e : taps;
}

static inline __m256 finish(__m256 acc, const float *bias, __m256i mask, int masked, int relu) {
  if (bias) acc = _mm256_add_ps(acc, masked ? _mm256_maskload_ps(bias, mask) : _mm256_loadu_ps(bias));
  if (relu) acc = _mm256_max_ps(_mm256_setzero_ps(), acc); /* NaN stays NaN */
  return acc;
}

void tsr_f32_dwconv2d__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h, size_t stride_w,
                            size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h, size_t out_w,
                            size_t row0, size_t row1, const float *x, const float *wt, const float *bias, int relu,
                            float *y) {
  const __m256i tail = tsr_avx2_tail_mask(c % 8);
  for (size_t row = row0; row < row1; row++) {
    const size_t n = row / out_h, oh = row % out_h;
    const ptrdiff_t hb = (ptrdiff_t)(oh * stride_h) - (ptrdiff_t)pad_top;
    const size_t r0 = first_tap(hb, dil_h), r1 = end_tap(hb, dil_h, h, r);
    for (size_t ow = 0; ow < out_w; ow++) {
      const ptrdiff_t wb = (ptrdiff_t)(ow * stride_w) - (ptrdiff_t)pad_left;
      const size_t t0 = first_tap(wb, dil_w), t1 = end_tap(wb, dil_w, w, s);
      float *yo = y + (row * out_w + ow) * c;
      size_t ch = 0;
      for (; ch + 32 <= c; ch += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (size_t i = r0; i < r1; i++) {
          const size_t ih = (size_t)(hb + (ptrdiff_t)(i * dil_h));
          for (size_t t = t0; t < t1; t++) {
            const size_t iw = (size_t)(wb + (ptrdiff_t)(t * dil_w));
            const float *xp = x + ((n * h + ih) * w + iw) * c + ch, *wp = wt + (i * s + t) * c + ch;
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp), _mm256_loadu_ps(wp), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 8), _mm256_loadu_ps(wp + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 16), _mm256_loadu_ps(wp + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 24), _mm256_loadu_ps(wp + 24), a3);
          }
        }
        const float *b = bias ? bias + ch : NULL;
        const __m256i all = _mm256_set1_epi32(-1);
        _mm256_storeu_ps(yo + ch, finish(a0, b, all, 0, relu));
        _mm256_storeu_ps(yo + ch + 8, finish(a1, b ? b + 8 : NULL, all, 0, relu));
        _mm256_storeu_ps(yo + ch + 16, finish(a2, b ? b + 16 : NULL, all, 0, relu));
        _mm256_storeu_ps(yo + ch + 24, finish(a3, b ? b + 24 : NULL, all, 0, relu));
      }
      for (; ch < c; ch += 8) { /* 8 channels, the last time masked: masked lanes are neither read nor written */
        const int masked = ch + 8 > c;
        const __m256i m = masked ? tail : _mm256_set1_epi32(-1);
        __m256 a = _mm256_setzero_ps();
        for (size_t i = r0; i < r1; i++) {
          const size_t ih = (size_t)(hb + (ptrdiff_t)(i * dil_h));
          for (size_t t = t0; t < t1; t++) {
            const size_t iw = (size_t)(wb + (ptrdiff_t)(t * dil_w));
            const float *xp = x + ((n * h + ih) * w + iw) * c + ch, *wp = wt + (i * s + t) * c + ch;
            a = _mm256_fmadd_ps(masked ? _mm256_maskload_ps(xp, m) : _mm256_loadu_ps(xp),
                                masked ? _mm256_maskload_ps(wp, m) : _mm256_loadu_ps(wp), a);
          }
        }
        const __m256 v = finish(a, bias ? bias + ch : NULL, m, masked, relu);
        if (masked) _mm256_maskstore_ps(yo + ch, m, v);
        else _mm256_storeu_ps(yo + ch, v);
      }
    }
  }
}

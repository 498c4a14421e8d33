/*
 * f32_dwconv2d__avx2: depthwise 2-D convolution (groups = c = k), NHWC, direct.
 *
 * NHWC keeps a pixel's channels adjacent, so each output pixel is computed 32 channels (4 YMM accumulators)
 * at a time, then 8, then a masked tail, over the taps that land inside the input (their range is computed
 * per row and per pixel, so the inner loop has no bounds tests). Filters come transposed to (r, s, c) so a
 * tap's weights are adjacent too. Depthwise layers do ~r*s flops per loaded element: that loop is bound by
 * loads (two per FMA: pixel and weight).
 *
 * 3x3 filters, at pixels whose whole window is inside the input, hold a channel vector's nine weights in
 * registers instead and run them along the row: one load per FMA, three FMA chains per pixel (one per
 * filter row). That sweep reads one cache line per pixel at a stride of c floats; when c is a multiple of
 * 128 (a stride of 512 bytes or a multiple of it) those lines fall into 8 or fewer of L1's 64 sets and
 * evict each other before the next channel vector reuses them, so such layers keep the per-pixel loop.
 * Single thread, 28x28 input, GFLOP/s per-pixel -> sweep: c = 32 27 -> 49, 64 29 -> 40, 144 28 -> 39,
 * 13 10 -> 12; but c = 128 30 -> 24, 256 31 -> 23, 384 30 -> 24.
 */
#include <stddef.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"
#include "tessera_taps.h"

static inline __m256 finish(__m256 acc, const float *bias, __m256i mask, int masked, int relu) {
  if (bias) acc = _mm256_add_ps(acc, masked ? _mm256_maskload_ps(bias, mask) : _mm256_loadu_ps(bias));
  if (relu) acc = _mm256_max_ps(_mm256_setzero_ps(), acc); /* NaN stays NaN */
  return acc;
}

/* Channels [0, c - c % 8) of `count` output pixels with whole 3x3 windows; x0 is the first window's corner,
 * x_pix / x_tap / x_row the element steps to the next pixel's window, tap and filter row. */
static void interior_3x3__avx2(size_t count, size_t c, size_t x_pix, size_t x_tap, size_t x_row, const float *x0, const float *wt,
                         const float *bias, int relu, float *y0) {
  for (size_t ch = 0; ch + 8 <= c; ch += 8) {
    const float *wp = wt + ch;
    const __m256 w00 = _mm256_loadu_ps(wp), w01 = _mm256_loadu_ps(wp + c), w02 = _mm256_loadu_ps(wp + 2 * c);
    const __m256 w10 = _mm256_loadu_ps(wp + 3 * c), w11 = _mm256_loadu_ps(wp + 4 * c), w12 = _mm256_loadu_ps(wp + 5 * c);
    const __m256 w20 = _mm256_loadu_ps(wp + 6 * c), w21 = _mm256_loadu_ps(wp + 7 * c), w22 = _mm256_loadu_ps(wp + 8 * c);
    const __m256 b = bias ? _mm256_loadu_ps(bias + ch) : _mm256_setzero_ps();
    for (size_t i = 0; i < count; i++) {
      const float *xa = x0 + i * x_pix + ch, *xb = xa + x_row, *xc = xb + x_row;
      __m256 a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xa), w00, b);
      __m256 a1 = _mm256_mul_ps(_mm256_loadu_ps(xb), w10);
      __m256 a2 = _mm256_mul_ps(_mm256_loadu_ps(xc), w20);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xa + x_tap), w01, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xb + x_tap), w11, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xc + x_tap), w21, a2);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xa + 2 * x_tap), w02, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 2 * x_tap), w12, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xc + 2 * x_tap), w22, a2);
      __m256 v = _mm256_add_ps(_mm256_add_ps(a0, a1), a2);
      if (relu) v = _mm256_max_ps(_mm256_setzero_ps(), v); /* NaN stays NaN */
      _mm256_storeu_ps(y0 + i * c + ch, v);
    }
  }
}

void tsr_f32_dwconv2d__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h, size_t stride_w,
                            size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h, size_t out_w,
                            size_t row0, size_t row1, const float *x, const float *wt, const float *bias, int relu,
                            float *y) {
  const __m256i tail = tsr_avx2_tail_mask(c % 8);
  /* Output columns [in_lo, in_hi) have their whole (dilated) window inside the input's width. */
  const output_range whole = whole_windows(w, s, stride_w, pad_left, dil_w, out_w);
  const size_t in_lo = whole.lo, in_hi = whole.hi;
  for (size_t row = row0; row < row1; row++) {
    const size_t n = row / out_h, oh = row % out_h;
    const ptrdiff_t hb = (ptrdiff_t)(oh * stride_h) - (ptrdiff_t)pad_top;
    const size_t r0 = first_tap(hb, dil_h), r1 = end_tap(hb, dil_h, h, r);
    const int interior = r == 3 && s == 3 && c >= 8 && c % 128 != 0 && r0 == 0 && r1 == 3 && in_lo < in_hi;
    if (interior) {
      const float *x0 = x + ((n * h + (size_t)hb) * w + in_lo * stride_w - pad_left) * c;
      interior_3x3__avx2(in_hi - in_lo, c, stride_w * c, dil_w * c, dil_h * w * c, x0, wt, bias, relu, y + (row * out_w + in_lo) * c);
    }
    for (size_t ow = 0; ow < out_w; ow++) {
      const ptrdiff_t wb = (ptrdiff_t)(ow * stride_w) - (ptrdiff_t)pad_left;
      const size_t t0 = first_tap(wb, dil_w), t1 = end_tap(wb, dil_w, w, s);
      float *yo = y + (row * out_w + ow) * c;
      size_t ch = interior && ow >= in_lo && ow < in_hi ? c - c % 8 : 0; /* whole vectors done above */
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

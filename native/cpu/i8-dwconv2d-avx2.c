/*
 * i8_dwconv2d__avx2: int8 depthwise 2-D convolution (groups = c = k), NHWC, direct, exact.
 *
 * acc[c] = sum over taps of (x - a_zero) * w in s32, then the int8 GEMM's epilogue (tessera_cpu.h, same float
 * operations in the same order, so every backend writes the same bits). Padding taps are real zero: they read
 * a row of a_zero bytes, whose (x - a_zero) is 0, so every pixel runs the same full tap list, and the sum is
 * computed as sum x w - a_zero * (sum of all the channel's weights), the second term once per call.
 *
 * Why it is exact and fast without VNNI: x (u8 or s8) and w widen to s16, and `vpmaddwd` adds two of their
 * products into s32 without rounding or saturation (the s32 sums wrap exactly like the result they add up to).
 * Taps are taken in pairs: the widened x of taps t and t + 1 are interleaved (`vpunpck[lh]wd`) against weights
 * packed once per call in the same interleaved order, so one `vpmaddwd` does 16 multiply-adds. 16 channels a
 * step; the last c % 16 channels run the same arithmetic one at a time. The accumulators come out in lane
 * order 0-3 | 8-11 and 4-7 | 12-15; the epilogue constants are stored in that order too, so requantized bytes
 * pack straight into channel order (permuting first cost 26.8 -> 33.3 GOP/s, c = 256, one thread).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

static inline size_t pairs_of(size_t taps) { return (taps + 1) / 2; }

size_t tsr_i8_dwconv2d_workspace_bytes__avx2(size_t r, size_t s, size_t c) {
  const size_t taps = r * s, c16 = c / 16 * 16;
  return pairs_of(taps) * c16 * 4    /* s16 weight pairs */
         + 2 * c * sizeof(float)     /* epilogue multipliers and offsets per channel */
         + 3 * c16 * 4               /* the same and a_zero * (weight sum), in the accumulators' lane order */
         + (c + 16)                  /* the padding row: c bytes of a_zero */
         + (taps + 1) * sizeof(void *) + 64;
}

/* Weights of taps (2p, 2p + 1) for a 16-channel block as two YMM of s16 pairs, in the order the interleaved
 * x vectors take: first channels 0-3 and 8-11, then 4-7 and 12-15 (vpunpck works within 128-bit lanes). */
static inline void pack_weights__avx2(size_t taps, size_t c, const int8_t *wt, int16_t *packed) {
  for (size_t ch = 0; ch + 16 <= c; ch += 16) {
    for (size_t p = 0; p < pairs_of(taps); p++) {
      int16_t *dst = packed + ((ch / 16) * pairs_of(taps) + p) * 32;
      for (size_t half = 0; half < 2; half++) {
        for (size_t lane = 0; lane < 8; lane++) {
          const size_t j = ch + (lane < 4 ? lane : lane + 4) + half * 4; /* lanes 0-3: ch 0-3 (+4); 4-7: ch 8-11 (+4) */
          const size_t t0 = 2 * p, t1 = 2 * p + 1;
          dst[half * 16 + lane * 2] = wt[t0 * c + j];
          dst[half * 16 + lane * 2 + 1] = t1 < taps ? wt[t1 * c + j] : 0;
        }
      }
    }
  }
}

/* 16 bytes at p widened to s16. */
static inline __m256i widen__avx2(int a_signed, const uint8_t *p) {
  const __m128i v = _mm_loadu_si128((const __m128i *)p);
  return a_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

/* The contract's epilogue for one channel (the tail), in the vector path's float operations. */
static inline void store_one__avx2(int out_kind, int32_t acc, float m, float b, float lo, float hi, int32_t zo, int relu,
                             void *y, size_t at) {
  if (out_kind == TSR_I8_OUT_S32) {
    ((int32_t *)y)[at] = acc;
    return;
  }
  float v = fmaf((float)acc, m, b);
  if (out_kind == TSR_I8_OUT_F32) {
    if (relu && v < 0.0f) v = 0.0f; /* NaN stays NaN */
    ((float *)y)[at] = v;
    return;
  }
  v = v > lo ? v : lo; /* maxps / minps: a NaN takes the bound, as in the vector path */
  v = v < hi ? v : hi;
  const int32_t q = (int32_t)nearbyintf(v) + zo; /* round half to even: the default mode */
  if (out_kind == TSR_I8_OUT_S8) ((int8_t *)y)[at] = (int8_t)q;
  else ((uint8_t *)y)[at] = (uint8_t)q;
}

void tsr_i8_dwconv2d__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h, size_t stride_w,
                           size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h, size_t out_w,
                           size_t row0, size_t row1, int a_signed, const uint8_t *x, int32_t a_zero, float a_scale,
                           const int8_t *wt, const float *w_scales, const float *bias, int out_kind, float out_scale,
                           int32_t out_zero, int relu, void *y, void *workspace) {
  const size_t taps = r * s, pairs = pairs_of(taps), c16 = c / 16 * 16;
  int16_t *packed = (int16_t *)workspace;
  float *mult = (float *)(packed + pairs * c16 * 2), *offs = mult + c, *lane_mult = offs + c, *lane_offs = lane_mult + c16;
  int32_t *lane_zw = (int32_t *)(lane_offs + c16);
  uint8_t *zrow = (uint8_t *)(lane_zw + c16);
  const uint8_t **tap = (const uint8_t **)(((uintptr_t)(zrow + c + 16) + 7) & ~(uintptr_t)7);
  pack_weights__avx2(taps, c, wt, packed);
  memset(zrow, (uint8_t)a_zero, c + 16);
  const int requant = out_kind == TSR_I8_OUT_U8 || out_kind == TSR_I8_OUT_S8;
  for (size_t ch = 0; ch < c; ch++) { /* (sa * sw) (/ so) and bias (/ so), as the contract says */
    mult[ch] = a_scale * w_scales[ch];
    offs[ch] = bias ? bias[ch] : 0.0f;
    if (requant) {
      mult[ch] = mult[ch] / out_scale;
      offs[ch] = offs[ch] / out_scale;
    }
  }
  /* The accumulators' lane order in a 16-channel block: 0-3 | 8-11, then 4-7 | 12-15 (vpunpck works within
   * 128-bit lanes). The epilogue constants are laid out the same way, so the requantizing path packs the
   * results straight into channel order without permuting them first. */
  for (size_t ch = 0; ch < c16; ch++) {
    const size_t in_block = ch % 16, half = in_block / 8, lane = in_block % 8;
    const size_t j = ch - in_block + (lane < 4 ? lane : lane + 4) + half * 4;
    int32_t sum = 0;
    for (size_t t = 0; t < taps; t++) sum += wt[t * c + j];
    lane_mult[ch] = mult[j];
    lane_offs[ch] = offs[j];
    lane_zw[ch] = a_zero * sum;
  }
  int32_t lo = out_kind == TSR_I8_OUT_S8 ? -128 : 0, hi = out_kind == TSR_I8_OUT_S8 ? 127 : 255;
  if (relu && out_zero > lo) lo = out_zero;
  const float flo = (float)(lo - out_zero), fhi = (float)(hi - out_zero);
  const __m256 vlo = _mm256_set1_ps(flo), vhi = _mm256_set1_ps(fhi);
  const __m256i zo = _mm256_set1_epi32(out_zero);
  const size_t out_bytes = out_kind == TSR_I8_OUT_S32 || out_kind == TSR_I8_OUT_F32 ? 4 : 1;
  tap[taps] = zrow; /* the odd tap's partner: its weights are packed as 0 */

  for (size_t row = row0; row < row1; row++) {
    const size_t n = row / out_h, oh = row % out_h;
    const ptrdiff_t hb = (ptrdiff_t)(oh * stride_h) - (ptrdiff_t)pad_top;
    for (size_t ow = 0; ow < out_w; ow++) {
      const ptrdiff_t wb = (ptrdiff_t)(ow * stride_w) - (ptrdiff_t)pad_left;
      for (size_t i = 0; i < r; i++) {
        const ptrdiff_t ih = hb + (ptrdiff_t)(i * dil_h);
        for (size_t t = 0; t < s; t++) {
          const ptrdiff_t iw = wb + (ptrdiff_t)(t * dil_w);
          const int inside = ih >= 0 && ih < (ptrdiff_t)h && iw >= 0 && iw < (ptrdiff_t)w;
          tap[i * s + t] = inside ? x + ((n * h + (size_t)ih) * w + (size_t)iw) * c : zrow;
        }
      }
      uint8_t *yo = (uint8_t *)y + (row * out_w + ow) * c * out_bytes;
      for (size_t ch = 0; ch < c16; ch += 16) {
        const __m256i *wp = (const __m256i *)(packed + (ch / 16) * pairs * 32);
        /* sum (x - a_zero) w = sum x w - a_zero sum w over all taps (padding reads a_zero: x - a_zero = 0) */
        __m256i acc0 = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)(lane_zw + ch)));
        __m256i acc1 = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)(lane_zw + ch + 8)));
        for (size_t p = 0; p < pairs; p++) {
          const __m256i x0 = widen__avx2(a_signed, tap[2 * p] + ch), x1 = widen__avx2(a_signed, tap[2 * p + 1] + ch);
          acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), _mm256_loadu_si256(wp + 2 * p)));
          acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), _mm256_loadu_si256(wp + 2 * p + 1)));
        }
        if (out_kind == TSR_I8_OUT_S32) { /* back to channel order: acc0 holds 0-3 | 8-11, acc1 4-7 | 12-15 */
          _mm256_storeu_si256((__m256i *)(yo + 4 * ch), _mm256_permute2x128_si256(acc0, acc1, 0x20));
          _mm256_storeu_si256((__m256i *)(yo + 4 * ch) + 1, _mm256_permute2x128_si256(acc0, acc1, 0x31));
          continue;
        }
        __m256 y0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc0), _mm256_loadu_ps(lane_mult + ch), _mm256_loadu_ps(lane_offs + ch));
        __m256 y1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc1), _mm256_loadu_ps(lane_mult + ch + 8), _mm256_loadu_ps(lane_offs + ch + 8));
        if (out_kind == TSR_I8_OUT_F32) {
          if (relu) { /* max(0, y): a NaN operand goes second, so NaN stays NaN */
            y0 = _mm256_max_ps(_mm256_setzero_ps(), y0);
            y1 = _mm256_max_ps(_mm256_setzero_ps(), y1);
          }
          _mm256_storeu_ps((float *)(yo + 4 * ch), _mm256_permute2f128_ps(y0, y1, 0x20));
          _mm256_storeu_ps((float *)(yo + 4 * ch) + 8, _mm256_permute2f128_ps(y0, y1, 0x31));
          continue;
        }
        y0 = _mm256_min_ps(_mm256_max_ps(y0, vlo), vhi);
        y1 = _mm256_min_ps(_mm256_max_ps(y1, vlo), vhi);
        const __m256i q0 = _mm256_add_epi32(_mm256_cvtps_epi32(y0), zo), q1 = _mm256_add_epi32(_mm256_cvtps_epi32(y1), zo);
        /* 16 s32 in [-128, 255], lanes 0-3 | 8-11 and 4-7 | 12-15: packs within 128-bit lanes gives s16 0-7 | 8-15,
         * in channel order; the packs cannot saturate after the clamp */
        const __m256i w16 = _mm256_packs_epi32(q0, q1);
        const __m128i l = _mm256_castsi256_si128(w16), u = _mm256_extracti128_si256(w16, 1);
        _mm_storeu_si128((__m128i *)(yo + ch), out_kind == TSR_I8_OUT_S8 ? _mm_packs_epi16(l, u) : _mm_packus_epi16(l, u));
      }
      for (size_t ch = c16; ch < c; ch++) { /* the channel tail, one at a time */
        int32_t acc = 0;
        for (size_t t = 0; t < taps; t++) {
          const int32_t xv = a_signed ? (int32_t)(int8_t)tap[t][ch] : (int32_t)tap[t][ch];
          acc += (xv - a_zero) * wt[t * c + ch];
        }
        store_one__avx2(out_kind, acc, mult[ch], offs[ch], flo, fhi, out_zero, relu, yo, ch);
      }
    }
  }
}

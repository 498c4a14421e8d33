/*
 * f32_conv2d_direct_3x32__avx2: direct 2-D convolution for short patches (r*s*c small: a first layer on 1 to
 * 3 input channels), NHWC, one group.
 *
 * With a 9-element patch (3x3 on one channel) the GEMM formulations spend their time gathering and packing
 * patches and entering a microkernel whose k loop has 9 steps (the Fashion-MNIST first layer ran at ~19
 * GFLOP/s on them). Here each output pixel's channels accumulate in registers across the whole patch: per
 * patch element, one broadcast of the input value and one FMA per 8 output channels with that element's
 * weights, which come transposed to (r, s, c, k_pad) so they are adjacent and stay in L1. Tile: 3 pixels x 32
 * channels = 12 accumulators (12 FMAs per 3 broadcasts and 4 weight loads). Channels past the last multiple of
 * 32 run in one tile of 24, 16 or 8 (9, 6 or 3 accumulators), the last vector masked; taps in the padding read
 * zero.
 *
 * Such a layer writes far more than it computes (32 floats per 9-float patch): on 2 cores it is bound by
 * writing its output, and the max pooling after it by reading it back. With pool > 1 the kernel fuses a
 * non-overlapping pool x pool max pooling: it computes `pool` output rows into a workspace that stays in
 * L1 and writes only their pooled row, so the full-size activation never reaches memory.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

#define PW 3 /* pixels per tile */

static inline size_t padded_width(size_t w, size_t s, size_t stride_w, size_t pad_left, size_t dil_w, size_t out_w);

/* The helpers are global __avx2 functions, not static ones: the shipped library keeps only global symbols,
 * and toolchain/check-isa.sh credits a static function's AVX code to the global function before it, which
 * for this file (linked right after the baseline cpu-features.o) is a baseline one. Inlining them instead
 * spilled the tile's accumulators (~20% slower). Internal: not in tessera_cpu.h. */
size_t tsr_f32_conv2d_direct_workspace_bytes__avx2(size_t w, size_t c, size_t r, size_t s, size_t stride_w,
                                                   size_t pad_left, size_t dil_w, size_t out_w, size_t k, size_t pool) {
  const size_t pooled = pool > 1 ? pool * out_w * k : 0;
  return (pooled + r * padded_width(w, s, stride_w, pad_left, dil_w, out_w) * c) * sizeof(float) + 64;
}


typedef struct {
  size_t h, w, c, r, s, stride_w, pad_left, dil_h, dil_w, k, k_pad, patch, wpad;
  int32_t off[32]; /* patch element e of a pixel sits off[e] floats from its window's first element in `rows` */
  float *rows;     /* the r input rows an output row reads, zero-padded to wpad pixels (see below) */
} geometry;

/* Padded row width: room for every tile's 3 pixels (a short last tile computes its unused pixels too) and for
 * the copied row itself. */
static inline size_t padded_width(size_t w, size_t s, size_t stride_w, size_t pad_left, size_t dil_w, size_t out_w) {
  const size_t need = (out_w + PW - 1) / PW * PW * stride_w + (s - 1) * dil_w + 1;
  return need > pad_left + w ? need : pad_left + w;
}

/* The epilogue of one full 8-channel vector: bias (may be NULL), ReLU, store. */
static inline __attribute__((always_inline)) void finish(float *dst, __m256 a, const float *bias, size_t at, int relu) {
  if (bias) a = _mm256_add_ps(a, _mm256_loadu_ps(bias + at));
  if (relu) a = _mm256_max_ps(_mm256_setzero_ps(), a); /* NaN stays NaN */
  _mm256_storeu_ps(dst, a);
}

/* acc (3 pixels x 32 channels, as 12 vectors: pixel-major) = sum over the patch of x[p][e] * wt[e][0..32),
 * x[p][e] = xs[p * xstep + off[e]]. Named accumulators so the 12 stay in registers. */
__attribute__((noinline)) void tsr_f32_conv2d_direct_tile4__avx2(size_t patch, const float *xs, size_t xstep,
                                                                 const int32_t *off, const float *wt, size_t kp,
                                                                 __m256 *acc, float *dst, size_t ldd,
                                                                 const float *bias, int relu) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  __m256 a20 = a00, a21 = a00, a22 = a00, a23 = a00;
  const float *x1 = xs + xstep, *x2 = xs + 2 * xstep;
  for (size_t e = 0; e < patch; e++, wt += kp) {
    const __m256 v0 = _mm256_broadcast_ss(xs + off[e]), v1 = _mm256_broadcast_ss(x1 + off[e]);
    const __m256 v2 = _mm256_broadcast_ss(x2 + off[e]);
    const __m256 w0 = _mm256_loadu_ps(wt), w1 = _mm256_loadu_ps(wt + 8), w2 = _mm256_loadu_ps(wt + 16);
    const __m256 w3 = _mm256_loadu_ps(wt + 24);
    a00 = _mm256_fmadd_ps(v0, w0, a00), a01 = _mm256_fmadd_ps(v0, w1, a01);
    a02 = _mm256_fmadd_ps(v0, w2, a02), a03 = _mm256_fmadd_ps(v0, w3, a03);
    a10 = _mm256_fmadd_ps(v1, w0, a10), a11 = _mm256_fmadd_ps(v1, w1, a11);
    a12 = _mm256_fmadd_ps(v1, w2, a12), a13 = _mm256_fmadd_ps(v1, w3, a13);
    a20 = _mm256_fmadd_ps(v2, w0, a20), a21 = _mm256_fmadd_ps(v2, w1, a21);
    a22 = _mm256_fmadd_ps(v2, w2, a22), a23 = _mm256_fmadd_ps(v2, w3, a23);
  }
  if (dst) {
    finish(dst, a00, bias, 0, relu), finish(dst + 8, a01, bias, 8, relu), finish(dst + 16, a02, bias, 16, relu);
    finish(dst + 24, a03, bias, 24, relu), finish(dst + ldd, a10, bias, 0, relu), finish(dst + ldd + 8, a11, bias, 8, relu);
    finish(dst + ldd + 16, a12, bias, 16, relu), finish(dst + ldd + 24, a13, bias, 24, relu);
    finish(dst + 2 * ldd, a20, bias, 0, relu), finish(dst + 2 * ldd + 8, a21, bias, 8, relu);
    finish(dst + 2 * ldd + 16, a22, bias, 16, relu), finish(dst + 2 * ldd + 24, a23, bias, 24, relu);
    return;
  }
  acc[0] = a00, acc[1] = a01, acc[2] = a02, acc[3] = a03, acc[4] = a10, acc[5] = a11;
  acc[6] = a12, acc[7] = a13, acc[8] = a20, acc[9] = a21, acc[10] = a22, acc[11] = a23;
}

/* The same for 24 channels (acc: 9 vectors, pixel-major): 9 independent FMA chains, enough to keep both FMA
 * pipes busy (4-cycle latency x 2 pipes), where three 8-channel tiles would run 3 chains each at a third of
 * the speed (a pruned first layer of 24 filters took longer than the full one of 32). */
__attribute__((noinline)) void tsr_f32_conv2d_direct_tile3__avx2(size_t patch, const float *xs, size_t xstep,
                                                                 const int32_t *off, const float *wt, size_t kp,
                                                                 __m256 *acc, float *dst, size_t ldd,
                                                                 const float *bias, int relu) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
  __m256 a20 = a00, a21 = a00, a22 = a00;
  const float *x1 = xs + xstep, *x2 = xs + 2 * xstep;
  for (size_t e = 0; e < patch; e++, wt += kp) {
    const __m256 v0 = _mm256_broadcast_ss(xs + off[e]), v1 = _mm256_broadcast_ss(x1 + off[e]);
    const __m256 v2 = _mm256_broadcast_ss(x2 + off[e]);
    const __m256 w0 = _mm256_loadu_ps(wt), w1 = _mm256_loadu_ps(wt + 8), w2 = _mm256_loadu_ps(wt + 16);
    a00 = _mm256_fmadd_ps(v0, w0, a00), a01 = _mm256_fmadd_ps(v0, w1, a01), a02 = _mm256_fmadd_ps(v0, w2, a02);
    a10 = _mm256_fmadd_ps(v1, w0, a10), a11 = _mm256_fmadd_ps(v1, w1, a11), a12 = _mm256_fmadd_ps(v1, w2, a12);
    a20 = _mm256_fmadd_ps(v2, w0, a20), a21 = _mm256_fmadd_ps(v2, w1, a21), a22 = _mm256_fmadd_ps(v2, w2, a22);
  }
  if (dst) {
    finish(dst, a00, bias, 0, relu), finish(dst + 8, a01, bias, 8, relu), finish(dst + 16, a02, bias, 16, relu);
    finish(dst + ldd, a10, bias, 0, relu), finish(dst + ldd + 8, a11, bias, 8, relu), finish(dst + ldd + 16, a12, bias, 16, relu);
    finish(dst + 2 * ldd, a20, bias, 0, relu), finish(dst + 2 * ldd + 8, a21, bias, 8, relu);
    finish(dst + 2 * ldd + 16, a22, bias, 16, relu);
    return;
  }
  acc[0] = a00, acc[1] = a01, acc[2] = a02, acc[3] = a10, acc[4] = a11, acc[5] = a12;
  acc[6] = a20, acc[7] = a21, acc[8] = a22;
}

/* The same for 16 channels (acc: 6 vectors, pixel-major). */
__attribute__((noinline)) void tsr_f32_conv2d_direct_tile2__avx2(size_t patch, const float *xs, size_t xstep,
                                                                 const int32_t *off, const float *wt, size_t kp,
                                                                 __m256 *acc) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
  const float *x1 = xs + xstep, *x2 = xs + 2 * xstep;
  for (size_t e = 0; e < patch; e++, wt += kp) {
    const __m256 v0 = _mm256_broadcast_ss(xs + off[e]), v1 = _mm256_broadcast_ss(x1 + off[e]);
    const __m256 v2 = _mm256_broadcast_ss(x2 + off[e]);
    const __m256 w0 = _mm256_loadu_ps(wt), w1 = _mm256_loadu_ps(wt + 8);
    a00 = _mm256_fmadd_ps(v0, w0, a00), a01 = _mm256_fmadd_ps(v0, w1, a01);
    a10 = _mm256_fmadd_ps(v1, w0, a10), a11 = _mm256_fmadd_ps(v1, w1, a11);
    a20 = _mm256_fmadd_ps(v2, w0, a20), a21 = _mm256_fmadd_ps(v2, w1, a21);
  }
  acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11, acc[4] = a20, acc[5] = a21;
}

/* The same for 8 channels: acc[p] for pixels 0..2. */
__attribute__((noinline)) void tsr_f32_conv2d_direct_tile1__avx2(size_t patch, const float *xs, size_t xstep,
                                                                 const int32_t *off, const float *wt, size_t kp,
                                                                 __m256 *acc) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0;
  for (size_t e = 0; e < patch; e++, wt += kp) {
    const __m256 w0 = _mm256_loadu_ps(wt);
    a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(xs + off[e]), w0, a0);
    a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(xs + xstep + off[e]), w0, a1);
    a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(xs + 2 * xstep + off[e]), w0, a2);
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2;
}

/* Output row oh of example n (out_w pixels, k channels) into yrow. The r input rows it reads are first copied
 * into g->rows with their padding as zeros (rows above or below the image all zeros), so every tile reads
 * in bounds without tests: ~r (w + pad) c floats per output row against its out_w r s c k multiply-adds. */
void tsr_f32_conv2d_direct_row__avx2(const geometry *g, const float *x, size_t n, size_t oh, size_t stride_h,
                                     size_t pad_top, size_t out_w, const float *wt, const float *bias, int relu,
                                     float *yrow) {
  const float *img = x + n * g->h * g->w * g->c;
  const ptrdiff_t hb = (ptrdiff_t)(oh * stride_h) - (ptrdiff_t)pad_top;
  const size_t c = g->c, row_floats = g->wpad * c, left = g->pad_left * c, body = g->w * c;
  for (size_t i = 0; i < g->r; i++) {
    float *dst = g->rows + i * row_floats;
    const ptrdiff_t ih = hb + (ptrdiff_t)(i * g->dil_h);
    if (ih < 0 || ih >= (ptrdiff_t)g->h) {
      memset(dst, 0, row_floats * sizeof(float));
      continue;
    }
    memset(dst, 0, left * sizeof(float));
    memcpy(dst + left, img + (size_t)ih * body, body * sizeof(float));
    memset(dst + left + body, 0, (row_floats - left - body) * sizeof(float));
  }
  __m256 acc[12];
  for (size_t ow = 0; ow < out_w; ow += PW) {
    const size_t np = out_w - ow < PW ? out_w - ow : PW;
    const float *xs = g->rows + ow * g->stride_w * c;
    const size_t xstep = g->stride_w * c;
    for (size_t kb = 0; kb < g->k_pad;) {
      const size_t left_v = (g->k_pad - kb) / 8, nv = left_v >= 4 ? 4 : left_v; /* 8-channel vectors in this tile */
      /* a whole wide tile (3 pixels, every channel live) finishes in registers; the others go through acc */
      float *whole = np == PW && kb + 8 * nv <= g->k && nv >= 3 ? yrow + ow * g->k + kb : NULL;
      const float *b = bias ? bias + kb : NULL;
      if (nv == 4) tsr_f32_conv2d_direct_tile4__avx2(g->patch, xs, xstep, g->off, wt + kb, g->k_pad, acc, whole, g->k, b, relu);
      else if (nv == 3) tsr_f32_conv2d_direct_tile3__avx2(g->patch, xs, xstep, g->off, wt + kb, g->k_pad, acc, whole, g->k, b, relu);
      else if (nv == 2) tsr_f32_conv2d_direct_tile2__avx2(g->patch, xs, xstep, g->off, wt + kb, g->k_pad, acc);
      else tsr_f32_conv2d_direct_tile1__avx2(g->patch, xs, xstep, g->off, wt + kb, g->k_pad, acc);
      if (whole) {
        kb += 8 * nv;
        continue;
      }
      for (size_t p = 0; p < np; p++) {
        float *dst = yrow + (ow + p) * g->k + kb;
        for (size_t v = 0; v < nv; v++) {
          const size_t ch0 = kb + 8 * v;
          if (ch0 >= g->k) break;
          const size_t live = g->k - ch0 < 8 ? g->k - ch0 : 8;
          __m256 out = acc[p * nv + v];
          if (live == 8) {
            if (bias) out = _mm256_add_ps(out, _mm256_loadu_ps(bias + ch0));
            if (relu) out = _mm256_max_ps(_mm256_setzero_ps(), out); /* NaN stays NaN */
            _mm256_storeu_ps(dst + 8 * v, out);
          } else {
            const __m256i mask = tsr_avx2_tail_mask(live);
            if (bias) out = _mm256_add_ps(out, _mm256_maskload_ps(bias + ch0, mask));
            if (relu) out = _mm256_max_ps(_mm256_setzero_ps(), out);
            _mm256_maskstore_ps(dst + 8 * v, mask, out);
          }
        }
      }
      kb += 8 * nv;
    }
  }
}

/* The max pooling rule of the library's pooling kernels: a tap replaces the maximum when it is greater, or
 * when it is NaN and the maximum is not (so the first NaN, or the first of equal maxima, wins). */
static inline __m256 max_rule(__m256 m, __m256 v) {
  const __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ),
                                   _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(m, m, _CMP_ORD_Q)));
  return _mm256_blendv_ps(m, v, take);
}

void tsr_f32_conv2d_direct_3x32__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                      size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                      size_t out_h, size_t out_w, size_t k, size_t pool, size_t row0, size_t row1,
                                      const float *x, const float *wt, const float *bias, int relu, float *y,
                                      float *workspace) {
  const size_t wpad = padded_width(w, s, stride_w, pad_left, dil_w, out_w);
  const size_t pooled = pool > 1 ? pool * out_w * k : 0;
  geometry g = {h, w, c, r, s, stride_w, pad_left, dil_h, dil_w, k, (k + 7) / 8 * 8, r * s * c, wpad, {0},
                workspace + pooled};
  for (size_t i = 0, e = 0; i < r; i++) /* buffer row i holds input row hb + i dil_h */
    for (size_t t = 0; t < s; t++)
      for (size_t ch = 0; ch < c; ch++, e++) g.off[e] = (int32_t)((i * wpad + t * dil_w) * c + ch);
  if (pool <= 1) {
    for (size_t row = row0; row < row1; row++)
      tsr_f32_conv2d_direct_row__avx2(&g, x, row / out_h, row % out_h, stride_h, pad_top, out_w, wt, bias, relu, y + row * out_w * k);
    return;
  }
  const size_t ph = out_h / pool, pw = out_w / pool, conv_w = pw * pool; /* floor: trailing pixels unused */
  for (size_t row = row0; row < row1; row++) {
    const size_t n = row / ph, prow = row % ph;
    for (size_t q = 0; q < pool; q++)
      tsr_f32_conv2d_direct_row__avx2(&g, x, n, prow * pool + q, stride_h, pad_top, conv_w, wt, bias, relu, workspace + q * conv_w * k);
    float *yrow = y + row * pw * k;
    const size_t whole = pool == 2 ? k / 8 * 8 : 0; /* 2x2 windows of whole vectors: no masks, no loop control */
    const float *top = workspace, *bottom = workspace + conv_w * k;
    for (size_t pc = 0; pc < pw; pc++) {
      for (size_t ch = 0; ch < whole; ch += 8) {
        const size_t at = 2 * pc * k + ch;
        const __m256 m = max_rule(max_rule(_mm256_loadu_ps(top + at), _mm256_loadu_ps(top + at + k)), _mm256_loadu_ps(bottom + at));
        _mm256_storeu_ps(yrow + pc * k + ch, max_rule(m, _mm256_loadu_ps(bottom + at + k)));
      }
      for (size_t ch = whole; ch < k; ch += 8) {
        const size_t live = k - ch < 8 ? k - ch : 8;
        const __m256i mask = tsr_avx2_tail_mask(live);
        __m256 m = _mm256_setzero_ps();
        for (size_t i = 0; i < pool; i++) {
          for (size_t j = 0; j < pool; j++) {
            const float *src = workspace + (i * conv_w + pc * pool + j) * k + ch;
            const __m256 v = live == 8 ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, mask);
            m = i == 0 && j == 0 ? v : max_rule(m, v);
          }
        }
        if (live == 8) _mm256_storeu_ps(yrow + pc * k + ch, m);
        else _mm256_maskstore_ps(yrow + pc * k + ch, mask, m);
      }
    }
  }
}

/*
 * f32_conv2d_direct_6x16__avx2: direct 2-D convolution for short patches (r*s*c small: a first layer on 1 to
 * 3 input channels), NHWC, one group.
 *
 * With a 9-element patch (3x3 on one channel) the GEMM formulations spend their time gathering and packing
 * patches and entering a microkernel whose k loop has 9 steps (the Fashion-MNIST first layer ran at ~19
 * GFLOP/s on them). Here each output pixel's channels accumulate in registers across the whole patch: per
 * patch element, one broadcast of the input value and one FMA per 8 output channels with that element's
 * weights, which come transposed to (r, s, c, k_pad) so they are adjacent and stay in L1. Tile: 6 pixels x 16
 * channels = 12 accumulators, 2 weight vectors and one broadcast register (12 FMAs per 8 loads). Channels
 * past the last multiple of 16 run in a tile of 8 (6 accumulators), a last partial vector through masks;
 * taps in the padding read zero.
 *
 * The input rows a band of output rows reads (up to BAND_ROWS of them) are first copied into a zero-padded
 * band, once per band, so every tile reads in bounds without tests.
 *
 * Such a layer writes far more than it computes (32 floats per 9-float patch), so the max pooling after it is
 * fused. With 2x2 pooling a tile is one pooled pixel's window (2 rows x 2 pixels) x 16 channels, pooled in
 * registers; only the pooled output is stored. Other pool sizes compute `pool` output rows into a workspace
 * that stays in L1 and write only their pooled row. Either way the full-size activation never reaches memory.
 * Fashion-MNIST's first layer (28x28, 32 filters, 2x2 pooling), 128 images on one thread, old and new kernel
 * alternated in one process: 1.4-1.8x faster across five runs, bit for bit the same output.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

#define PW 6         /* pixels per tile */
#define BAND_ROWS 32 /* output rows per copied band of input rows */

static inline size_t padded_width(size_t w, size_t s, size_t stride_w, size_t pad_left, size_t dil_w, size_t out_w);

/* Input rows a band of `rows` output rows reads. */
static inline size_t band_input_rows(size_t rows, size_t r, size_t stride_h, size_t dil_h) {
  return (rows - 1) * stride_h + (r - 1) * dil_h + 1;
}

/* The helpers are global __avx2 functions, not static ones: the shipped library keeps only global symbols,
 * and toolchain/check-isa.sh credits a static function's AVX code to the global function before it, which
 * for this file (linked right after the baseline cpu-features.o) is a baseline one. Inlining them instead
 * spilled the tile's accumulators (~20% slower). Internal: not in tessera_cpu.h. */
size_t tsr_f32_conv2d_direct_workspace_bytes__avx2(size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                                   size_t stride_w, size_t pad_left, size_t dil_h, size_t dil_w,
                                                   size_t out_w, size_t k, size_t pool) {
  const size_t pooled = pool > 2 ? pool * out_w * k : 0; /* unpooled rows: 2x2 pools in registers */
  const size_t band = band_input_rows(BAND_ROWS, r, stride_h, dil_h) * padded_width(w, s, stride_w, pad_left, dil_w, out_w) * c;
  return (pooled + band) * sizeof(float) + 64;
}


typedef struct {
  size_t h, w, c, r, s, stride_w, pad_left, dil_h, dil_w, k, k_pad, patch, wpad;
  int32_t off[32]; /* patch element e of a pixel sits off[e] floats from its window's first element in `band` */
  float *band;     /* the input rows a band of output rows reads, zero-padded to wpad pixels (see below) */
} geometry;

/* Padded row width: room for every tile's 6 pixels (a short last tile computes its unused pixels too) and for
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

/* acc (6 pixels x 16 channels, as 12 vectors: pixel-major) = sum over the patch of x[p][e] * wt[e][0..16),
 * x[p][e] = xs[p * xstep + off[e]]. Named accumulators so the 12 stay in registers, with the two weight vectors
 * and one broadcast: 8 loads per 12 FMAs. (The 3x32 tile it replaced needed 19 registers, so gcc took each
 * weight vector from memory three times: 15 loads per 12 FMAs, ~13 cycles a step; this tile takes ~7.5.) With dst, the
 * tile finishes in registers: + bias (may be NULL), ReLU, stored at dst, rows ldd apart. */
__attribute__((noinline)) void tsr_f32_conv2d_direct_tile6x16__avx2(size_t patch, const float *xs, size_t xstep,
                                                                    const int32_t *off, const float *wt, size_t kp,
                                                                    __m256 *acc, float *dst, size_t ldd,
                                                                    const float *bias, int relu) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
  __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
  const float *x3 = xs + 3 * xstep;
  for (size_t e = 0; e < patch; e++, wt += kp) {
    const __m256 w0 = _mm256_loadu_ps(wt), w1 = _mm256_loadu_ps(wt + 8);
    const float *p = xs + off[e], *q = x3 + off[e];
    __m256 v = _mm256_broadcast_ss(p);
    a00 = _mm256_fmadd_ps(v, w0, a00), a01 = _mm256_fmadd_ps(v, w1, a01);
    v = _mm256_broadcast_ss(p + xstep);
    a10 = _mm256_fmadd_ps(v, w0, a10), a11 = _mm256_fmadd_ps(v, w1, a11);
    v = _mm256_broadcast_ss(p + 2 * xstep);
    a20 = _mm256_fmadd_ps(v, w0, a20), a21 = _mm256_fmadd_ps(v, w1, a21);
    v = _mm256_broadcast_ss(q);
    a30 = _mm256_fmadd_ps(v, w0, a30), a31 = _mm256_fmadd_ps(v, w1, a31);
    v = _mm256_broadcast_ss(q + xstep);
    a40 = _mm256_fmadd_ps(v, w0, a40), a41 = _mm256_fmadd_ps(v, w1, a41);
    v = _mm256_broadcast_ss(q + 2 * xstep);
    a50 = _mm256_fmadd_ps(v, w0, a50), a51 = _mm256_fmadd_ps(v, w1, a51);
  }
  if (dst) {
    finish(dst, a00, bias, 0, relu), finish(dst + 8, a01, bias, 8, relu);
    finish(dst + ldd, a10, bias, 0, relu), finish(dst + ldd + 8, a11, bias, 8, relu);
    finish(dst + 2 * ldd, a20, bias, 0, relu), finish(dst + 2 * ldd + 8, a21, bias, 8, relu);
    finish(dst + 3 * ldd, a30, bias, 0, relu), finish(dst + 3 * ldd + 8, a31, bias, 8, relu);
    finish(dst + 4 * ldd, a40, bias, 0, relu), finish(dst + 4 * ldd + 8, a41, bias, 8, relu);
    finish(dst + 5 * ldd, a50, bias, 0, relu), finish(dst + 5 * ldd + 8, a51, bias, 8, relu);
    return;
  }
  acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11, acc[4] = a20, acc[5] = a21;
  acc[6] = a30, acc[7] = a31, acc[8] = a40, acc[9] = a41, acc[10] = a50, acc[11] = a51;
}

/* The same for 8 channels (acc: 6 vectors, one per pixel): six FMA chains, three quarters of what keeps both
 * FMA pipes busy, for the last 8 channels of a layer whose k is not a multiple of 16. */
__attribute__((noinline)) void tsr_f32_conv2d_direct_tile6x8__avx2(size_t patch, const float *xs, size_t xstep,
                                                                   const int32_t *off, const float *wt, size_t kp,
                                                                   __m256 *acc, float *dst, size_t ldd,
                                                                   const float *bias, int relu) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  const float *x3 = xs + 3 * xstep;
  for (size_t e = 0; e < patch; e++, wt += kp) {
    const __m256 w0 = _mm256_loadu_ps(wt);
    const float *p = xs + off[e], *q = x3 + off[e];
    a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p), w0, a0);
    a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + xstep), w0, a1);
    a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + 2 * xstep), w0, a2);
    a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(q), w0, a3);
    a4 = _mm256_fmadd_ps(_mm256_broadcast_ss(q + xstep), w0, a4);
    a5 = _mm256_fmadd_ps(_mm256_broadcast_ss(q + 2 * xstep), w0, a5);
  }
  if (dst) {
    finish(dst, a0, bias, 0, relu), finish(dst + ldd, a1, bias, 0, relu), finish(dst + 2 * ldd, a2, bias, 0, relu);
    finish(dst + 3 * ldd, a3, bias, 0, relu), finish(dst + 4 * ldd, a4, bias, 0, relu), finish(dst + 5 * ldd, a5, bias, 0, relu);
    return;
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3, acc[4] = a4, acc[5] = a5;
}

/* Input rows [ih0, ih0 + rows) of example n into g->band, row i at i * wpad * c, with the padding as zeros (rows
 * above or below the image all zeros): ~(w + pad) c floats per input row, copied once per band instead of once
 * per output row that reads it. */
static void copy_band(const geometry *g, const float *x, size_t n, ptrdiff_t ih0, size_t rows) {
  const float *img = x + n * g->h * g->w * g->c;
  const size_t c = g->c, row_floats = g->wpad * c, left = g->pad_left * c, body = g->w * c;
  for (size_t i = 0; i < rows; i++) {
    float *dst = g->band + i * row_floats;
    const ptrdiff_t ih = ih0 + (ptrdiff_t)i;
    if (ih < 0 || ih >= (ptrdiff_t)g->h) {
      memset(dst, 0, row_floats * sizeof(float));
      continue;
    }
    memset(dst, 0, left * sizeof(float));
    memcpy(dst + left, img + (size_t)ih * body, body * sizeof(float));
    memset(dst + left + body, 0, (row_floats - left - body) * sizeof(float));
  }
}

/* One output row (out_w pixels, k channels) into yrow; `top` is the band row its windows start on. */
void tsr_f32_conv2d_direct_row__avx2(const geometry *g, const float *top, size_t out_w, const float *wt,
                                     const float *bias, int relu, float *yrow) {
  const size_t xstep = g->stride_w * g->c;
  __m256 acc[12];
  for (size_t ow = 0; ow < out_w; ow += PW) {
    const size_t np = out_w - ow < PW ? out_w - ow : PW;
    const float *xs = top + ow * xstep;
    for (size_t kb = 0; kb < g->k_pad;) {
      const size_t nv = g->k_pad - kb >= 16 ? 2 : 1; /* 8-channel vectors in this tile */
      /* a whole tile (6 pixels, every channel live) finishes in registers; the others go through acc */
      float *whole = np == PW && kb + 8 * nv <= g->k ? yrow + ow * g->k + kb : NULL;
      const float *b = bias ? bias + kb : NULL;
      if (nv == 2) tsr_f32_conv2d_direct_tile6x16__avx2(g->patch, xs, xstep, g->off, wt + kb, g->k_pad, acc, whole, g->k, b, relu);
      else tsr_f32_conv2d_direct_tile6x8__avx2(g->patch, xs, xstep, g->off, wt + kb, g->k_pad, acc, whole, g->k, b, relu);
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

/* max_rule(max_rule(max_rule(a, b), c), d), the order the pooling kernels take a 2x2 window in. Without NaNs
 * max_rule(m, v) is vmaxps(v, m) (v where v > m, else m: the first of equal maxima, -0.0 and 0.0 included), one
 * instruction for its five; a window holding a NaN takes the rule. */
static inline __attribute__((always_inline)) __m256 max4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 nan = _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q), _mm256_cmp_ps(c, d, _CMP_UNORD_Q));
  if (__builtin_expect(_mm256_movemask_ps(nan) != 0, 0)) return max_rule(max_rule(max_rule(a, b), c), d);
  return _mm256_max_ps(d, _mm256_max_ps(c, _mm256_max_ps(b, a)));
}

/* + bias (b: 0 without one), ReLU: finish() without the store. */
static inline __attribute__((always_inline)) __m256 act(__m256 a, __m256 b, int relu) {
  a = _mm256_add_ps(a, b);
  return relu ? _mm256_max_ps(_mm256_setzero_ps(), a) : a;
}

/*
 * A pooled row of 2x2 max pooling, 16 channels: for each of pw pooled pixels, the 2x2 window's four conv pixels
 * (top and bottom rows, 2 pc and 2 pc + 1) x 16 channels accumulate in 8 registers over the patch (6 loads per 8
 * FMAs), then bias, ReLU and the pooling in registers, and one 64-byte store at y + pc * ldy. The pooled tile
 * replaced conv rows stored to a workspace and pooled from there: those stores swept all of a 4 KiB page, and
 * the next tile's weight and input loads waited on the ones that matched them in the low 12 address bits (a
 * 6x16 tile took ~150 cycles instead of ~80, measured in isolation).
 */
void tsr_f32_conv2d_direct_pool2x16__avx2(size_t patch, const float *top, const float *bottom, size_t xstep,
                                          const int32_t *off, const float *wt, size_t kp, const float *bias, int relu,
                                          size_t pw, float *y, size_t ldy) {
  const __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps(), b1 = bias ? _mm256_loadu_ps(bias + 8) : b0;
  for (size_t pc = 0; pc < pw; pc++, top += 2 * xstep, bottom += 2 * xstep, y += ldy) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    const float *w = wt;
    for (size_t e = 0; e < patch; e++, w += kp) {
      __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
      __asm__("" : "+x"(w0), "+x"(w1)); /* in registers: gcc would fold each into four FMAs, 12 loads a step, not 6 */
      const float *p = top + off[e], *q = bottom + off[e];
      __m256 v = _mm256_broadcast_ss(p);
      a00 = _mm256_fmadd_ps(v, w0, a00), a01 = _mm256_fmadd_ps(v, w1, a01);
      v = _mm256_broadcast_ss(p + xstep);
      a10 = _mm256_fmadd_ps(v, w0, a10), a11 = _mm256_fmadd_ps(v, w1, a11);
      v = _mm256_broadcast_ss(q);
      a20 = _mm256_fmadd_ps(v, w0, a20), a21 = _mm256_fmadd_ps(v, w1, a21);
      v = _mm256_broadcast_ss(q + xstep);
      a30 = _mm256_fmadd_ps(v, w0, a30), a31 = _mm256_fmadd_ps(v, w1, a31);
    }
    _mm256_storeu_ps(y, max4(act(a00, b0, relu), act(a10, b0, relu), act(a20, b0, relu), act(a30, b0, relu)));
    _mm256_storeu_ps(y + 8, max4(act(a01, b1, relu), act(a11, b1, relu), act(a21, b1, relu), act(a31, b1, relu)));
  }
}

/* The same for `live` <= 8 channels (4 accumulators; the weights past k are zero, the store is masked). */
void tsr_f32_conv2d_direct_pool2x8__avx2(size_t patch, const float *top, const float *bottom, size_t xstep,
                                         const int32_t *off, const float *wt, size_t kp, const float *bias, int relu,
                                         size_t pw, float *y, size_t ldy, size_t live) {
  const __m256i mask = tsr_avx2_tail_mask(live);
  const __m256 b0 = bias ? _mm256_maskload_ps(bias, mask) : _mm256_setzero_ps();
  for (size_t pc = 0; pc < pw; pc++, top += 2 * xstep, bottom += 2 * xstep, y += ldy) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const float *w = wt;
    for (size_t e = 0; e < patch; e++, w += kp) {
      __m256 w0 = _mm256_loadu_ps(w);
      __asm__("" : "+x"(w0));
      const float *p = top + off[e], *q = bottom + off[e];
      a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p), w0, a0);
      a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + xstep), w0, a1);
      a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(q), w0, a2);
      a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(q + xstep), w0, a3);
    }
    const __m256 m = max4(act(a0, b0, relu), act(a1, b0, relu), act(a2, b0, relu), act(a3, b0, relu));
    if (live == 8) _mm256_storeu_ps(y, m);
    else _mm256_maskstore_ps(y, mask, m);
  }
}

void tsr_f32_conv2d_direct_6x16__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                      size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                      size_t out_h, size_t out_w, size_t k, size_t pool, size_t row0, size_t row1,
                                      const float *x, const float *wt, const float *bias, int relu, float *y,
                                      float *workspace) {
  const size_t wpad = padded_width(w, s, stride_w, pad_left, dil_w, out_w);
  const size_t pooled = pool > 2 ? pool * out_w * k : 0; /* unpooled rows: 2x2 pools in registers */
  geometry g = {h, w, c, r, s, stride_w, pad_left, dil_h, dil_w, k, (k + 7) / 8 * 8, r * s * c, wpad, {0},
                workspace + pooled};
  for (size_t i = 0, e = 0; i < r; i++) /* band row i holds input row ih0 + i dil_h */
    for (size_t t = 0; t < s; t++)
      for (size_t ch = 0; ch < c; ch++, e++) g.off[e] = (int32_t)((i * dil_h * wpad + t * dil_w) * c + ch);
  const size_t band_row = wpad * c, step = stride_h * band_row;
  if (pool <= 1) {
    for (size_t row = row0; row < row1;) { /* a band: rows of one example, at most BAND_ROWS */
      const size_t n = row / out_h, oh = row % out_h;
      size_t rows = row1 - row < out_h - oh ? row1 - row : out_h - oh;
      if (rows > BAND_ROWS) rows = BAND_ROWS;
      copy_band(&g, x, n, (ptrdiff_t)(oh * stride_h) - (ptrdiff_t)pad_top, band_input_rows(rows, r, stride_h, dil_h));
      for (size_t j = 0; j < rows; j++)
        tsr_f32_conv2d_direct_row__avx2(&g, g.band + j * step, out_w, wt, bias, relu, y + (row + j) * out_w * k);
      row += rows;
    }
    return;
  }
  const size_t ph = out_h / pool, pw = out_w / pool, conv_w = pw * pool; /* floor: trailing pixels unused */
  const size_t band_pooled = BAND_ROWS / pool > 0 ? BAND_ROWS / pool : 1;
  for (size_t row = row0; row < row1;) {
    const size_t n = row / ph, prow = row % ph;
    size_t rows = row1 - row < ph - prow ? row1 - row : ph - prow;
    if (rows > band_pooled) rows = band_pooled;
    copy_band(&g, x, n, (ptrdiff_t)(prow * pool * stride_h) - (ptrdiff_t)pad_top,
              band_input_rows(rows * pool, r, stride_h, dil_h));
    for (size_t j = 0; j < rows; j++) {
      float *yrow = y + (row + j) * pw * k;
      if (pool == 2) { /* pooled in registers */
        const float *top = g.band + 2 * j * step, *bottom = top + step;
        const size_t xstep = stride_w * c;
        for (size_t kb = 0; kb < k;) {
          const float *b = bias ? bias + kb : NULL;
          if (k - kb >= 16) {
            tsr_f32_conv2d_direct_pool2x16__avx2(g.patch, top, bottom, xstep, g.off, wt + kb, g.k_pad, b, relu, pw, yrow + kb, k);
            kb += 16;
          } else {
            const size_t live = k - kb < 8 ? k - kb : 8;
            tsr_f32_conv2d_direct_pool2x8__avx2(g.patch, top, bottom, xstep, g.off, wt + kb, g.k_pad, b, relu, pw, yrow + kb, k, live);
            kb += live;
          }
        }
        continue;
      }
      for (size_t q = 0; q < pool; q++)
        tsr_f32_conv2d_direct_row__avx2(&g, g.band + (j * pool + q) * step, conv_w, wt, bias, relu, workspace + q * conv_w * k);
      for (size_t pc = 0; pc < pw; pc++) {
        for (size_t ch = 0; ch < k; ch += 8) {
          const size_t live = k - ch < 8 ? k - ch : 8;
          const __m256i mask = tsr_avx2_tail_mask(live);
          __m256 m = _mm256_setzero_ps();
          for (size_t i = 0; i < pool; i++) {
            for (size_t jj = 0; jj < pool; jj++) {
              const float *src = workspace + (i * conv_w + pc * pool + jj) * k + ch;
              const __m256 v = live == 8 ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, mask);
              m = i == 0 && jj == 0 ? v : max_rule(m, v);
            }
          }
          if (live == 8) _mm256_storeu_ps(yrow + pc * k + ch, m);
          else _mm256_maskstore_ps(yrow + pc * k + ch, mask, m);
        }
      }
    }
    row += rows;
  }
}

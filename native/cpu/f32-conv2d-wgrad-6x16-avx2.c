/*
 * f32_conv2d_wgrad_6x16__avx2: the weight gradient of a convolution (NHWC, one group) without an im2col matrix.
 *
 * dw[f][i][t][ch] = sum over output pixels p of dy[p][f] * x[the input pixel p reads under tap (i, t)][ch].
 * The im2col route wrote every pixel's whole patch (r*s*c floats) to memory and packed it again for the GEMM:
 * for the Fashion-MNIST model's second conv at 64 images, 14 MB per call, bound by memory bandwidth, which two
 * data-parallel replicas share. Here each tap's input runs are read where they are.
 *
 * Tile: 6 filters x 16 channels of one tap, 12 ymm accumulators. Per pixel, six filters' dy values are broadcast
 * (adjacent in NHWC) and the pixel's 16-channel input run is loaded once: 8 loads per 12 FMAs, as in the 6x16
 * GEMM tile. A tap only visits the pixels whose input lies inside, so padding costs nothing. Blocks of output rows
 * (about 96 pixels: their dy and input runs stay in L1) run every tap, channel block and filter block before
 * the next block; each tile adds its sums into dw once per block.
 */
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

#define FR 6           /* filters per tile */
#define CB 16          /* channels per tile */
#define BLOCK_PIXELS 96 /* output pixels per block, in whole output rows */

typedef struct {
  size_t h, w, c, k, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w;
  const float *x, *dy;
} geometry;

/*
 * dw[f + q][ch .. ch + cc) += sum over the block's rows [row0, row1) and its tap-(i, t) columns [ow0, ow1) of
 * dy[pixel][f + q] * x[input pixel][ch ..]; rows (filters, a constant at each call) and masked: constants.
 * dwt: dw + (i * s + t) * c + ch, row stride cols.
 */
static inline __attribute__((always_inline)) void tile(size_t rows, int masked, __m256i m0, __m256i m1,
                                                       const geometry *g, size_t row0, size_t row1, size_t i,
                                                       size_t ow0, size_t ow1, ptrdiff_t x_col, size_t ch, size_t f,
                                                       float *dwt, size_t cols) {
  __m256 acc[FR][2]; /* every loop over q fully unrolled, or gcc keeps acc in memory */
#pragma GCC unroll 6
  for (size_t q = 0; q < rows; q++) acc[q][0] = acc[q][1] = _mm256_setzero_ps();
  const ptrdiff_t x_step = (ptrdiff_t)(g->stride_w * g->c);
  for (size_t row = row0; row < row1; row++) {
    const size_t n = row / g->out_h, oh = row % g->out_h;
    const ptrdiff_t ih = (ptrdiff_t)(oh * g->stride_h + i * g->dil_h) - (ptrdiff_t)g->pad_top;
    if (ih < 0 || ih >= (ptrdiff_t)g->h) continue;
    const float *xp = g->x + ((ptrdiff_t)((n * g->h + (size_t)ih) * g->w) + x_col) * (ptrdiff_t)g->c + (ptrdiff_t)ch;
    const float *dp = g->dy + (row * g->out_w + ow0) * g->k + f;
    for (size_t ow = ow0; ow < ow1; ow++, xp += x_step, dp += g->k) {
      const __m256 x0 = masked ? _mm256_maskload_ps(xp, m0) : _mm256_loadu_ps(xp);
      const __m256 x1 = masked ? _mm256_maskload_ps(xp + 8, m1) : _mm256_loadu_ps(xp + 8);
#pragma GCC unroll 6
      for (size_t q = 0; q < rows; q++) {
        const __m256 a = _mm256_broadcast_ss(dp + q);
        acc[q][0] = _mm256_fmadd_ps(a, x0, acc[q][0]);
        acc[q][1] = _mm256_fmadd_ps(a, x1, acc[q][1]);
      }
    }
  }
#pragma GCC unroll 6
  for (size_t q = 0; q < rows; q++) {
    float *d = dwt + (f + q) * cols;
    if (masked) {
      _mm256_maskstore_ps(d, m0, _mm256_add_ps(_mm256_maskload_ps(d, m0), acc[q][0]));
      _mm256_maskstore_ps(d + 8, m1, _mm256_add_ps(_mm256_maskload_ps(d + 8, m1), acc[q][1]));
    } else {
      _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), acc[q][0]));
      _mm256_storeu_ps(d + 8, _mm256_add_ps(_mm256_loadu_ps(d + 8), acc[q][1]));
    }
  }
}

/* A tile of `rows` filters (1 to 6), full or masked channels. */
static void tile_any__avx2(size_t rows, size_t cc, const geometry *g, size_t row0, size_t row1, size_t i, size_t ow0,
                           size_t ow1, ptrdiff_t x_col, size_t ch, size_t f, float *dwt, size_t cols) {
  const __m256i m0 = tsr_avx2_tail_mask(cc < 8 ? cc : 8), m1 = tsr_avx2_tail_mask(cc > 8 ? cc - 8 : 0);
  const int masked = cc < CB;
#define T(R)                                                                                                        \
  if (masked) tile(R, 1, m0, m1, g, row0, row1, i, ow0, ow1, x_col, ch, f, dwt, cols);                               \
  else tile(R, 0, m0, m1, g, row0, row1, i, ow0, ow1, x_col, ch, f, dwt, cols);                                      \
  return;
  switch (rows) {
    case 6: T(6)
    case 5: T(5)
    case 4: T(4)
    case 3: T(3)
    case 2: T(2)
    default: T(1)
  }
#undef T
}

void tsr_f32_conv2d_wgrad_6x16__avx2(size_t n, size_t h, size_t w, size_t c, size_t k, size_t r, size_t s,
                                     size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h,
                                     size_t dil_w, size_t out_h, size_t out_w, size_t f0, size_t f1, const float *x,
                                     const float *dy, float *dw) {
  const geometry g = {h, w, c, k, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, x, dy};
  const size_t cols = r * s * c, rows = n * out_h;
  if (f1 > f0) memset(dw + f0 * cols, 0, (f1 - f0) * cols * sizeof(float));
  size_t block = BLOCK_PIXELS / out_w;
  if (block == 0) block = 1;
  for (size_t row0 = 0; row0 < rows; row0 += block) {
    const size_t row1 = rows - row0 < block ? rows : row0 + block;
    for (size_t i = 0; i < r; i++) {
      for (size_t t = 0; t < s; t++) {
        /* Columns ow with 0 <= ow * stride_w - pad_left + t * dil_w < w. */
        const ptrdiff_t off = (ptrdiff_t)(t * dil_w) - (ptrdiff_t)pad_left;
        const size_t ow0 = off >= 0 ? 0 : (size_t)((-off + (ptrdiff_t)stride_w - 1) / (ptrdiff_t)stride_w);
        const ptrdiff_t last = (ptrdiff_t)w - 1 - off;
        size_t ow1 = last < 0 ? 0 : (size_t)last / stride_w + 1;
        if (ow1 > out_w) ow1 = out_w;
        if (ow0 >= ow1) continue;
        const ptrdiff_t x_col = (ptrdiff_t)(ow0 * stride_w) + off;
        float *dwt = dw + (i * s + t) * c;
        for (size_t ch = 0; ch < c; ch += CB) {
          const size_t cc = c - ch < CB ? c - ch : CB;
          for (size_t f = f0; f < f1; f += FR)
            tile_any__avx2(f1 - f < FR ? f1 - f : FR, cc, &g, row0, row1, i, ow0, ow1, x_col, ch, f, dwt + ch, cols);
        }
      }
    }
  }
}

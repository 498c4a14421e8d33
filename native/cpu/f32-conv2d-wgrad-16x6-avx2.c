/*
 * f32_conv2d_wgrad_16x6__avx2: the weight gradient of a convolution with few input channels (c < 8, NHWC, one
 * group), such as a network's first layer on grayscale or RGB images.
 *
 * dw[f][col] = sum over output pixels p of dy[p][f] * x[p's window origin + off(col)], col = (i, t, ch) one of the
 * r*s*c weights of a filter. The 6x16 kernel vectorizes over channels, which c < 8 would leave mostly masked, and
 * im2col + GEMM (its route before) wrote every pixel's r*s*c patch to memory: at 64 Fashion-MNIST images, 4.7 ms
 * per call for 25 MFLOP. Here the vector runs over 16 filters (dy is NHWC, filters adjacent) and each of 6
 * columns broadcasts its input value: 2 dy loads + 6 broadcasts per 12 FMAs, as in the 6x16 GEMM tile.
 *
 * Whole-window pixels read every column at a constant offset from the window's origin; the few pixels near a
 * padded edge test each column and take 0 for taps outside. Sums build in a transposed copy of the 16-filter
 * block (cols x 16 floats, at most MAX_COLS columns, on the stack) block of pixels by block of pixels, so a block's
 * dy stays in L1 across column groups; the block is transposed into dw at the end.
 */
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"
#include "tessera_taps.h"

#define FB 16           /* filters per tile: two ymm */
#define JB 6            /* dw columns per tile */
#define BLOCK_PIXELS 96 /* output pixels per block, in whole output rows */

typedef struct {
  size_t h, w, c, k, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w;
  const float *x, *dy;
  output_range whole_h, whole_w;
  const ptrdiff_t *off;       /* column -> offset from the window origin, in floats */
  const size_t *tap_i, *tap_t; /* column -> filter row and column */
} geometry;

/*
 * acc[j] (16 filters of column col + j, j < cols) += the sums over output rows [row0, row1); dy loads masked to
 * the first nf filters when masked. cols is a constant at each call (every loop over it unrolled).
 */
static inline __attribute__((always_inline)) void tile(size_t cols, int masked, __m256i m0, __m256i m1, const geometry *g,
                                                       size_t row0, size_t row1, size_t col, const float *dy, float *acc) {
  __m256 a[JB][2];
  ptrdiff_t o[JB];
#pragma GCC unroll 6
  for (size_t j = 0; j < cols; j++) {
    a[j][0] = _mm256_load_ps(acc + (col + j) * FB);
    a[j][1] = _mm256_load_ps(acc + (col + j) * FB + 8);
    o[j] = g->off[col + j];
  }
  const ptrdiff_t x_step = (ptrdiff_t)(g->stride_w * g->c);
  for (size_t row = row0; row < row1; row++) {
    const size_t n = row / g->out_h, oh = row % g->out_h;
    const ptrdiff_t ih0 = (ptrdiff_t)(oh * g->stride_h) - (ptrdiff_t)g->pad_top;
    const int whole_row = oh >= g->whole_h.lo && oh < g->whole_h.hi;
    const size_t lo = whole_row ? g->whole_w.lo : g->out_w, hi = whole_row ? g->whole_w.hi : g->out_w;
    const float *image = g->x + n * g->h * g->w * g->c, *dp = dy + row * g->out_w * g->k;
    /* Pixels with a window partly outside, [0, lo) and [hi, out_w): test each column's tap. */
    for (size_t ow = 0; ow < g->out_w; ow++) {
      if (ow == lo) ow = hi;
      if (ow >= g->out_w) break;
      const ptrdiff_t iw0 = (ptrdiff_t)(ow * g->stride_w) - (ptrdiff_t)g->pad_left;
      const float *d = dp + ow * g->k;
      const __m256 d0 = masked ? _mm256_maskload_ps(d, m0) : _mm256_loadu_ps(d);
      const __m256 d1 = masked ? _mm256_maskload_ps(d + 8, m1) : _mm256_loadu_ps(d + 8);
#pragma GCC unroll 6
      for (size_t j = 0; j < cols; j++) {
        const ptrdiff_t ih = ih0 + (ptrdiff_t)(g->tap_i[col + j] * g->dil_h), iw = iw0 + (ptrdiff_t)(g->tap_t[col + j] * g->dil_w);
        const float v = ih >= 0 && ih < (ptrdiff_t)g->h && iw >= 0 && iw < (ptrdiff_t)g->w
                            ? image[(ih0 * (ptrdiff_t)g->w + iw0) * (ptrdiff_t)g->c + o[j]]
                            : 0.0f;
        const __m256 b = _mm256_set1_ps(v);
        a[j][0] = _mm256_fmadd_ps(d0, b, a[j][0]);
        a[j][1] = _mm256_fmadd_ps(d1, b, a[j][1]);
      }
    }
    /* Whole-window pixels: every column at its constant offset. */
    const float *xp = image + (ih0 * (ptrdiff_t)g->w + (ptrdiff_t)(lo * g->stride_w) - (ptrdiff_t)g->pad_left) * (ptrdiff_t)g->c;
    const float *d = dp + lo * g->k;
    for (size_t ow = lo; ow < hi; ow++, xp += x_step, d += g->k) {
      const __m256 d0 = masked ? _mm256_maskload_ps(d, m0) : _mm256_loadu_ps(d);
      const __m256 d1 = masked ? _mm256_maskload_ps(d + 8, m1) : _mm256_loadu_ps(d + 8);
#pragma GCC unroll 6
      for (size_t j = 0; j < cols; j++) {
        const __m256 b = _mm256_broadcast_ss(xp + o[j]);
        a[j][0] = _mm256_fmadd_ps(d0, b, a[j][0]);
        a[j][1] = _mm256_fmadd_ps(d1, b, a[j][1]);
      }
    }
  }
#pragma GCC unroll 6
  for (size_t j = 0; j < cols; j++) {
    _mm256_store_ps(acc + (col + j) * FB, a[j][0]);
    _mm256_store_ps(acc + (col + j) * FB + 8, a[j][1]);
  }
}

/* A tile of `cols` columns (1 to 6), dy loads full or masked. */
static void tile_any__avx2(size_t cols, int masked, __m256i m0, __m256i m1, const geometry *g, size_t row0, size_t row1,
                           size_t col, const float *dy, float *acc) {
#define T(J)                                                                                                        \
  if (masked) tile(J, 1, m0, m1, g, row0, row1, col, dy, acc);                                                      \
  else tile(J, 0, m0, m1, g, row0, row1, col, dy, acc);                                                             \
  return;
  switch (cols) {
    case 6: T(6)
    case 5: T(5)
    case 4: T(4)
    case 3: T(3)
    case 2: T(2)
    default: T(1)
  }
#undef T
}

void tsr_f32_conv2d_wgrad_16x6__avx2(size_t n, size_t h, size_t w, size_t c, size_t k, size_t r, size_t s,
                                     size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h,
                                     size_t dil_w, size_t out_h, size_t out_w, size_t f0, size_t f1, const float *x,
                                     const float *dy, float *dw) {
  const size_t cols = r * s * c, rows = n * out_h;
  if (cols > TSR_WGRAD_16X6_MAX_COLS) return; /* the caller checks; never write past the stack block */
  ptrdiff_t off[TSR_WGRAD_16X6_MAX_COLS];
  size_t tap_i[TSR_WGRAD_16X6_MAX_COLS], tap_t[TSR_WGRAD_16X6_MAX_COLS];
  for (size_t col = 0; col < cols; col++) {
    tap_i[col] = col / (s * c);
    tap_t[col] = col / c % s;
    off[col] = (ptrdiff_t)((tap_i[col] * dil_h * w + tap_t[col] * dil_w) * c + col % c);
  }
  const geometry g = {h, w, c, k, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, x, dy,
                      whole_windows(h, r, stride_h, pad_top, dil_h, out_h), whole_windows(w, s, stride_w, pad_left, dil_w, out_w),
                      off, tap_i, tap_t};
  _Alignas(32) float acc[TSR_WGRAD_16X6_MAX_COLS * FB];
  size_t block = BLOCK_PIXELS / out_w;
  if (block == 0) block = 1;
  for (size_t f = f0; f < f1; f += FB) {
    const size_t nf = f1 - f < FB ? f1 - f : FB;
    const __m256i m0 = tsr_avx2_tail_mask(nf < 8 ? nf : 8), m1 = tsr_avx2_tail_mask(nf > 8 ? nf - 8 : 0);
    memset(acc, 0, cols * FB * sizeof(float));
    for (size_t row0 = 0; row0 < rows; row0 += block) {
      const size_t row1 = rows - row0 < block ? rows : row0 + block;
      for (size_t col = 0; col < cols; col += JB)
        tile_any__avx2(cols - col < JB ? cols - col : JB, nf < FB, m0, m1, &g, row0, row1, col, dy + f, acc);
    }
    for (size_t q = 0; q < nf; q++)
      for (size_t col = 0; col < cols; col++) dw[(f + q) * cols + col] = acc[col * FB + q];
  }
}

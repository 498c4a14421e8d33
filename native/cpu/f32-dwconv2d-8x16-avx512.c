/*
 * f32_dwconv2d_8x16__avx512: depthwise 2-D convolution (groups = c = k), NHWC, direct, on AVX-512 F. Same
 * arguments and results (to rounding: sums in another order) as f32-dwconv2d-avx2.c.
 *
 * Tile: 8 adjacent output pixels of a row x 16 channels, 8 zmm accumulators. Per tap, one weight vector is
 * loaded and feeds 8 FMAs whose pixel operand comes straight from memory, so the loop issues 9 loads per
 * 8 FMAs. The AVX2 kernel's per-pixel loop loads a weight per FMA (2 loads per FMA: load-bound at half the
 * FMA rate), and its register-resident 3x3 sweep runs along the row one channel vector at a time, which
 * thrashes L1 sets when c is a multiple of 128. Here each 8-pixel group takes every channel block before
 * the next group, so the inputs a group shares across taps are reused while still in L1, for every c.
 * Pixels whose window crosses the left or right edge run the same loop one at a time over their valid taps,
 * 64 channels (four FMA chains) at a time: with one chain per 16 channels they waited on FMA latency, and at
 * 28x28 the two edge pixels of each row took a fifth of the time (c=256: 40-46 -> 47-52 GFLOP/s, 1 thread).
 *
 * 3x3 filters at stride 1 and dilation 1 take output rows two at a time where both windows are whole vertically:
 * tiles of 2 rows x 8 pixels x 16 channels, 16 accumulators and the nine weight vectors in registers. Each input
 * vector of the four rows is loaded once and feeds up to six FMAs (two output rows x three taps): 0.34 loads per
 * FMA against 1.1 for the one-row tile, and each input row crosses from L2 twice per two output rows, not three
 * times per row. C harness, 1 thread, GFLOP/s one-row -> two-row: c=256 28x28 51 -> 74-76, c=144 56x56
 * (the sweep below) 66 -> 84-89, c=512 14x14 34 -> 47, c=64 28x28 55 -> 70.
 *
 * Other 3x3 rows whose windows are whole run the AVX2 kernel's sweep instead, in zmm, when c is not a multiple of 128:
 * nine weight vectors in registers along the row, one load per FMA. There it measured faster than the tiles
 * (dw 3x3 c=144 56x56, 1 / 2 threads: the AVX2 sweep 52 / 97-101 GFLOP/s, these tiles 44 / 63-77, this
 * sweep 57-60 / 98-111). At c=256 28x28 the tiles win: 46 / 75 against 35 / 47 for the AVX2 kernel.
 *
 * The weights come wt_stride floats per tap apart, not c: Java lays them out one line further apart when c is a
 * multiple of 128, where taps c apart would crowd the nine weight lines into the few L1 sets that the tile's input
 * and output lines (a pixel's channels 1 KiB apart at c=256) already fill.
 */
#include <immintrin.h>
#include <stddef.h>

#include "tessera_alias4k.h"
#include "tessera_cpu.h"
#include "tessera_taps.h"

#define PX 8  /* pixels per tile */
#define CV 16 /* channels per zmm */
#define NR 2  /* output rows per 3x3 stride-1 tile (3 rows of 4 or 6 pixels measured no faster) */

typedef struct {
  size_t c, s, w_tap;            /* w_tap: floats from one tap's weights to the next */
  ptrdiff_t x_tap, x_row, x_pix; /* elements to the next filter column, filter row, output pixel */
  const float *bias;
  int relu;
} row_args;

/*
 * Pixels [0, P) of a tile, 16 channels (m masks them), over filter rows [r0, r1) and columns [t0, t1) (the
 * same for all P pixels). x0: the element offset from x of the first pixel's window origin (filter row 0,
 * column 0), which may lie outside the input: only in-range taps are read. P, masked: constants at every call.
 */
static inline __attribute__((always_inline)) void tile(size_t P, int masked, __mmask16 m, const row_args *a,
                                                       const float *x, ptrdiff_t x0, size_t r0, size_t r1, size_t t0,
                                                       size_t t1, const float *wt, float *y) {
  __m512 acc[PX];
  for (size_t p = 0; p < P; p++) acc[p] = _mm512_setzero_ps();
#pragma GCC unroll 3
  for (size_t i = r0; i < r1; i++) {
#pragma GCC unroll 3
    for (size_t t = t0; t < t1; t++) {
      const float *wp = wt + (i * a->s + t) * a->w_tap;
      const float *xp = x + (x0 + (ptrdiff_t)i * a->x_row + (ptrdiff_t)t * a->x_tap);
      const __m512 wv = masked ? _mm512_maskz_loadu_ps(m, wp) : _mm512_loadu_ps(wp);
#pragma GCC unroll 8
      for (size_t p = 0; p < P; p++) {
        const float *q = xp + p * a->x_pix;
        acc[p] = _mm512_fmadd_ps(masked ? _mm512_maskz_loadu_ps(m, q) : _mm512_loadu_ps(q), wv, acc[p]);
      }
    }
  }
  const __m512 b = a->bias ? _mm512_maskz_loadu_ps(m, a->bias) : _mm512_setzero_ps();
  for (size_t p = 0; p < P; p++) {
    __m512 v = _mm512_add_ps(acc[p], b);
    if (a->relu) v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN stays NaN */
    _mm512_mask_storeu_ps(y + p * a->c, m, v);
  }
}

/* One pixel, 64 channels: four chains, as one chain of dependent FMAs per 16 channels would wait on latency. */
static inline __attribute__((always_inline)) void pixel_64(const row_args *a, const float *x, ptrdiff_t x0, size_t r0,
                                                           size_t r1, size_t t0, size_t t1, const float *wt, float *y) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (size_t i = r0; i < r1; i++) {
    for (size_t t = t0; t < t1; t++) {
      const float *wp = wt + (i * a->s + t) * a->w_tap, *xp = x + (x0 + (ptrdiff_t)i * a->x_row + (ptrdiff_t)t * a->x_tap);
#pragma GCC unroll 4
      for (size_t q = 0; q < 4; q++)
        acc[q] = _mm512_fmadd_ps(_mm512_loadu_ps(xp + q * CV), _mm512_loadu_ps(wp + q * CV), acc[q]);
    }
  }
  for (size_t q = 0; q < 4; q++) {
    __m512 v = _mm512_add_ps(acc[q], a->bias ? _mm512_loadu_ps(a->bias + q * CV) : _mm512_setzero_ps());
    if (a->relu) v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN stays NaN */
    _mm512_storeu_ps(y + q * CV, v);
  }
}

/* All channels of P pixels (P = 1 or PX) sharing filter columns [t0, t1). */
static inline __attribute__((always_inline)) void pixels(size_t P, const row_args *a, const float *x, ptrdiff_t x0,
                                                         size_t r0, size_t r1, size_t t0, size_t t1, const float *wt,
                                                         float *y) {
  row_args ac = *a;
  size_t ch = 0;
  if (P == 1) {
    for (; ch + 4 * CV <= a->c; ch += 4 * CV) {
      ac.bias = a->bias ? a->bias + ch : NULL;
      pixel_64(&ac, x, x0 + (ptrdiff_t)ch, r0, r1, t0, t1, wt + ch, y + ch);
    }
  }
  for (; ch + CV <= a->c; ch += CV) {
    ac.bias = a->bias ? a->bias + ch : NULL;
    tile(P, 0, (__mmask16)0xFFFF, &ac, x, x0 + (ptrdiff_t)ch, r0, r1, t0, t1, wt + ch, y + ch);
  }
  if (ch < a->c) {
    ac.bias = a->bias ? a->bias + ch : NULL;
    tile(P, 1, (__mmask16)((1u << (a->c - ch)) - 1), &ac, x, x0 + (ptrdiff_t)ch, r0, r1, t0, t1, wt + ch, y + ch);
  }
}

/* 16 channels (m masks them) of `count` pixels with whole 3x3 windows, along the row: the nine weight vectors
 * stay in registers, one load per FMA, three chains per pixel. x0: the first window's corner. */
static inline __attribute__((always_inline)) void sweep_3x3(int masked, __mmask16 m, size_t count, const row_args *a,
                                                            const float *x0, const float *wt, float *y) {
#define LD(p) (masked ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p))
  const size_t c = a->c, wc = a->w_tap;
  const __m512 w00 = LD(wt), w01 = LD(wt + wc), w02 = LD(wt + 2 * wc), w10 = LD(wt + 3 * wc), w11 = LD(wt + 4 * wc);
  const __m512 w12 = LD(wt + 5 * wc), w20 = LD(wt + 6 * wc), w21 = LD(wt + 7 * wc), w22 = LD(wt + 8 * wc);
  const __m512 b = a->bias ? _mm512_maskz_loadu_ps(m, a->bias) : _mm512_setzero_ps();
  for (size_t i = 0; i < count; i++) {
    const float *xa = x0 + (ptrdiff_t)i * a->x_pix, *xb = xa + a->x_row, *xc = xb + a->x_row;
    __m512 a0 = _mm512_fmadd_ps(LD(xa), w00, b), a1 = _mm512_mul_ps(LD(xb), w10), a2 = _mm512_mul_ps(LD(xc), w20);
    a0 = _mm512_fmadd_ps(LD(xa + a->x_tap), w01, a0);
    a1 = _mm512_fmadd_ps(LD(xb + a->x_tap), w11, a1);
    a2 = _mm512_fmadd_ps(LD(xc + a->x_tap), w21, a2);
    a0 = _mm512_fmadd_ps(LD(xa + 2 * a->x_tap), w02, a0);
    a1 = _mm512_fmadd_ps(LD(xb + 2 * a->x_tap), w12, a1);
    a2 = _mm512_fmadd_ps(LD(xc + 2 * a->x_tap), w22, a2);
    __m512 v = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
    if (a->relu) v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN stays NaN */
    _mm512_mask_storeu_ps(y + i * c, m, v);
  }
#undef LD
}

/* Every channel block of the sweep over `count` pixels. */
static __attribute__((noinline)) void sweep_row__avx512(size_t count, const row_args *a, const float *x0,
                                                        const float *wt, float *y) {
  row_args ac = *a;
  size_t ch = 0;
  for (; ch + CV <= a->c; ch += CV) {
    ac.bias = a->bias ? a->bias + ch : NULL;
    sweep_3x3(0, (__mmask16)0xFFFF, count, &ac, x0 + ch, wt + ch, y + ch);
  }
  if (ch < a->c) {
    ac.bias = a->bias ? a->bias + ch : NULL;
    sweep_3x3(1, (__mmask16)((1u << (a->c - ch)) - 1), count, &ac, x0 + ch, wt + ch, y + ch);
  }
}

/*
 * Two output rows x P pixels x 16 channels (m masks them) of a 3x3 filter at stride 1, dilation 1, whose windows
 * are whole: 2P accumulators and the nine weight vectors in registers. Each of the four input rows' P + 2 pixel
 * vectors is loaded once and feeds every (output row, tap) it meets, up to six FMAs per load. x0: the first
 * window's corner in the upper row; y_row: elements from the upper output row to the lower one.
 */
static inline __attribute__((always_inline)) void tile_rows_3x3(size_t P, int masked, __mmask16 m, size_t c,
                                                                size_t w_tap, ptrdiff_t x_row, ptrdiff_t y_row, const float *x0,
                                                                const float *wt, const float *bias, int relu,
                                                                float *y) {
#define LD(p) (masked ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p))
  __m512 wv[9], acc[NR][PX];
#pragma GCC unroll 9
  for (size_t k = 0; k < 9; k++) wv[k] = LD(wt + k * w_tap);
#pragma GCC unroll 8
  for (size_t p = 0; p < P; p++)
#pragma GCC unroll 3
    for (size_t o = 0; o < NR; o++) acc[o][p] = _mm512_setzero_ps();
#pragma GCC unroll 5
  for (size_t i = 0; i < NR + 2; i++) {
#pragma GCC unroll 10
    for (size_t j = 0; j < P + 2; j++) {
      const __m512 xv = LD(x0 + (ptrdiff_t)i * x_row + (ptrdiff_t)(j * c));
#pragma GCC unroll 3
      for (size_t t = 0; t < 3; t++) {
        if (j < t || j - t >= P) continue;
#pragma GCC unroll 3
        for (size_t o = 0; o < NR; o++)
          if (i >= o && i - o < 3) acc[o][j - t] = _mm512_fmadd_ps(xv, wv[(i - o) * 3 + t], acc[o][j - t]);
      }
    }
  }
  const __m512 b = bias ? LD(bias) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (size_t p = 0; p < P; p++)
#pragma GCC unroll 3
    for (size_t o = 0; o < NR; o++) {
      __m512 u = _mm512_add_ps(acc[o][p], b);
      if (relu) u = _mm512_max_ps(_mm512_setzero_ps(), u); /* NaN stays NaN */
      _mm512_mask_storeu_ps(y + (ptrdiff_t)o * y_row + (ptrdiff_t)(p * c), m, u);
    }
#undef LD
}

/* Every channel block of P pixels of a row pair, from the first block up or (down) from the last one down. */
static inline __attribute__((always_inline)) void pixels_rows_3x3(size_t P, const row_args *a, ptrdiff_t y_row,
                                                                  const float *x0, const float *wt, float *y, int down) {
  const size_t c = a->c, full = c / CV * CV;
  if (full < c && down)
    tile_rows_3x3(P, 1, (__mmask16)((1u << (c - full)) - 1), c, a->w_tap, a->x_row, y_row, x0 + full, wt + full,
                  a->bias ? a->bias + full : NULL, a->relu, y + full);
  for (size_t b = 0; b < full; b += CV) {
    const size_t ch = down ? full - CV - b : b;
    tile_rows_3x3(P, 0, (__mmask16)0xFFFF, c, a->w_tap, a->x_row, y_row, x0 + ch, wt + ch, a->bias ? a->bias + ch : NULL,
                  a->relu, y + ch);
  }
  if (full < c && !down)
    tile_rows_3x3(P, 1, (__mmask16)((1u << (c - full)) - 1), c, a->w_tap, a->x_row, y_row, x0 + full, wt + full,
                  a->bias ? a->bias + full : NULL, a->relu, y + full);
}

/* Output columns [lo, hi) of two adjacent rows, every channel block of a tile up or down before the next tile. */
static inline __attribute__((always_inline)) void walk_rows_3x3(int down, size_t lo, size_t hi, const row_args *a,
                                                                ptrdiff_t y_row, const float *x0, const float *wt,
                                                                float *y) {
  size_t ow = lo;
  for (; ow + PX <= hi; ow += PX) pixels_rows_3x3(PX, a, y_row, x0 + (ow - lo) * a->c, wt, y + ow * a->c, down);
  if (ow + 4 <= hi) pixels_rows_3x3(4, a, y_row, x0 + (ow - lo) * a->c, wt, y + ow * a->c, down), ow += 4;
  if (ow + 2 <= hi) pixels_rows_3x3(2, a, y_row, x0 + (ow - lo) * a->c, wt, y + ow * a->c, down), ow += 2;
  if (ow < hi) pixels_rows_3x3(1, a, y_row, x0 + (ow - lo) * a->c, wt, y + ow * a->c, down);
}

/*
 * Output columns [lo, hi) of two adjacent rows; x0: the window corner of column lo in the upper row; channel
 * blocks walked down when `down` (see pair_walks_down). Not inlined, like sweep_row__avx512: inlined into the
 * driver, its speed moved with unrelated driver edits (c=256 28x28, 75 -> 60 GFLOP/s when the column bounds came
 * from a helper), as registers and spill slots were reshuffled. The direction is a constant in each copy of the
 * walk: as a runtime value it cost up to 10%.
 */
static __attribute__((noinline)) void interior_rows_3x3__avx512(size_t lo, size_t hi, const row_args *a,
                                                                ptrdiff_t y_row, const float *x0, const float *wt,
                                                                float *y, int down) {
  if (down) walk_rows_3x3(1, lo, hi, a, y_row, x0, wt, y);
  else walk_rows_3x3(0, lo, hi, a, y_row, x0, wt, y);
}

/*
 * Whether a row pair's tiles walk their channel blocks down: when y lies a block or two above x modulo 4 KiB,
 * walking up, each tile's loads would wait on the stores of the tile before (4 KiB aliasing; c=256 28x28, y - x
 * = 64 bytes, in-process A/B medians: 73 -> 53 us, about the time at other offsets). Judged on the first tile:
 * its 16 stores against the 40 loads of the tiles after it. y: the tile's first output, x0: its window corner.
 */
static int pair_walks_down(const row_args *a, ptrdiff_t y_row, const float *x0, const float *y) {
  const ptrdiff_t pix = (ptrdiff_t)(a->c * sizeof(float));
  const uint64_t stores = lines_mod_4k(y, PX, pix) | lines_mod_4k(y + y_row, PX, pix);
  uint64_t loads = 0;
  for (size_t i = 0; i < NR + 2; i++) loads |= lines_mod_4k(x0 + (ptrdiff_t)i * a->x_row, PX + 2, pix);
  return walk_down_4k(stores, loads);
}

void tsr_f32_dwconv2d_8x16__avx512(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                   size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                   size_t out_h, size_t out_w, size_t row0, size_t row1, const float *x, const float *wt,
                                   size_t wt_stride, const float *bias, int relu, float *y) {
  /* Output columns [in_lo, in_hi) have their whole (dilated) window inside the input's width. */
  const output_range whole = whole_windows(w, s, stride_w, pad_left, dil_w, out_w);
  const size_t in_lo = whole.lo, in_hi = whole.hi;
  const ptrdiff_t wc = (ptrdiff_t)(w * c);
  const row_args a = {c, s, wt_stride, (ptrdiff_t)(dil_w * c), (ptrdiff_t)dil_h * wc, (ptrdiff_t)(stride_w * c), bias, relu};
  uintptr_t walk_rel = 4096; /* no offset yet */
  int walk_down = 0;
  const int pairs = r == 3 && s == 3 && stride_h == 1 && stride_w == 1 && dil_h == 1 && dil_w == 1 && in_lo < in_hi;
  for (size_t row = row0; row < row1; row++) {
    const size_t n = row / out_h, oh = row % out_h;
    const ptrdiff_t hb = (ptrdiff_t)(oh * stride_h) - (ptrdiff_t)pad_top;
    const size_t r0 = first_tap(hb, dil_h), r1 = end_tap(hb, dil_h, h, r);
    const ptrdiff_t xrow = ((ptrdiff_t)(n * h) + hb) * wc; /* filter row 0's input row, maybe outside */
    float *yr = y + row * out_w * c;
    /* This row and the next, in the same image, both with whole windows vertically: rows hb .. hb + 3. */
    const int pair = pairs && row + NR - 1 < row1 && oh + NR - 1 < out_h && hb >= 0 && hb + NR + 1 < (ptrdiff_t)h;
    const int sweep = !pair && r == 3 && s == 3 && c % 128 != 0 && r0 == 0 && r1 == 3 && in_lo < in_hi;
    const float *x_lo = x + xrow + (ptrdiff_t)((in_lo * stride_w - pad_left) * c);
    if (pair) {
      /* the tiles' offset modulo 4 KiB, and so the direction, changes only if x and y rows differ in length */
      const uintptr_t rel = ((uintptr_t)(yr + in_lo * c) - (uintptr_t)x_lo) & 4095;
      if (rel != walk_rel) walk_rel = rel, walk_down = pair_walks_down(&a, (ptrdiff_t)(out_w * c), x_lo, yr + in_lo * c);
      interior_rows_3x3__avx512(in_lo, in_hi, &a, (ptrdiff_t)(out_w * c), x_lo, wt, yr, walk_down);
    }
    if (sweep) sweep_row__avx512(in_hi - in_lo, &a, x_lo, wt, yr + in_lo * c);
    for (size_t k = 0; k < (pair ? NR : 1); k++) { /* the pair's lower row: only its edge pixels are left */
      const ptrdiff_t xr = xrow + (ptrdiff_t)k * wc;
      float *yk = yr + k * out_w * c;
      size_t ow = 0;
      while (ow < out_w) {
        const ptrdiff_t wb = (ptrdiff_t)(ow * stride_w) - (ptrdiff_t)pad_left, x0 = xr + wb * (ptrdiff_t)c;
        if ((sweep || pair) && ow == in_lo) {
          ow = in_hi;
          continue;
        }
        if (ow >= in_lo && ow + PX <= in_hi) {
          if (r == 3 && s == 3 && r0 == 0 && r1 == 3) pixels(PX, &a, x, x0, 0, 3, 0, 3, wt, yk + ow * c); /* unrolled */
          else pixels(PX, &a, x, x0, r0, r1, 0, s, wt, yk + ow * c);
          ow += PX;
        } else {
          pixels(1, &a, x, x0, r0, r1, first_tap(wb, dil_w), end_tap(wb, dil_w, w, s), wt, yk + ow * c);
          ow++;
        }
      }
    }
    row += pair ? NR - 1 : 0;
  }
}

/*
 * f32_conv2d_igemm_12x32__avx512: the implicit-GEMM convolution of f32-conv2d-igemm-6x16-avx2.c on AVX-512 F
 * tiles of 12 pixels x 32 filters, with the same k blocking, tap-pointer tables and packed filters (a 32-filter
 * tile reads two of its 16-column panels, one zmm per B row). Same arguments and workspace.
 *
 * Why: as for the GEMM (f32-gemm-12x32-avx512.c), on Zen 4 the 6x16 ymm tile tops out near 75% of the FMA
 * peak; 24 zmm accumulators issue a quarter of the loads, broadcasts and loop steps per flop.
 * Per patch column: 2 B loads + 12 broadcasts (from twelve pixel runs) for 24 FMAs.
 *
 * Loop order: pixel tiles outside, filter tiles inside (the AVX2 kernel does the opposite). A 32-filter block
 * of a k block is 32 KiB, all of L1, so with filters outside every tile's input runs came from L2: 70-82
 * GFLOP/s. With pixels outside, a tile's input runs stay in L1 across its filter tiles and the filters stream
 * from L2 at 128 bytes per 24 FMAs: 92-101 GFLOP/s of a measured 103 peak (3x3 56x56x64, one thread).
 *
 * Pixel order: per image, first the pixels whose whole window is inside the input, then the bands along the
 * top, bottom, left and right edges (regions() below); a tile never spans two of these rectangles. A tile skips
 * a tap's run when the tap is in the padding for all its pixels, so edge tiles do not multiply padded zeros:
 * at 14x14 with padding 1 those were 9% of the FMAs.
 *
 * Spans: a tile runs two packed k blocks (SPAN = 512 patch columns) before it stores, halving the accumulator
 * loads and stores and the tile starts; its input runs (24 KiB for 12 pixels) still fit L1. C harness A/B, one
 * thread, medians: 3x3 14x14x256 2,663 -> 2,606 us, 56x56x64 3,039 -> 2,981, 14x14 32 -> 64 channels 70.5 -> 67.9.
 * Within one k block each output is the 6x16 tile's FMA chain over the patch in the same order, with the same
 * epilogue: for patches of at most KC columns and finite filters the bits are the AVX2 kernel's (a skipped FMA
 * added 0 * w); longer patches round at every SPAN columns where the AVX2 kernel rounds at every KC.
 */
#include "tessera_cpu.h"
#include "tessera_f32_conv2d_igemm.h"
#include "tessera_f32_gemm_12x32_avx512.h"
#include "tessera_taps.h"

#define TR (2 * MR) /* pixels per tile */
#define SPAN (2 * KC) /* patch columns a tile runs before it stores: two packed k blocks */

/* Output rows [r0, r1) x columns [c0, c1) of an image; its pixels in row-major order. */
typedef struct {
  size_t r0, r1, c0, c1;
} rect;

/* An image's pixels as up to five rectangles, in the order tiles take them: whole windows, top, bottom, left, right. */
static size_t regions(const igemm_geometry *g, rect *out) {
  const output_range rows = whole_windows(g->h, g->r, g->stride_h, g->pad_top, g->dil_h, g->out_h);
  const output_range cols = whole_windows(g->w, g->s, g->stride_w, g->pad_left, g->dil_w, g->out_w);
  const size_t rl = rows.lo, rh = rows.hi, cl = cols.lo, ch = cols.hi;
  size_t n = 0;
  if (rl == rh || cl == ch) {
    out[0] = (rect){0, g->out_h, 0, g->out_w};
    return 1;
  }
  const rect all[5] = {{rl, rh, cl, ch}, {0, rl, 0, g->out_w}, {rh, g->out_h, 0, g->out_w}, {rl, rh, 0, cl},
                       {rl, rh, ch, g->out_w}};
  for (size_t i = 0; i < 5; i++)
    if (all[i].r1 > all[i].r0 && all[i].c1 > all[i].c0) out[n++] = all[i];
  return n;
}

/* A position in the pixel order: its image, rectangle, output row and column. */
typedef struct {
  size_t image, rect, row, col;
} cursor;

/* Position pos of the order, and how many positions from pos on stay in its rectangle. */
static cursor cursor_at(const igemm_geometry *g, const rect *rs, size_t nr, size_t pos, size_t *left_in_rect) {
  const size_t image = g->out_h * g->out_w;
  size_t l = pos % image;
  for (size_t i = 0; i < nr; i++) {
    const size_t width = rs[i].c1 - rs[i].c0, size = (rs[i].r1 - rs[i].r0) * width;
    if (l < size) {
      *left_in_rect = size - l;
      return (cursor){pos / image, i, rs[i].r0 + l / width, rs[i].c0 + l % width};
    }
    l -= size;
  }
  *left_in_rect = 0; /* not reached: the rectangles cover the image */
  return (cursor){0, 0, 0, 0};
}

/* The next position, in the same rectangle (the caller knows one is left). */
static inline void cursor_step(const rect *rs, cursor *c) {
  if (++c->col == rs[c->rect].c1) {
    c->col = rs[c->rect].c0;
    c->row++;
  }
}

/*
 * A rows x (16 * panels) tile over kc patch columns, rows 2 to 12 and panels 1 or 2 (constants at each call):
 * t holds TR tap pointers per tap run (the first run cg - ch0 long, then cg, the last cut at kc); runs in the
 * padding for every pixel are skipped. The columns lie in up to two packed k blocks: kc0 columns from b, the
 * first 16-column panel of the first, then kc - kc0 from b_next. Row q of the result goes to y[q] + col.
 */
static inline __attribute__((always_inline)) void tile(size_t rows, size_t panels, const float *const *t,
                                                       const float *zero, size_t cg, size_t ch0, size_t kc,
                                                       const float *b, size_t kc0, const float *b_next,
                                                       float *const *y, size_t col, size_t mr, size_t nr,
                                                       const epilogue *e) {
  __m512 acc[TR][2];
  for (size_t r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (size_t r = 0; r < mr; r++) _mm_prefetch((const char *)(y[r] + col), _MM_HINT_T0);
  size_t b1 = NR * kc0;       /* second panel, in floats from the first, in the current k block */
  size_t block_left = kc0;    /* columns of the current k block still to run */
  size_t left = kc, run = cg - ch0 < kc ? cg - ch0 : kc;
  for (;;) {
    const float *a[TR];
    int inside = 0;
    for (size_t r = 0; r < rows; r++) a[r] = t[r], inside |= t[r] != zero;
    for (size_t p = 0; p < run;) { /* a run that crosses into the second k block: two pieces */
      const size_t end = run - p < block_left ? run : p + block_left;
      block_left -= end - p;
      if (!inside) {
        b += (end - p) * NR;
        p = end;
      } else {
        for (; p < end; p++, b += NR) {
          const __m512 b0v = _mm512_load_ps(b);
          const __m512 b1v = panels == 2 ? _mm512_load_ps(b + b1) : b0v;
#pragma GCC unroll 12
          for (size_t r = 0; r < rows; r++) {
            const __m512 av = _mm512_set1_ps(a[r][p]);
            acc[r][0] = _mm512_fmadd_ps(av, b0v, acc[r][0]);
            if (panels == 2) acc[r][1] = _mm512_fmadd_ps(av, b1v, acc[r][1]);
          }
        }
      }
      if (block_left == 0) {
        b = b_next;
        block_left = kc - kc0;
        b1 = NR * block_left;
      }
    }
    left -= run;
    if (left == 0) break;
    t += TR;
    run = cg < left ? cg : left;
  }
  store_rows_16(acc, panels, y, col, mr, nr, e);
}

/*
 * Every 32-filter tile of columns [j0, j1) for one pixel tile of mr pixels over one k block. A short tile (the end
 * of a rectangle or range) runs on 6, 4 or 2 rows: at 14x14 each top and bottom band ends in 2 pixels, which on
 * 6 rows were 4% of the FMAs (3x3 14x14x256, one thread, C harness A/B: medians 2,010 -> 1,955 us).
 */
static void filter_tiles__avx512(const float *const *t, const float *zero, size_t cg, size_t ch0, size_t kc,
                                 const float *bp, size_t kc0, const float *bp_next, size_t j0, size_t j1, size_t mr,
                                 float *const *y, const float *bias, epilogue e) {
  for (size_t j = j0; j < j1; j += 2 * NR) {
    const size_t nr = j1 - j < 2 * NR ? j1 - j : 2 * NR;
    e.bias = bias ? bias + j : NULL;
    const float *b = bp + j * kc0, *bn = bp_next ? bp_next + j * (kc - kc0) : NULL;
    if (mr > MR) {
      if (nr > NR) tile(TR, 2, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
      else tile(TR, 1, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
    } else if (mr > 4) {
      if (nr > NR) tile(MR, 2, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
      else tile(MR, 1, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
    } else if (mr > 2) {
      if (nr > NR) tile(4, 2, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
      else tile(4, 1, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
    } else {
      if (nr > NR) tile(2, 2, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
      else tile(2, 1, t, zero, cg, ch0, kc, b, kc0, bn, y, j, mr, nr, &e);
    }
  }
}

/* Needs AVX-512 F; Java calls it only then. p0, p1: positions in the pixel order above. */
void tsr_f32_conv2d_igemm_12x32__avx512(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                        size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                        size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t j0,
                                        size_t j1, size_t p0, size_t p1, const float *x, const float *packed,
                                        const float *bias, int relu, float *y, size_t ldy, void *workspace) {
  const size_t cg = c / groups, k = r * s * cg, npad = (kg + NR - 1) / NR * NR;
  const igemm_geometry g = {h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w,
                            out_h, out_w, cg, group * cg, x};
  float *zero = align64(workspace);
  const float **table = (const float **)(zero + SPAN);
  float **rows = (float **)(table + TABLE_PTRS);
  for (size_t i = 0; i < SPAN; i++) zero[i] = 0.0f;
  rect rs[5];
  const size_t nrect = regions(&g, rs);
  const size_t max_tiles = igemm_block_tiles(SPAN, cg, r * s, TR, MC);
  pixel_origin origin[MC];
  size_t len[MC / TR];
  for (size_t pos = p0; pos < p1;) {
    size_t tiles = 0;
    for (; tiles < max_tiles && pos < p1; tiles++) { /* a tile: up to TR positions in one rectangle */
      size_t in_rect;
      cursor at = cursor_at(&g, rs, nrect, pos, &in_rect);
      size_t n = TR < in_rect ? TR : in_rect;
      if (n > p1 - pos) n = p1 - pos;
      len[tiles] = n;
      for (size_t q = 0; q < n; q++, cursor_step(rs, &at)) {
        origin[tiles * TR + q] = (pixel_origin){at.image * h, (ptrdiff_t)(at.row * stride_h) - (ptrdiff_t)pad_top,
                                                (ptrdiff_t)(at.col * stride_w) - (ptrdiff_t)pad_left};
        rows[tiles * TR + q] = y + ((at.image * out_h + at.row) * out_w + at.col) * ldy;
      }
      pos += n;
    }
    for (size_t pc = 0; pc < k; pc += SPAN) {
      const size_t kc = k - pc < SPAN ? k - pc : SPAN, kc0 = kc < KC ? kc : KC;
      const size_t t0 = pc / cg, ch0 = pc % cg, taps = (pc + kc - 1) / cg - t0 + 1, stride = taps * TR;
      tap_offset tap[SPAN + 2];
      block_tap_offsets(&g, t0 / s, t0 % s, taps, ch0, tap);
      for (size_t i = 0; i < tiles; i++)
        for (size_t q = 0; q < TR; q++) {
          if (q < len[i]) {
            origin_tap_pointers(&g, origin[i * TR + q], tap, taps, zero, table + i * stride + q, TR);
          } else {
            for (size_t j = 0; j < taps; j++) table[i * stride + j * TR + q] = zero;
          }
        }
      const epilogue e = {1.0f, 0.0f, pc == 0, pc + kc == k, NULL, relu};
      for (size_t i = 0; i < tiles; i++)
        filter_tiles__avx512(table + i * stride, zero, cg, ch0, kc, packed + pc * npad, kc0,
                             kc > kc0 ? packed + (pc + KC) * npad : NULL, j0, j1, len[i], rows + i * TR, bias, e);
    }
  }
}

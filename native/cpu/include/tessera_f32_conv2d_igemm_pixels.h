/*
 * The driver both f32 implicit-GEMM convolutions share (f32-conv2d-igemm-12x32-avx512.c and
 * f32-conv2d-igemm-6x16-avx2.c): pixel tiles outside, filter tiles inside, each pixel tile's input runs kept in
 * L1 while the packed filters stream from L2.
 *
 * Pixel order: per image, first the pixels whose whole window is inside the input, then the bands along the
 * top, bottom, left and right edges (regions() below); a tile never spans two of these rectangles, so a tile in
 * a band finds whole tap runs in the padding for all its pixels and its kernel skips them (at 14x14 with
 * padding 1 those are 9% of the FMAs). p0, p1 of a call are positions in this order.
 *
 * No vector code. Include after the tile header that defines `epilogue`, KC and MC.
 */
#ifndef TESSERA_F32_CONV2D_IGEMM_PIXELS_H
#define TESSERA_F32_CONV2D_IGEMM_PIXELS_H

#include <stddef.h>

#include "tessera_f32_conv2d_igemm.h"
#include "tessera_taps.h"

#define IGEMM_MAX_SPAN (2 * KC) /* patch columns a tile may run before it stores; the zero run's length */

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
 * A kernel's filter tiles for one pixel tile of mr pixels over one span of kc patch columns: t holds tile_pixels
 * tap pointers per tap run (the first run cg - ch0 long, then cg, the last cut at kc); the columns are kc0 from
 * the packed k block at bp, then kc - kc0 from the next one at bp_next (NULL when kc0 == kc). Output row q of
 * the tile is y[q]; filters [j0, j1).
 */
typedef void (*igemm_filter_tiles_fn)(const float *const *t, const float *zero, size_t cg, size_t ch0, size_t kc,
                                      const float *bp, size_t kc0, const float *bp_next, size_t j0, size_t j1,
                                      size_t mr, float *const *y, const float *bias, epilogue e);

/* Bytes of workspace igemm_pixel_tiles needs: the zero run, the tap table and the C row of each pixel of a block. */
static inline size_t igemm_pixel_tiles_workspace_bytes(void) {
  return IGEMM_MAX_SPAN * sizeof(float) + TABLE_PTRS * sizeof(float *) + MC * sizeof(float *) + 128;
}

/*
 * Positions [p0, p1) of group g's convolution (geometry g, kg filters packed in KC-row blocks at `packed`),
 * filters [j0, j1): tiles of up to tile_pixels positions (6 <= tile_pixels <= MC), each run over spans of `span`
 * patch columns (KC or 2 KC) before its output is stored.
 */
static inline __attribute__((always_inline)) void igemm_pixel_tiles(const igemm_geometry *g, size_t tile_pixels,
                                                                     size_t span, size_t kg, size_t j0, size_t j1,
                                                                     size_t p0, size_t p1, const float *packed,
                                                                     const float *bias, int relu, float *y,
                                                                     size_t ldy, void *workspace,
                                                                     igemm_filter_tiles_fn filter_tiles) {
  const size_t cg = g->cg, k = g->r * g->s * cg, npad = (kg + NR - 1) / NR * NR, tp = tile_pixels;
  float *zero = align64(workspace);
  const float **table = (const float **)(zero + IGEMM_MAX_SPAN);
  float **rows = (float **)(table + TABLE_PTRS);
  for (size_t i = 0; i < span; i++) zero[i] = 0.0f;
  rect rs[5];
  const size_t nrect = regions(g, rs);
  const size_t max_tiles = igemm_block_tiles(span, cg, g->r * g->s, tp, MC);
  pixel_origin origin[MC];
  size_t len[MC];
  for (size_t pos = p0; pos < p1;) {
    size_t tiles = 0;
    for (; tiles < max_tiles && pos < p1; tiles++) { /* a tile: up to tp positions in one rectangle */
      size_t in_rect;
      cursor at = cursor_at(g, rs, nrect, pos, &in_rect);
      size_t n = tp < in_rect ? tp : in_rect;
      if (n > p1 - pos) n = p1 - pos;
      len[tiles] = n;
      for (size_t q = 0; q < n; q++, cursor_step(rs, &at)) {
        origin[tiles * tp + q] = (pixel_origin){at.image * g->h,
                                                (ptrdiff_t)(at.row * g->stride_h) - (ptrdiff_t)g->pad_top,
                                                (ptrdiff_t)(at.col * g->stride_w) - (ptrdiff_t)g->pad_left};
        rows[tiles * tp + q] = y + ((at.image * g->out_h + at.row) * g->out_w + at.col) * ldy;
      }
      pos += n;
    }
    for (size_t pc = 0; pc < k; pc += span) {
      const size_t kc = k - pc < span ? k - pc : span, kc0 = kc < KC ? kc : KC;
      const size_t t0 = pc / cg, ch0 = pc % cg, taps = (pc + kc - 1) / cg - t0 + 1, stride = taps * tp;
      tap_offset tap[IGEMM_MAX_SPAN + 2];
      block_tap_offsets(g, t0 / g->s, t0 % g->s, taps, ch0, tap);
      for (size_t i = 0; i < tiles; i++)
        for (size_t q = 0; q < tp; q++) {
          if (q < len[i]) {
            origin_tap_pointers(g, origin[i * tp + q], tap, taps, zero, table + i * stride + q, tp);
          } else {
            for (size_t j = 0; j < taps; j++) table[i * stride + j * tp + q] = zero;
          }
        }
      const epilogue e = {1.0f, 0.0f, pc == 0, pc + kc == k, NULL, relu};
      for (size_t i = 0; i < tiles; i++)
        filter_tiles(table + i * stride, zero, cg, ch0, kc, packed + pc * npad, kc0,
                     kc > kc0 ? packed + (pc + KC) * npad : NULL, j0, j1, len[i], rows + i * tp, bias, e);
    }
  }
}

#endif /* TESSERA_F32_CONV2D_IGEMM_PIXELS_H */

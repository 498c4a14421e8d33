/*
 * Tap pointers of the f32 implicit-GEMM convolutions (f32-conv2d-igemm-6x16-avx2.c and
 * f32-conv2d-igemm-12x32-avx512.c). No vector code: safe to include from any ISA's file.
 */
#ifndef TESSERA_F32_CONV2D_IGEMM_H
#define TESSERA_F32_CONV2D_IGEMM_H

#include <stddef.h>

/* Tap pointers per pixel block: tiles x taps in a k block x pixels per tile (64 KiB). */
#define TABLE_PTRS 8192

typedef struct {
  size_t h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, cg, c0;
  const float *x;
} igemm_geometry;

/* Where an output pixel's window starts: its image's first input row (n * h) and the window's top-left corner,
 * which may lie in the padding. Found once per pixel: the tables of each k block are built from it without
 * dividing (3x3 56x56x64, 12x32 tiles, 1 thread: the divisions of a per-block search took 5-9% of the time). */
typedef struct {
  size_t image_row;
  ptrdiff_t hb, wb;
} pixel_origin;

/* out[i] = the origin of output pixel first + i (n, row, column flattened), i < count: one division for all. */
static inline void pixel_origins(const igemm_geometry *g, size_t first, size_t count, pixel_origin *out) {
  const size_t image = g->out_h * g->out_w;
  size_t n = first / image, row = first % image / g->out_w, col = first % g->out_w;
  for (size_t i = 0; i < count; i++) {
    out[i] = (pixel_origin){n * g->h, (ptrdiff_t)(row * g->stride_h) - (ptrdiff_t)g->pad_top,
                            (ptrdiff_t)(col * g->stride_w) - (ptrdiff_t)g->pad_left};
    if (++col == g->out_w) {
      col = 0;
      if (++row == g->out_h) row = 0, n++;
    }
  }
}

/* Tap t0 + j of a k block (tap t0 in filter row row0, column col0): its row and column offsets from a window's
 * top-left corner, and where it reads from that corner in x, in floats (channel c0 + ch0 for j = 0, c0 after). */
typedef struct {
  ptrdiff_t dh, dw, at;
} tap_offset;

/* The offsets of the `taps` taps of a k block from tap t0 (filter row row0, column col0) on. */
static inline void block_tap_offsets(const igemm_geometry *g, size_t row0, size_t col0, size_t taps, size_t ch0,
                                     tap_offset *out) {
  size_t i = row0, t = col0;
  for (size_t j = 0; j < taps; j++) {
    const ptrdiff_t dh = (ptrdiff_t)(i * g->dil_h), dw = (ptrdiff_t)(t * g->dil_w);
    out[j] = (tap_offset){dh, dw, (dh * (ptrdiff_t)g->w + dw) * (ptrdiff_t)g->c + (ptrdiff_t)(g->c0 + (j == 0 ? ch0 : 0))};
    if (++t == g->s) {
      t = 0;
      i++;
    }
  }
}

/*
 * out[j * step] = where the pixel at origin o reads the k block's tap j (offsets tap[j], j < taps): its run of the
 * group's channels in x, or `zero` where the tap is in the padding. A window wholly inside the input (most
 * pixels) takes one add per tap and no padding test (3x3 56x56x64, 12x32 tiles, 1 thread, C harness A/B: the
 * tables took 77 us of a 2,400 us call, now 39 us).
 */
static inline void origin_tap_pointers(const igemm_geometry *g, pixel_origin o, const tap_offset *tap, size_t taps,
                                       const float *zero, const float **out, size_t step) {
  const ptrdiff_t h = (ptrdiff_t)g->h, w = (ptrdiff_t)g->w;
  const ptrdiff_t corner = ((ptrdiff_t)o.image_row + o.hb) * w * (ptrdiff_t)g->c + o.wb * (ptrdiff_t)g->c;
  const float *x = g->x;
  if (o.hb >= 0 && o.hb + (ptrdiff_t)((g->r - 1) * g->dil_h) < h && o.wb >= 0 &&
      o.wb + (ptrdiff_t)((g->s - 1) * g->dil_w) < w) {
    for (size_t j = 0; j < taps; j++) out[j * step] = x + (corner + tap[j].at);
  } else {
    for (size_t j = 0; j < taps; j++) {
      const ptrdiff_t ih = o.hb + tap[j].dh, iw = o.wb + tap[j].dw;
      out[j * step] = ih >= 0 && ih < h && iw >= 0 && iw < w ? x + (corner + tap[j].at) : zero;
    }
  }
}

/*
 * Tiles of tile_pixels pixels per pixel block: as many as the tap table holds, at most max_pixels pixels. A k block
 * of kc patch columns spans at most kc / cg + 2 of the taps taps (partial ones at both ends).
 */
static inline size_t igemm_block_tiles(size_t kc, size_t cg, size_t taps, size_t tile_pixels, size_t max_pixels) {
  const size_t block_taps = kc / cg + 2 < taps ? kc / cg + 2 : taps;
  const size_t tiles = TABLE_PTRS / (tile_pixels * block_taps);
  return tiles < max_pixels / tile_pixels ? tiles : max_pixels / tile_pixels;
}

#endif /* TESSERA_F32_CONV2D_IGEMM_H */

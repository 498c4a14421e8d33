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

/* The origin of output pixel `pixel` (n, row, column flattened). */
static inline pixel_origin pixel_origin_at(const igemm_geometry *g, size_t pixel) {
  const size_t n = pixel / (g->out_h * g->out_w), rest = pixel % (g->out_h * g->out_w);
  return (pixel_origin){n * g->h, (ptrdiff_t)((rest / g->out_w) * g->stride_h) - (ptrdiff_t)g->pad_top,
                        (ptrdiff_t)((rest % g->out_w) * g->stride_w) - (ptrdiff_t)g->pad_left};
}

/*
 * out[j * step] = where the pixel at origin o reads tap t0 + j, for j < taps (tap t0 in filter row row0, column
 * col0): its run of the group's channels in x (from channel ch0 for j = 0, from 0 after), or `zero` where the tap
 * is in the padding.
 */
static inline void origin_tap_pointers(const igemm_geometry *g, pixel_origin o, size_t row0, size_t col0, size_t taps,
                                       size_t ch0, const float *zero, const float **out, size_t step) {
  size_t i = row0, t = col0;
  for (size_t j = 0; j < taps; j++) {
    const ptrdiff_t ih = o.hb + (ptrdiff_t)(i * g->dil_h), iw = o.wb + (ptrdiff_t)(t * g->dil_w);
    const int inside = ih >= 0 && ih < (ptrdiff_t)g->h && iw >= 0 && iw < (ptrdiff_t)g->w;
    out[j * step] = inside ? g->x + ((o.image_row + (size_t)ih) * g->w + (size_t)iw) * g->c + g->c0 + (j == 0 ? ch0 : 0)
                           : zero;
    if (++t == g->s) {
      t = 0;
      i++;
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

/*
 * Patch addressing shared by the int8 implicit-GEMM convolutions (i8-conv2d-igemm-6x16-avx2.c,
 * i8-conv2d-igemm-6x32-avx512vnni.c): the layer geometry, gathering one output pixel's patch, and the
 * per-tap row pointers of a 6-pixel tile. Always inlined, so each ISA's file gets its own copy and no
 * AVX-compiled function is left for a baseline caller. Include after tessera_i8_gemm_6x16_avx2.h.
 */
#ifndef TESSERA_I8_CONV2D_IGEMM_H
#define TESSERA_I8_CONV2D_IGEMM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  size_t h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, cg, c0;
  const uint8_t *x;
  uint8_t pad;
} geometry;

/* n bytes, n >= 16: 16-byte copies with an overlapping last one. */
static inline __attribute__((always_inline)) void copy_run(uint8_t *dst, const uint8_t *src, size_t n) {
  size_t q = 0;
  for (; q + 16 <= n; q += 16) _mm_storeu_si128((__m128i *)(dst + q), _mm_loadu_si128((const __m128i *)(src + q)));
  if (q < n) _mm_storeu_si128((__m128i *)(dst + n - 16), _mm_loadu_si128((const __m128i *)(src + n - 16)));
}

/* Output pixel `pixel`'s whole patch (r * s * cg bytes) into dst. */
static inline __attribute__((always_inline)) void gather_patch(const geometry *g, size_t pixel, uint8_t *dst) {
  const size_t n = pixel / (g->out_h * g->out_w), rest = pixel % (g->out_h * g->out_w);
  const ptrdiff_t hb = (ptrdiff_t)((rest / g->out_w) * g->stride_h) - (ptrdiff_t)g->pad_top;
  const ptrdiff_t wb = (ptrdiff_t)((rest % g->out_w) * g->stride_w) - (ptrdiff_t)g->pad_left;
  const size_t cg = g->cg;
  for (size_t i = 0; i < g->r; i++) {
    const ptrdiff_t ih = hb + (ptrdiff_t)(i * g->dil_h);
    for (size_t t = 0; t < g->s; t++, dst += cg) {
      const ptrdiff_t iw = wb + (ptrdiff_t)(t * g->dil_w);
      if (ih < 0 || ih >= (ptrdiff_t)g->h || iw < 0 || iw >= (ptrdiff_t)g->w) {
        memset(dst, g->pad, cg);
        continue;
      }
      const uint8_t *src = g->x + ((n * g->h + (size_t)ih) * g->w + (size_t)iw) * g->c + g->c0;
      if (cg >= 16) copy_run(dst, src, cg);
      else memcpy(dst, src, cg);
    }
  }
}

/* Taps up to which tap_pointers keeps their offsets on the stack (a 7x7 filter has 49). */
#define TAP_OFFSETS_MAX 64

/*
 * table[q] for q < 6: where pixel p + q reads each of the r * s taps (table[t * 6 + q]): its run of channels
 * in x, or `pad` (cg zero-point bytes) in the padding and for pixels at or past p1. Divides once per tile and
 * adds one offset per tap where the pixel's whole window is inside the input (3x3 56x56x64, all 3,136 pixels:
 * 90 -> 30 us, against a ~700 us int8 call on one thread).
 */
static inline __attribute__((always_inline)) void tap_pointers(const geometry *g, size_t p, size_t p1, const uint8_t *pad,
                                                              const uint8_t **table) {
  const size_t taps = g->r * g->s, image = g->out_h * g->out_w;
  const ptrdiff_t h = (ptrdiff_t)g->h, w = (ptrdiff_t)g->w, c = (ptrdiff_t)g->c;
  const ptrdiff_t last_h = (ptrdiff_t)((g->r - 1) * g->dil_h), last_w = (ptrdiff_t)((g->s - 1) * g->dil_w);
  const int offsets = taps <= TAP_OFFSETS_MAX;
  ptrdiff_t at[TAP_OFFSETS_MAX]; /* tap t's bytes from a window's top-left corner, at channel c0 */
  for (size_t i = 0, t = 0; offsets && i < g->r; i++)
    for (size_t j = 0; j < g->s; j++, t++)
      at[t] = ((ptrdiff_t)(i * g->dil_h) * w + (ptrdiff_t)(j * g->dil_w)) * c + (ptrdiff_t)g->c0;
  size_t n = p / image, row = p % image / g->out_w, col = p % g->out_w;
  for (size_t q = 0; q < MR; q++) {
    if (p + q >= p1) {
      for (size_t t = 0; t < taps; t++) table[t * MR + q] = pad;
      continue;
    }
    const ptrdiff_t hb = (ptrdiff_t)(row * g->stride_h) - (ptrdiff_t)g->pad_top;
    const ptrdiff_t wb = (ptrdiff_t)(col * g->stride_w) - (ptrdiff_t)g->pad_left;
    const ptrdiff_t image_row = (ptrdiff_t)(n * g->h), corner = ((image_row + hb) * w + wb) * c;
    if (offsets && hb >= 0 && hb + last_h < h && wb >= 0 && wb + last_w < w) {
      for (size_t t = 0; t < taps; t++) table[t * MR + q] = g->x + (corner + at[t]);
    } else {
      for (size_t i = 0, t = 0; i < g->r; i++) {
        const ptrdiff_t ih = hb + (ptrdiff_t)(i * g->dil_h);
        for (size_t j = 0; j < g->s; j++, t++) {
          const ptrdiff_t iw = wb + (ptrdiff_t)(j * g->dil_w);
          const int inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
          table[t * MR + q] = inside ? g->x + (((image_row + ih) * w + iw) * c + (ptrdiff_t)g->c0) : pad;
        }
      }
    }
    if (++col == g->out_w) { /* the next pixel */
      col = 0;
      if (++row == g->out_h) row = 0, n++;
    }
  }
}

#endif /* TESSERA_I8_CONV2D_IGEMM_H */

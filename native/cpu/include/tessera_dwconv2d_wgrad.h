/*
 * The scalar frame shared by the 3x3 depthwise weight-gradient kernels (f32-dwconv2d-wgrad-3x3-c16-*.c): the
 * (10, c) sums block they accumulate into (nine taps, then the bias), an output row's input rows, and the final
 * transpose into dw and db. No vector code:
 * safe to include from any ISA's file.
 */
#ifndef TESSERA_DWCONV2D_WGRAD_H
#define TESSERA_DWCONV2D_WGRAD_H

#include <stddef.h>

#include "tessera_taps.h"

static inline void dw_wgrad_zero(float *sums, size_t c, size_t ch0, size_t ch1) {
  for (size_t t = 0; t < 10; t++)
    for (size_t ch = ch0; ch < ch1; ch++) sums[t * c + ch] = 0.0f;
}

/* Output row oh of image img: its dy row, the filter rows [*i0, *i1) that land inside the input and their input
 * rows (rows[i] outside that range is left pointing at x, never read). A row no filter row reaches (padding of
 * a whole window or more) runs like any other: no taps, only its bias sums. */
static inline void dw_wgrad_row(const float *x, const float *dy, size_t img, size_t oh, size_t h, size_t w, size_t c,
                                size_t stride_h, size_t pad_top, size_t dil_h, size_t out_h, size_t out_w,
                                const float *rows[3], const float **dy_row, size_t *i0, size_t *i1) {
  const ptrdiff_t base = (ptrdiff_t)(oh * stride_h) - (ptrdiff_t)pad_top;
  *dy_row = dy + (img * out_h + oh) * out_w * c;
  *i0 = first_tap(base, dil_h);
  *i1 = end_tap(base, dil_h, h, 3);
  rows[0] = rows[1] = rows[2] = x;
  for (size_t i = *i0; i < *i1; i++) rows[i] = x + (img * h + (size_t)(base + (ptrdiff_t)(i * dil_h))) * w * c;
}

/* dw (c, 3, 3) channels [ch0, ch1) from the (10, c) sums, and db (c) unless NULL. */
static inline void dw_wgrad_store(const float *sums, size_t c, size_t ch0, size_t ch1, float *dw, float *db) {
  for (size_t ch = ch0; ch < ch1; ch++)
    for (size_t t = 0; t < 9; t++) dw[ch * 9 + t] = sums[t * c + ch];
  if (db)
    for (size_t ch = ch0; ch < ch1; ch++) db[ch] = sums[9 * c + ch];
}

#endif /* TESSERA_DWCONV2D_WGRAD_H */

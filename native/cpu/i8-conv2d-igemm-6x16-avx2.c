/*
 * i8_conv2d_igemm_6x16__avx2: int8 convolution as an implicit GEMM on the 6x16 int8 GEMM core.
 *
 * For group g, C (pixels x kg) = epilogue((A - za) * B), where row p of A is output pixel p's input patch in
 * (r, s, c) order (the im2col matrix, u8 or s8) and B is the group's s8 filters packed once by the GEMM's
 * packing (either layout). A is never written out: each 6-pixel micro-panel gathers its patches straight
 * from the NHWC input into a row buffer in L1 (runs of cg channels are contiguous; taps in the padding read
 * the zero point, i.e. real zero), which the GEMM's A packing turns into a micro-panel. That saves the
 * im2col round trip through memory (for the Fashion-MNIST conv2, 14 MB written and read back per 256
 * images) and the GEMM's second pass over it. Exactness and the epilogue are the int8 GEMM's, to the bit.
 */
#include "tessera_i8_gemm_6x16_avx2.h"

typedef struct {
  size_t h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, cg, c0;
  const uint8_t *x;
  uint8_t pad;
} geometry;

/* n bytes, n >= 16: 16-byte copies with an overlapping last one. */
static inline void copy_run(uint8_t *dst, const uint8_t *src, size_t n) {
  size_t q = 0;
  for (; q + 16 <= n; q += 16) _mm_storeu_si128((__m128i *)(dst + q), _mm_loadu_si128((const __m128i *)(src + q)));
  if (q < n) _mm_storeu_si128((__m128i *)(dst + n - 16), _mm_loadu_si128((const __m128i *)(src + n - 16)));
}

/* Output pixel `pixel`'s whole patch (r * s * cg bytes) into dst. */
static void gather_patch__avx2(const geometry *g, size_t pixel, uint8_t *dst) {
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

size_t tsr_i8_conv2d_igemm_workspace_bytes__avx2(size_t k) {
  return block_rows(k) * k_pairs(k) * 4 + MR * k + 128;
}

void tsr_i8_conv2d_igemm_6x16__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h, size_t stride_w,
                                    size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h,
                                    size_t out_w, size_t groups, size_t group, size_t kg, size_t p0, size_t p1,
                                    int reduced_range, int a_signed, const uint8_t *x, int32_t a_zero, float a_scale,
                                    const int8_t *packed, const int32_t *colsums, const float *w_scales,
                                    const float *bias, int out_kind, float out_scale, int32_t out_zero, int relu,
                                    void *y, size_t ldy, void *workspace) {
  const size_t cg = c / groups, k = r * s * cg;
  const geometry g = {h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, cg,
                      group * cg, x, (uint8_t)a_zero};
  /* reduced range stores s8 activations as u8 + 128: the zero point moves with them */
  const int32_t za = reduced_range && a_signed ? a_zero + 128 : a_zero;
  const epilogue_args e = {za, a_scale, out_scale, out_zero, out_kind, relu, colsums, w_scales, bias};
  const size_t ldy_bytes = ldy * out_bytes_of(out_kind), mcb = block_rows(k);
  const size_t steps = reduced_range ? k_quads(k) : k_pairs(k);
  uint32_t *ap = (uint32_t *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  uint8_t *rows = (uint8_t *)(ap + mcb * steps); /* MR patches, k bytes apart */
  for (size_t ic = p0; ic < p1; ic += mcb) {
    const size_t mc = p1 - ic < mcb ? p1 - ic : mcb;
    for (size_t i = 0; i < mc; i += MR) {
      const size_t nrows = mc - i < MR ? mc - i : MR;
      for (size_t q = 0; q < nrows; q++) gather_patch__avx2(&g, ic + i + q, rows + q * k);
      uint32_t *panel = ap + (i / MR) * steps * MR;
      if (reduced_range) pack_a_rr(a_signed, nrows, k, rows, k, panel);
      else pack_a(a_signed, nrows, k, rows, k, panel);
    }
    macro_block(reduced_range, mc, steps, ap, packed, 0, kg, &e, (uint8_t *)y + ic * ldy_bytes, ldy_bytes);
  }
}

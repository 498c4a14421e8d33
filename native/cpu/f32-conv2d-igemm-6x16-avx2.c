/*
 * f32_conv2d_igemm_6x16__avx2: convolution as an implicit GEMM on the 6x16 GEMM core.
 *
 * For group g, C (pixels x kg) = A (pixels x r*s*cg) * B, where row p of A is output pixel p's input patch
 * in (r, s, c) order (the im2col matrix) and B is the group's filters, pre-packed by the caller with
 * tsr_f32_gemm_pack_b_cols_6x16__avx2 (transposed: filters are (kg, r*s*cg) rows). A is never written out:
 * packing an A block gathers each of 6 pixels' patch columns [pc, pc + kc) straight from the NHWC input
 * (runs of cg channels are contiguous; taps in the padding are zeros) into a small buffer in L1, which the
 * GEMM's A packing then transposes into a micro-panel. That saves the im2col round trip through memory.
 */
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"
#include "tessera_f32_gemm_6x16_avx2.h"

typedef struct {
  size_t h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, cg, c0;
  const float *x;
} geometry;

/* Patch columns [pc, pc + kc) of output pixel `pixel` into dst (kc floats). */
static void gather_patch(const geometry *g, size_t pixel, size_t pc, size_t kc, float *dst) {
  const size_t n = pixel / (g->out_h * g->out_w), rest = pixel % (g->out_h * g->out_w);
  const ptrdiff_t hb = (ptrdiff_t)((rest / g->out_w) * g->stride_h) - (ptrdiff_t)g->pad_top;
  const ptrdiff_t wb = (ptrdiff_t)((rest % g->out_w) * g->stride_w) - (ptrdiff_t)g->pad_left;
  size_t q = pc, tap = pc / g->cg, ch = pc % g->cg;
  size_t i = tap / g->s, t = tap % g->s;
  while (q < pc + kc) {
    const size_t run = g->cg - ch < pc + kc - q ? g->cg - ch : pc + kc - q;
    const ptrdiff_t ih = hb + (ptrdiff_t)(i * g->dil_h), iw = wb + (ptrdiff_t)(t * g->dil_w);
    float *out = dst + (q - pc);
    if (ih < 0 || ih >= (ptrdiff_t)g->h || iw < 0 || iw >= (ptrdiff_t)g->w) {
      memset(out, 0, run * sizeof(float));
    } else {
      memcpy(out, g->x + ((n * g->h + (size_t)ih) * g->w + (size_t)iw) * g->c + g->c0 + ch, run * sizeof(float));
    }
    q += run;
    ch = 0;
    if (++t == g->s) {
      t = 0;
      i++;
    }
  }
}

/* A block: pixels [p0, p0 + mc), patch columns [pc, pc + kc), as 6-row micro-panels (rows past mc zero). */
static void pack_a_conv(const geometry *g, size_t p0, size_t mc, size_t pc, size_t kc, float *rows, float *ap) {
  for (size_t i = 0; i < mc; i += MR, ap += MR * kc) {
    const size_t n = mc - i < MR ? mc - i : MR;
    for (size_t r = 0; r < n; r++) gather_patch(g, p0 + i + r, pc, kc, rows + r * KC);
    pack_a(0, n, kc, rows, KC, ap);
  }
}

size_t tsr_f32_conv2d_igemm_workspace_bytes__avx2(void) {
  return (size_t)(MC * KC + MR * KC) * sizeof(float) + 128;
}

void tsr_f32_conv2d_igemm_6x16__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                     size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                     size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t p0,
                                     size_t p1, const float *x, const float *packed, const float *bias, int relu,
                                     float *y, size_t ldy, void *workspace) {
  const size_t cg = c / groups, k = r * s * cg, npad = (kg + NR - 1) / NR * NR;
  const geometry g = {h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, cg, group * cg, x};
  float *ap = align64(workspace), *rows = ap + MC * KC;
  for (size_t pc = 0; pc < k; pc += KC) {
    const size_t kc = k - pc < KC ? k - pc : KC;
    const epilogue e = {1.0f, 0.0f, pc == 0, pc + kc == k, NULL, relu};
    for (size_t ic = p0; ic < p1; ic += MC) {
      const size_t mc = p1 - ic < MC ? p1 - ic : MC;
      pack_a_conv(&g, ic, mc, pc, kc, rows, ap);
      macro_kernel(mc, kg, kc, ap, packed + pc * npad, y + ic * ldy, ldy, e, bias);
    }
  }
}

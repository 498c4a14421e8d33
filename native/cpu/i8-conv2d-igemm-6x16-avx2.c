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
 *
 * u8 input, reduced-range (7-bit) filters and cg a multiple of 4 skip even that gather: the vpmaddubsw kernel
 * broadcasts 4 consecutive k bytes per row, which are then 4 channels of one pixel under one tap, so it reads
 * them in place. A table gives, per 6-pixel tile and tap, six pointers: each pixel's run of cg channels, or
 * a row of zero-point bytes for taps in the padding (as the f32 implicit GEMM does with zeros).
 */
#include "tessera_i8_gemm_6x16_avx2.h"
#include "tessera_i8_conv2d_igemm.h"

/* One row of the tap loop: 4 u8 of row pointer `p` at quad offset i (the core's reduced-range row). */
#define TAP_ROW(p, lo, hi) RR_ROW_AT("(%[" #p "],%[i])", lo, hi)

/*
 * acc[12] = a 6x16 tile summed over `taps` taps of qb / 4 quads each: row r's quads of tap t start at
 * table[t * 6 + r], the B panel's quads run on across taps. The reduced-range loop of the GEMM core, with six
 * row pointers per tap instead of a packed panel.
 */
static void rr_taps_6__avx2(size_t taps, size_t qb, const uint8_t *const *table, const int8_t *bp, __m256i acc[12]) {
  const uint8_t *p0, *p1, *p2, *p3, *p4, *p5;
  size_t i;
  __asm__ volatile(
      RR_ZERO_ACC
      "2:\n\t"
      "mov (%[t]), %[p0]\n\t mov 8(%[t]), %[p1]\n\t mov 16(%[t]), %[p2]\n\t"
      "mov 24(%[t]), %[p3]\n\t mov 32(%[t]), %[p4]\n\t mov 40(%[t]), %[p5]\n\t"
      "xor %[i], %[i]\n\t"
      "1:\n\t"
      "vmovdqu (%[b]), %%ymm12\n\t"
      "vmovdqu 32(%[b]), %%ymm13\n\t"
      TAP_ROW(p0, 0, 1) TAP_ROW(p1, 2, 3) TAP_ROW(p2, 4, 5) TAP_ROW(p3, 6, 7) TAP_ROW(p4, 8, 9) TAP_ROW(p5, 10, 11)
      "add $64, %[b]\n\t"
      "add $4, %[i]\n\t"
      "cmp %[qb], %[i]\n\t"
      "jb 1b\n\t"
      "add $48, %[t]\n\t"
      "dec %[n]\n\t"
      "jnz 2b\n\t"
      RR_STORE_ACC
      : [t] "+r"(table), [b] "+r"(bp), [n] "+r"(taps), [p0] "=&r"(p0), [p1] "=&r"(p1), [p2] "=&r"(p2),
        [p3] "=&r"(p3), [p4] "=&r"(p4), [p5] "=&r"(p5), [i] "=&r"(i)
      : [qb] "r"(qb), [ones] "m"(*(const __m256i *)ONES16), [acc] "r"(acc)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* Pixels [p0, p1) through the tap loop: blocks of as many tiles as the table space holds, every panel per block. */
static void conv_taps__avx2(const geometry *g, size_t p0, size_t p1, size_t kg, const int8_t *packed, const epilogue_args *e,
                            uint8_t *y, size_t ldy_bytes, const uint8_t **table, size_t table_ptrs, uint8_t *pad) {
  const size_t taps = g->r * g->s, qb = g->cg, panel_bytes = taps * g->cg * NR, ob = out_bytes_of(e->out_kind);
  size_t tiles = table_ptrs / (taps * MR);
  if (tiles > 40) tiles = 40;
  memset(pad, g->pad, g->cg);
  for (size_t ic = p0; ic < p1; ic += tiles * MR) {
    const size_t mc = p1 - ic < tiles * MR ? p1 - ic : tiles * MR;
    for (size_t i = 0; i < mc; i += MR) tap_pointers(g, ic + i, p1, pad, table + i / MR * taps * MR);
    for (size_t j = 0; j < kg; j += NR) {
      panel_consts pc;
      panel_setup(e, j, kg - j < NR ? kg - j : NR, &pc);
      const int8_t *bp = packed + (j / NR) * panel_bytes;
      for (size_t i = 0; i < mc; i += MR) {
        __m256i acc[12];
        rr_taps_6__avx2(taps, qb, table + i / MR * taps * MR, bp, acc);
        const size_t mr = mc - i < MR ? mc - i : MR;
        uint8_t *ct = y + (ic + i) * ldy_bytes + j * ob;
        for (size_t r = 0; r < mr; r++) store_row(e, &pc, acc[2 * r], acc[2 * r + 1], ct + r * ldy_bytes);
      }
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
  /* the tap loop: its table takes the packed A space, its zero-point row the patch rows */
  const size_t table_ptrs = mcb * steps * sizeof(uint32_t) / sizeof(uint8_t *);
  if (reduced_range && !a_signed && cg % 4 == 0 && table_ptrs >= r * s * MR) {
    conv_taps__avx2(&g, p0, p1, kg, packed, &e, (uint8_t *)y, ldy_bytes, (const uint8_t **)(void *)ap, table_ptrs, rows);
    return;
  }
  for (size_t ic = p0; ic < p1; ic += mcb) {
    const size_t mc = p1 - ic < mcb ? p1 - ic : mcb;
    for (size_t i = 0; i < mc; i += MR) {
      const size_t nrows = mc - i < MR ? mc - i : MR;
      for (size_t q = 0; q < nrows; q++) gather_patch(&g, ic + i + q, rows + q * k);
      uint32_t *panel = ap + (i / MR) * steps * MR;
      if (reduced_range) pack_a_rr(a_signed, nrows, k, rows, k, panel);
      else pack_a(a_signed, nrows, k, rows, k, panel);
    }
    macro_block(reduced_range, mc, steps, ap, packed, 0, kg, &e, (uint8_t *)y + ic * ldy_bytes, ldy_bytes);
  }
}

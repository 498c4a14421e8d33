/*
 * i8_conv2d_igemm_6x32__avx512vnni: the int8 implicit-GEMM convolution of i8-conv2d-igemm-6x16-avx2.c on the
 * AVX-512 VNNI GEMM (i8-gemm-6x32-avx512vnni.c). Same arguments, same packed filters (the reduced-range quad
 * layout, which every weight matrix takes where VNNI runs), results bit-identical to that GEMM on the im2col
 * matrix, for full-range s8 filters too: vpdpbusd sums four u8 x s8 products exactly.
 *
 * u8 input with cg a multiple of 4 runs the tap loop: for each 6-pixel tile and tap, six pointers to the
 * pixels' runs of cg channels (or to a row of zero-point bytes in the padding), read in place, 4 channels of
 * a pixel per vpbroadcastd. Tiles are 6x32 (two 16-column filter panels, 12 zmm accumulators), as in the GEMM,
 * so that 12 independent sums cover vpdpbusd's latency. Other layers (s8 input, cg % 4 != 0) gather each
 * patch into a row buffer, pack it, and run the GEMM's macro-block.
 */
#include "tessera_i8_gemm_6x16_avx2.h"
#include "tessera_i8_gemm_6x32_avx512vnni.h"
#include "tessera_i8_conv2d_igemm.h"

/*
 * Two panels: acc = a 6x32 tile summed over `taps` taps of qb / 4 quads each. Row r's quads of tap t start at
 * table[t * 6 + r]; the first panel's quads run on across taps at bp, the second's panel_bytes further. In
 * assembly for the reason given in the GEMM (gcc copies every accumulator before each vpdpbusd).
 * Accumulators zmm0-11 (row r: 2r, 2r + 1), B zmm12-13, A zmm14.
 */
static inline __attribute__((always_inline)) void taps_6x32(size_t taps, size_t qb, const uint8_t *const *table,
                                                            const int8_t *bp, size_t panel_bytes, __m512i acc[MR][2]) {
  const uint8_t *p0, *p1, *p2, *p3, *p4, *p5;
  size_t i;
#define TAP_ROW(p, lo, hi) VNNI_ROW_AT("(%[" #p "],%[i])", lo, hi)
  __asm__ volatile(
      VNNI_ZERO_ACC
      "2:\n\t"
      "mov (%[t]), %[p0]\n\t mov 8(%[t]), %[p1]\n\t mov 16(%[t]), %[p2]\n\t"
      "mov 24(%[t]), %[p3]\n\t mov 32(%[t]), %[p4]\n\t mov 40(%[t]), %[p5]\n\t"
      "xor %[i], %[i]\n\t"
      "1:\n\t"
      "vmovdqu64 (%[b]), %%zmm12\n\t"
      "vmovdqu64 (%[b],%[pb]), %%zmm13\n\t"
      TAP_ROW(p0, 0, 1) TAP_ROW(p1, 2, 3) TAP_ROW(p2, 4, 5) TAP_ROW(p3, 6, 7) TAP_ROW(p4, 8, 9) TAP_ROW(p5, 10, 11)
      "add $64, %[b]\n\t"
      "add $4, %[i]\n\t"
      "cmp %[qb], %[i]\n\t"
      "jb 1b\n\t"
      "add $48, %[t]\n\t"
      "dec %[n]\n\t"
      "jnz 2b\n\t"
      "vmovdqu64 %%zmm0, %[a0]\n\t vmovdqu64 %%zmm1, %[a1]\n\t vmovdqu64 %%zmm2, %[a2]\n\t"
      "vmovdqu64 %%zmm3, %[a3]\n\t vmovdqu64 %%zmm4, %[a4]\n\t vmovdqu64 %%zmm5, %[a5]\n\t"
      "vmovdqu64 %%zmm6, %[a6]\n\t vmovdqu64 %%zmm7, %[a7]\n\t vmovdqu64 %%zmm8, %[a8]\n\t"
      "vmovdqu64 %%zmm9, %[a9]\n\t vmovdqu64 %%zmm10, %[a10]\n\t vmovdqu64 %%zmm11, %[a11]\n\t"
      : [t] "+r"(table), [b] "+r"(bp), [n] "+r"(taps), [p0] "=&r"(p0), [p1] "=&r"(p1), [p2] "=&r"(p2),
        [p3] "=&r"(p3), [p4] "=&r"(p4), [p5] "=&r"(p5), [i] "=&r"(i), [a0] "=m"(acc[0][0]), [a1] "=m"(acc[0][1]),
        [a2] "=m"(acc[1][0]), [a3] "=m"(acc[1][1]), [a4] "=m"(acc[2][0]), [a5] "=m"(acc[2][1]), [a6] "=m"(acc[3][0]),
        [a7] "=m"(acc[3][1]), [a8] "=m"(acc[4][0]), [a9] "=m"(acc[4][1]), [a10] "=m"(acc[5][0]), [a11] "=m"(acc[5][1])
      : [qb] "r"(qb), [pb] "r"(panel_bytes)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14");
#undef TAP_ROW
}

/* One panel (the last 16 or fewer filters): acc[r][0] only. Intrinsics: an edge, the extra moves matter little. */
static inline __attribute__((always_inline)) void taps_6x16(size_t taps, size_t qb, const uint8_t *const *table,
                                                            const int8_t *bp, __m512i acc[MR][2]) {
  for (size_t r = 0; r < MR; r++) acc[r][0] = _mm512_setzero_si512();
  for (size_t t = 0; t < taps; t++, table += MR) {
    for (size_t i = 0; i < qb; i += 4, bp += 4 * NR) {
      const __m512i b = _mm512_loadu_si512(bp);
#pragma GCC unroll 6
      for (size_t r = 0; r < MR; r++) {
        int32_t quad;
        memcpy(&quad, table[r] + i, sizeof quad);
        acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], _mm512_set1_epi32(quad), b);
      }
    }
  }
}

/* Pixels [p0, p1) through the tap loop: blocks of as many tiles as the table space holds, every panel pair per block. */
static void conv_taps__avx512vnni(const geometry *g, size_t p0, size_t p1, size_t kg, const int8_t *packed,
                                  const epilogue_args *e, uint8_t *y, size_t ldy_bytes, const uint8_t **table,
                                  size_t table_ptrs, uint8_t *pad) {
  const size_t taps = g->r * g->s, qb = g->cg, panel_bytes = taps * g->cg * NR, ob = out_bytes_of(e->out_kind);
  size_t tiles = table_ptrs / (taps * MR);
  if (tiles > 40) tiles = 40;
  memset(pad, g->pad, g->cg);
  for (size_t ic = p0; ic < p1; ic += tiles * MR) {
    const size_t mc = p1 - ic < tiles * MR ? p1 - ic : tiles * MR;
    for (size_t i = 0; i < mc; i += MR) tap_pointers(g, ic + i, p1, pad, table + i / MR * taps * MR);
    for (size_t j = 0; j < kg; j += 2 * NR) {
      const size_t panels = kg - j > NR ? 2 : 1;
      panel_consts pc[2];
      panel_setup(e, j, kg - j < NR ? kg - j : NR, &pc[0]);
      pc[1] = pc[0];
      if (panels == 2) panel_setup(e, j + NR, kg - j - NR < NR ? kg - j - NR : NR, &pc[1]);
      const int8_t *bp = packed + (j / NR) * panel_bytes;
      for (size_t i = 0; i < mc; i += MR) {
        __m512i acc[MR][2];
        const uint8_t *const *tile_table = table + i / MR * taps * MR;
        if (panels == 2) taps_6x32(taps, qb, tile_table, bp, panel_bytes, acc);
        else taps_6x16(taps, qb, tile_table, bp, acc);
        const size_t mr = mc - i < MR ? mc - i : MR;
        uint8_t *ct = y + (ic + i) * ldy_bytes + j * ob;
        for (size_t r = 0; r < mr; r++) {
          store_panel_row(e, &pc[0], acc[r][0], ct + r * ldy_bytes);
          if (panels == 2) store_panel_row(e, &pc[1], acc[r][1], ct + r * ldy_bytes + NR * ob);
        }
      }
    }
  }
}

void tsr_i8_conv2d_igemm_6x32__avx512vnni(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                          size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                          size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t p0,
                                          size_t p1, int a_signed, const uint8_t *x, int32_t a_zero, float a_scale,
                                          const int8_t *packed, const int32_t *colsums, const float *w_scales,
                                          const float *bias, int out_kind, float out_scale, int32_t out_zero, int relu,
                                          void *y, size_t ldy, void *workspace) {
  const size_t cg = c / groups, k = r * s * cg;
  const geometry g = {h, w, c, r, s, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, out_h, out_w, cg,
                      group * cg, x, (uint8_t)a_zero};
  /* s8 activations are packed as u8 + 128: the zero point moves with them */
  const int32_t za = a_signed ? a_zero + 128 : a_zero;
  const epilogue_args e = {za, a_scale, out_scale, out_zero, out_kind, relu, colsums, w_scales, bias};
  const size_t ldy_bytes = ldy * out_bytes_of(out_kind), mcb = block_rows(k), kq = k_quads(k);
  uint32_t *ap = (uint32_t *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  uint8_t *rows = (uint8_t *)(ap + mcb * kq); /* MR patches, k bytes apart */
  /* the tap loop: its table takes the packed A space, its zero-point row the patch rows */
  const size_t table_ptrs = mcb * kq * sizeof(uint32_t) / sizeof(uint8_t *);
  if (!a_signed && cg % 4 == 0 && table_ptrs >= r * s * MR) {
    conv_taps__avx512vnni(&g, p0, p1, kg, packed, &e, (uint8_t *)y, ldy_bytes, (const uint8_t **)(void *)ap,
                          table_ptrs, rows);
    return;
  }
  for (size_t ic = p0; ic < p1; ic += mcb) {
    const size_t mc = p1 - ic < mcb ? p1 - ic : mcb;
    for (size_t i = 0; i < mc; i += MR) {
      const size_t nrows = mc - i < MR ? mc - i : MR;
      for (size_t q = 0; q < nrows; q++) gather_patch(&g, ic + i + q, rows + q * k);
      pack_a_rr(a_signed, nrows, k, rows, k, ap + (i / MR) * kq * MR);
    }
    tsr_i8_macro_block__avx512vnni(mc, kq, ap, packed, 0, kg, &e, (uint8_t *)y + ic * ldy_bytes, ldy_bytes);
  }
}

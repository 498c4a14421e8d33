/*
 * i8_gemm_6x32__avx512vnni: the int8 GEMM of i8-gemm-6x16-avx2.c (u8 or s8 activations, m x k row-major,
 * times pre-packed s8 weights, exact s32 sums, the same fused epilogue) on AVX-512 VNNI.
 * Needs AVX-512 F/BW/VL + VNNI with OS ZMM state; Java dispatches here only then.
 *
 * vpdpbusd multiplies 4 u8 by 4 s8 and adds the four exact products to an s32 lane, with no
 * intermediate s16 saturation. That's one instruction where AVX2 needs vpmaddubsw + vpmaddwd + vpaddd.
 * So every s8 weight is exact here, not only the 7-bit ones the AVX2 reduced-range kernel takes.
 *
 * Layouts are the AVX2 reduced-range ones (tessera_i8_gemm_6x16_avx2.h), so the packing code is shared:
 *   packed B: 16-column panels, 64 bytes per k quad: columns 0..7 x 4 bytes, then columns 8..15. That is
 *             exactly one zmm whose s32 lane j holds column j's quad.
 *   packed A: 6-row panels of u8 quads (s8 stored as x + 128, the zero point moved with it).
 *
 * Tile 6x32: two panels side by side, 12 zmm accumulators. vpdpbusd has a latency of about 5 cycles and
 * issues on 2 ports, so at least 10 independent sums are needed to keep both busy; a 6x16 tile (6 sums)
 * would be bound by latency. Per k quad: 2 B loads + 6 A broadcasts for 12 vpdpbusd (768 multiply-adds).
 * Registers: 12 accumulators + 2 B + 1 A of 32. The last 16 (or fewer) columns use a 6x16 tile.
 *
 * Exactness: the same bound as the AVX2 kernels: |sum| <= 255 * 128 * k < 2^31 for k <= 65793.
 * The epilogue is the AVX2 one (store_row) on the two 256-bit halves of each accumulator, so all four
 * output kinds are bit-identical to the AVX2 kernels.
 */
#include "tessera_i8_gemm_6x16_avx2.h"
#include "tessera_i8_gemm_6x32_avx512vnni.h"

/* Rows [0, live) of a 6-row tile over `panels` (1 or 2) 16-column panels: all kq quads into acc. For edge tiles
 * (fewer rows or one panel), in intrinsics: the extra moves gcc adds matter little there. */
static inline __attribute__((always_inline)) void tile_sums(size_t live, size_t panels, size_t kq,
                                                            const uint32_t *ap, const int8_t *b0p,
                                                            const int8_t *b1p, __m512i acc[MR][2]) {
  for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  for (size_t q = 0; q < kq; q++) {
    const __m512i b0 = _mm512_loadu_si512(b0p + q * 4 * NR);
    const __m512i b1 = panels == 2 ? _mm512_loadu_si512(b1p + q * 4 * NR) : b0;
#pragma GCC unroll 6
    for (size_t r = 0; r < MR; r++) {
      if (r >= live) break;
      const __m512i a = _mm512_set1_epi32((int)ap[q * MR + r]);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a, b0);
      if (panels == 2) acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a, b1);
    }
  }
}

/* The full 6x32 loop in assembly: with intrinsics gcc copies every accumulator to a fresh register before
 * each vpdpbusd (12 extra moves per 12 multiplies). Accumulators zmm0-11, B zmm12-13, A zmm14; acc gets the
 * sums as acc[r][panel]. kq >= 1. */
static inline __attribute__((always_inline)) void loop_6x32(size_t kq, const uint32_t *ap, const int8_t *bp,
                                                            size_t panel_bytes, __m512i acc[MR][2]) {
#define VNNI_ROW(off, lo, hi) VNNI_ROW_AT(#off "(%[a])", lo, hi)
  __asm__ volatile(
      VNNI_ZERO_ACC
      "1:\n\t"
      "vmovdqu64 (%[b]), %%zmm12\n\t"
      "vmovdqu64 (%[b], %[pb]), %%zmm13\n\t"
      VNNI_ROW(0, 0, 1) VNNI_ROW(4, 2, 3) VNNI_ROW(8, 4, 5) VNNI_ROW(12, 6, 7) VNNI_ROW(16, 8, 9) VNNI_ROW(20, 10, 11)
      "add $64, %[b]\n\t"
      "add $24, %[a]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vmovdqu64 %%zmm0, (%[acc])\n\t vmovdqu64 %%zmm1, 64(%[acc])\n\t vmovdqu64 %%zmm2, 128(%[acc])\n\t"
      "vmovdqu64 %%zmm3, 192(%[acc])\n\t vmovdqu64 %%zmm4, 256(%[acc])\n\t vmovdqu64 %%zmm5, 320(%[acc])\n\t"
      "vmovdqu64 %%zmm6, 384(%[acc])\n\t vmovdqu64 %%zmm7, 448(%[acc])\n\t vmovdqu64 %%zmm8, 512(%[acc])\n\t"
      "vmovdqu64 %%zmm9, 576(%[acc])\n\t vmovdqu64 %%zmm10, 640(%[acc])\n\t vmovdqu64 %%zmm11, 704(%[acc])\n\t"
      : [a] "+r"(ap), [b] "+r"(bp), [n] "+r"(kq)
      : [pb] "r"(panel_bytes), [acc] "r"(acc)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14");
#undef VNNI_ROW
}

/* One tile: sums, then the epilogue for its mr rows and one or two panels. live and panels are constants
 * in every call below, so each instance keeps its accumulators in registers. */
static inline __attribute__((always_inline)) void tile(size_t live, size_t panels, size_t kq, const uint32_t *ap,
                                                       const int8_t *bp, size_t panel_bytes, const epilogue_args *e,
                                                       const panel_consts pc[2], uint8_t *c, size_t ldc_bytes,
                                                       size_t ob) {
  __m512i acc[MR][2];
  if (live == MR && panels == 2 && kq > 0) loop_6x32(kq, ap, bp, panel_bytes, acc);
  else tile_sums(live, panels, kq, ap, bp, bp + panel_bytes, acc);
  for (size_t r = 0; r < live; r++) {
    store_panel_row(e, &pc[0], acc[r][0], c + r * ldc_bytes);
    if (panels == 2) store_panel_row(e, &pc[1], acc[r][1], c + r * ldc_bytes + NR * ob);
  }
}

#define TILE_CASES(P)                                                                 \
  switch (mr) {                                                                       \
    case 1: tile(1, P, kq, api, bp, panel_bytes, e, pc, ct, ldc_bytes, ob); break;    \
    case 2: tile(2, P, kq, api, bp, panel_bytes, e, pc, ct, ldc_bytes, ob); break;    \
    case 3: tile(3, P, kq, api, bp, panel_bytes, e, pc, ct, ldc_bytes, ob); break;    \
    case 4: tile(4, P, kq, api, bp, panel_bytes, e, pc, ct, ldc_bytes, ob); break;    \
    case 5: tile(5, P, kq, api, bp, panel_bytes, e, pc, ct, ldc_bytes, ob); break;    \
    default: tile(6, P, kq, api, bp, panel_bytes, e, pc, ct, ldc_bytes, ob); break;   \
  }

void tsr_i8_macro_block__avx512vnni(size_t mc, size_t kq, const uint32_t *ap, const int8_t *packed, size_t j0,
                                    size_t nc, const epilogue_args *e, uint8_t *c, size_t ldc_bytes) {
  const size_t ob = out_bytes_of(e->out_kind), panel_bytes = kq * 4 * NR, j1 = j0 + nc;
  for (size_t j = j0; j < j1; j += 2 * NR) {
    const size_t panels = j1 - j > NR ? 2 : 1;
    panel_consts pc[2];
    panel_setup(e, j, j1 - j < NR ? j1 - j : NR, &pc[0]);
    pc[1] = pc[0]; /* read only with two panels; set so that no path sees it undefined */
    if (panels == 2) panel_setup(e, j + NR, j1 - j - NR < NR ? j1 - j - NR : NR, &pc[1]);
    const int8_t *bp = packed + (j / NR) * panel_bytes;
    for (size_t i = 0; i < mc; i += MR) {
      const size_t mr = mc - i < MR ? mc - i : MR;
      const uint32_t *api = ap + (i / MR) * kq * MR;
      uint8_t *ct = c + i * ldc_bytes + j * ob;
      if (panels == 2) {
        TILE_CASES(2)
      } else {
        TILE_CASES(1)
      }
    }
  }
}

void tsr_i8_gemm_packed_6x32__avx512vnni(size_t m, size_t k, size_t j0, size_t nc, int a_signed, const uint8_t *a,
                                         size_t lda, int32_t a_zero, float a_scale, const int8_t *packed,
                                         const int32_t *colsums, const float *w_scales, const float *bias,
                                         int out_kind, float out_scale, int32_t out_zero, int relu, void *c,
                                         size_t ldc, void *workspace) {
  /* s8 activations are packed as u8 + 128: the zero point moves with them */
  const int32_t za = a_signed ? a_zero + 128 : a_zero;
  const epilogue_args e = {za, a_scale, out_scale, out_zero, out_kind, relu, colsums, w_scales, bias};
  const size_t ldc_bytes = ldc * out_bytes_of(out_kind), mcb = block_rows(k), kq = k_quads(k);
  uint32_t *ap = (uint32_t *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  for (size_t ic = 0; ic < m; ic += mcb) {
    const size_t mc = m - ic < mcb ? m - ic : mcb;
    pack_a_rr(a_signed, mc, k, a + ic * lda, lda, ap);
    tsr_i8_macro_block__avx512vnni(mc, kq, ap, packed, j0, nc, &e, (uint8_t *)c + ic * ldc_bytes, ldc_bytes);
  }
}

/*
 * i8_gemm_6x16__avxvnni: the int8 GEMM of i8-gemm-6x16-avx2.c (u8 or s8 activations, m x k row-major,
 * times pre-packed s8 weights, exact s32 sums, the same fused epilogue) with AVX-VNNI, the VEX-encoded
 * 256-bit vpdpbusd of CPUs that have it without AVX-512 (Intel Alder Lake and later client cores).
 * Needs AVX2 + AVX-VNNI with OS YMM state; Java dispatches here only then.
 *
 * vpdpbusd multiplies 4 u8 by 4 s8 and adds the four exact products to an s32 lane: no s16 saturation, so
 * every s8 weight is exact (the AVX2 reduced-range kernel takes only weights whose pairs fit s16), and one
 * instruction replaces vpmaddubsw + vpmaddwd + vpaddd.
 *
 * Layouts are the AVX2 reduced-range ones (tessera_i8_gemm_6x16_avx2.h), packing shared: B in 16-column
 * panels of 64 bytes per k quad (columns 0..7 x 4 bytes, then 8..15: two ymm whose s32 lane j holds
 * column j's quad), A in 6-row panels of u8 quads (s8 stored as x + 128, the zero point moved with it).
 *
 * Tile 6x16: 12 ymm accumulators + 2 B + 1 A = 15 of 16 registers; 12 independent sums cover vpdpbusd's
 * latency on its 2 ports. Per k quad: 2 B loads + 6 A broadcasts for 12 vpdpbusd (384 multiply-adds).
 * The epilogue is the AVX2 one (store_row): all output kinds are bit-identical to the AVX2 kernels.
 *
 * The emulator test (native/cpu/test/) compiles this file with VPDPBUSD_256 and VPDPBUSD_256_ASM set to
 * the EVEX form of the same instruction, as the emulator has AVX-512 VNNI but not AVX-VNNI; the semantics are identical.
 */
#include "tessera_i8_gemm_6x16_avx2.h"

#include <immintrin.h>

#ifndef VPDPBUSD_256
#define VPDPBUSD_256 _mm256_dpbusd_avx_epi32
#define VPDPBUSD_256_ASM "%{vex%} vpdpbusd" /* braces escaped for inline asm */
#endif

/* The full 6-row loop in assembly: with intrinsics gcc copies every accumulator to a fresh register before
 * each vpdpbusd. Accumulators ymm0-11, B ymm12-13, A ymm14; acc gets the sums as acc[r][half]. kq >= 1. */
static inline __attribute__((always_inline)) void loop_6x16(size_t kq, const uint32_t *ap, const int8_t *bp,
                                                            __m256i acc[MR][2]) {
#define VNNI_ROW(off, lo, hi)                                    \
  "vpbroadcastd " #off "(%[a]), %%ymm14\n\t"                      \
  VPDPBUSD_256_ASM " %%ymm12, %%ymm14, %%ymm" #lo "\n\t"          \
  VPDPBUSD_256_ASM " %%ymm13, %%ymm14, %%ymm" #hi "\n\t"
  __asm__ volatile(
      RR_ZERO_ACC
      "1:\n\t"
      "vmovdqu (%[b]), %%ymm12\n\t"
      "vmovdqu 32(%[b]), %%ymm13\n\t"
      VNNI_ROW(0, 0, 1) VNNI_ROW(4, 2, 3) VNNI_ROW(8, 4, 5) VNNI_ROW(12, 6, 7) VNNI_ROW(16, 8, 9) VNNI_ROW(20, 10, 11)
      "add $64, %[b]\n\t"
      "add $24, %[a]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      RR_STORE_ACC
      : [a] "+r"(ap), [b] "+r"(bp), [n] "+r"(kq)
      : [acc] "r"(acc)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14");
#undef VNNI_ROW
}

/* Rows [0, live) of a 6x16 tile, all kq quads into acc, in intrinsics: for edge tiles, where the extra
 * moves matter little. live is a constant in every call below. */
static inline __attribute__((always_inline)) void tile_sums(size_t live, size_t kq, const uint32_t *ap,
                                                            const int8_t *bp, __m256i acc[MR][2]) {
  for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (size_t q = 0; q < kq; q++) {
    const __m256i b0 = _mm256_loadu_si256((const __m256i *)(bp + q * 4 * NR));
    const __m256i b1 = _mm256_loadu_si256((const __m256i *)(bp + q * 4 * NR + 32));
#pragma GCC unroll 6
    for (size_t r = 0; r < MR; r++) {
      if (r >= live) break;
      const __m256i a = _mm256_set1_epi32((int)ap[q * MR + r]);
      acc[r][0] = VPDPBUSD_256(acc[r][0], a, b0);
      acc[r][1] = VPDPBUSD_256(acc[r][1], a, b1);
    }
  }
}

static inline __attribute__((always_inline)) void tile(size_t live, size_t kq, const uint32_t *ap, const int8_t *bp,
                                                       const epilogue_args *e, const panel_consts *pc, uint8_t *c,
                                                       size_t ldc_bytes) {
  __m256i acc[MR][2];
  if (live == MR && kq > 0) loop_6x16(kq, ap, bp, acc);
  else tile_sums(live, kq, ap, bp, acc);
  for (size_t r = 0; r < live; r++) store_row(e, pc, acc[r][0], acc[r][1], c + r * ldc_bytes);
}

/* The tiles of one packed A block (mc rows) times packed B columns [j0, j0 + nc), into c (the block's row 0). */
static void macro_block__avxvnni(size_t mc, size_t kq, const uint32_t *ap, const int8_t *packed, size_t j0,
                                 size_t nc, const epilogue_args *e, uint8_t *c, size_t ldc_bytes) {
  const size_t ob = out_bytes_of(e->out_kind), panel_bytes = kq * 4 * NR, j1 = j0 + nc;
  for (size_t j = j0; j < j1; j += NR) {
    panel_consts pc;
    panel_setup(e, j, j1 - j < NR ? j1 - j : NR, &pc);
    const int8_t *bp = packed + (j / NR) * panel_bytes;
    for (size_t i = 0; i < mc; i += MR) {
      const size_t mr = mc - i < MR ? mc - i : MR;
      const uint32_t *api = ap + (i / MR) * kq * MR;
      uint8_t *ct = c + i * ldc_bytes + j * ob;
      switch (mr) {
        case 1: tile(1, kq, api, bp, e, &pc, ct, ldc_bytes); break;
        case 2: tile(2, kq, api, bp, e, &pc, ct, ldc_bytes); break;
        case 3: tile(3, kq, api, bp, e, &pc, ct, ldc_bytes); break;
        case 4: tile(4, kq, api, bp, e, &pc, ct, ldc_bytes); break;
        case 5: tile(5, kq, api, bp, e, &pc, ct, ldc_bytes); break;
        default: tile(6, kq, api, bp, e, &pc, ct, ldc_bytes); break;
      }
    }
  }
}

void tsr_i8_gemm_packed_6x16__avxvnni(size_t m, size_t k, size_t j0, size_t nc, int a_signed, const uint8_t *a,
                                      size_t lda, int32_t a_zero, float a_scale, const int8_t *packed,
                                      const int32_t *colsums, const float *w_scales, const float *bias, int out_kind,
                                      float out_scale, int32_t out_zero, int relu, void *c, size_t ldc,
                                      void *workspace) {
  /* s8 activations are packed as u8 + 128: the zero point moves with them */
  const int32_t za = a_signed ? a_zero + 128 : a_zero;
  const epilogue_args e = {za, a_scale, out_scale, out_zero, out_kind, relu, colsums, w_scales, bias};
  const size_t ldc_bytes = ldc * out_bytes_of(out_kind), mcb = block_rows(k), kq = k_quads(k);
  uint32_t *ap = (uint32_t *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  for (size_t ic = 0; ic < m; ic += mcb) {
    const size_t mc = m - ic < mcb ? m - ic : mcb;
    pack_a_rr(a_signed, mc, k, a + ic * lda, lda, ap);
    macro_block__avxvnni(mc, kq, ap, packed, j0, nc, &e, (uint8_t *)c + ic * ldc_bytes, ldc_bytes);
  }
}

/*
 * i8_gemm_6x16__avx2: int8 GEMM, activations u8 or s8 (m x k, row-major) times pre-packed s8 weights
 * (k x n), exact s32 accumulation, with a fused epilogue: s32, dequantized f32, or requantized u8/s8.
 *
 * Two kernels, chosen per packed weight matrix:
 *  - rr (reduced range, i8_gemm_6x16_rr__avx2): vpmaddubsw (u8 x s8 -> s16 pair sums) then vpmaddwd by
 *    ones -> s32. vpmaddubsw SATURATES when a pair leaves s16 (255*127*2 does), so packing checks every
 *    weight pair: the rr layout is used only when 255 * (sum of the pair's same-sign weights) fits s16,
 *    which makes saturation impossible for any u8 activations (s8 ones are stored as u8 + 128). 7-bit
 *    weights ([-64, 64]) always pass. Measured here ~110-150 GOP/s single-threaded (bench/RESULTS.md).
 *  - exact widening (i8_gemm_6x16__avx2), for all other weights: both operands widened to s16 and
 *    multiplied with vpmaddwd (s16 x s16 pairs -> s32), exact for every int8 input. The same multiplies per
 *    step as rr, but twice the steps and one add per multiply; on Zen 3 it runs near our fp32 GEMM.
 *
 * Layouts (k_pad = k rounded up to even; pairs of k are the unit of vpmaddwd):
 *   packed B: 16-column panels; panel jp holds, for each k pair q, 32 bytes: columns 0..7 as
 *             (B[2q][j], B[2q+1][j]) byte pairs, then columns 8..15. vpmovsxbw widens 16 bytes to the
 *             16 s16 lanes vpmaddwd wants. Zero padding past n and k. 1 byte per weight in memory.
 *   packed A: 6-row panels; for each k pair q, 6 int32 words (A[r][2q] | A[r][2q+1] << 16) as s16 pairs,
 *             broadcast with vpbroadcastd. Rows past m are zero.
 *   rr layouts: the same with quads of k instead of pairs: B 64 bytes per quad (8 columns x 4 bytes, twice),
 *             A one u8 quad word per row per quad.
 *
 * Loop nest (single thread; Java splits C over the pool): for each block of MC(k) rows, pack A once
 * (MC x k_pad s16 <= 192 KiB: it stays in L2); for each 16-column panel of B (16 x k_pad bytes, L2);
 * for each 6-row panel: the microkernel runs all of k with its 12 accumulators in registers, then the
 * epilogue. No k blocking, so no s32 scratch and the epilogue sees the finished sum. Per k pair the
 * microkernel issues 12 vpmaddwd + 12 vpaddd + 2 vpmovsxbw + 6 broadcasts for 192 multiply-adds; it reads
 * ~9 bytes per cycle from L2, well under what L2 delivers. Registers: 12 accumulators + 2 B + A + product.
 *
 * Exactness: |A - za| <= 255 and |B| <= 128, so |sum| <= 32640 k < 2^31 for k <= 65793 (TSR_I8_GEMM_MAX_K).
 * The zero-point correction acc - za * colsum is computed with wrapping 32-bit arithmetic; its true value
 * is the sum of (A - za) * B, which fits, so the wrapped result is exact.
 */
#include "tessera_i8_gemm_6x16_avx2.h"


size_t tsr_i8_gemm_packed_b_bytes_6x16__avx2(size_t k, size_t n) {
  return (n + NR - 1) / NR * k_pairs(k) * 2 * NR;
}

size_t tsr_i8_gemm_workspace_bytes__avx2(size_t k) { return block_rows(k) * k_pairs(k) * 4 + 64; }

void tsr_i8_gemm_pack_b_6x16__avx2(int trans_b, size_t k, size_t n, const int8_t *b, size_t ldb,
                                   int8_t *packed, int32_t *colsums) {
  const size_t kq = k_pairs(k);
  for (size_t jp = 0; jp < (n + NR - 1) / NR; jp++) {
    int8_t *panel = packed + jp * kq * 2 * NR;
    for (size_t c = 0; c < NR; c++) {
      const size_t j = jp * NR + c;
      int32_t sum = 0;
      for (size_t p = 0; p < 2 * kq; p++) {
        int8_t v = 0;
        if (j < n && p < k) v = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += v;
        panel[(p / 2) * 2 * NR + (c / 8) * 16 + (c % 8) * 2 + (p % 2)] = v;
      }
      if (j < n) colsums[j] = sum;
    }
  }
}

size_t tsr_i8_gemm_packed_b_bytes_rr_6x16__avx2(size_t k, size_t n) {
  return (n + NR - 1) / NR * k_quads(k) * 4 * NR;
}

int tsr_i8_gemm_pack_b_rr_6x16__avx2(int trans_b, size_t k, size_t n, const int8_t *b, size_t ldb, int8_t *packed,
                                     int32_t *colsums) {
  const size_t kq = k_quads(k);
  int fits = 1;
  for (size_t jp = 0; jp < (n + NR - 1) / NR; jp++) {
    int8_t *panel = packed + jp * kq * 4 * NR;
    for (size_t c = 0; c < NR; c++) {
      const size_t j = jp * NR + c;
      int32_t sum = 0, pos = 0, neg = 0;
      for (size_t p = 0; p < 4 * kq; p++) {
        int8_t v = 0;
        if (j < n && p < k) v = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += v;
        if (v > 0) pos += v; else neg += v;
        if (p % 2 == 1) { /* a vpmaddubsw pair: u8 activations up to 255 must not leave s16 */
          if (255 * pos > 32767 || 255 * neg < -32768) fits = 0;
          pos = neg = 0;
        }
        panel[(p / 4) * 4 * NR + (c / 8) * 32 + (c % 8) * 4 + (p % 4)] = v;
      }
      if (j < n) colsums[j] = sum;
    }
  }
  return fits;
}

void tsr_i8_gemm_packed_6x16__avx2(int reduced_range, size_t m, size_t k, size_t j0, size_t nc, int a_signed,
                                   const uint8_t *a, size_t lda, int32_t a_zero, float a_scale, const int8_t *packed,
                                   const int32_t *colsums, const float *w_scales, const float *bias, int out_kind,
                                   float out_scale, int32_t out_zero, int relu, void *c, size_t ldc,
                                   void *workspace) {
  /* reduced range stores s8 activations as u8 + 128: the zero point moves with them */
  const int32_t za = reduced_range && a_signed ? a_zero + 128 : a_zero;
  const epilogue_args e = {za, a_scale, out_scale, out_zero, out_kind, relu, colsums, w_scales, bias};
  const size_t ldc_bytes = ldc * out_bytes_of(out_kind), mcb = block_rows(k);
  const size_t steps = reduced_range ? k_quads(k) : k_pairs(k); /* microkernel steps over k */
  uint32_t *ap = (uint32_t *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  for (size_t ic = 0; ic < m; ic += mcb) {
    const size_t mc = m - ic < mcb ? m - ic : mcb;
    if (reduced_range) pack_a_rr(a_signed, mc, k, a + ic * lda, lda, ap);
    else pack_a(a_signed, mc, k, a + ic * lda, lda, ap);
    macro_block(reduced_range, mc, steps, ap, packed, j0, nc, &e, (uint8_t *)c + ic * ldc_bytes, ldc_bytes);
  }
}

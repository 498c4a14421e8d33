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
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

#define MR 6
#define NR 16
#define A_BLOCK_BYTES (192 * 1024) /* packed A block budget: leaves L2 room for a B panel */

static size_t k_pairs(size_t k) { return (k + 1) / 2; }
static size_t k_quads(size_t k) { return (k + 3) / 4; }

/* Rows of A per packed block for this k: as many 6-row panels as fit the budget, at least one. */
static size_t block_rows(size_t k) {
  size_t rows = A_BLOCK_BYTES / (4 * k_pairs(k) + 4) / MR * MR;
  if (rows < MR) rows = MR;
  if (rows > 240) rows = 240;
  return rows;
}

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

/* Rows [0, mc) of A into 6-row panels of s16 pairs (zero-extended u8 or sign-extended s8). */
static void pack_a(int a_signed, size_t mc, size_t k, const uint8_t *a, size_t lda, uint32_t *ap) {
  const size_t kq = k_pairs(k);
  for (size_t i = 0; i < mc; i += MR, ap += kq * MR) {
    for (size_t r = 0; r < MR; r++) {
      if (i + r >= mc) {
        for (size_t q = 0; q < kq; q++) ap[q * MR + r] = 0;
        continue;
      }
      const uint8_t *row = a + (i + r) * lda;
      for (size_t q = 0; q < kq; q++) {
        const size_t p = 2 * q;
        uint32_t lo = a_signed ? (uint16_t)(int16_t)(int8_t)row[p] : row[p];
        uint32_t hi = p + 1 < k ? (a_signed ? (uint16_t)(int16_t)(int8_t)row[p + 1] : row[p + 1]) : 0;
        ap[q * MR + r] = lo | hi << 16;
      }
    }
  }
}

/* Rows [0, mc) of A into 6-row panels of u8 quads; s8 is stored as u8 (x + 128) and its zero point
 * shifted by 128 by the caller, so the sum is unchanged. */
static void pack_a_rr(int a_signed, size_t mc, size_t k, const uint8_t *a, size_t lda, uint32_t *ap) {
  const size_t kq = k_quads(k);
  const uint8_t flip = a_signed ? 0x80 : 0;
  for (size_t i = 0; i < mc; i += MR, ap += kq * MR) {
    for (size_t r = 0; r < MR; r++) {
      if (i + r >= mc) {
        for (size_t q = 0; q < kq; q++) ap[q * MR + r] = 0;
        continue;
      }
      const uint8_t *row = a + (i + r) * lda;
      const uint32_t flip4 = flip * 0x01010101u;
      size_t q = 0;
      for (; 4 * q + 4 <= k; q++) { /* whole quads: one 32-bit copy each */
        uint32_t word;
        memcpy(&word, row + 4 * q, 4);
        ap[q * MR + r] = word ^ flip4;
      }
      for (; q < kq; q++) { /* the last partial quad; padding past k multiplies zero weights */
        uint32_t word = 0;
        for (size_t t = 0; t < 4; t++) {
          const size_t p = 4 * q + t;
          word |= (uint32_t)(p < k ? (uint8_t)(row[p] ^ flip) : flip) << (8 * t);
        }
        ap[q * MR + r] = word;
      }
    }
  }
}

/* The epilogue's per-call constants. */
typedef struct {
  int32_t za;
  float a_scale, out_scale;
  int32_t out_zero;
  int out_kind, relu;
  const int32_t *colsums;
  const float *w_scales, *bias;
} epilogue_args;

/* Row r of a tile: 16 s32 accumulators (two vectors) -> the output at dst, columns [j, j + nr). */
static inline void store_row(const epilogue_args *e, __m256i acc0, __m256i acc1, size_t j, size_t nr, void *dst) {
  const __m256i za = _mm256_set1_epi32(e->za);
  /* acc - za * colsum (wrapping, exact; see the header). colsums past n are never read: nr bounds them. */
  int32_t cs[NR] = {0};
  memcpy(cs, e->colsums + j, nr * sizeof(int32_t));
  acc0 = _mm256_sub_epi32(acc0, _mm256_mullo_epi32(za, _mm256_loadu_si256((const __m256i *)cs)));
  acc1 = _mm256_sub_epi32(acc1, _mm256_mullo_epi32(za, _mm256_loadu_si256((const __m256i *)(cs + 8))));
  if (e->out_kind == TSR_I8_OUT_S32 && nr == NR) {
    _mm256_storeu_si256((__m256i *)dst, acc0);
    _mm256_storeu_si256((__m256i *)dst + 1, acc1);
    return;
  }
  if (e->out_kind == TSR_I8_OUT_S32) {
    int32_t out[NR];
    _mm256_storeu_si256((__m256i *)out, acc0);
    _mm256_storeu_si256((__m256i *)(out + 8), acc1);
    memcpy(dst, out, nr * sizeof(int32_t));
    return;
  }
  float ws[NR] = {0}, bias[NR] = {0};
  memcpy(ws, e->w_scales + j, nr * sizeof(float));
  if (e->bias) memcpy(bias, e->bias + j, nr * sizeof(float));
  const __m256 sa = _mm256_set1_ps(e->a_scale);
  __m256 m0 = _mm256_mul_ps(sa, _mm256_loadu_ps(ws)), m1 = _mm256_mul_ps(sa, _mm256_loadu_ps(ws + 8));
  __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
  if (e->out_kind != TSR_I8_OUT_F32) { /* requantize: (sa * sw) / so and bias / so, as the contract says */
    const __m256 so = _mm256_set1_ps(e->out_scale);
    m0 = _mm256_div_ps(m0, so);
    m1 = _mm256_div_ps(m1, so);
    b0 = _mm256_div_ps(b0, so);
    b1 = _mm256_div_ps(b1, so);
  }
  __m256 y0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc0), m0, b0);
  __m256 y1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc1), m1, b1);
  if (e->out_kind == TSR_I8_OUT_F32) {
    if (e->relu) { /* max(y, 0) with NaN kept: the NaN operand goes second */
      y0 = _mm256_max_ps(_mm256_setzero_ps(), y0);
      y1 = _mm256_max_ps(_mm256_setzero_ps(), y1);
    }
    float out[NR];
    _mm256_storeu_ps(out, y0);
    _mm256_storeu_ps(out + 8, y1);
    memcpy(dst, out, nr * sizeof(float));
    return;
  }
  /* Clamp in the float domain to [lo - zo, hi - zo] (integers, so clamping before rounding equals
   * clamping after), round half to even (the default MXCSR mode), add the zero point. */
  const int s8 = e->out_kind == TSR_I8_OUT_S8;
  int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
  if (e->relu && e->out_zero > lo) lo = e->out_zero;
  const __m256 flo = _mm256_set1_ps((float)(lo - e->out_zero)), fhi = _mm256_set1_ps((float)(hi - e->out_zero));
  y0 = _mm256_min_ps(_mm256_max_ps(y0, flo), fhi);
  y1 = _mm256_min_ps(_mm256_max_ps(y1, flo), fhi);
  const __m256i zo = _mm256_set1_epi32(e->out_zero);
  __m256i q0 = _mm256_add_epi32(_mm256_cvtps_epi32(y0), zo), q1 = _mm256_add_epi32(_mm256_cvtps_epi32(y1), zo);
  int32_t q[NR];
  _mm256_storeu_si256((__m256i *)q, q0);
  _mm256_storeu_si256((__m256i *)(q + 8), q1);
  uint8_t *out = dst;
  for (size_t c = 0; c < nr; c++) out[c] = (uint8_t)q[c]; /* in range by the clamp */
}

/* One accumulator row: acc += a-pair broadcast x both B vectors. */
#define ROW(r)                                                         \
  if (LIVE > r) {                                                      \
    const __m256i a = _mm256_set1_epi32((int)ap[q * MR + r]);          \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(a, b0));     \
    c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(a, b1));     \
  }

/* The (MRC x 16) microkernel over all k pairs, then the epilogue for its mr <= MRC live rows. MRC is a
 * compile-time constant in each instance, so rows beyond it cost nothing (small m, edge tiles). */
#define DEFINE_TILE(MRC)                                                                                    \
  static void tile_##MRC(size_t kq, const uint32_t *ap, const int8_t *bp, const epilogue_args *e, size_t j,  \
                         size_t mr, size_t nr, uint8_t *c, size_t ldc_bytes, size_t out_bytes) {             \
    enum { LIVE = MRC };                                                                                    \
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;           \
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;                               \
    for (size_t q = 0; q < kq; q++) {                                                                       \
      const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bp + q * 2 * NR)));       \
      const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bp + q * 2 * NR + 16)));  \
      ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)                                                             \
    }                                                                                                       \
    const __m256i rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};  \
    for (size_t r = 0; r < mr; r++) store_row(e, rows[r][0], rows[r][1], j, nr, c + r * ldc_bytes + j * out_bytes); \
  }

/* The full 6-row reduced-range loop in assembly: with intrinsics gcc needs 17 registers (12 accumulators,
 * 2 B, A, a product, the ones vector) and spills 4 accumulators through the stack every step. Here the
 * ones vector is a memory operand, so 16 registers suffice and nothing spills. */
static const int16_t ONES16[16] __attribute__((aligned(32))) = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

#define RR_ROW(off, lo, hi)                      \
  "vpbroadcastd " #off "(%[a]), %%ymm14\n\t"     \
  "vpmaddubsw %%ymm12, %%ymm14, %%ymm15\n\t"     \
  "vpmaddwd %[ones], %%ymm15, %%ymm15\n\t"       \
  "vpaddd %%ymm15, %%ymm" #lo ", %%ymm" #lo "\n\t" \
  "vpmaddubsw %%ymm13, %%ymm14, %%ymm15\n\t"     \
  "vpmaddwd %[ones], %%ymm15, %%ymm15\n\t"       \
  "vpaddd %%ymm15, %%ymm" #hi ", %%ymm" #hi "\n\t"

/* acc[12] = the 6x16 tile's accumulators (row-major pairs of vectors), summed over kq >= 1 quads. */
static void rr_loop_6(size_t kq, const uint32_t *ap, const int8_t *bp, __m256i acc[12]) {
  __asm__ volatile(
      "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
      "vmovdqa %%ymm0, %%ymm1\n\t vmovdqa %%ymm0, %%ymm2\n\t vmovdqa %%ymm0, %%ymm3\n\t"
      "vmovdqa %%ymm0, %%ymm4\n\t vmovdqa %%ymm0, %%ymm5\n\t vmovdqa %%ymm0, %%ymm6\n\t"
      "vmovdqa %%ymm0, %%ymm7\n\t vmovdqa %%ymm0, %%ymm8\n\t vmovdqa %%ymm0, %%ymm9\n\t"
      "vmovdqa %%ymm0, %%ymm10\n\t vmovdqa %%ymm0, %%ymm11\n\t"
      "1:\n\t"
      "vmovdqu (%[b]), %%ymm12\n\t"
      "vmovdqu 32(%[b]), %%ymm13\n\t"
      RR_ROW(0, 0, 1) RR_ROW(4, 2, 3) RR_ROW(8, 4, 5) RR_ROW(12, 6, 7) RR_ROW(16, 8, 9) RR_ROW(20, 10, 11)
      "add $64, %[b]\n\t"
      "add $24, %[a]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vmovdqu %%ymm0, (%[acc])\n\t vmovdqu %%ymm1, 32(%[acc])\n\t vmovdqu %%ymm2, 64(%[acc])\n\t"
      "vmovdqu %%ymm3, 96(%[acc])\n\t vmovdqu %%ymm4, 128(%[acc])\n\t vmovdqu %%ymm5, 160(%[acc])\n\t"
      "vmovdqu %%ymm6, 192(%[acc])\n\t vmovdqu %%ymm7, 224(%[acc])\n\t vmovdqu %%ymm8, 256(%[acc])\n\t"
      "vmovdqu %%ymm9, 288(%[acc])\n\t vmovdqu %%ymm10, 320(%[acc])\n\t vmovdqu %%ymm11, 352(%[acc])\n\t"
      : [a] "+r"(ap), [b] "+r"(bp), [n] "+r"(kq)
      : [ones] "m"(*(const __m256i *)ONES16), [acc] "r"(acc)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* Reduced-range microkernel: u8 x s8 quads with vpmaddubsw (pairs provably within s16, checked at pack
 * time), widened and summed with vpmaddwd by ones. 384 multiply-adds per step for 24 multiplies. */
#define ROW_RR(r)                                                                                \
  if (LIVE > r) {                                                                                \
    const __m256i a = _mm256_set1_epi32((int)ap[q * MR + r]);                                    \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b0), ones));   \
    c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b1), ones));   \
  }

#define DEFINE_TILE_RR(MRC)                                                                                 \
  static void tile_rr_##MRC(size_t kq, const uint32_t *ap, const int8_t *bp, const epilogue_args *e, size_t j, \
                            size_t mr, size_t nr, uint8_t *c, size_t ldc_bytes, size_t out_bytes) {          \
    enum { LIVE = MRC };                                                                                    \
    const __m256i ones = _mm256_set1_epi16(1);                                                              \
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;           \
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;                               \
    if (LIVE == MR && kq > 0) {                                                                             \
      __m256i acc[12];                                                                                      \
      rr_loop_6(kq, ap, bp, acc);                                                                           \
      c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3], c20 = acc[4], c21 = acc[5];                   \
      c30 = acc[6], c31 = acc[7], c40 = acc[8], c41 = acc[9], c50 = acc[10], c51 = acc[11];                 \
    } else {                                                                                                \
      for (size_t q = 0; q < kq; q++) {                                                                     \
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(bp + q * 4 * NR));                         \
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(bp + q * 4 * NR + 32));                    \
        ROW_RR(0) ROW_RR(1) ROW_RR(2) ROW_RR(3) ROW_RR(4) ROW_RR(5)                                         \
      }                                                                                                     \
    }                                                                                                       \
    const __m256i rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};  \
    for (size_t r = 0; r < mr; r++) store_row(e, rows[r][0], rows[r][1], j, nr, c + r * ldc_bytes + j * out_bytes); \
  }

DEFINE_TILE_RR(1)
DEFINE_TILE_RR(2)
DEFINE_TILE_RR(3)
DEFINE_TILE_RR(4)
DEFINE_TILE_RR(5)
DEFINE_TILE_RR(6)

DEFINE_TILE(1)
DEFINE_TILE(2)
DEFINE_TILE(3)
DEFINE_TILE(4)
DEFINE_TILE(5)
DEFINE_TILE(6)

static size_t out_bytes_of(int kind) { return kind == TSR_I8_OUT_S32 || kind == TSR_I8_OUT_F32 ? 4 : 1; }

void tsr_i8_gemm_packed_6x16__avx2(int reduced_range, size_t m, size_t k, size_t j0, size_t nc, int a_signed,
                                   const uint8_t *a, size_t lda, int32_t a_zero, float a_scale, const int8_t *packed,
                                   const int32_t *colsums, const float *w_scales, const float *bias, int out_kind,
                                   float out_scale, int32_t out_zero, int relu, void *c, size_t ldc,
                                   void *workspace) {
  /* reduced range stores s8 activations as u8 + 128: the zero point moves with them */
  const int32_t za = reduced_range && a_signed ? a_zero + 128 : a_zero;
  const epilogue_args e = {za, a_scale, out_scale, out_zero, out_kind, relu, colsums, w_scales, bias};
  const size_t ob = out_bytes_of(out_kind), ldc_bytes = ldc * ob, mcb = block_rows(k);
  const size_t steps = reduced_range ? k_quads(k) : k_pairs(k); /* microkernel steps over k */
  const size_t panel_bytes = steps * (reduced_range ? 4 : 2) * NR;
  uint32_t *ap = (uint32_t *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  for (size_t ic = 0; ic < m; ic += mcb) {
    const size_t mc = m - ic < mcb ? m - ic : mcb;
    if (reduced_range) pack_a_rr(a_signed, mc, k, a + ic * lda, lda, ap);
    else pack_a(a_signed, mc, k, a + ic * lda, lda, ap);
    uint8_t *cblock = (uint8_t *)c + ic * ldc_bytes;
    for (size_t j = j0; j < j0 + nc; j += NR) {
      const int8_t *bp = packed + (j / NR) * panel_bytes;
      const size_t nr = j0 + nc - j < NR ? j0 + nc - j : NR;
      for (size_t i = 0; i < mc; i += MR) {
        const size_t mr = mc - i < MR ? mc - i : MR;
        const uint32_t *api = ap + (i / MR) * steps * MR;
        uint8_t *ct = cblock + i * ldc_bytes;
#define CALL(T) T(steps, api, bp, &e, j, mr, nr, ct, ldc_bytes, ob)
        if (reduced_range) {
          switch (mr) {
            case 1: CALL(tile_rr_1); break;
            case 2: CALL(tile_rr_2); break;
            case 3: CALL(tile_rr_3); break;
            case 4: CALL(tile_rr_4); break;
            case 5: CALL(tile_rr_5); break;
            default: CALL(tile_rr_6); break;
          }
        } else {
          switch (mr) {
            case 1: CALL(tile_1); break;
            case 2: CALL(tile_2); break;
            case 3: CALL(tile_3); break;
            case 4: CALL(tile_4); break;
            case 5: CALL(tile_5); break;
            default: CALL(tile_6); break;
          }
        }
#undef CALL
      }
    }
  }
}

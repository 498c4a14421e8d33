/*
 * The 6x16 int8 GEMM core shared by the GEMM driver (i8-gemm-6x16-avx2.c) and the implicit-GEMM int8
 * convolution (i8-conv2d-igemm-6x16-avx2.c): block sizes, A packing, the epilogue, the microkernels and the
 * macro-kernel over one packed A block. Everything is static: each AVX2 translation unit that includes it
 * gets its own copy. Include only from files compiled with the AVX2 flags. Layouts, exactness and design
 * notes are in i8-gemm-6x16-avx2.c.
 */
#ifndef TESSERA_I8_GEMM_6X16_AVX2_H
#define TESSERA_I8_GEMM_6X16_AVX2_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

#define MR 6
#define NR 16
#define A_BLOCK_BYTES (192 * 1024) /* packed A block budget: leaves L2 room for a B panel */

static inline size_t k_pairs(size_t k) { return (k + 1) / 2; }
static inline size_t k_quads(size_t k) { return (k + 3) / 4; }

/* Rows of A per packed block for this k: as many 6-row panels as fit the budget, at least one. */
static inline size_t block_rows(size_t k) {
  size_t rows = A_BLOCK_BYTES / (4 * k_pairs(k) + 4) / MR * MR;
  if (rows < MR) rows = MR;
  if (rows > 240) rows = 240;
  return rows;
}


/* Rows [0, mc) of A into 6-row panels of s16 pairs (zero-extended u8 or sign-extended s8). */
static inline void pack_a(int a_signed, size_t mc, size_t k, const uint8_t *a, size_t lda, uint32_t *ap) {
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
static inline void pack_a_rr(int a_signed, size_t mc, size_t k, const uint8_t *a, size_t lda, uint32_t *ap) {
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

/* The epilogue's constants for one 16-column panel [j, j + nr), computed once per panel rather than per row
 * (with a short k, the six rows' divisions and loads cost as much as a quarter of the microkernel). */
typedef struct {
  size_t nr;
  __m256i zc0, zc1;         /* za * colsum, wrapping */
  __m256 m0, m1, b0, b1;    /* a_scale * w_scale (/ out_scale) and bias (/ out_scale) */
  __m256 lo, hi;            /* requantization clamp, zero point subtracted */
  __m256i zo;
} panel_consts;

static inline void panel_setup(const epilogue_args *e, size_t j, size_t nr, panel_consts *p) {
  *p = (panel_consts){0}; /* the fields an output kind does not use stay defined */
  p->nr = nr;
  /* colsums, scales and bias past n are never read: nr bounds the copies */
  int32_t cs[NR] = {0};
  memcpy(cs, e->colsums + j, nr * sizeof(int32_t));
  const __m256i za = _mm256_set1_epi32(e->za);
  p->zc0 = _mm256_mullo_epi32(za, _mm256_loadu_si256((const __m256i *)cs));
  p->zc1 = _mm256_mullo_epi32(za, _mm256_loadu_si256((const __m256i *)(cs + 8)));
  if (e->out_kind == TSR_I8_OUT_S32) return;
  float ws[NR] = {0}, bias[NR] = {0};
  memcpy(ws, e->w_scales + j, nr * sizeof(float));
  if (e->bias) memcpy(bias, e->bias + j, nr * sizeof(float));
  const __m256 sa = _mm256_set1_ps(e->a_scale);
  p->m0 = _mm256_mul_ps(sa, _mm256_loadu_ps(ws));
  p->m1 = _mm256_mul_ps(sa, _mm256_loadu_ps(ws + 8));
  p->b0 = _mm256_loadu_ps(bias);
  p->b1 = _mm256_loadu_ps(bias + 8);
  if (e->out_kind == TSR_I8_OUT_F32) return;
  /* requantize: (sa * sw) / so and bias / so, as the contract says */
  const __m256 so = _mm256_set1_ps(e->out_scale);
  p->m0 = _mm256_div_ps(p->m0, so);
  p->m1 = _mm256_div_ps(p->m1, so);
  p->b0 = _mm256_div_ps(p->b0, so);
  p->b1 = _mm256_div_ps(p->b1, so);
  /* Clamp in the float domain to [lo - zo, hi - zo] (integers, so clamping before rounding equals clamping
   * after); lo is the zero point with ReLU. */
  const int s8 = e->out_kind == TSR_I8_OUT_S8;
  int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
  if (e->relu && e->out_zero > lo) lo = e->out_zero;
  p->lo = _mm256_set1_ps((float)(lo - e->out_zero));
  p->hi = _mm256_set1_ps((float)(hi - e->out_zero));
  p->zo = _mm256_set1_epi32(e->out_zero);
}

/* One row of a tile: 16 s32 accumulators (two vectors) -> the output at dst, the panel's nr columns. */
static inline void store_row(const epilogue_args *e, const panel_consts *p, __m256i acc0, __m256i acc1, void *dst) {
  /* acc - za * colsum (wrapping, exact; see the header) */
  acc0 = _mm256_sub_epi32(acc0, p->zc0);
  acc1 = _mm256_sub_epi32(acc1, p->zc1);
  const size_t nr = p->nr;
  if (e->out_kind == TSR_I8_OUT_S32) {
    if (nr == NR) {
      _mm256_storeu_si256((__m256i *)dst, acc0);
      _mm256_storeu_si256((__m256i *)dst + 1, acc1);
      return;
    }
    int32_t out[NR];
    _mm256_storeu_si256((__m256i *)out, acc0);
    _mm256_storeu_si256((__m256i *)(out + 8), acc1);
    memcpy(dst, out, nr * sizeof(int32_t));
    return;
  }
  __m256 y0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc0), p->m0, p->b0);
  __m256 y1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc1), p->m1, p->b1);
  if (e->out_kind == TSR_I8_OUT_F32) {
    if (e->relu) { /* max(y, 0) with NaN kept: the NaN operand goes second */
      y0 = _mm256_max_ps(_mm256_setzero_ps(), y0);
      y1 = _mm256_max_ps(_mm256_setzero_ps(), y1);
    }
    if (nr == NR) {
      _mm256_storeu_ps((float *)dst, y0);
      _mm256_storeu_ps((float *)dst + 8, y1);
      return;
    }
    float out[NR];
    _mm256_storeu_ps(out, y0);
    _mm256_storeu_ps(out + 8, y1);
    memcpy(dst, out, nr * sizeof(float));
    return;
  }
  /* clamp, round half to even (the default MXCSR mode), add the zero point */
  y0 = _mm256_min_ps(_mm256_max_ps(y0, p->lo), p->hi);
  y1 = _mm256_min_ps(_mm256_max_ps(y1, p->lo), p->hi);
  const __m256i q0 = _mm256_add_epi32(_mm256_cvtps_epi32(y0), p->zo);
  const __m256i q1 = _mm256_add_epi32(_mm256_cvtps_epi32(y1), p->zo);
  /* 16 s32 in [-128, 255] -> 16 bytes in column order: the packs cannot saturate after the clamp */
  const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
  const __m128i lo = _mm256_castsi256_si128(w16), hi = _mm256_extracti128_si256(w16, 1);
  const __m128i b = e->out_kind == TSR_I8_OUT_S8 ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi);
  if (nr == NR) {
    _mm_storeu_si128((__m128i *)dst, b);
    return;
  }
  uint8_t out[NR];
  _mm_storeu_si128((__m128i *)out, b);
  memcpy(dst, out, nr);
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
  static inline void tile_##MRC(size_t kq, const uint32_t *ap, const int8_t *bp, const epilogue_args *e,               \
                         const panel_consts *pc, size_t mr, uint8_t *c, size_t ldc_bytes) {             \
    enum { LIVE = MRC };                                                                                    \
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;           \
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;                               \
    for (size_t q = 0; q < kq; q++) {                                                                       \
      const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bp + q * 2 * NR)));       \
      const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bp + q * 2 * NR + 16)));  \
      ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)                                                             \
    }                                                                                                       \
    const __m256i rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};  \
    for (size_t r = 0; r < mr; r++) store_row(e, pc, rows[r][0], rows[r][1], c + r * ldc_bytes); \
  }

/* The full 6-row reduced-range loop in assembly: with intrinsics gcc needs 17 registers (12 accumulators,
 * 2 B, A, a product, the ones vector) and spills 4 accumulators through the stack every step. Here the
 * ones vector is a memory operand, so 16 registers suffice and nothing spills. */
static const int16_t ONES16[16] __attribute__((aligned(32))) = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* One accumulator row of the reduced-range loops: 4 u8 at memory operand `src` broadcast, times both B vectors
 * (ymm12, ymm13), widened by the ones vector, into accumulators ymm<lo>, ymm<hi>. */
#define RR_ROW_AT(src, lo, hi)                   \
  "vpbroadcastd " src ", %%ymm14\n\t"            \
  "vpmaddubsw %%ymm12, %%ymm14, %%ymm15\n\t"     \
  "vpmaddwd %[ones], %%ymm15, %%ymm15\n\t"       \
  "vpaddd %%ymm15, %%ymm" #lo ", %%ymm" #lo "\n\t" \
  "vpmaddubsw %%ymm13, %%ymm14, %%ymm15\n\t"     \
  "vpmaddwd %[ones], %%ymm15, %%ymm15\n\t"       \
  "vpaddd %%ymm15, %%ymm" #hi ", %%ymm" #hi "\n\t"
#define RR_ROW(off, lo, hi) RR_ROW_AT(#off "(%[a])", lo, hi)

/* The 12 accumulators ymm0-11: zeroed before a reduced-range loop, stored to %[acc] (12 vectors) after it. */
#define RR_ZERO_ACC                                                                     \
  "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"                                                     \
  "vmovdqa %%ymm0, %%ymm1\n\t vmovdqa %%ymm0, %%ymm2\n\t vmovdqa %%ymm0, %%ymm3\n\t"     \
  "vmovdqa %%ymm0, %%ymm4\n\t vmovdqa %%ymm0, %%ymm5\n\t vmovdqa %%ymm0, %%ymm6\n\t"     \
  "vmovdqa %%ymm0, %%ymm7\n\t vmovdqa %%ymm0, %%ymm8\n\t vmovdqa %%ymm0, %%ymm9\n\t"     \
  "vmovdqa %%ymm0, %%ymm10\n\t vmovdqa %%ymm0, %%ymm11\n\t"
#define RR_STORE_ACC                                                                                  \
  "vmovdqu %%ymm0, (%[acc])\n\t vmovdqu %%ymm1, 32(%[acc])\n\t vmovdqu %%ymm2, 64(%[acc])\n\t"       \
  "vmovdqu %%ymm3, 96(%[acc])\n\t vmovdqu %%ymm4, 128(%[acc])\n\t vmovdqu %%ymm5, 160(%[acc])\n\t"   \
  "vmovdqu %%ymm6, 192(%[acc])\n\t vmovdqu %%ymm7, 224(%[acc])\n\t vmovdqu %%ymm8, 256(%[acc])\n\t"  \
  "vmovdqu %%ymm9, 288(%[acc])\n\t vmovdqu %%ymm10, 320(%[acc])\n\t vmovdqu %%ymm11, 352(%[acc])\n\t"

/* acc[12] = the 6x16 tile's accumulators (row-major pairs of vectors), summed over kq >= 1 quads. */
static inline void rr_loop_6(size_t kq, const uint32_t *ap, const int8_t *bp, __m256i acc[12]) {
  __asm__ volatile(
      RR_ZERO_ACC
      "1:\n\t"
      "vmovdqu (%[b]), %%ymm12\n\t"
      "vmovdqu 32(%[b]), %%ymm13\n\t"
      RR_ROW(0, 0, 1) RR_ROW(4, 2, 3) RR_ROW(8, 4, 5) RR_ROW(12, 6, 7) RR_ROW(16, 8, 9) RR_ROW(20, 10, 11)
      "add $64, %[b]\n\t"
      "add $24, %[a]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      RR_STORE_ACC
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
  static inline void tile_rr_##MRC(size_t kq, const uint32_t *ap, const int8_t *bp, const epilogue_args *e,              \
                            const panel_consts *pc, size_t mr, uint8_t *c, size_t ldc_bytes) {          \
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
    for (size_t r = 0; r < mr; r++) store_row(e, pc, rows[r][0], rows[r][1], c + r * ldc_bytes); \
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


static inline size_t out_bytes_of(int kind) { return kind == TSR_I8_OUT_S32 || kind == TSR_I8_OUT_F32 ? 4 : 1; }

/* The tiles of one packed A block (mc rows in 6-row panels of `steps` k pairs or quads at ap) times the packed
 * B columns [j0, j0 + nc), through the epilogue into c (the block's row 0, all n columns, ldc_bytes apart). */
static inline void macro_block(int reduced_range, size_t mc, size_t steps, const uint32_t *ap, const int8_t *packed,
                        size_t j0, size_t nc, const epilogue_args *e, uint8_t *c, size_t ldc_bytes) {
  const size_t ob = out_bytes_of(e->out_kind);
  const size_t panel_bytes = steps * (reduced_range ? 4 : 2) * NR;
  for (size_t j = j0; j < j0 + nc; j += NR) {
    const int8_t *bp = packed + (j / NR) * panel_bytes;
    panel_consts pc;
    panel_setup(e, j, j0 + nc - j < NR ? j0 + nc - j : NR, &pc);
    for (size_t i = 0; i < mc; i += MR) {
      const size_t mr = mc - i < MR ? mc - i : MR;
      const uint32_t *api = ap + (i / MR) * steps * MR;
      uint8_t *ct = c + i * ldc_bytes + j * ob;
#define CALL(T) T(steps, api, bp, e, &pc, mr, ct, ldc_bytes)
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

#endif /* TESSERA_I8_GEMM_6X16_AVX2_H */

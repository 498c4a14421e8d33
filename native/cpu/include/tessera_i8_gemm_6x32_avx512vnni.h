/*
 * What the AVX-512 VNNI int8 GEMM (i8-gemm-6x32-avx512vnni.c) shares with the VNNI implicit-GEMM convolution
 * (i8-conv2d-igemm-6x32-avx512vnni.c). Include only from files compiled with the AVX-512 flags, after
 * tessera_i8_gemm_6x16_avx2.h.
 */
#ifndef TESSERA_I8_GEMM_6X32_AVX512VNNI_H
#define TESSERA_I8_GEMM_6X32_AVX512VNNI_H

#include <immintrin.h>

/* The AVX2 epilogue (store_row) on the two 256-bit halves of a 16-column accumulator: bit-identical outputs. */
static inline __attribute__((always_inline)) void store_panel_row(const epilogue_args *e, const panel_consts *pc,
                                                                  __m512i acc, void *dst) {
  store_row(e, pc, _mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1), dst);
}

/* Inline-asm pieces of the 6x32 loops: accumulators zmm0-11 (row r: 2r, 2r + 1), B zmm12-13, A zmm14. */
#define VNNI_ZERO_ACC                                                                         \
  "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"                                                       \
  "vmovdqa64 %%zmm0, %%zmm1\n\t vmovdqa64 %%zmm0, %%zmm2\n\t vmovdqa64 %%zmm0, %%zmm3\n\t"   \
  "vmovdqa64 %%zmm0, %%zmm4\n\t vmovdqa64 %%zmm0, %%zmm5\n\t vmovdqa64 %%zmm0, %%zmm6\n\t"   \
  "vmovdqa64 %%zmm0, %%zmm7\n\t vmovdqa64 %%zmm0, %%zmm8\n\t vmovdqa64 %%zmm0, %%zmm9\n\t"   \
  "vmovdqa64 %%zmm0, %%zmm10\n\t vmovdqa64 %%zmm0, %%zmm11\n\t"
/* One row of a k quad: broadcast its 4 activation bytes at src, multiply-add both B panels. */
#define VNNI_ROW_AT(src, lo, hi)                  \
  "vpbroadcastd " src ", %%zmm14\n\t"          \
  "vpdpbusd %%zmm12, %%zmm14, %%zmm" #lo "\n\t" \
  "vpdpbusd %%zmm13, %%zmm14, %%zmm" #hi "\n\t"

/* The tiles of one packed A block (mc rows, reduced-range quads) times packed B columns [j0, j0 + nc), into c
 * (the block's row 0). */
void tsr_i8_macro_block__avx512vnni(size_t mc, size_t kq, const uint32_t *ap, const int8_t *packed, size_t j0,
                                    size_t nc, const epilogue_args *e, uint8_t *c, size_t ldc_bytes);

#endif /* TESSERA_I8_GEMM_6X32_AVX512VNNI_H */

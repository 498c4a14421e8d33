/*
 * f32_gemm_6x16__avx2: row-major C = act(alpha * op(A) * op(B) + beta * C + bias), GotoBLAS/BLIS structure.
 *
 *   for jc in n step NC:         B block (KC x NC, ~4 MiB) stays in L3
 *     for pc in k step KC:       pack B block into 16-column micro-panels
 *       for ic in m step MC:     pack A block (MC x KC, 144 KiB) into 6-row micro-panels; stays in L2
 *         for jr, ir:            6x16 microkernel; its B micro-panel (16 KiB) stays in L1
 *
 * Microkernel 6x16: 12 YMM accumulators + 2 B vectors + 1 A broadcast = 15 of 16 registers. Per k step it
 * issues 2 loads + 6 broadcasts against 12 FMAs, so on Zen 3 (2 FMA pipes, 3 load ports) it is FMA-bound.
 * (4x24 also fits 12 accumulators; 6x16 keeps every B row one cache line and is BLIS's haswell choice.)
 * Edge tiles (m % 6, n % 16) run the same microkernel on zero-padded panels and store through a small
 * buffer, so they cost one tile, not a slow path.
 *
 * Single-threaded: the Java side splits C into a grid of sub-problems over the library's worker pool and
 * gives each thread its own workspace (tsr_f32_gemm_6x16_workspace_bytes__avx2()). Operands are plain
 * (not packed) row-major matrices; transposes are absorbed by packing. Pre-packed B (PackedMatrix) uses
 * tsr_f32_gemm_pack_b_6x16__avx2 once and tsr_f32_gemm_packed_6x16__avx2 per call.
 */
#include <string.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"
#include "tessera_f32_gemm_6x16_avx2.h"

size_t tsr_f32_gemm_6x16_workspace_bytes__avx2(void) {
  /* A block + B block, each rounded to a cache line. */
  return (size_t)(MC * KC + NC * KC) * sizeof(float) + 128;
}

/* ---- packing ------------------------------------------------------------------------------------ */

/* B block (kc x nc) at b, row-major with row stride ldb (or transposed: stored nc x kc) into 16-column
 * micro-panels: panel j holds bp[p * 16 + c] = B[p][j*16 + c], columns past nc zero. */
static void pack_b__avx2(int trans, size_t kc, size_t nc, const float *b, size_t ldb, float *bp) {
  if (!trans) {
    for (size_t p0 = 0; p0 < kc; p0 += 8) {
      const size_t count = kc - p0 < 8 ? kc - p0 : 8;
      const float *rows[8];
      for (size_t r = 0; r < count; r++) rows[r] = b + (p0 + r) * ldb;
      pack_b_rows__avx2(rows, count, kc, nc, bp + p0 * NR);
    }
    return;
  }
  for (size_t j = 0; j < nc; j += NR, bp += NR * kc) {
    /* B[p][j + c] = b[(j + c) * ldb + p]: 8x8 register transposes; 8 source rows read sequentially */
    const size_t cols = nc - j < NR ? nc - j : NR;
    const size_t c8 = cols & ~(size_t)7, k8 = kc & ~(size_t)7;
    for (size_t c = 0; c < c8; c += 8) {
      for (size_t p = 0; p < k8; p += 8) tsr_avx2_transpose_8x8(b + (j + c) * ldb + p, ldb, bp + p * NR + c, NR);
      for (size_t p = k8; p < kc; p++)
        for (size_t q = c; q < c + 8; q++) bp[p * NR + q] = b[(j + q) * ldb + p];
    }
    for (size_t p = 0; p < kc; p++)
      for (size_t c = c8; c < NR; c++) bp[p * NR + c] = c < cols ? b[(j + c) * ldb + p] : 0.0f;
  }
}

/* C = act(beta * C + bias) when there is no product to add (k == 0 or alpha == 0). */
static void scale_only(size_t m, size_t n, float beta, float *c, size_t ldc, const float *bias, int relu) {
  for (size_t i = 0; i < m; i++) {
    float *ci = c + i * ldc;
    for (size_t j = 0; j < n; j++) {
      float x = beta == 0.0f ? 0.0f : beta * ci[j]; /* beta == 0 ignores C, NaN included */
      if (bias) x += bias[j];
      if (relu) x = x > 0.0f || x != x ? x : 0.0f;
      ci[j] = x;
    }
  }
}


/* The blocked driver around either macro-kernel (they read the same packed panels). */
static void gemm_blocked(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                         const float *b, size_t ldb, float beta, float *c, size_t ldc, const float *bias, int relu,
                         void *workspace, tsr_f32_macro_kernel_fn macro) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    scale_only(m, n, beta, c, ldc, bias, relu);
    return;
  }
  float *ap = align64(workspace);
  float *bp = ap + MC * KC;
  for (size_t jc = 0; jc < n; jc += NC) {
    const size_t nc = n - jc < NC ? n - jc : NC;
    for (size_t pc = 0; pc < k; pc += KC) {
      const size_t kc = k - pc < KC ? k - pc : KC;
      pack_b__avx2(trans_b, kc, nc, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, bp);
      const epilogue e = {alpha, beta, pc == 0, pc + kc == k, NULL, relu};
      for (size_t ic = 0; ic < m; ic += MC) {
        const size_t mc = m - ic < MC ? m - ic : MC;
        pack_a__avx2(trans_a, mc, kc, trans_a ? a + pc * lda + ic : a + ic * lda + pc, lda, ap);
        macro(mc, nc, kc, ap, bp, c + ic * ldc + jc, ldc, e, bias ? bias + jc : NULL);
      }
    }
  }
}

void tsr_f32_gemm_6x16__avx2(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                             size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc,
                             const float *bias, int relu, void *workspace) {
  gemm_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, workspace, macro_kernel__avx2);
}

/* Needs AVX-512 F (the macro-kernel); Java calls it only then. */
void tsr_f32_gemm_12x32__avx512(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                                size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc,
                                const float *bias, int relu, void *workspace) {
  gemm_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, workspace,
               tsr_f32_macro_kernel_12x32__avx512);
}

/* ---- pre-packed B ---------------------------------------------------------------------------------- */

/* Packed B covers all of (k x n): k block kb (KC rows) starts at kb * KC * npad floats, and within it
 * micro-panel j (16 columns) at j * kcb * 16, with npad = n rounded up to 16 and kcb that block's rows. */
size_t tsr_f32_gemm_packed_b_bytes_6x16__avx2(size_t k, size_t n) {
  return k * ((n + NR - 1) / NR * NR) * sizeof(float);
}

void tsr_f32_gemm_pack_b_6x16__avx2(int trans_b, size_t k, size_t n, const float *b, size_t ldb, float *packed) {
  tsr_f32_gemm_pack_b_cols_6x16__avx2(trans_b, k, n, 0, n, b, ldb, packed);
}

/* Columns [j0, j0 + nc) of op(B) into the packed layout of an n-column B: b points at column j0 of op(B), j0 is
 * a multiple of 16. Threads packing disjoint column ranges of one buffer share it (the multi-threaded driver). */
void tsr_f32_gemm_pack_b_cols_6x16__avx2(int trans_b, size_t k, size_t n, size_t j0, size_t nc, const float *b,
                                         size_t ldb, float *packed) {
  const size_t npad = (n + NR - 1) / NR * NR;
  for (size_t pc = 0; pc < k; pc += KC) {
    const size_t kc = k - pc < KC ? k - pc : KC;
    pack_b__avx2(trans_b, kc, nc, trans_b ? b + pc : b + pc * ldb, ldb, packed + pc * npad + j0 * kc);
  }
}

/* C columns [j0, j0 + nc) of act(alpha * op(A) * B + beta * C + bias) with B pre-packed over all of (k x n):
 * C, bias and the column range are absolute; A is the full (m x k) operand. */
static void gemm_packed(int trans_a, size_t m, size_t n, size_t k, size_t j0, size_t nc, float alpha, const float *a,
                        size_t lda, const float *packed, float beta, float *c, size_t ldc, const float *bias, int relu,
                        void *workspace, tsr_f32_macro_kernel_fn macro) {
  if (m == 0 || nc == 0) return;
  if (k == 0 || alpha == 0.0f) {
    scale_only(m, nc, beta, c + j0, ldc, bias ? bias + j0 : NULL, relu);
    return;
  }
  const size_t npad = (n + NR - 1) / NR * NR;
  float *ap = align64(workspace);
  for (size_t pc = 0; pc < k; pc += KC) {
    const size_t kc = k - pc < KC ? k - pc : KC;
    const float *bp = packed + pc * npad + j0 * kc; /* j0 is a multiple of 16: a micro-panel boundary */
    const epilogue e = {alpha, beta, pc == 0, pc + kc == k, NULL, relu};
    for (size_t ic = 0; ic < m; ic += MC) {
      const size_t mc = m - ic < MC ? m - ic : MC;
      pack_a__avx2(trans_a, mc, kc, trans_a ? a + pc * lda + ic : a + ic * lda + pc, lda, ap);
      macro(mc, nc, kc, ap, bp, c + ic * ldc + j0, ldc, e, bias ? bias + j0 : NULL);
    }
  }
}

void tsr_f32_gemm_packed_6x16__avx2(int trans_a, size_t m, size_t n, size_t k, size_t j0, size_t nc, float alpha,
                                    const float *a, size_t lda, const float *packed, float beta, float *c,
                                    size_t ldc, const float *bias, int relu, void *workspace) {
  gemm_packed(trans_a, m, n, k, j0, nc, alpha, a, lda, packed, beta, c, ldc, bias, relu, workspace, macro_kernel__avx2);
}

/* Needs AVX-512 F (the macro-kernel); Java calls it only then. */
void tsr_f32_gemm_packed_12x32__avx512(int trans_a, size_t m, size_t n, size_t k, size_t j0, size_t nc, float alpha,
                                       const float *a, size_t lda, const float *packed, float beta, float *c,
                                       size_t ldc, const float *bias, int relu, void *workspace) {
  gemm_packed(trans_a, m, n, k, j0, nc, alpha, a, lda, packed, beta, c, ldc, bias, relu, workspace,
              tsr_f32_macro_kernel_12x32__avx512);
}

/*
 * f32_gemm_smallm__avx2: C = act(alpha * op(A) * op(B) + beta * C + bias) for m <= 16 (batch-1 and small-batch
 * inference). Such a product does few flops per element of B and reads B once, so it is bound by how fast B
 * streams from memory: nothing is packed, and B is read in the order it is stored.
 *
 * Plain B (k x n, row-major) -- row streaming: C's rows are built in an accumulator chunk of m x W floats
 * (W = 2048 / m columns: 8 KiB, L1-resident beside the 4 rows of B it meets); for each group of 4 rows of B, every accumulator row gets
 * a[r][p..p+3] times those rows. B is read row after row, W columns at a time (all of a row when m == 1).
 *
 * Transposed B (stored n x k, the usual Linear-layer weight) -- dot products: row j of the stored B is
 * contiguous, so C[r][j] = dot(A row r, stored row j). Groups of 4 stored rows x up to 3 rows of A keep 12
 * accumulators; k is taken in blocks of KD (4 stored rows of a block stay in L1 while every row group of
 * A reads them), with partial sums carried in C by the usual first/last-block epilogue. A transposed A is
 * copied block by block into the workspace so that its rows are contiguous too.
 */
#include "tessera_avx2.h"
#include "tessera_cpu.h"

#define SMALL_M 16
#define ACC_FLOATS 16384 /* row-streaming accumulator chunk: 8 KiB, leaving L1 room for 4 rows of B */
#define KD 1024         /* k block of the dot-product form */
/* The accumulator starts ACC_SKEW floats into the workspace: B rows are usually page-aligned, and loads
 * whose address matches a recent store's low 12 bits (4K aliasing) stall as if they depended on it. */
#define ACC_SKEW 80

size_t tsr_f32_gemm_smallm_workspace_bytes__avx2(void) {
  const size_t acc = ACC_FLOATS, a_block = (size_t)SMALL_M * KD;
  return ((acc + ACC_SKEW > a_block ? acc + ACC_SKEW : a_block)) * sizeof(float) + 64;
}

/* y = act(alpha * acc + beta * y + bias) over w columns; first: beta applies (0 ignores y), last: bias and ReLU. */
static void finish_row(size_t w, const float *acc, float *y, float alpha, float beta, int first, int last,
                       const float *bias, int relu) {
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), zero = _mm256_setzero_ps();
  for (size_t j = 0; j < w; j += 8) {
    const __m256i mask = tsr_avx2_tail_mask(w - j < 8 ? w - j : 8);
    __m256 x = _mm256_mul_ps(va, _mm256_maskload_ps(acc + j, mask));
    if (!first) x = _mm256_add_ps(x, _mm256_maskload_ps(y + j, mask));
    else if (beta != 0.0f) x = _mm256_fmadd_ps(vb, _mm256_maskload_ps(y + j, mask), x);
    if (last) {
      if (bias) x = _mm256_add_ps(x, _mm256_maskload_ps(bias + j, mask));
      if (relu) x = _mm256_max_ps(zero, x); /* NaN stays NaN */
    }
    _mm256_maskstore_ps(y + j, mask, x);
  }
}

/* ---- plain B: row streaming -------------------------------------------------------------------------- */

/* acc[v] += a0 * b0[v] + a1 * b1[v] + a2 * b2[v] + a3 * b3[v] over w columns (masked tail). */
static inline void axpy4(size_t w, __m256 a0, __m256 a1, __m256 a2, __m256 a3, const float *b0, const float *b1,
                         const float *b2, const float *b3, float *acc) {
  size_t j = 0;
  for (; j + 8 <= w; j += 8) {
    __m256 x = _mm256_load_ps(acc + j);
    x = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b0 + j), x);
    x = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b1 + j), x);
    x = _mm256_fmadd_ps(a2, _mm256_loadu_ps(b2 + j), x);
    x = _mm256_fmadd_ps(a3, _mm256_loadu_ps(b3 + j), x);
    _mm256_store_ps(acc + j, x);
  }
  if (j < w) {
    const __m256i m = tsr_avx2_tail_mask(w - j);
    __m256 x = _mm256_load_ps(acc + j);
    x = _mm256_fmadd_ps(a0, _mm256_maskload_ps(b0 + j, m), x);
    x = _mm256_fmadd_ps(a1, _mm256_maskload_ps(b1 + j, m), x);
    x = _mm256_fmadd_ps(a2, _mm256_maskload_ps(b2 + j, m), x);
    x = _mm256_fmadd_ps(a3, _mm256_maskload_ps(b3 + j, m), x);
    _mm256_store_ps(acc + j, x);
  }
}

static void row_streaming(int trans_a, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                          const float *b, size_t ldb, float beta, float *c, size_t ldc, const float *bias, int relu,
                          float *acc) {
  const size_t a_row = trans_a ? 1 : lda, a_col = trans_a ? lda : 1; /* A[i][p] = a[i * a_row + p * a_col] */
  const size_t W = ACC_FLOATS / m / 8 * 8;                           /* per row; a multiple of 8 keeps rows aligned */
  for (size_t j0 = 0; j0 < n; j0 += W) {
    const size_t w = n - j0 < W ? n - j0 : W;
    for (size_t i = 0; i < m * W; i++) acc[i] = 0.0f;
    size_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float *b0 = b + p * ldb + j0;
      for (size_t r = 0; r < m; r++) {
        const float *ar = a + r * a_row + p * a_col;
        axpy4(w, _mm256_broadcast_ss(ar), _mm256_broadcast_ss(ar + a_col), _mm256_broadcast_ss(ar + 2 * a_col),
              _mm256_broadcast_ss(ar + 3 * a_col), b0, b0 + ldb, b0 + 2 * ldb, b0 + 3 * ldb, acc + r * W);
      }
    }
    for (; p < k; p++) { /* k % 4 rows: the same step with zero coefficients for the missing rows */
      const float *b0 = b + p * ldb + j0;
      const __m256 z = _mm256_setzero_ps();
      for (size_t r = 0; r < m; r++)
        axpy4(w, _mm256_broadcast_ss(a + r * a_row + p * a_col), z, z, z, b0, b0, b0, b0, acc + r * W);
    }
    for (size_t r = 0; r < m; r++)
      finish_row(w, acc + r * W, c + r * ldc + j0, alpha, beta, 1, 1, bias ? bias + j0 : NULL, relu);
  }
}

/* ---- transposed B: dot products ---------------------------------------------------------------------- */

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* dot[r][q] = A row r (R rows, stride lda) . B row q (J rows, stride ldb) over kd elements. */
static inline __attribute__((always_inline)) void dots(const int R, const int J, size_t kd, const float *a, size_t lda,
                                                       const float *b, size_t ldb, float dot[3][4]) {
  __m256 s[3][4];
  for (int r = 0; r < R; r++)
    for (int q = 0; q < J; q++) s[r][q] = _mm256_setzero_ps();
  size_t p = 0;
  for (; p + 8 <= kd; p += 8) {
    __m256 bv[4];
    for (int q = 0; q < J; q++) bv[q] = _mm256_loadu_ps(b + q * ldb + p);
    for (int r = 0; r < R; r++) {
      const __m256 av = _mm256_loadu_ps(a + r * lda + p);
      for (int q = 0; q < J; q++) s[r][q] = _mm256_fmadd_ps(av, bv[q], s[r][q]);
    }
  }
  if (p < kd) {
    const __m256i mask = tsr_avx2_tail_mask(kd - p);
    __m256 bv[4];
    for (int q = 0; q < J; q++) bv[q] = _mm256_maskload_ps(b + q * ldb + p, mask);
    for (int r = 0; r < R; r++) {
      const __m256 av = _mm256_maskload_ps(a + r * lda + p, mask);
      for (int q = 0; q < J; q++) s[r][q] = _mm256_fmadd_ps(av, bv[q], s[r][q]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int q = 0; q < J; q++) dot[r][q] = hsum(s[r][q]);
}

static void dot_block__avx2(size_t R, size_t J, size_t kd, const float *a, size_t lda, const float *b, size_t ldb,
                      float dot[3][4]) {
  /* Every (R, J) gets its own fully unrolled body; J == 4 is the hot case. */
  switch (R * 4 + J) {
    case 1 * 4 + 1: dots(1, 1, kd, a, lda, b, ldb, dot); break;
    case 1 * 4 + 2: dots(1, 2, kd, a, lda, b, ldb, dot); break;
    case 1 * 4 + 3: dots(1, 3, kd, a, lda, b, ldb, dot); break;
    case 1 * 4 + 4: dots(1, 4, kd, a, lda, b, ldb, dot); break;
    case 2 * 4 + 1: dots(2, 1, kd, a, lda, b, ldb, dot); break;
    case 2 * 4 + 2: dots(2, 2, kd, a, lda, b, ldb, dot); break;
    case 2 * 4 + 3: dots(2, 3, kd, a, lda, b, ldb, dot); break;
    case 2 * 4 + 4: dots(2, 4, kd, a, lda, b, ldb, dot); break;
    case 3 * 4 + 1: dots(3, 1, kd, a, lda, b, ldb, dot); break;
    case 3 * 4 + 2: dots(3, 2, kd, a, lda, b, ldb, dot); break;
    case 3 * 4 + 3: dots(3, 3, kd, a, lda, b, ldb, dot); break;
    default: dots(3, 4, kd, a, lda, b, ldb, dot); break;
  }
}

static void dot_products(int trans_a, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                         const float *b, size_t ldb, float beta, float *c, size_t ldc, const float *bias, int relu,
                         float *a_block) {
  const size_t kblock = m <= 3 && !trans_a ? k : KD; /* one row group reads B once: no need to block k */
  for (size_t p0 = 0; p0 < k; p0 += kblock) {
    const size_t kd = k - p0 < kblock ? k - p0 : kblock;
    const int first = p0 == 0, last = p0 + kd == k;
    const float *ab = a + p0;
    size_t ldab = lda;
    if (trans_a) { /* A[r][p] = a[p * lda + r]: copy the block so each row of A is contiguous */
      for (size_t p = 0; p < kd; p++)
        for (size_t r = 0; r < m; r++) a_block[r * kd + p] = a[(p0 + p) * lda + r];
      ab = a_block;
      ldab = kd;
    }
    for (size_t j = 0; j < n; j += 4) {
      const size_t J = n - j < 4 ? n - j : 4;
      for (size_t r0 = 0; r0 < m; r0 += 3) {
        const size_t R = m - r0 < 3 ? m - r0 : 3;
        float dot[3][4];
        dot_block__avx2(R, J, kd, ab + r0 * ldab, ldab, b + j * ldb + p0, ldb, dot);
        for (size_t r = 0; r < R; r++)
          for (size_t q = 0; q < J; q++) {
            float *y = c + (r0 + r) * ldc + j + q;
            float x = alpha * dot[r][q];
            if (!first) x += *y;
            else if (beta != 0.0f) x += beta * *y; /* beta == 0 ignores C, NaN included */
            if (last) {
              if (bias) x += bias[j + q];
              if (relu) x = x > 0.0f || x != x ? x : 0.0f;
            }
            *y = x;
          }
      }
    }
  }
}

/* C = act(beta * C + bias) when there is no product to add (k == 0 or alpha == 0). */
static void scale_only(size_t m, size_t n, float beta, float *c, size_t ldc, const float *bias, int relu,
                       float *zeros) {
  for (size_t j0 = 0; j0 < n; j0 += ACC_FLOATS) {
    const size_t w = n - j0 < ACC_FLOATS ? n - j0 : ACC_FLOATS;
    for (size_t j = 0; j < w; j++) zeros[j] = 0.0f;
    for (size_t i = 0; i < m; i++) finish_row(w, zeros, c + i * ldc + j0, 0.0f, beta, 1, 1, bias ? bias + j0 : NULL, relu);
  }
}

void tsr_f32_gemm_smallm__avx2(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                               size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc,
                               const float *bias, int relu, void *workspace) {
  float *ws = (float *)(((size_t)workspace + 63) & ~(size_t)63);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) scale_only(m, n, beta, c, ldc, bias, relu, ws);
  else if (trans_b) dot_products(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, ws);
  else row_streaming(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, ws + ACC_SKEW);
}

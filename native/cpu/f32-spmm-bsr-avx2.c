/*
 * f32_spmm_{csr,bsr<br>x<bc>}__avx2: Y (n, m) = act(W . X + bias), W (n, k) sparse, X (k, m) and Y row-major
 * (row strides ldx, ldy), bias per row of Y.
 *
 * W comes packed as block rows (see PackedSparse): row_ptr[b]..row_ptr[b+1] are block row b's blocks, block p
 * starting at column col[p], its br*bc values column-major (the br weights of one column adjacent). CSR is the
 * 1x1 case. Vectors run along m: every stored weight is broadcast and multiplied into a row of X.
 *  - One output row (CSR, and every row of other block shapes): 8, then 4, then 1 YMM accumulators; 8 hide
 *    the 4-cycle FMA latency at 2 FMAs per cycle, but each FMA needs its own load of X, so CSR is load-bound.
 *  - 4-row blocks (bsr4xN): 4 rows x 3 YMM = 12 accumulators; each loaded vector of X feeds 4 FMAs.
 *  - m == 1 (matrix-vector): scalar, 2 partial sums; there is no row to vectorize.
 * Blocks hanging over the right edge stop at column k, so X is never read past its last row.
 */
#include <stddef.h>
#include <stdint.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE __m256 finish(__m256 acc, int relu) {
  return relu ? _mm256_max_ps(_mm256_setzero_ps(), acc) : acc; /* NaN stays NaN */
}

/* Columns [j, j + 8V) of output row r of block row [p0, p1); V is a compile-time constant after inlining. */
ALWAYS_INLINE void row_chunk(int V, size_t k, size_t br, size_t bc, size_t r, int32_t p0, int32_t p1, const int32_t *col,
                             const float *values, const float *x, size_t ldx, size_t j, float bias, int relu, float *y) {
  __m256 acc[8];
  for (int v = 0; v < V; v++) acc[v] = _mm256_set1_ps(bias);
  for (int32_t p = p0; p < p1; p++) {
    const size_t c0 = (size_t)col[p], cn = bc < k - c0 ? bc : k - c0;
    const float *wp = values + (size_t)p * br * bc + r;
    for (size_t s = 0; s < cn; s++) {
      const __m256 w = _mm256_broadcast_ss(wp + s * br);
      const float *xp = x + (c0 + s) * ldx + j;
      for (int v = 0; v < V; v++) acc[v] = _mm256_fmadd_ps(w, _mm256_loadu_ps(xp + 8 * v), acc[v]);
    }
  }
  for (int v = 0; v < V; v++) _mm256_storeu_ps(y + j + 8 * v, finish(acc[v], relu));
}

static void one_row(size_t k, size_t br, size_t bc, size_t r, int32_t p0, int32_t p1, const int32_t *col,
                    const float *values, const float *x, size_t ldx, size_t m, float bias, int relu, float *y) {
  size_t j = 0;
  if (m == 1) {
    float s0 = 0.f, s1 = 0.f;
    for (int32_t p = p0; p < p1; p++) {
      const size_t c0 = (size_t)col[p], cn = bc < k - c0 ? bc : k - c0;
      for (size_t s = 0; s < cn; s++) {
        const float prod = values[(size_t)p * br * bc + s * br + r] * x[(c0 + s) * ldx];
        if (p & 1) s1 += prod;
        else s0 += prod;
      }
    }
    const float acc = s0 + s1 + bias;
    y[0] = relu && acc < 0.f ? 0.f : acc;
    return;
  }
  for (; j + 64 <= m; j += 64) row_chunk(8, k, br, bc, r, p0, p1, col, values, x, ldx, j, bias, relu, y);
  for (; j + 32 <= m; j += 32) row_chunk(4, k, br, bc, r, p0, p1, col, values, x, ldx, j, bias, relu, y);
  for (; j + 8 <= m; j += 8) row_chunk(1, k, br, bc, r, p0, p1, col, values, x, ldx, j, bias, relu, y);
  if (j < m) {
    const __m256i mask = tsr_avx2_tail_mask(m - j);
    __m256 acc = _mm256_set1_ps(bias);
    for (int32_t p = p0; p < p1; p++) {
      const size_t c0 = (size_t)col[p], cn = bc < k - c0 ? bc : k - c0;
      for (size_t s = 0; s < cn; s++) {
        const __m256 w = _mm256_broadcast_ss(values + (size_t)p * br * bc + s * br + r);
        acc = _mm256_fmadd_ps(w, _mm256_maskload_ps(x + (c0 + s) * ldx + j, mask), acc);
      }
    }
    _mm256_maskstore_ps(y + j, mask, finish(acc, relu));
  }
}

/* Columns [j, j + 8V) of the 4 rows of a full 4xN block row. masked: V == 1 with the tail mask. */
ALWAYS_INLINE void four_rows_chunk(int V, int masked, __m256i mask, size_t k, size_t bc, int32_t p0, int32_t p1,
                                   const int32_t *col, const float *values, const float *x, size_t ldx, size_t j,
                                   const float *bias4, int relu, float *y, size_t ldy) {
  __m256 acc[4][3];
  for (int r = 0; r < 4; r++)
    for (int v = 0; v < V; v++) acc[r][v] = _mm256_set1_ps(bias4 ? bias4[r] : 0.f);
  for (int32_t p = p0; p < p1; p++) {
    const size_t c0 = (size_t)col[p], cn = bc < k - c0 ? bc : k - c0;
    const float *wp = values + (size_t)p * 4 * bc;
    for (size_t s = 0; s < cn; s++) {
      const float *xp = x + (c0 + s) * ldx + j;
      __m256 xv[3];
      for (int v = 0; v < V; v++) xv[v] = masked ? _mm256_maskload_ps(xp, mask) : _mm256_loadu_ps(xp + 8 * v);
      for (int r = 0; r < 4; r++) {
        const __m256 w = _mm256_broadcast_ss(wp + 4 * s + r);
        for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(w, xv[v], acc[r][v]);
      }
    }
  }
  for (int r = 0; r < 4; r++) {
    for (int v = 0; v < V; v++) {
      if (masked) _mm256_maskstore_ps(y + r * ldy + j, mask, finish(acc[r][v], relu));
      else _mm256_storeu_ps(y + r * ldy + j + 8 * v, finish(acc[r][v], relu));
    }
  }
}

static void four_rows(size_t k, size_t bc, int32_t p0, int32_t p1, const int32_t *col, const float *values,
                      const float *x, size_t ldx, size_t m, const float *bias4, int relu, float *y, size_t ldy) {
  const __m256i all = _mm256_set1_epi32(-1);
  size_t j = 0;
  for (; j + 24 <= m; j += 24) four_rows_chunk(3, 0, all, k, bc, p0, p1, col, values, x, ldx, j, bias4, relu, y, ldy);
  for (; j + 8 <= m; j += 8) four_rows_chunk(1, 0, all, k, bc, p0, p1, col, values, x, ldx, j, bias4, relu, y, ldy);
  if (j < m) four_rows_chunk(1, 1, tsr_avx2_tail_mask(m - j), k, bc, p0, p1, col, values, x, ldx, j, bias4, relu, y, ldy);
}

void tsr_f32_spmm_bsr__avx2(size_t n, size_t k, size_t br, size_t bc, size_t block_row0, size_t block_row1, size_t m,
                            const int32_t *row_ptr, const int32_t *col, const float *values, const float *x, size_t ldx,
                            const float *bias, int relu, float *y, size_t ldy) {
  for (size_t b = block_row0; b < block_row1; b++) {
    const int32_t p0 = row_ptr[b], p1 = row_ptr[b + 1];
    const size_t i0 = b * br;
    if (br == 4 && i0 + 4 <= n && m >= 8) {
      four_rows(k, bc, p0, p1, col, values, x, ldx, m, bias ? bias + i0 : NULL, relu, y + i0 * ldy, ldy);
      continue;
    }
    for (size_t r = 0; r < br && i0 + r < n; r++) {
      one_row(k, br, bc, r, p0, p1, col, values, x, ldx, m, bias ? bias[i0 + r] : 0.f, relu, y + (i0 + r) * ldy);
    }
  }
}

/*
 * f32_spmm_{csr,bsr<br>x<bc>}__avx2: Y (n, m) = act(W . X + bias), W (n, k) sparse, X (k, m) and Y row-major
 * (row strides ldx, ldy), bias per row of Y.
 *
 * W comes packed as block rows (see PackedSparse): row_ptr[b]..row_ptr[b+1] are block row b's blocks, block p
 * starting at column col[p], its br*bc values column-major (the br weights of one column adjacent). CSR is the
 * 1x1 case. Vectors run along m: every stored weight is broadcast and multiplied into a row of X.
 *  - One output row (CSR, and every row of other block shapes): 8, then 4, then 1 YMM accumulators; 8 hide
 *    the 4-cycle FMA latency at 2 FMAs per cycle, but each FMA needs its own load of X, so CSR is load-bound.
 *  - 4-row blocks (bsr4xN): 4 rows x 2 YMM (one cache line of X per block) = 8 accumulators; each loaded
 *    vector of X feeds 4 FMAs.
 *  - m == 1 (matrix-vector): no row to vectorize; CSR gathers 8 elements of X per step, 4x1 blocks do one SSE
 *    FMA per block, other shapes run scalar.
 *  - X rows are picked by the column indices, so the hardware prefetcher cannot guess them: the kernels
 *    prefetch the row PREFETCH_AHEAD blocks ahead.
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

/* Prefetch distance in stored values: X rows are picked at random, so the hardware prefetcher cannot guess
 * them; asking D non-zeros ahead hides most of the L2 latency. */
#define PREFETCH_AHEAD 8

/* The CSR (1x1) case of row_chunk: no loop over block columns, and the rows of X prefetched ahead. */
ALWAYS_INLINE void csr_chunk(int V, int32_t p0, int32_t p1, const int32_t *col, const float *values, const float *x,
                             size_t ldx, size_t j, float bias, int relu, float *y) {
  __m256 acc[8];
  for (int v = 0; v < V; v++) acc[v] = _mm256_set1_ps(bias);
  for (int32_t p = p0; p < p1; p++) {
    if (p + PREFETCH_AHEAD < p1) {
      const float *next = x + (size_t)col[p + PREFETCH_AHEAD] * ldx + j;
      for (int v = 0; v < V; v += 2) _mm_prefetch((const char *)(next + 8 * v), _MM_HINT_T0);
    }
    const __m256 w = _mm256_broadcast_ss(values + p);
    const float *xp = x + (size_t)col[p] * ldx + j;
    for (int v = 0; v < V; v++) acc[v] = _mm256_fmadd_ps(w, _mm256_loadu_ps(xp + 8 * v), acc[v]);
  }
  for (int v = 0; v < V; v++) _mm256_storeu_ps(y + j + 8 * v, finish(acc[v], relu));
}

/* CSR, m == 1: a sparse dot product per row, 8 non-zeros per step with a gather of X (offsets fit s32: the
 * caller checked k * ldx < 2^31), 2 accumulators for the FMA latency. */
static float csr_dot(int32_t p0, int32_t p1, const int32_t *col, const float *values, const float *x, size_t ldx) {
  const __m256i stride = _mm256_set1_epi32((int)ldx);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int32_t p = p0;
  for (; p + 16 <= p1; p += 16) {
    const __m256i i0 = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(col + p)), stride);
    const __m256i i1 = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(col + p + 8)), stride);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(values + p), _mm256_i32gather_ps(x, i0, 4), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(values + p + 8), _mm256_i32gather_ps(x, i1, 4), a1);
  }
  a0 = _mm256_add_ps(a0, a1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float sum = _mm_cvtss_f32(h);
  for (; p < p1; p++) sum += values[p] * x[(size_t)col[p] * ldx];
  return sum;
}

static void csr_row__avx2(int32_t p0, int32_t p1, const int32_t *col, const float *values, const float *x, size_t ldx, size_t m,
                    int gather_ok, float bias, int relu, float *y) {
  if (m == 1 && gather_ok) {
    const float acc = csr_dot(p0, p1, col, values, x, ldx) + bias;
    y[0] = relu && acc < 0.f ? 0.f : acc;
    return;
  }
  size_t j = 0;
  for (; j + 64 <= m; j += 64) csr_chunk(8, p0, p1, col, values, x, ldx, j, bias, relu, y);
  for (; j + 32 <= m; j += 32) csr_chunk(4, p0, p1, col, values, x, ldx, j, bias, relu, y);
  for (; j + 16 <= m; j += 16) csr_chunk(2, p0, p1, col, values, x, ldx, j, bias, relu, y);
  for (; j + 8 <= m; j += 8) csr_chunk(1, p0, p1, col, values, x, ldx, j, bias, relu, y);
  if (j < m) {
    const __m256i mask = tsr_avx2_tail_mask(m - j);
    __m256 acc = _mm256_set1_ps(bias);
    for (int32_t p = p0; p < p1; p++) {
      acc = _mm256_fmadd_ps(_mm256_broadcast_ss(values + p), _mm256_maskload_ps(x + (size_t)col[p] * ldx + j, mask), acc);
    }
    _mm256_maskstore_ps(y + j, mask, finish(acc, relu));
  }
}

static void one_row__avx2(size_t k, size_t br, size_t bc, size_t r, int32_t p0, int32_t p1, const int32_t *col,
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
  __m256 acc[4][2];
  for (int r = 0; r < 4; r++)
    for (int v = 0; v < V; v++) acc[r][v] = _mm256_set1_ps(bias4 ? bias4[r] : 0.f);
  for (int32_t p = p0; p < p1; p++) {
    const size_t c0 = (size_t)col[p], cn = bc < k - c0 ? bc : k - c0;
    const float *wp = values + (size_t)p * 4 * bc;
    if (p + PREFETCH_AHEAD < p1) {
      const float *next = x + (size_t)col[p + PREFETCH_AHEAD] * ldx + j;
      for (int v = 0; v < V; v += 2) _mm_prefetch((const char *)(next + 8 * v), _MM_HINT_T0);
    }
    for (size_t s = 0; s < cn; s++) {
      const float *xp = x + (c0 + s) * ldx + j;
      __m256 xv[2];
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

static void four_rows__avx2(size_t k, size_t bc, int32_t p0, int32_t p1, const int32_t *col, const float *values,
                      const float *x, size_t ldx, size_t m, const float *bias4, int relu, float *y, size_t ldy) {
  const __m256i all = _mm256_set1_epi32(-1);
  size_t j = 0;
  if (bc == 1) { /* a literal 1 lets the compiler drop the loop over a block's columns (4x1 is the main shape) */
    for (; j + 16 <= m; j += 16) four_rows_chunk(2, 0, all, k, 1, p0, p1, col, values, x, ldx, j, bias4, relu, y, ldy);
  } else {
    for (; j + 16 <= m; j += 16) four_rows_chunk(2, 0, all, k, bc, p0, p1, col, values, x, ldx, j, bias4, relu, y, ldy);
  }
  for (; j + 8 <= m; j += 8) four_rows_chunk(1, 0, all, k, bc, p0, p1, col, values, x, ldx, j, bias4, relu, y, ldy);
  if (j < m) four_rows_chunk(1, 1, tsr_avx2_tail_mask(m - j), k, bc, p0, p1, col, values, x, ldx, j, bias4, relu, y, ldy);
}

/* Columns of X per pass: a 64-column panel of X (256 bytes per row) stays in L2 (512 KiB) for k up to ~2000
 * while every block row sweeps it; a wider m would stream X from L3 once per block row. */
#define M_PANEL 64

static void block_rows(size_t n, size_t k, size_t br, size_t bc, size_t block_row0, size_t block_row1, size_t m,
                       const int32_t *row_ptr, const int32_t *col, const float *values, const float *x, size_t ldx,
                       const float *bias, int relu, float *y, size_t ldy) {
  for (size_t b = block_row0; b < block_row1; b++) {
    const int32_t p0 = row_ptr[b], p1 = row_ptr[b + 1];
    const size_t i0 = b * br;
    if (br == 1 && bc == 1) {
      csr_row__avx2(p0, p1, col, values, x, ldx, m, k * ldx < ((size_t)1 << 31), bias ? bias[b] : 0.f, relu, y + b * ldy);
      continue;
    }
    if (br == 4 && bc == 1 && i0 + 4 <= n && m == 1) {
      /* matrix-vector on 4x1 blocks: a block's 4 weights are adjacent, one SSE FMA per block */
      __m128 acc = bias ? _mm_loadu_ps(bias + i0) : _mm_setzero_ps();
      for (int32_t p = p0; p < p1; p++) {
        acc = _mm_fmadd_ps(_mm_loadu_ps(values + (size_t)p * 4), _mm_set1_ps(x[(size_t)col[p] * ldx]), acc);
      }
      if (relu) acc = _mm_max_ps(_mm_setzero_ps(), acc);
      float out[4];
      _mm_storeu_ps(out, acc);
      for (int r = 0; r < 4; r++) y[(i0 + r) * ldy] = out[r];
      continue;
    }
    if (br == 4 && i0 + 4 <= n && m >= 8) {
      four_rows__avx2(k, bc, p0, p1, col, values, x, ldx, m, bias ? bias + i0 : NULL, relu, y + i0 * ldy, ldy);
      continue;
    }
    for (size_t r = 0; r < br && i0 + r < n; r++) {
      one_row__avx2(k, br, bc, r, p0, p1, col, values, x, ldx, m, bias ? bias[i0 + r] : 0.f, relu, y + (i0 + r) * ldy);
    }
  }
}

void tsr_f32_spmm_bsr__avx2(size_t n, size_t k, size_t br, size_t bc, size_t block_row0, size_t block_row1, size_t m,
                            const int32_t *row_ptr, const int32_t *col, const float *values, const float *x, size_t ldx,
                            const float *bias, int relu, float *y, size_t ldy) {
  for (size_t j = 0; j < m; j += M_PANEL) {
    const size_t mj = m - j < M_PANEL ? m - j : M_PANEL;
    block_rows(n, k, br, bc, block_row0, block_row1, mj, row_ptr, col, values, x + j, ldx, bias, relu, y + j, ldy);
  }
}

/*
 * f32_vrelu__avx2 and f32_vscale__avx2: y = op(x) over a (rows, cols) row-major block.
 * 32 floats (4 YMM) per step keep both load ports busy; the tail uses masked loads/stores so it never
 * touches memory past a row's end. One always-inlined body, specialised per op by constant folding.
 */
#include "tessera_avx2.h"
#include "tessera_cpu.h"

enum unary_op { RELU, SCALE };

static inline __attribute__((always_inline)) __m256 apply(enum unary_op op, __m256 v, __m256 alpha) {
  /* MAXPS returns its second operand when either is NaN: x goes second so NaN propagates. */
  return op == RELU ? _mm256_max_ps(_mm256_setzero_ps(), v) : _mm256_mul_ps(alpha, v);
}

static inline __attribute__((always_inline)) void unary(enum unary_op op, size_t rows, size_t cols,
                                                        float alpha_, const float *x, size_t ldx, float *y,
                                                        size_t ldy) {
  const __m256 alpha = _mm256_set1_ps(alpha_);
  for (size_t r = 0; r < rows; r++, x += ldx, y += ldy) {
    size_t j = 0;
    for (; j + 32 <= cols; j += 32) {
      __m256 v0 = _mm256_loadu_ps(x + j), v1 = _mm256_loadu_ps(x + j + 8);
      __m256 v2 = _mm256_loadu_ps(x + j + 16), v3 = _mm256_loadu_ps(x + j + 24);
      _mm256_storeu_ps(y + j, apply(op, v0, alpha));
      _mm256_storeu_ps(y + j + 8, apply(op, v1, alpha));
      _mm256_storeu_ps(y + j + 16, apply(op, v2, alpha));
      _mm256_storeu_ps(y + j + 24, apply(op, v3, alpha));
    }
    for (; j + 8 <= cols; j += 8) _mm256_storeu_ps(y + j, apply(op, _mm256_loadu_ps(x + j), alpha));
    if (j < cols) {
      const __m256i m = tsr_avx2_tail_mask(cols - j);
      _mm256_maskstore_ps(y + j, m, apply(op, _mm256_maskload_ps(x + j, m), alpha));
    }
  }
}

void tsr_f32_vrelu__avx2(size_t rows, size_t cols, const float *x, size_t ldx, float *y, size_t ldy) {
  unary(RELU, rows, cols, 0.0f, x, ldx, y, ldy);
}

void tsr_f32_vscale__avx2(size_t rows, size_t cols, float alpha, const float *x, size_t ldx, float *y,
                          size_t ldy) {
  unary(SCALE, rows, cols, alpha, x, ldx, y, ldy);
}

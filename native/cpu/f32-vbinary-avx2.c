/*
 * f32_vadd__avx2, f32_vmul__avx2 and f32_vrelu_grad__avx2: y = a op b elementwise over (rows, cols)
 * row-major blocks; relu_grad is y = a > 0 ? b : 0 (ordered compare: a NaN in a gives 0).
 * 16 floats per step (two loads per output vector already fill the load ports), masked tail.
 * One always-inlined body, specialised per op by constant folding.
 */
#include "tessera_avx2.h"
#include "tessera_cpu.h"

enum binary_op { ADD, MUL, RELU_GRAD };

static inline __attribute__((always_inline)) __m256 apply(enum binary_op op, __m256 a, __m256 b) {
  if (op == ADD) return _mm256_add_ps(a, b);
  if (op == MUL) return _mm256_mul_ps(a, b);
  return _mm256_and_ps(_mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GT_OQ), b);
}

static inline __attribute__((always_inline)) void binary(enum binary_op op, size_t rows, size_t cols,
                                                         const float *a, size_t lda, const float *b,
                                                         size_t ldb, float *y, size_t ldy) {
  for (size_t r = 0; r < rows; r++, a += lda, b += ldb, y += ldy) {
    size_t j = 0;
    for (; j + 16 <= cols; j += 16) {
      __m256 a0 = _mm256_loadu_ps(a + j), a1 = _mm256_loadu_ps(a + j + 8);
      __m256 b0 = _mm256_loadu_ps(b + j), b1 = _mm256_loadu_ps(b + j + 8);
      _mm256_storeu_ps(y + j, apply(op, a0, b0));
      _mm256_storeu_ps(y + j + 8, apply(op, a1, b1));
    }
    for (; j + 8 <= cols; j += 8)
      _mm256_storeu_ps(y + j, apply(op, _mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
    if (j < cols) {
      const __m256i m = tsr_avx2_tail_mask(cols - j);
      _mm256_maskstore_ps(y + j, m, apply(op, _mm256_maskload_ps(a + j, m), _mm256_maskload_ps(b + j, m)));
    }
  }
}

void tsr_f32_vadd__avx2(size_t rows, size_t cols, const float *a, size_t lda, const float *b, size_t ldb,
                        float *y, size_t ldy) {
  binary(ADD, rows, cols, a, lda, b, ldb, y, ldy);
}

void tsr_f32_vmul__avx2(size_t rows, size_t cols, const float *a, size_t lda, const float *b, size_t ldb,
                        float *y, size_t ldy) {
  binary(MUL, rows, cols, a, lda, b, ldb, y, ldy);
}

void tsr_f32_vrelu_grad__avx2(size_t rows, size_t cols, const float *a, size_t lda, const float *b, size_t ldb,
                              float *y, size_t ldy) {
  binary(RELU_GRAD, rows, cols, a, lda, b, ldb, y, ldy);
}

/*
 * f32_fmapeak__avx2: the machine's fp32 FMA ceiling, for benchmark reports. 12 independent accumulator
 * chains cover FMA latency (4 cycles) on 2 pipes with room to spare; nothing touches memory.
 * Returns a sum of the accumulators so the work cannot be optimized away. Flops = iterations * 12 * 16.
 */
#include <immintrin.h>

#include "tessera_cpu.h"

float tsr_f32_fmapeak__avx2(size_t iterations) {
  __m256 acc[12];
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
  for (size_t it = 0; it < iterations; it++)
    for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  __m256 s = acc[0];
  for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}

/*
 * f32_conv2d_pack_flipped_6x16__avx2: the filters of a convolution's input gradient, packed for the implicit
 * GEMM straight from the forward filters.
 *
 * With stride 1 and dilation 1, dx is the forward convolution of dy (k channels) with the filters flipped in
 * space and transposed: w' (c, r, s, k), w'[cc][i][j][kk] = w[kk][r-1-i][s-1-j][cc]. The implicit GEMM wants
 * w' packed as B (r*s*k rows in (i, j, kk) order, c columns), and row (i, j, kk) of that B is a contiguous run
 * of w: the c channels of filter kk at tap (r-1-i, s-1-j). So the packing reads those runs in place, as it
 * reads the rows of a row-major B, and no flipped copy of w is written first (at 3x3, k = c = 256 that copy
 * is a 2.4 MB transpose with a 9 KB write stride, half the time of the convolution).
 */
#include "tessera_avx2.h"
#include "tessera_cpu.h"
#include "tessera_f32_gemm_6x16_avx2.h"

void tsr_f32_conv2d_pack_flipped_6x16__avx2(size_t k, size_t r, size_t s, size_t c, size_t j0, size_t nc,
                                            const float *w, float *packed) {
  const size_t rows_b = r * s * k, npad = (c + NR - 1) / NR * NR, taps = r * s;
  for (size_t pc = 0; pc < rows_b; pc += KC) {
    const size_t kc = rows_b - pc < KC ? rows_b - pc : KC;
    float *block = packed + pc * npad + j0 * kc;
    for (size_t p0 = 0; p0 < kc; p0 += 8) {
      const size_t count = kc - p0 < 8 ? kc - p0 : 8;
      const float *rows[8];
      for (size_t q = 0; q < count; q++) {
        const size_t row = pc + p0 + q, tap = row / k, kk = row % k;
        rows[q] = w + (kk * taps + (taps - 1 - tap)) * c + j0; /* tap (i, j) reads (r-1-i, s-1-j): taps-1-tap */
      }
      pack_b_rows__avx2(rows, count, kc, nc, block + p0 * NR);
    }
  }
}

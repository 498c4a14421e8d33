/*
 * i8_spmm_{csr,bsr<br>x<bc>}__avx2: Y (n, m) = epilogue(W . (X - za)), W (n, k) s8 sparse, X (k, m) u8 or s8
 * row-major, exact s32 accumulation, the int8 GEMM's epilogue per row of Y (weight scale and bias of the row).
 *
 * W is packed as for the f32 kernel (block rows, blocks column-major). One output row at a time, 16 columns
 * of X per step: two stored weights are taken together, their rows of X widened to s16 and interleaved, and
 * one vpmaddwd adds w_a * x_a + w_b * x_b into s32 lanes: |s8 * u8| <= 128 * 255 = 32640, so each product and
 * the pair sum (<= 65280) are exact, with no saturating vpmaddubsw anywhere. The zero point is taken off
 * once per output with the row's weight sum: acc - za * rowsum. Columns past the last 16 run scalar.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "tessera_avx2.h"
#include "tessera_cpu.h"

typedef struct {
  int a_signed;
  int32_t za;
  float mult, add; /* y = fma((float) acc, mult, add): sa * sw (/ so) and bias (/ so) */
  int out_kind, relu;
  float flo, fhi;  /* requantization clamp, zero point already subtracted */
  int32_t zo;
} row_epilogue;

static row_epilogue epilogue_for(int a_signed, int32_t za, float a_scale, float w_scale, float bias, int out_kind,
                                 float out_scale, int32_t out_zero, int relu) {
  row_epilogue e = {a_signed, za, a_scale * w_scale, bias, out_kind, relu, 0.f, 0.f, out_zero};
  if (out_kind == TSR_I8_OUT_U8 || out_kind == TSR_I8_OUT_S8) {
    e.mult = e.mult / out_scale;
    e.add = bias / out_scale;
    const int s8 = out_kind == TSR_I8_OUT_S8;
    int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
    if (relu && out_zero > lo) lo = out_zero;
    e.flo = (float)(lo - out_zero);
    e.fhi = (float)(hi - out_zero);
  }
  return e;
}

static void store_one(const row_epilogue *e, int32_t acc, void *y, size_t j) {
  switch (e->out_kind) {
    case TSR_I8_OUT_S32: ((int32_t *)y)[j] = acc; return;
    case TSR_I8_OUT_F32: {
      float v = fmaf((float)acc, e->mult, e->add);
      ((float *)y)[j] = e->relu && v < 0.f ? 0.f : v;
      return;
    }
    default: {
      float v = fmaf((float)acc, e->mult, e->add);
      v = v > e->flo ? v : e->flo;
      v = v < e->fhi ? v : e->fhi;
      ((uint8_t *)y)[j] = (uint8_t)((int32_t)rintf(v) + e->zo);
    }
  }
}

/* 16 accumulators in column order -> 16 outputs at column j. */
static inline void store16(const row_epilogue *e, __m256i c0, __m256i c1, void *y, size_t j) {
  if (e->out_kind == TSR_I8_OUT_S32) {
    _mm256_storeu_si256((__m256i *)((int32_t *)y + j), c0);
    _mm256_storeu_si256((__m256i *)((int32_t *)y + j + 8), c1);
    return;
  }
  const __m256 mult = _mm256_set1_ps(e->mult), add = _mm256_set1_ps(e->add);
  __m256 y0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c0), mult, add), y1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c1), mult, add);
  if (e->out_kind == TSR_I8_OUT_F32) {
    if (e->relu) { /* NaN operand second: NaN stays NaN */
      y0 = _mm256_max_ps(_mm256_setzero_ps(), y0);
      y1 = _mm256_max_ps(_mm256_setzero_ps(), y1);
    }
    _mm256_storeu_ps((float *)y + j, y0);
    _mm256_storeu_ps((float *)y + j + 8, y1);
    return;
  }
  const __m256 flo = _mm256_set1_ps(e->flo), fhi = _mm256_set1_ps(e->fhi);
  y0 = _mm256_min_ps(_mm256_max_ps(y0, flo), fhi);
  y1 = _mm256_min_ps(_mm256_max_ps(y1, flo), fhi);
  const __m256i zo = _mm256_set1_epi32(e->zo);
  int32_t q[16];
  _mm256_storeu_si256((__m256i *)q, _mm256_add_epi32(_mm256_cvtps_epi32(y0), zo));
  _mm256_storeu_si256((__m256i *)(q + 8), _mm256_add_epi32(_mm256_cvtps_epi32(y1), zo));
  for (int c = 0; c < 16; c++) ((uint8_t *)y)[j + c] = (uint8_t)q[c]; /* in range by the clamp */
}

static inline __m256i widen16(const uint8_t *p, int a_signed) {
  const __m128i b = _mm_loadu_si128((const __m128i *)p);
  return a_signed ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
}

/* Adds w_a * x_a + w_b * x_b for 16 columns: lo holds columns 0-3 and 8-11, hi 4-7 and 12-15 (vpunpck works per lane). */
static inline void madd_pair(const uint8_t *xa, const uint8_t *xb, int8_t wa, int8_t wb, int a_signed, __m256i *lo, __m256i *hi) {
  const __m256i va = widen16(xa, a_signed), vb = widen16(xb, a_signed);
  const __m256i w = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)(int16_t)wb << 16) | (uint16_t)(int16_t)wa));
  *lo = _mm256_add_epi32(*lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), w));
  *hi = _mm256_add_epi32(*hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), w));
}

/* sum over p in [p0, p1) of w[p * wstep] * x[col[p] * ldx], two accumulators to split the add chain. The
 * matrix-vector case (m = 1) lives here, as do the columns past the last 16. */
#define TSR_SPARSE_DOT(name, xtype)                                                                              \
  static inline int32_t name(const int8_t *w, size_t wstep, const int32_t *col, int32_t p0, int32_t p1,          \
                             const uint8_t *x, size_t ldx) {                                                     \
    const xtype *xv = (const xtype *)x;                                                                          \
    int32_t a0 = 0, a1 = 0, p = p0;                                                                              \
    for (; p + 1 < p1; p += 2) {                                                                                 \
      a0 += (int32_t)w[(size_t)p * wstep] * (int32_t)xv[(size_t)col[p] * ldx];                                   \
      a1 += (int32_t)w[(size_t)(p + 1) * wstep] * (int32_t)xv[(size_t)col[p + 1] * ldx];                         \
    }                                                                                                            \
    if (p < p1) a0 += (int32_t)w[(size_t)p * wstep] * (int32_t)xv[(size_t)col[p] * ldx];                         \
    return a0 + a1;                                                                                              \
  }
TSR_SPARSE_DOT(dot_u8, uint8_t)
TSR_SPARSE_DOT(dot_s8, int8_t)

/* One output row of block row [p0, p1): row r of each block. */
static void int8_row(size_t k, size_t br, size_t bc, size_t r, int32_t p0, int32_t p1, const int32_t *col,
                     const int8_t *values, const uint8_t *x, size_t ldx, size_t m, int32_t rowsum,
                     const row_epilogue *e, void *y) {
  const int32_t corr = e->za * rowsum;
  size_t j = 0;
  for (; j + 16 <= m; j += 16) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    const uint8_t *pending = NULL; /* a weight waiting for its partner */
    int8_t pending_w = 0;
    for (int32_t p = p0; p < p1; p++) {
      const size_t c0 = (size_t)col[p], cn = bc < k - c0 ? bc : k - c0;
      for (size_t s = 0; s < cn; s++) {
        const uint8_t *xp = x + (c0 + s) * ldx + j;
        const int8_t w = values[(size_t)p * br * bc + s * br + r];
        if (pending) {
          madd_pair(pending, xp, pending_w, w, e->a_signed, &lo, &hi);
          pending = NULL;
        } else {
          pending = xp;
          pending_w = w;
        }
      }
    }
    if (pending) madd_pair(pending, pending, pending_w, 0, e->a_signed, &lo, &hi);
    const __m256i corr8 = _mm256_set1_epi32(corr);
    const __m256i c0 = _mm256_sub_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), corr8);
    const __m256i c1 = _mm256_sub_epi32(_mm256_permute2x128_si256(lo, hi, 0x31), corr8);
    store16(e, c0, c1, y, j);
  }
  if (bc == 1) { /* CSR and 4x1 blocks: one weight per stored column, a plain dot product per column of Y */
    for (; j < m; j++) {
      const int32_t acc = e->a_signed ? dot_s8(values + r, br, col, p0, p1, x + j, ldx)
                                      : dot_u8(values + r, br, col, p0, p1, x + j, ldx);
      store_one(e, acc - corr, y, j);
    }
    return;
  }
  for (; j < m; j++) {
    int32_t acc = 0;
    for (int32_t p = p0; p < p1; p++) {
      const size_t c0 = (size_t)col[p], cn = bc < k - c0 ? bc : k - c0;
      for (size_t s = 0; s < cn; s++) {
        const uint8_t xv = x[(c0 + s) * ldx + j];
        acc += (int32_t)values[(size_t)p * br * bc + s * br + r] * (e->a_signed ? (int32_t)(int8_t)xv : (int32_t)xv);
      }
    }
    store_one(e, acc - corr, y, j);
  }
}

void tsr_i8_spmm_bsr__avx2(size_t n, size_t k, size_t br, size_t bc, size_t block_row0, size_t block_row1, size_t m,
                           const int32_t *row_ptr, const int32_t *col, const int8_t *values, const int32_t *rowsums,
                           const float *w_scales, int a_signed, const uint8_t *x, size_t ldx, int a_zero, float a_scale,
                           const float *bias, int out_kind, float out_scale, int out_zero, int relu, void *y, size_t ldy) {
  const size_t out_bytes = out_kind == TSR_I8_OUT_S32 || out_kind == TSR_I8_OUT_F32 ? 4 : 1;
  for (size_t b = block_row0; b < block_row1; b++) {
    for (size_t r = 0; r < br && b * br + r < n; r++) {
      const size_t i = b * br + r;
      const row_epilogue e = epilogue_for(a_signed, a_zero, a_scale, w_scales[i], bias ? bias[i] : 0.f, out_kind, out_scale,
                                          out_zero, relu);
      int8_row(k, br, bc, r, row_ptr[b], row_ptr[b + 1], col, values, x, ldx, m, rowsums[i], &e,
               (char *)y + i * ldy * out_bytes);
    }
  }
}

/*
 * i8_spmm_{csr,bsr<br>x<bc>}__avx2: Y (n, m) = epilogue(W . (X - za)), W (n, k) s8 sparse, X (k, m) u8 or s8
 * row-major, exact s32 accumulation, the int8 GEMM's epilogue per row of Y (weight scale and bias of the row).
 *
 * W is packed as for the f32 kernel (block rows, blocks column-major). Two stored weights are taken together:
 * their rows of X are widened to s16 and interleaved, and one vpmaddwd adds w_a * x_a + w_b * x_b into s32
 * lanes: |s8 * u8| <= 128 * 255 = 32640, so each product and the pair sum (<= 65280) are exact, with no
 * saturating vpmaddubsw anywhere. The zero point is taken off once per output with the row's weight sum:
 * acc - za * rowsum.
 *
 * One-column blocks (CSR, N:M, BSR rx1), the formats models prune to, have their own loops:
 * - 4 rows of a block row at once, 16 columns of Y per step: one load and widening of the two X rows serves
 *   4 rows of weights (8 vpmaddwd per 2 X loads). The 4 rows' weight pairs are built in registers from two
 *   4-byte loads (bytes interleaved, sign-extended, one vpshufd per row), so no scalar code runs per weight.
 * - single rows (CSR, the rows past a multiple of 4) 32 columns per step, 4 accumulators.
 * - the columns past the last 16 (all of them at m = 1): 4 rows of a block row take one vpmaddwd per two
 *   stored weights of all 4 rows; CSR rows gather 8 elements of X per step.
 * Wider blocks (bc > 1) take the generic loop.
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

static void store_one__avx2(const row_epilogue *e, int32_t acc, void *y, size_t j) {
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

static inline __m256i sub_corr(__m256i v, int32_t corr) { return _mm256_sub_epi32(v, _mm256_set1_epi32(corr)); }

/* lo holds columns 0-3 and 8-11 of 16, hi 4-7 and 12-15: back to column order, zero point taken off, stored. */
static inline void finish16(const row_epilogue *e, int32_t corr, __m256i lo, __m256i hi, void *y, size_t j) {
  store16(e, sub_corr(_mm256_permute2x128_si256(lo, hi, 0x20), corr), sub_corr(_mm256_permute2x128_si256(lo, hi, 0x31), corr), y, j);
}

static inline int32_t load_i32(const int8_t *p) {
  int32_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

/* The s16 weight pairs (w_a[r], w_b[r]) of rows 0-3 as dwords 0-3 of each 128-bit lane. */
static inline __m256i weight_pairs4(const int8_t *wa, const int8_t *wb) {
  const __m128i ab = _mm_unpacklo_epi8(_mm_cvtsi32_si128(load_i32(wa)), _mm_cvtsi32_si128(load_i32(wb)));
  return _mm256_cvtepi8_epi16(_mm_unpacklo_epi64(ab, ab));
}

#define TSR_MADD4(lo, hi)                                                                                        \
  do {                                                                                                           \
    const __m256i w0_ = _mm256_shuffle_epi32(w4, 0x00), w1_ = _mm256_shuffle_epi32(w4, 0x55);                    \
    const __m256i w2_ = _mm256_shuffle_epi32(w4, 0xAA), w3_ = _mm256_shuffle_epi32(w4, 0xFF);                    \
    l0 = _mm256_add_epi32(l0, _mm256_madd_epi16(lo, w0_));                                                       \
    h0 = _mm256_add_epi32(h0, _mm256_madd_epi16(hi, w0_));                                                       \
    l1 = _mm256_add_epi32(l1, _mm256_madd_epi16(lo, w1_));                                                       \
    h1 = _mm256_add_epi32(h1, _mm256_madd_epi16(hi, w1_));                                                       \
    l2 = _mm256_add_epi32(l2, _mm256_madd_epi16(lo, w2_));                                                       \
    h2 = _mm256_add_epi32(h2, _mm256_madd_epi16(hi, w2_));                                                       \
    l3 = _mm256_add_epi32(l3, _mm256_madd_epi16(lo, w3_));                                                       \
    h3 = _mm256_add_epi32(h3, _mm256_madd_epi16(hi, w3_));                                                       \
  } while (0)

/* Rows r0..r0+3 of a block row of one-column blocks [p0, p1), columns [0, m16) in steps of 16. */
static void rows4_bc1(size_t br, size_t r0, int32_t p0, int32_t p1, const int32_t *col, const int8_t *values,
                      const uint8_t *x, size_t ldx, size_t m16, int a_signed, const int32_t corr[4],
                      const row_epilogue e[4], void *const y[4]) {
  const int8_t *w = values + r0;
  for (size_t j = 0; j < m16; j += 16) {
    __m256i l0 = _mm256_setzero_si256(), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0;
    int32_t p = p0;
    for (; p + 1 < p1; p += 2) {
      const __m256i va = widen16(x + (size_t)col[p] * ldx + j, a_signed), vb = widen16(x + (size_t)col[p + 1] * ldx + j, a_signed);
      const __m256i w4 = weight_pairs4(w + (size_t)p * br, w + (size_t)(p + 1) * br);
      TSR_MADD4(_mm256_unpacklo_epi16(va, vb), _mm256_unpackhi_epi16(va, vb));
    }
    if (p < p1) { /* the odd weight, paired with a zero weight */
      static const int8_t zeros[4] = {0, 0, 0, 0};
      const __m256i va = widen16(x + (size_t)col[p] * ldx + j, a_signed), zero = _mm256_setzero_si256();
      const __m256i w4 = weight_pairs4(w + (size_t)p * br, zeros);
      TSR_MADD4(_mm256_unpacklo_epi16(va, zero), _mm256_unpackhi_epi16(va, zero));
    }
    finish16(&e[0], corr[0], l0, h0, y[0], j);
    finish16(&e[1], corr[1], l1, h1, y[1], j);
    finish16(&e[2], corr[2], l2, h2, y[2], j);
    finish16(&e[3], corr[3], l3, h3, y[3], j);
  }
}

/* Rows r0..r0+3, columns [j0, m): per column, one vpmaddwd adds two stored weights of all 4 rows. */
static void rows4_bc1_columns(size_t br, size_t r0, int32_t p0, int32_t p1, const int32_t *col, const int8_t *values,
                              const uint8_t *x, size_t ldx, size_t j0, size_t m, int a_signed, const int32_t corr[4],
                              const row_epilogue e[4], void *const y[4]) {
  static const int8_t zeros[4] = {0, 0, 0, 0};
  const int8_t *w = values + r0;
  for (size_t j = j0; j < m; j++) {
    __m128i acc0 = _mm_setzero_si128(), acc1 = acc0;
    int32_t p = p0;
    for (; p + 1 < p1; p += 2) {
      const uint8_t xa = x[(size_t)col[p] * ldx + j], xb = x[(size_t)col[p + 1] * ldx + j];
      const uint32_t xab = a_signed ? (uint32_t)(uint16_t)(int16_t)(int8_t)xa | (uint32_t)(uint16_t)(int16_t)(int8_t)xb << 16
                                    : (uint32_t)xa | (uint32_t)xb << 16;
      const __m128i prod = _mm_madd_epi16(_mm256_castsi256_si128(weight_pairs4(w + (size_t)p * br, w + (size_t)(p + 1) * br)),
                                          _mm_set1_epi32((int32_t)xab));
      if ((p - p0) & 2) acc1 = _mm_add_epi32(acc1, prod);
      else acc0 = _mm_add_epi32(acc0, prod);
    }
    if (p < p1) {
      const uint8_t xa = x[(size_t)col[p] * ldx + j];
      const uint32_t xab = a_signed ? (uint32_t)(uint16_t)(int16_t)(int8_t)xa : (uint32_t)xa;
      acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(_mm256_castsi256_si128(weight_pairs4(w + (size_t)p * br, zeros)), _mm_set1_epi32((int32_t)xab)));
    }
    int32_t acc[4];
    _mm_storeu_si128((__m128i *)acc, _mm_add_epi32(acc0, acc1));
    for (int q = 0; q < 4; q++) store_one__avx2(&e[q], acc[q] - corr[q], y[q], j);
  }
}

static inline __m256i weight_pair(int8_t wa, int8_t wb) {
  return _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)(int16_t)wb << 16) | (uint16_t)(int16_t)wa));
}

/* Row r of a block row of one-column blocks [p0, p1), columns [0, m16) (m16 a multiple of 16): 32 per step
 * while they last. */
static void row_bc1(size_t br, size_t r, int32_t p0, int32_t p1, const int32_t *col, const int8_t *values,
                    const uint8_t *x, size_t ldx, size_t m16, int a_signed, int32_t corr, const row_epilogue *e, void *y) {
  const int8_t *w = values + r;
  size_t j = 0;
  for (; j + 32 <= m16; j += 32) {
    __m256i l0 = _mm256_setzero_si256(), h0 = l0, l1 = l0, h1 = l0;
    int32_t p = p0;
    for (; p < p1; p += 2) {
      const int odd = p + 1 == p1;
      const uint8_t *xa = x + (size_t)col[p] * ldx + j, *xb = odd ? xa : x + (size_t)col[p + 1] * ldx + j;
      const __m256i wp = weight_pair(w[(size_t)p * br], odd ? 0 : w[(size_t)(p + 1) * br]);
      const __m256i va0 = widen16(xa, a_signed), vb0 = widen16(xb, a_signed);
      const __m256i va1 = widen16(xa + 16, a_signed), vb1 = widen16(xb + 16, a_signed);
      l0 = _mm256_add_epi32(l0, _mm256_madd_epi16(_mm256_unpacklo_epi16(va0, vb0), wp));
      h0 = _mm256_add_epi32(h0, _mm256_madd_epi16(_mm256_unpackhi_epi16(va0, vb0), wp));
      l1 = _mm256_add_epi32(l1, _mm256_madd_epi16(_mm256_unpacklo_epi16(va1, vb1), wp));
      h1 = _mm256_add_epi32(h1, _mm256_madd_epi16(_mm256_unpackhi_epi16(va1, vb1), wp));
    }
    finish16(e, corr, l0, h0, y, j);
    finish16(e, corr, l1, h1, y, j + 16);
  }
  for (; j < m16; j += 16) {
    __m256i l0 = _mm256_setzero_si256(), h0 = l0;
    for (int32_t p = p0; p < p1; p += 2) {
      const int odd = p + 1 == p1;
      const uint8_t *xa = x + (size_t)col[p] * ldx + j, *xb = odd ? xa : x + (size_t)col[p + 1] * ldx + j;
      madd_pair(xa, xb, w[(size_t)p * br], odd ? 0 : w[(size_t)(p + 1) * br], a_signed, &l0, &h0);
    }
    finish16(e, corr, l0, h0, y, j);
  }
}

/* Sum over p in [p0, p1) of w[p] * x[col[p] * ldx + j] (w contiguous: CSR), 8 stored weights per step with a
 * gather of X. vpgatherdd reads 4 bytes from each offset, so a step runs only when every offset is at most
 * limit (the last 4 bytes of X); near X's end the rest goes scalar. */
static int32_t dot_gather(const int8_t *w, const int32_t *col, int32_t p0, int32_t p1, const uint8_t *x, int32_t ldx,
                          int32_t j, int64_t limit, int a_signed) {
  __m256i acc = _mm256_setzero_si256();
  int32_t p = p0;
  if (limit >= 0) {
    const __m256i vldx = _mm256_set1_epi32(ldx), vj = _mm256_set1_epi32(j), vlimit = _mm256_set1_epi32((int32_t)limit);
    for (; p + 8 <= p1; p += 8) {
      const __m256i idx = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(col + p)), vldx), vj);
      if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(idx, vlimit))) break;
      __m256i v = _mm256_i32gather_epi32((const int *)x, idx, 1);
      v = a_signed ? _mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24) : _mm256_and_si256(v, _mm256_set1_epi32(0xff));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(v, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(w + p)))));
    }
  }
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
  const int32_t rest = a_signed ? dot_s8(w, 1, col, p, p1, x + j, (size_t)ldx) : dot_u8(w, 1, col, p, p1, x + j, (size_t)ldx);
  return _mm_cvtsi128_si32(s4) + rest;
}

/* The columns [j0, m) of row r: one dot product each. */
static void row_bc1_tail(size_t k, size_t br, size_t r, int32_t p0, int32_t p1, const int32_t *col, const int8_t *values,
                         const uint8_t *x, size_t ldx, size_t j0, size_t m, int32_t corr, const row_epilogue *e, void *y) {
  /* Offsets into X as s32 for the gather: X's span must fit. */
  const size_t span = (k - 1) * ldx + m;
  const int gather = br == 1 && span <= INT32_MAX;
  for (size_t j = j0; j < m; j++) {
    int32_t acc;
    if (gather) acc = dot_gather(values, col, p0, p1, x, (int32_t)ldx, (int32_t)j, (int64_t)span - 4, e->a_signed);
    else acc = e->a_signed ? dot_s8(values + r, br, col, p0, p1, x + j, ldx) : dot_u8(values + r, br, col, p0, p1, x + j, ldx);
    store_one__avx2(e, acc - corr, y, j);
  }
}

/* Block row b of one-column blocks: 4 rows at a time, then one at a time. */
static void block_row_bc1(size_t n, size_t k, size_t br, size_t b, size_t m, const int32_t *row_ptr, const int32_t *col,
                          const int8_t *values, const int32_t *rowsums, const float *w_scales, int a_signed,
                          const uint8_t *x, size_t ldx, int a_zero, float a_scale, const float *bias, int out_kind,
                          float out_scale, int out_zero, int relu, void *y, size_t ldy, size_t out_bytes) {
  const int32_t p0 = row_ptr[b], p1 = row_ptr[b + 1];
  const size_t rows = n - b * br < br ? n - b * br : br, m16 = m & ~(size_t)15;
  row_epilogue e[4];
  int32_t corr[4];
  void *yr[4];
  size_t r = 0;
  for (; r < rows; r += 4) {
    const size_t group = rows - r < 4 ? rows - r : 4;
    for (size_t q = 0; q < group; q++) {
      const size_t i = b * br + r + q;
      e[q] = epilogue_for(a_signed, a_zero, a_scale, w_scales[i], bias ? bias[i] : 0.f, out_kind, out_scale, out_zero, relu);
      corr[q] = a_zero * rowsums[i];
      yr[q] = (char *)y + i * ldy * out_bytes;
    }
    if (group == 4) {
      rows4_bc1(br, r, p0, p1, col, values, x, ldx, m16, a_signed, corr, e, yr);
      rows4_bc1_columns(br, r, p0, p1, col, values, x, ldx, m16, m, a_signed, corr, e, yr);
      continue;
    }
    for (size_t q = 0; q < group; q++) {
      row_bc1(br, r + q, p0, p1, col, values, x, ldx, m16, a_signed, corr[q], &e[q], yr[q]);
      row_bc1_tail(k, br, r + q, p0, p1, col, values, x, ldx, m16, m, corr[q], &e[q], yr[q]);
    }
  }
}

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
  for (; j < m; j++) {
    int32_t acc = 0;
    for (int32_t p = p0; p < p1; p++) {
      const size_t c0 = (size_t)col[p], cn = bc < k - c0 ? bc : k - c0;
      for (size_t s = 0; s < cn; s++) {
        const uint8_t xv = x[(c0 + s) * ldx + j];
        acc += (int32_t)values[(size_t)p * br * bc + s * br + r] * (e->a_signed ? (int32_t)(int8_t)xv : (int32_t)xv);
      }
    }
    store_one__avx2(e, acc - corr, y, j);
  }
}

void tsr_i8_spmm_bsr__avx2(size_t n, size_t k, size_t br, size_t bc, size_t block_row0, size_t block_row1, size_t m,
                           const int32_t *row_ptr, const int32_t *col, const int8_t *values, const int32_t *rowsums,
                           const float *w_scales, int a_signed, const uint8_t *x, size_t ldx, int a_zero, float a_scale,
                           const float *bias, int out_kind, float out_scale, int out_zero, int relu, void *y, size_t ldy) {
  const size_t out_bytes = out_kind == TSR_I8_OUT_S32 || out_kind == TSR_I8_OUT_F32 ? 4 : 1;
  for (size_t b = block_row0; b < block_row1; b++) {
    if (bc == 1) {
      block_row_bc1(n, k, br, b, m, row_ptr, col, values, rowsums, w_scales, a_signed, x, ldx, a_zero, a_scale, bias, out_kind,
                    out_scale, out_zero, relu, y, ldy, out_bytes);
      continue;
    }
    for (size_t r = 0; r < br && b * br + r < n; r++) {
      const size_t i = b * br + r;
      const row_epilogue e = epilogue_for(a_signed, a_zero, a_scale, w_scales[i], bias ? bias[i] : 0.f, out_kind, out_scale,
                                          out_zero, relu);
      int8_row(k, br, bc, r, row_ptr[b], row_ptr[b + 1], col, values, x, ldx, m, rowsums[i], &e,
               (char *)y + i * ldy * out_bytes);
    }
  }
}

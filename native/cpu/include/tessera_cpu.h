/*
 * Tessera CPU kernels: the C ABI that the JavaCPP binding (kernels/.../nativecpu/NativeCpu.java) calls.
 *
 * Conventions for every kernel here:
 *  - Matrices are row-major; `ld*` is the row stride in elements (>= cols). rows or cols may be 0.
 *  - The Java side has validated shapes, strides, bounds and lifetimes before the call; kernels do not
 *    re-check and never allocate.
 *  - A kernel whose name ends in __avx2 (or __avx512) may only be called when tsr_cpu_isa_level()
 *    reports that level; the Java dispatcher guarantees it. Everything else is baseline x86-64.
 *  - Names follow the kernel id used everywhere: <dtype>_<op>[_<tile>]__<isa>.
 */
#ifndef TESSERA_CPU_H
#define TESSERA_CPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ISA levels, ordered: each implies the ones below. Mirrors org.tessera.kernels.cpu.Isa. */
#define TSR_ISA_BASELINE 0
#define TSR_ISA_AVX2 1   /* AVX2 + FMA + F16C, OS saves YMM state */
#define TSR_ISA_AVX512 2 /* AVX-512 F/BW/DQ/VL, OS saves ZMM state */

/* Feature bits reported by tsr_cpu_feature_bits(). Mirrors org.tessera.kernels.cpu.CpuFeatures. */
#define TSR_FEAT_SSE42 (1u << 0)
#define TSR_FEAT_AVX (1u << 1)
#define TSR_FEAT_AVX2 (1u << 2)
#define TSR_FEAT_FMA (1u << 3)
#define TSR_FEAT_F16C (1u << 4)
#define TSR_FEAT_AVX512F (1u << 5)
#define TSR_FEAT_AVX512BW (1u << 6)
#define TSR_FEAT_AVX512DQ (1u << 7)
#define TSR_FEAT_AVX512VL (1u << 8)
#define TSR_FEAT_AVX512VNNI (1u << 9)
#define TSR_FEAT_AVXVNNI (1u << 10)
#define TSR_FEAT_OS_YMM (1u << 11)
#define TSR_FEAT_OS_ZMM (1u << 12)

/* Highest ISA level that both the CPU and the OS support (CPUID + XGETBV). */
int tsr_cpu_isa_level(void);
/* TSR_FEAT_* bits of this CPU. */
uint64_t tsr_cpu_feature_bits(void);
/* Highest ISA level this library was built with kernels for. */
int tsr_build_isa_level(void);
/* The compiler that built this library, e.g. "gcc 12.2.0". */
const char *tsr_build_compiler(void);

/* y = max(x, 0), NaN propagates. x is (rows, cols) with row stride ldx; y likewise; y may alias x. */
void tsr_f32_vrelu__avx2(size_t rows, size_t cols, const float *x, size_t ldx, float *y, size_t ldy);
/* y = alpha * x. y may alias x. */
void tsr_f32_vscale__avx2(size_t rows, size_t cols, float alpha, const float *x, size_t ldx, float *y,
                          size_t ldy);
/* y = a + b. y may alias a or b. */
void tsr_f32_vadd__avx2(size_t rows, size_t cols, const float *a, size_t lda, const float *b, size_t ldb,
                        float *y, size_t ldy);
/* y = a * b (elementwise). y may alias a or b. */
void tsr_f32_vmul__avx2(size_t rows, size_t cols, const float *a, size_t lda, const float *b, size_t ldb,
                        float *y, size_t ldy);
/* y = a > 0 ? b : 0 (the ReLU gradient; a NaN in a gives 0). y may alias a or b. */
void tsr_f32_vrelu_grad__avx2(size_t rows, size_t cols, const float *a, size_t lda, const float *b, size_t ldb,
                              float *y, size_t ldy);

/*
 * f32 GEMM, row-major: C = act(alpha * op(A) * op(B) + beta * C + bias), op = transpose when trans_* != 0.
 * op(A) is (m, k): stored (m, k) with row stride lda, or (k, m) when transposed; op(B) likewise (k, n).
 * bias is (n) or NULL; relu != 0 clamps at 0 (NaN stays NaN). beta == 0 ignores what C held (NaN included);
 * k == 0 or alpha == 0 only scales C. Single-threaded: callers split C across threads, each with its own
 * workspace of the size the matching *_workspace_bytes function returns (any alignment).
 */
size_t tsr_f32_gemm_6x16_workspace_bytes__avx2(void);
void tsr_f32_gemm_6x16__avx2(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                             size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc,
                             const float *bias, int relu, void *workspace);
/* m <= 16 (required: the workspace is sized for it): no packing, B streamed once in storage order. */
size_t tsr_f32_gemm_smallm_workspace_bytes__avx2(void);
void tsr_f32_gemm_smallm__avx2(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                               size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc,
                               const float *bias, int relu, void *workspace);
/* Pre-packed B (for weights reused across calls): bytes needed, packing (destination 32-byte aligned), and
 * the product for C columns [j0, j0 + nc), j0 a multiple of 16, with C and bias given for all n columns. */
size_t tsr_f32_gemm_packed_b_bytes_6x16__avx2(size_t k, size_t n);
void tsr_f32_gemm_pack_b_6x16__avx2(int trans_b, size_t k, size_t n, const float *b, size_t ldb, float *packed);
/* Columns [j0, j0 + nc) only (j0 a multiple of 16, b pointing at column j0 of op(B)): threads share one buffer. */
void tsr_f32_gemm_pack_b_cols_6x16__avx2(int trans_b, size_t k, size_t n, size_t j0, size_t nc, const float *b,
                                         size_t ldb, float *packed);
void tsr_f32_gemm_packed_6x16__avx2(int trans_a, size_t m, size_t n, size_t k, size_t j0, size_t nc, float alpha,
                                    const float *a, size_t lda, const float *packed, float beta, float *c,
                                    size_t ldc, const float *bias, int relu, void *workspace);
/* The same two products on AVX-512 F 12x32 tiles: same arguments, workspace, packed B and results, bit for bit. */
void tsr_f32_gemm_12x32__avx512(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                                size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc,
                                const float *bias, int relu, void *workspace);
void tsr_f32_gemm_packed_12x32__avx512(int trans_a, size_t m, size_t n, size_t k, size_t j0, size_t nc, float alpha,
                                       const float *a, size_t lda, const float *packed, float beta, float *c,
                                       size_t ldc, const float *bias, int relu, void *workspace);

/*
 * Depthwise 2-D convolution, NHWC, f32 (groups = c = k): output rows [row0, row1) of the flattened (n, oh)
 * range, y[n][oh][ow][ch] = act(sum over in-bounds taps (i, t) of x[n][ih][iw][ch] * wt[i][t][ch], + bias[ch]),
 * ih = oh * stride_h - pad_top + i * dil_h (iw likewise). wt is the filters transposed to (r, s, c); bias (c)
 * or NULL; x and y point at element 0 of the tensors. Single-threaded.
 */
void tsr_f32_dwconv2d__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h, size_t stride_w,
                            size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h, size_t out_w,
                            size_t row0, size_t row1, const float *x, const float *wt, const float *bias, int relu,
                            float *y);
/* The same on AVX-512 F, 8-pixel x 16-channel tiles (sums in another order), one tap's weights wt_stride floats
 * after the previous one's (at least c). */
void tsr_f32_dwconv2d_8x16__avx512(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                   size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                   size_t out_h, size_t out_w, size_t row0, size_t row1, const float *x, const float *wt,
                                   size_t wt_stride, const float *bias, int relu, float *y);

/*
 * Weight gradient of a 3x3 depthwise convolution, NHWC, f32: channels [ch0, ch1) of dw (c, 3, 3), overwritten,
 * dw[ch][i][j] = sum over n, oh, ow (taps in the padding skipped) of dy[n][oh][ow][ch] * x[n][ih][iw][ch], and
 * of db (c) = sum over n, oh, ow of dy unless db is NULL (float sums, as dw's). sums is a (10, c) scratch block;
 * the call uses its columns [ch0, ch1) only, so threads with disjoint channel ranges share one. Single-threaded.
 * The AVX-512 one needs AVX-512 F.
 */
void tsr_f32_dwconv2d_wgrad_3x3_c16__avx2(size_t n, size_t h, size_t w, size_t c, size_t stride_h, size_t stride_w,
                                          size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h,
                                          size_t out_w, size_t ch0, size_t ch1, const float *x, const float *dy,
                                          float *sums, float *dw, float *db);
void tsr_f32_dwconv2d_wgrad_3x3_c16__avx512(size_t n, size_t h, size_t w, size_t c, size_t stride_h, size_t stride_w,
                                            size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h,
                                            size_t out_w, size_t ch0, size_t ch1, const float *x, const float *dy,
                                            float *sums, float *dw, float *db);

/*
 * Direct convolution for short patches (NHWC, f32, one group): y[n][oh][ow][j] = act(sum over in-bounds taps
 * (i, t) and channels ch of x[n][ih][iw][ch] * wt[i][t][ch][j], + bias[j]), ih = oh * stride_h - pad_top +
 * i * dil_h (iw likewise). wt is the filters transposed to (r, s, c, k_pad), k_pad = k rounded up to 8, zero
 * past k; bias (k) or NULL. pool <= 1: output rows [row0, row1) of the flattened (n, oh) range, y (n, out_h,
 * out_w, k). pool > 1: then non-overlapping pool x pool max pooling (floor; a tap replaces the maximum when
 * greater, or NaN over non-NaN): pooled rows [row0, row1) of (n, out_h / pool), y (n, out_h / pool,
 * out_w / pool, k). Both with a workspace of tsr_f32_conv2d_direct_workspace_bytes__avx2 bytes. Single-threaded.
 */
size_t tsr_f32_conv2d_direct_workspace_bytes__avx2(size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                                   size_t stride_w, size_t pad_left, size_t dil_h, size_t dil_w,
                                                   size_t out_w, size_t k, size_t pool);
void tsr_f32_conv2d_direct_6x16__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                      size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                      size_t out_h, size_t out_w, size_t k, size_t pool, size_t row0, size_t row1,
                                      const float *x, const float *wt, const float *bias, int relu, float *y,
                                      float *workspace);

/*
 * Convolution as an implicit GEMM (NHWC, f32), group `group` of `groups`: the output pixels at positions [p0, p1)
 * of the kernels' pixel order (tessera_f32_conv2d_igemm_pixels.h: per image, whole-window pixels first, then the
 * top, bottom, left and right bands; callers cover all pixels with disjoint ranges), y rows of stride ldy with y
 * pointing at the group's first output channel, columns [j0, j1) of the
 * group's kg (j0 a multiple of 16) = act(patches * filters^T + bias), bias (kg, the group's) or NULL. `packed`
 * holds the group's filters (kg rows of r*s*c/groups; at least columns [j0, j1)) packed by
 * tsr_f32_gemm_pack_b_cols_6x16__avx2(1, r*s*c/groups, kg, ...).
 * Single-threaded, with a workspace of tsr_f32_conv2d_igemm_workspace_bytes__avx2() bytes.
 */
/*
 * The input-gradient filters of a stride-1, dilation-1, one-group convolution with filters w (k, r, s, c),
 * flipped in space and transposed to (c, r, s, k), packed as tsr_f32_gemm_pack_b_cols_6x16__avx2(1, r*s*k, c,
 * j0, nc, ...) would pack that flipped copy: columns [j0, j0 + nc) of c (j0 a multiple of 16), read in place.
 */
void tsr_f32_conv2d_pack_flipped_6x16__avx2(size_t k, size_t r, size_t s, size_t c, size_t j0, size_t nc,
                                            const float *w, float *packed);

/*
 * Weight gradient of a convolution (NHWC, f32, one group): rows [f0, f1) of dw (k, r, s, c) = sum over output
 * pixels of dy (n, out_h, out_w, k) times the input x (n, h, w, c) each tap reads; taps in the padding add
 * nothing. Overwrites those rows. Single-threaded, no workspace.
 */
void tsr_f32_conv2d_wgrad_6x16__avx2(size_t n, size_t h, size_t w, size_t c, size_t k, size_t r, size_t s,
                                     size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h,
                                     size_t dil_w, size_t out_h, size_t out_w, size_t f0, size_t f1, const float *x,
                                     const float *dy, float *dw);

/*
 * The same for few input channels (c < 8) and filters of at most TSR_WGRAD_16X6_MAX_COLS weights (r*s*c): tiles of
 * 16 filters x 6 weights; rows [f0, f1) of dw, f0 a multiple of 16. Single-threaded, no workspace (about 30 KB
 * of stack).
 */
#define TSR_WGRAD_16X6_MAX_COLS 384
void tsr_f32_conv2d_wgrad_16x6__avx2(size_t n, size_t h, size_t w, size_t c, size_t k, size_t r, size_t s,
                                     size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h,
                                     size_t dil_w, size_t out_h, size_t out_w, size_t f0, size_t f1, const float *x,
                                     const float *dy, float *dw);

size_t tsr_f32_conv2d_igemm_workspace_bytes__avx2(void);
void tsr_f32_conv2d_igemm_6x16__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                     size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                     size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t j0,
                                     size_t j1, size_t p0, size_t p1, const float *x, const float *packed,
                                     const float *bias, int relu, float *y, size_t ldy, void *workspace);
/* The same on 12x32 AVX-512 tiles (same workspace, packing and arguments); the same bits for patches of up to
 * 256 columns, rounded every 512 columns rather than every 256 beyond. */
void tsr_f32_conv2d_igemm_12x32__avx512(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                        size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                        size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t j0,
                                        size_t j1, size_t p0, size_t p1, const float *x, const float *packed,
                                        const float *bias, int relu, float *y, size_t ldy, void *workspace);

/*
 * int8 GEMM (i8_gemm_6x16__avx2): C = epilogue(A * B), A (m, k) u8 or s8 (a_signed) with zero point a_zero
 * and scale a_scale, B (k, n) s8 weights packed once with their column sums, per-column scales w_scales (n).
 * acc[i][j] = sum_p (A[i][p] - a_zero) * B[p][j], exact in s32 for k <= TSR_I8_GEMM_MAX_K. Outputs:
 *   TSR_I8_OUT_S32  acc (bias and relu unused)
 *   TSR_I8_OUT_F32  y = fma((float) acc, a_scale * w_scales[j], bias[j] or 0), relu: y < 0 -> 0
 *   TSR_I8_OUT_U8/S8  y = fma((float) acc, (a_scale * w_scales[j]) / out_scale, bias[j] / out_scale or 0),
 *                   clamped to [lo, hi] - out_zero, rounded half to even, + out_zero; lo is out_zero with relu
 * (float operations in exactly this order, so the Java kernels and the tests reproduce it bit for bit).
 * C is (m, n) with row stride ldc elements of the output type; the call computes columns [j0, j0 + nc),
 * j0 a multiple of 16, with C, bias, colsums and w_scales given for all columns. Single-threaded.
 */
#define TSR_I8_GEMM_MAX_K 65793
#define TSR_I8_OUT_S32 0
#define TSR_I8_OUT_F32 1
#define TSR_I8_OUT_U8 2
#define TSR_I8_OUT_S8 3
size_t tsr_i8_gemm_packed_b_bytes_6x16__avx2(size_t k, size_t n);
/* B is (k, n) with row stride ldb, or (n, k) when trans_b (the usual [out][in] weight layout). */
void tsr_i8_gemm_pack_b_6x16__avx2(int trans_b, size_t k, size_t n, const int8_t *b, size_t ldb, int8_t *packed,
                                   int32_t *colsums);
/* Reduced-range layout (vpmaddubsw, ~2x the multiplies per cycle): returns 1 if every weight pair keeps
 * 255 * (sum of its same-sign weights) within s16, i.e. the fast kernel is exact for these weights; if it
 * returns 0 the packing must not be used with reduced_range (pack the exact layout instead). */
size_t tsr_i8_gemm_packed_b_bytes_rr_6x16__avx2(size_t k, size_t n);
int tsr_i8_gemm_pack_b_rr_6x16__avx2(int trans_b, size_t k, size_t n, const int8_t *b, size_t ldb, int8_t *packed,
                                     int32_t *colsums);
size_t tsr_i8_gemm_workspace_bytes__avx2(size_t k);
void tsr_i8_gemm_packed_6x16__avx2(int reduced_range, size_t m, size_t k, size_t j0, size_t nc, int a_signed,
                                   const uint8_t *a, size_t lda, int32_t a_zero, float a_scale, const int8_t *packed,
                                   const int32_t *colsums, const float *w_scales, const float *bias, int out_kind,
                                   float out_scale, int32_t out_zero, int relu, void *c, size_t ldc,
                                   void *workspace);
/* The same GEMM with vpdpbusd, for weights packed by tsr_i8_gemm_pack_b_rr_6x16__avx2 (any s8 weights: its
 * return value does not matter here). Needs AVX-512 F/BW/VL + VNNI (__avx512vnni) or AVX2 + AVX-VNNI
 * (__avxvnni), with the OS state to match. Same arguments and workspace as tsr_i8_gemm_packed_6x16__avx2. */
void tsr_i8_gemm_packed_6x32__avx512vnni(size_t m, size_t k, size_t j0, size_t nc, int a_signed, const uint8_t *a,
                                         size_t lda, int32_t a_zero, float a_scale, const int8_t *packed,
                                         const int32_t *colsums, const float *w_scales, const float *bias,
                                         int out_kind, float out_scale, int32_t out_zero, int relu, void *c,
                                         size_t ldc, void *workspace);
void tsr_i8_gemm_packed_6x16__avxvnni(size_t m, size_t k, size_t j0, size_t nc, int a_signed, const uint8_t *a,
                                      size_t lda, int32_t a_zero, float a_scale, const int8_t *packed,
                                      const int32_t *colsums, const float *w_scales, const float *bias, int out_kind,
                                      float out_scale, int32_t out_zero, int relu, void *c, size_t ldc,
                                      void *workspace);

/*
 * int8 convolution as an implicit GEMM (NHWC), group `group` of `groups`: y rows [p0, p1) (output pixels in
 * (n, oh, ow) order, row stride ldy elements of the output type, y pointing at the group's first output
 * channel), kg columns = the int8 GEMM's epilogue of (patches - a_zero) * filters^T, with the group's colsums,
 * w_scales and bias (kg each; bias may be NULL). x (n, h, w, c) u8 or s8 (a_signed); padding taps read a_zero
 * (real zero). `packed` holds the group's filters packed by tsr_i8_gemm_pack_b[_rr]_6x16__avx2 (trans_b = 1,
 * k = r*s*c/groups, n = kg); reduced_range says which layout. Single-threaded, with a workspace of
 * tsr_i8_conv2d_igemm_workspace_bytes__avx2(r*s*c/groups) bytes.
 */
size_t tsr_i8_conv2d_igemm_workspace_bytes__avx2(size_t k);
void tsr_i8_conv2d_igemm_6x16__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h, size_t stride_w,
                                    size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h,
                                    size_t out_w, size_t groups, size_t group, size_t kg, size_t p0, size_t p1,
                                    int reduced_range, int a_signed, const uint8_t *x, int32_t a_zero, float a_scale,
                                    const int8_t *packed, const int32_t *colsums, const float *w_scales,
                                    const float *bias, int out_kind, float out_scale, int32_t out_zero, int relu,
                                    void *y, size_t ldy, void *workspace);

/* The same on AVX-512 VNNI, filters in the reduced-range quad layout (any s8 values), same workspace. */
void tsr_i8_conv2d_igemm_6x32__avx512vnni(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h,
                                          size_t stride_w, size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w,
                                          size_t out_h, size_t out_w, size_t groups, size_t group, size_t kg, size_t p0,
                                          size_t p1, int a_signed, const uint8_t *x, int32_t a_zero, float a_scale,
                                          const int8_t *packed, const int32_t *colsums, const float *w_scales,
                                          const float *bias, int out_kind, float out_scale, int32_t out_zero, int relu,
                                          void *y, size_t ldy, void *workspace);

/*
 * int8 depthwise 2-D convolution, NHWC (groups = c = k): output rows [row0, row1) of the flattened (n, oh)
 * range, acc[ch] = sum over taps (i, t) of (x[n][ih][iw][ch] - a_zero) * wt[i][t][ch], exact in s32, padding
 * taps contributing 0; then the int8 GEMM's epilogue above with w_scales (c) and bias (c, or NULL); out_kind
 * one of TSR_I8_OUT_*. x u8 or s8 (a_signed); wt s8 filters transposed to (r, s, c); y at element 0 of the
 * output. Single-threaded, with a workspace of tsr_i8_dwconv2d_workspace_bytes__avx2(r, s, c) bytes.
 */
size_t tsr_i8_dwconv2d_workspace_bytes__avx2(size_t r, size_t s, size_t c);
void tsr_i8_dwconv2d__avx2(size_t h, size_t w, size_t c, size_t r, size_t s, size_t stride_h, size_t stride_w,
                           size_t pad_top, size_t pad_left, size_t dil_h, size_t dil_w, size_t out_h, size_t out_w,
                           size_t row0, size_t row1, int a_signed, const uint8_t *x, int32_t a_zero, float a_scale,
                           const int8_t *wt, const float *w_scales, const float *bias, int out_kind, float out_scale,
                           int32_t out_zero, int relu, void *y, void *workspace);

/* The fp32 FMA ceiling: iterations x 12 x 16 flops, no memory traffic. Returns a value to keep it alive. */
float tsr_f32_fmapeak__avx2(size_t iterations);

/*
 * Sparse x dense: Y (n, m) = act(W . X + bias) for block rows [block_row0, block_row1) of W (n, k), packed as
 * block rows of (br, bc) blocks: row_ptr (block rows + 1) offsets, col (blocks) each block's first column,
 * values (blocks * br * bc) column-major within a block. CSR is br = bc = 1. X (k, m), Y (n, m) row-major;
 * bias (n) or NULL; relu != 0 clamps at 0 (NaN stays NaN). m >= 1. Callers split block rows across threads.
 */
void tsr_f32_spmm_bsr__avx2(size_t n, size_t k, size_t br, size_t bc, size_t block_row0, size_t block_row1, size_t m,
                            const int32_t *row_ptr, const int32_t *col, const float *values, const float *x, size_t ldx,
                            const float *bias, int relu, float *y, size_t ldy);


/*
 * int8 sparse x dense: Y (n, m) = epilogue(W . (X - a_zero)) for block rows [block_row0, block_row1), W s8 packed
 * as for tsr_f32_spmm_bsr__avx2, rowsums (n) each row's weight sum, w_scales (n) per-row scales; X (k, m) u8
 * (or s8 when a_signed) row-major; Y of out_kind (TSR_I8_OUT_*) with the int8 GEMM's epilogue taken per row
 * (w_scales[i], bias[i]). Exact in s32 for k <= 65793. ldx, ldy in elements.
 */
void tsr_i8_spmm_bsr__avx2(size_t n, size_t k, size_t br, size_t bc, size_t block_row0, size_t block_row1, size_t m,
                           const int32_t *row_ptr, const int32_t *col, const int8_t *values, const int32_t *rowsums,
                           const float *w_scales, int a_signed, const uint8_t *x, size_t ldx, int a_zero, float a_scale,
                           const float *bias, int out_kind, float out_scale, int out_zero, int relu, void *y, size_t ldy);

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_CPU_H */

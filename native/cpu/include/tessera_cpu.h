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

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_CPU_H */

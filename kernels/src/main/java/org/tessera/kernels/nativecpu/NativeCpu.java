package org.tessera.kernels.nativecpu;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of {@code native/cpu/include/tessera_cpu.h}. The Maven build generates the JNI glue,
 * compiles it for baseline x86-64, links {@code libtessera_cpu.a} (kernels compiled per ISA) and packs
 * the library into the jar. Pointers travel as raw addresses ({@code long}).
 *
 * <p>Never call these directly: {@link NativeLibrary} loads the library and the backend validates every
 * argument in Java first. Kernels named {@code __avx2} need {@link #tsr_cpu_isa_level()} {@code >= 1}; {@code __avx512vnni} and
 * {@code __avxvnni} ones are called only as {@link Int8Variant} selects them.
 */
@Platform(include = "tessera_cpu.h", link = "tessera_cpu")
final class NativeCpu {
    private NativeCpu() {}

    static native int tsr_cpu_isa_level();

    static native @Cast("uint64_t") long tsr_cpu_feature_bits();

    static native int tsr_build_isa_level();

    static native String tsr_build_compiler();

    static native void tsr_f32_vrelu__avx2(@Cast("size_t") long rows, @Cast("size_t") long cols,
                                           @Cast("const float*") long x, @Cast("size_t") long ldx,
                                           @Cast("float*") long y, @Cast("size_t") long ldy);

    static native void tsr_f32_vscale__avx2(@Cast("size_t") long rows, @Cast("size_t") long cols, float alpha,
                                            @Cast("const float*") long x, @Cast("size_t") long ldx,
                                            @Cast("float*") long y, @Cast("size_t") long ldy);

    static native void tsr_f32_vadd__avx2(@Cast("size_t") long rows, @Cast("size_t") long cols,
                                          @Cast("const float*") long a, @Cast("size_t") long lda,
                                          @Cast("const float*") long b, @Cast("size_t") long ldb,
                                          @Cast("float*") long y, @Cast("size_t") long ldy);

    static native void tsr_f32_vmul__avx2(@Cast("size_t") long rows, @Cast("size_t") long cols,
                                          @Cast("const float*") long a, @Cast("size_t") long lda,
                                          @Cast("const float*") long b, @Cast("size_t") long ldb,
                                          @Cast("float*") long y, @Cast("size_t") long ldy);

    static native void tsr_f32_vrelu_grad__avx2(@Cast("size_t") long rows, @Cast("size_t") long cols,
                                                @Cast("const float*") long a, @Cast("size_t") long lda,
                                                @Cast("const float*") long b, @Cast("size_t") long ldb,
                                                @Cast("float*") long y, @Cast("size_t") long ldy);

    static native @Cast("size_t") long tsr_f32_gemm_6x16_workspace_bytes__avx2();

    static native void tsr_f32_gemm_6x16__avx2(int transA, int transB, @Cast("size_t") long m, @Cast("size_t") long n,
                                               @Cast("size_t") long k, float alpha, @Cast("const float*") long a,
                                               @Cast("size_t") long lda, @Cast("const float*") long b, @Cast("size_t") long ldb,
                                               float beta, @Cast("float*") long c, @Cast("size_t") long ldc,
                                               @Cast("const float*") long bias, int relu, @Cast("void*") long workspace);

    static native @Cast("size_t") long tsr_f32_gemm_smallm_workspace_bytes__avx2();

    static native void tsr_f32_gemm_smallm__avx2(int transA, int transB, @Cast("size_t") long m, @Cast("size_t") long n,
                                                 @Cast("size_t") long k, float alpha, @Cast("const float*") long a,
                                                 @Cast("size_t") long lda, @Cast("const float*") long b, @Cast("size_t") long ldb,
                                                 float beta, @Cast("float*") long c, @Cast("size_t") long ldc,
                                                 @Cast("const float*") long bias, int relu, @Cast("void*") long workspace);

    static native @Cast("size_t") long tsr_f32_gemm_packed_b_bytes_6x16__avx2(@Cast("size_t") long k, @Cast("size_t") long n);

    static native void tsr_f32_gemm_pack_b_6x16__avx2(int transB, @Cast("size_t") long k, @Cast("size_t") long n,
                                                      @Cast("const float*") long b, @Cast("size_t") long ldb,
                                                      @Cast("float*") long packed);

    static native void tsr_f32_gemm_pack_b_cols_6x16__avx2(int transB, @Cast("size_t") long k, @Cast("size_t") long n,
                                                           @Cast("size_t") long j0, @Cast("size_t") long nc,
                                                           @Cast("const float*") long b, @Cast("size_t") long ldb,
                                                           @Cast("float*") long packed);

    static native void tsr_f32_conv2d_pack_flipped_6x16__avx2(@Cast("size_t") long k, @Cast("size_t") long r, @Cast("size_t") long s,
                                                              @Cast("size_t") long c, @Cast("size_t") long j0, @Cast("size_t") long nc,
                                                              @Cast("const float*") long w, @Cast("float*") long packed);

    static native void tsr_f32_gemm_packed_6x16__avx2(int transA, @Cast("size_t") long m, @Cast("size_t") long n,
                                                      @Cast("size_t") long k, @Cast("size_t") long j0, @Cast("size_t") long nc,
                                                      float alpha, @Cast("const float*") long a, @Cast("size_t") long lda,
                                                      @Cast("const float*") long packed, float beta, @Cast("float*") long c,
                                                      @Cast("size_t") long ldc, @Cast("const float*") long bias, int relu,
                                                      @Cast("void*") long workspace);

    static native void tsr_f32_gemm_12x32__avx512(int transA, int transB, @Cast("size_t") long m, @Cast("size_t") long n,
                                                  @Cast("size_t") long k, float alpha, @Cast("const float*") long a,
                                                  @Cast("size_t") long lda, @Cast("const float*") long b, @Cast("size_t") long ldb,
                                                  float beta, @Cast("float*") long c, @Cast("size_t") long ldc,
                                                  @Cast("const float*") long bias, int relu, @Cast("void*") long workspace);

    static native void tsr_f32_gemm_packed_12x32__avx512(int transA, @Cast("size_t") long m, @Cast("size_t") long n,
                                                         @Cast("size_t") long k, @Cast("size_t") long j0, @Cast("size_t") long nc,
                                                         float alpha, @Cast("const float*") long a, @Cast("size_t") long lda,
                                                         @Cast("const float*") long packed, float beta, @Cast("float*") long c,
                                                         @Cast("size_t") long ldc, @Cast("const float*") long bias, int relu,
                                                         @Cast("void*") long workspace);

    static native void tsr_f32_dwconv2d__avx2(@Cast("size_t") long h, @Cast("size_t") long w, @Cast("size_t") long c,
                                              @Cast("size_t") long r, @Cast("size_t") long s, @Cast("size_t") long strideH,
                                              @Cast("size_t") long strideW, @Cast("size_t") long padTop,
                                              @Cast("size_t") long padLeft, @Cast("size_t") long dilH, @Cast("size_t") long dilW,
                                              @Cast("size_t") long outH, @Cast("size_t") long outW, @Cast("size_t") long row0,
                                              @Cast("size_t") long row1, @Cast("const float*") long x,
                                              @Cast("const float*") long wt, @Cast("const float*") long bias, int relu,
                                              @Cast("float*") long y);

    static native void tsr_f32_dwconv2d_8x16__avx512(@Cast("size_t") long h, @Cast("size_t") long w, @Cast("size_t") long c,
                                                     @Cast("size_t") long r, @Cast("size_t") long s, @Cast("size_t") long strideH,
                                                     @Cast("size_t") long strideW, @Cast("size_t") long padTop,
                                                     @Cast("size_t") long padLeft, @Cast("size_t") long dilH, @Cast("size_t") long dilW,
                                                     @Cast("size_t") long outH, @Cast("size_t") long outW, @Cast("size_t") long row0,
                                                     @Cast("size_t") long row1, @Cast("const float*") long x,
                                                     @Cast("const float*") long wt, @Cast("size_t") long wtStride,
                                                     @Cast("const float*") long bias, int relu,
                                                     @Cast("float*") long y);

    static native void tsr_f32_dwconv2d_wgrad_3x3_c16__avx2(@Cast("size_t") long n, @Cast("size_t") long h, @Cast("size_t") long w,
                                                            @Cast("size_t") long c, @Cast("size_t") long strideH, @Cast("size_t") long strideW,
                                                            @Cast("size_t") long padTop, @Cast("size_t") long padLeft, @Cast("size_t") long dilH,
                                                            @Cast("size_t") long dilW, @Cast("size_t") long outH, @Cast("size_t") long outW,
                                                            @Cast("size_t") long ch0, @Cast("size_t") long ch1, @Cast("const float*") long x,
                                                            @Cast("const float*") long dy, @Cast("float*") long sums, @Cast("float*") long dw,
                                                            @Cast("float*") long db);

    static native void tsr_f32_dwconv2d_wgrad_3x3_c16__avx512(@Cast("size_t") long n, @Cast("size_t") long h, @Cast("size_t") long w,
                                                              @Cast("size_t") long c, @Cast("size_t") long strideH, @Cast("size_t") long strideW,
                                                              @Cast("size_t") long padTop, @Cast("size_t") long padLeft, @Cast("size_t") long dilH,
                                                              @Cast("size_t") long dilW, @Cast("size_t") long outH, @Cast("size_t") long outW,
                                                              @Cast("size_t") long ch0, @Cast("size_t") long ch1, @Cast("const float*") long x,
                                                              @Cast("const float*") long dy, @Cast("float*") long sums, @Cast("float*") long dw,
                                                              @Cast("float*") long db);

    static native void tsr_f32_conv2d_wgrad_6x16__avx2(@Cast("size_t") long n, @Cast("size_t") long h, @Cast("size_t") long w,
                                                       @Cast("size_t") long c, @Cast("size_t") long k, @Cast("size_t") long r,
                                                       @Cast("size_t") long s, @Cast("size_t") long strideH,
                                                       @Cast("size_t") long strideW, @Cast("size_t") long padTop,
                                                       @Cast("size_t") long padLeft, @Cast("size_t") long dilH,
                                                       @Cast("size_t") long dilW, @Cast("size_t") long outH,
                                                       @Cast("size_t") long outW, @Cast("size_t") long f0, @Cast("size_t") long f1,
                                                       @Cast("const float*") long x, @Cast("const float*") long dy,
                                                       @Cast("float*") long dw);

    static native void tsr_f32_conv2d_wgrad_16x6__avx2(@Cast("size_t") long n, @Cast("size_t") long h, @Cast("size_t") long w,
                                                       @Cast("size_t") long c, @Cast("size_t") long k, @Cast("size_t") long r,
                                                       @Cast("size_t") long s, @Cast("size_t") long strideH,
                                                       @Cast("size_t") long strideW, @Cast("size_t") long padTop,
                                                       @Cast("size_t") long padLeft, @Cast("size_t") long dilH,
                                                       @Cast("size_t") long dilW, @Cast("size_t") long outH,
                                                       @Cast("size_t") long outW, @Cast("size_t") long f0, @Cast("size_t") long f1,
                                                       @Cast("const float*") long x, @Cast("const float*") long dy,
                                                       @Cast("float*") long dw);

    static native @Cast("size_t") long tsr_f32_conv2d_igemm_workspace_bytes__avx2();

    static native void tsr_f32_conv2d_igemm_6x16__avx2(@Cast("size_t") long h, @Cast("size_t") long w, @Cast("size_t") long c,
                                                       @Cast("size_t") long r, @Cast("size_t") long s, @Cast("size_t") long strideH,
                                                       @Cast("size_t") long strideW, @Cast("size_t") long padTop,
                                                       @Cast("size_t") long padLeft, @Cast("size_t") long dilH,
                                                       @Cast("size_t") long dilW, @Cast("size_t") long outH,
                                                       @Cast("size_t") long outW, @Cast("size_t") long groups,
                                                       @Cast("size_t") long group, @Cast("size_t") long kg,
                                                       @Cast("size_t") long j0, @Cast("size_t") long j1,
                                                       @Cast("size_t") long p0, @Cast("size_t") long p1,
                                                       @Cast("const float*") long x, @Cast("const float*") long packed,
                                                       @Cast("const float*") long bias, int relu, @Cast("float*") long y,
                                                       @Cast("size_t") long ldy, @Cast("void*") long workspace);

    static native void tsr_f32_conv2d_igemm_12x32__avx512(@Cast("size_t") long h, @Cast("size_t") long w, @Cast("size_t") long c,
                                                          @Cast("size_t") long r, @Cast("size_t") long s, @Cast("size_t") long strideH,
                                                          @Cast("size_t") long strideW, @Cast("size_t") long padTop,
                                                          @Cast("size_t") long padLeft, @Cast("size_t") long dilH,
                                                          @Cast("size_t") long dilW, @Cast("size_t") long outH,
                                                          @Cast("size_t") long outW, @Cast("size_t") long groups,
                                                          @Cast("size_t") long group, @Cast("size_t") long kg,
                                                          @Cast("size_t") long j0, @Cast("size_t") long j1,
                                                          @Cast("size_t") long p0, @Cast("size_t") long p1,
                                                          @Cast("const float*") long x, @Cast("const float*") long packed,
                                                          @Cast("const float*") long bias, int relu, @Cast("float*") long y,
                                                          @Cast("size_t") long ldy, @Cast("void*") long workspace);

    static native @Cast("size_t") long tsr_i8_gemm_packed_b_bytes_6x16__avx2(@Cast("size_t") long k, @Cast("size_t") long n);

    static native void tsr_i8_gemm_pack_b_6x16__avx2(int transB, @Cast("size_t") long k, @Cast("size_t") long n,
                                                     @Cast("const int8_t*") long b, @Cast("size_t") long ldb,
                                                     @Cast("int8_t*") long packed, @Cast("int32_t*") long colsums);

    static native @Cast("size_t") long tsr_i8_gemm_packed_b_bytes_rr_6x16__avx2(@Cast("size_t") long k, @Cast("size_t") long n);

    static native int tsr_i8_gemm_pack_b_rr_6x16__avx2(int transB, @Cast("size_t") long k, @Cast("size_t") long n,
                                                       @Cast("const int8_t*") long b, @Cast("size_t") long ldb,
                                                       @Cast("int8_t*") long packed, @Cast("int32_t*") long colsums);

    static native @Cast("size_t") long tsr_i8_gemm_workspace_bytes__avx2(@Cast("size_t") long k);

    static native void tsr_i8_gemm_packed_6x16__avx2(int reducedRange, @Cast("size_t") long m, @Cast("size_t") long k,
                                                     @Cast("size_t") long j0, @Cast("size_t") long nc, int aSigned,
                                                     @Cast("const uint8_t*") long a, @Cast("size_t") long lda, int aZero,
                                                     float aScale, @Cast("const int8_t*") long packed,
                                                     @Cast("const int32_t*") long colsums, @Cast("const float*") long wScales,
                                                     @Cast("const float*") long bias, int outKind, float outScale, int outZero,
                                                     int relu, @Cast("void*") long c, @Cast("size_t") long ldc,
                                                     @Cast("void*") long workspace);

    /** Needs AVX-512 F/BW/VL + VNNI with OS ZMM state; weights packed by the rr packer. */
    static native void tsr_i8_gemm_packed_6x32__avx512vnni(@Cast("size_t") long m, @Cast("size_t") long k,
                                                           @Cast("size_t") long j0, @Cast("size_t") long nc, int aSigned,
                                                           @Cast("const uint8_t*") long a, @Cast("size_t") long lda, int aZero,
                                                           float aScale, @Cast("const int8_t*") long packed,
                                                           @Cast("const int32_t*") long colsums, @Cast("const float*") long wScales,
                                                           @Cast("const float*") long bias, int outKind, float outScale, int outZero,
                                                           int relu, @Cast("void*") long c, @Cast("size_t") long ldc,
                                                           @Cast("void*") long workspace);

    /** Needs AVX2 + AVX-VNNI with OS YMM state; weights packed by the rr packer. */
    static native void tsr_i8_gemm_packed_6x16__avxvnni(@Cast("size_t") long m, @Cast("size_t") long k,
                                                        @Cast("size_t") long j0, @Cast("size_t") long nc, int aSigned,
                                                        @Cast("const uint8_t*") long a, @Cast("size_t") long lda, int aZero,
                                                        float aScale, @Cast("const int8_t*") long packed,
                                                        @Cast("const int32_t*") long colsums, @Cast("const float*") long wScales,
                                                        @Cast("const float*") long bias, int outKind, float outScale, int outZero,
                                                        int relu, @Cast("void*") long c, @Cast("size_t") long ldc,
                                                        @Cast("void*") long workspace);

    static native void tsr_f32_conv2d_direct_6x16__avx2(@Cast("size_t") long h, @Cast("size_t") long w, @Cast("size_t") long c,
                                                        @Cast("size_t") long r, @Cast("size_t") long s,
                                                        @Cast("size_t") long strideH, @Cast("size_t") long strideW,
                                                        @Cast("size_t") long padTop, @Cast("size_t") long padLeft,
                                                        @Cast("size_t") long dilH, @Cast("size_t") long dilW,
                                                        @Cast("size_t") long outH, @Cast("size_t") long outW,
                                                        @Cast("size_t") long k, @Cast("size_t") long pool,
                                                        @Cast("size_t") long row0, @Cast("size_t") long row1,
                                                        @Cast("const float*") long x, @Cast("const float*") long wt,
                                                        @Cast("const float*") long bias, int relu, @Cast("float*") long y,
                                                        @Cast("float*") long workspace);

    static native @Cast("size_t") long tsr_f32_conv2d_direct_workspace_bytes__avx2(@Cast("size_t") long w, @Cast("size_t") long c,
                                                                                  @Cast("size_t") long r, @Cast("size_t") long s,
                                                                                  @Cast("size_t") long strideH,
                                                                                  @Cast("size_t") long strideW,
                                                                                  @Cast("size_t") long padLeft,
                                                                                  @Cast("size_t") long dilH,
                                                                                  @Cast("size_t") long dilW, @Cast("size_t") long outW,
                                                                                  @Cast("size_t") long k, @Cast("size_t") long pool);

    static native @Cast("size_t") long tsr_i8_conv2d_igemm_workspace_bytes__avx2(@Cast("size_t") long k);

    static native void tsr_i8_conv2d_igemm_6x16__avx2(@Cast("size_t") long h, @Cast("size_t") long w, @Cast("size_t") long c,
                                                      @Cast("size_t") long r, @Cast("size_t") long s,
                                                      @Cast("size_t") long strideH, @Cast("size_t") long strideW,
                                                      @Cast("size_t") long padTop, @Cast("size_t") long padLeft,
                                                      @Cast("size_t") long dilH, @Cast("size_t") long dilW,
                                                      @Cast("size_t") long outH, @Cast("size_t") long outW,
                                                      @Cast("size_t") long groups, @Cast("size_t") long group,
                                                      @Cast("size_t") long kg, @Cast("size_t") long p0, @Cast("size_t") long p1,
                                                      int reducedRange, int aSigned, @Cast("const uint8_t*") long x, int aZero,
                                                      float aScale, @Cast("const int8_t*") long packed,
                                                      @Cast("const int32_t*") long colsums, @Cast("const float*") long wScales,
                                                      @Cast("const float*") long bias, int outKind, float outScale, int outZero,
                                                      int relu, @Cast("void*") long y, @Cast("size_t") long ldy,
                                                      @Cast("void*") long workspace);

    static native void tsr_i8_conv2d_igemm_6x32__avx512vnni(@Cast("size_t") long h, @Cast("size_t") long w, @Cast("size_t") long c,
                                                            @Cast("size_t") long r, @Cast("size_t") long s,
                                                            @Cast("size_t") long strideH, @Cast("size_t") long strideW,
                                                            @Cast("size_t") long padTop, @Cast("size_t") long padLeft,
                                                            @Cast("size_t") long dilH, @Cast("size_t") long dilW,
                                                            @Cast("size_t") long outH, @Cast("size_t") long outW,
                                                            @Cast("size_t") long groups, @Cast("size_t") long group,
                                                            @Cast("size_t") long kg, @Cast("size_t") long p0, @Cast("size_t") long p1,
                                                            int aSigned, @Cast("const uint8_t*") long x, int aZero,
                                                            float aScale, @Cast("const int8_t*") long packed,
                                                            @Cast("const int32_t*") long colsums, @Cast("const float*") long wScales,
                                                            @Cast("const float*") long bias, int outKind, float outScale, int outZero,
                                                            int relu, @Cast("void*") long y, @Cast("size_t") long ldy,
                                                            @Cast("void*") long workspace);

    static native @Cast("size_t") long tsr_i8_dwconv2d_workspace_bytes__avx2(@Cast("size_t") long r, @Cast("size_t") long s,
                                                                          @Cast("size_t") long c);

    static native void tsr_i8_dwconv2d__avx2(@Cast("size_t") long h, @Cast("size_t") long w, @Cast("size_t") long c,
                                             @Cast("size_t") long r, @Cast("size_t") long s, @Cast("size_t") long strideH,
                                             @Cast("size_t") long strideW, @Cast("size_t") long padTop,
                                             @Cast("size_t") long padLeft, @Cast("size_t") long dilH, @Cast("size_t") long dilW,
                                             @Cast("size_t") long outH, @Cast("size_t") long outW, @Cast("size_t") long row0,
                                             @Cast("size_t") long row1, int aSigned, @Cast("const uint8_t*") long x, int aZero,
                                             float aScale, @Cast("const int8_t*") long wt, @Cast("const float*") long wScales,
                                             @Cast("const float*") long bias, int outKind, float outScale, int outZero, int relu,
                                             @Cast("void*") long y, @Cast("void*") long workspace);

    static native float tsr_f32_fmapeak__avx2(@Cast("size_t") long iterations);

    static native void tsr_f32_spmm_bsr__avx2(@Cast("size_t") long n, @Cast("size_t") long k, @Cast("size_t") long br,
                                              @Cast("size_t") long bc, @Cast("size_t") long blockRow0,
                                              @Cast("size_t") long blockRow1, @Cast("size_t") long m,
                                              @Cast("const int32_t*") long rowPtr, @Cast("const int32_t*") long col,
                                              @Cast("const float*") long values, @Cast("const float*") long x,
                                              @Cast("size_t") long ldx, @Cast("const float*") long bias, int relu,
                                              @Cast("float*") long y, @Cast("size_t") long ldy);

    static native void tsr_i8_spmm_bsr__avx2(@Cast("size_t") long n, @Cast("size_t") long k, @Cast("size_t") long br,
                                             @Cast("size_t") long bc, @Cast("size_t") long blockRow0,
                                             @Cast("size_t") long blockRow1, @Cast("size_t") long m,
                                             @Cast("const int32_t*") long rowPtr, @Cast("const int32_t*") long col,
                                             @Cast("const int8_t*") long values, @Cast("const int32_t*") long rowsums,
                                             @Cast("const float*") long wScales, int aSigned, @Cast("const uint8_t*") long x,
                                             @Cast("size_t") long ldx, int aZero, float aScale, @Cast("const float*") long bias,
                                             int outKind, float outScale, int outZero, int relu, @Cast("void*") long y,
                                             @Cast("size_t") long ldy);
}

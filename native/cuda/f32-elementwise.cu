// f32 elementwise kernels for the cuda backend, loaded by name from PTX (kernels/.../cuda/CudaBackend).
// Every kernel works on a (rows, cols) row-major block with row strides in elements, like the CPU
// kernels; a 2-D grid-stride loop (x over columns, y over rows) keeps reads coalesced along rows and
// lets any grid size cover any shape. y may alias the inputs.
#include <cstddef>

extern "C" __global__ void tsr_f32_vrelu__cuda(long long rows, long long cols, const float *x, long long ldx,
                                               float *y, long long ldy) {
  for (long long r = blockIdx.y; r < rows; r += gridDim.y)
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < cols;
         c += (long long)gridDim.x * blockDim.x) {
      const float v = x[r * ldx + c];
      y[r * ldy + c] = v > 0.0f || v != v ? v : 0.0f;  // NaN propagates, as on the CPU backends
    }
}

extern "C" __global__ void tsr_f32_vscale__cuda(long long rows, long long cols, float alpha, const float *x,
                                                long long ldx, float *y, long long ldy) {
  for (long long r = blockIdx.y; r < rows; r += gridDim.y)
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < cols;
         c += (long long)gridDim.x * blockDim.x)
      y[r * ldy + c] = alpha * x[r * ldx + c];
}

extern "C" __global__ void tsr_f32_vadd__cuda(long long rows, long long cols, const float *a, long long lda,
                                              const float *b, long long ldb, float *y, long long ldy) {
  for (long long r = blockIdx.y; r < rows; r += gridDim.y)
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < cols;
         c += (long long)gridDim.x * blockDim.x)
      y[r * ldy + c] = a[r * lda + c] + b[r * ldb + c];
}

extern "C" __global__ void tsr_f32_vrelu_grad__cuda(long long rows, long long cols, const float *a, long long lda,
                                                    const float *b, long long ldb, float *y, long long ldy) {
  for (long long r = blockIdx.y; r < rows; r += gridDim.y)
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < cols;
         c += (long long)gridDim.x * blockDim.x)
      y[r * ldy + c] = a[r * lda + c] > 0.f ? b[r * ldb + c] : 0.f;
}

extern "C" __global__ void tsr_f32_vmul__cuda(long long rows, long long cols, const float *a, long long lda,
                                              const float *b, long long ldb, float *y, long long ldy) {
  for (long long r = blockIdx.y; r < rows; r += gridDim.y)
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < cols;
         c += (long long)gridDim.x * blockDim.x)
      y[r * ldy + c] = a[r * lda + c] * b[r * ldb + c];
}

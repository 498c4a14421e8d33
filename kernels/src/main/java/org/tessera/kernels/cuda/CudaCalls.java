package org.tessera.kernels.cuda;

import jcuda.driver.CUresult;

/** Checks CUDA driver return codes: a failure becomes an exception naming the call and the error. */
final class CudaCalls {
    private CudaCalls() {}

    static void check(String call, int result) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + CUresult.stringFor(result) + " (" + result + ")");
        }
    }

    /** A failed CUDA driver call. */
    static final class CudaException extends RuntimeException {
        CudaException(String message) {
            super(message);
        }
    }
}

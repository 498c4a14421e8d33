package org.tessera.kernels.cuda;

import static org.tessera.kernels.cuda.CudaCalls.check;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.kernels.spi.CheckedElementwise;
import org.tessera.kernels.spi.UnaryOp;

/**
 * f32 elementwise kernels from {@code native/cuda/f32-elementwise.cu}. Calls are synchronous: a launch
 * is followed by cuCtxSynchronize, so launch and execution errors surface at the call that caused them.
 */
final class CudaElementwise extends CheckedElementwise {
    private static final int BLOCK = 256;
    private final CudaDevice device;

    CudaElementwise(CudaDevice device) {
        super(MemoryKind.CUDA);
        this.device = device;
    }

    @Override
    public String kernelId(UnaryOp op) {
        return "f32_" + op.kernelName() + "__cuda";
    }

    @Override
    public String kernelId(BinaryOp op) {
        return "f32_" + op.kernelName() + "__cuda";
    }

    @Override
    protected void runUnary(UnaryOp op, float alpha, long rows, long cols,
                            Storage x, long xOffset, long ldx, Storage y, long yOffset, long ldy) {
        Pointer xp = ((CudaStorage) x).at(4 * xOffset), yp = ((CudaStorage) y).at(4 * yOffset);
        Pointer params = op == UnaryOp.RELU
                ? Pointer.to(longs(rows), longs(cols), Pointer.to(xp), longs(ldx), Pointer.to(yp), longs(ldy))
                : Pointer.to(longs(rows), longs(cols), Pointer.to(new float[] {alpha}), Pointer.to(xp), longs(ldx),
                        Pointer.to(yp), longs(ldy));
        launch("tsr_" + kernelId(op), rows, cols, params);
    }

    @Override
    protected void runBinary(BinaryOp op, long rows, long cols, Storage a, long aOffset, long lda,
                             Storage b, long bOffset, long ldb, Storage y, long yOffset, long ldy) {
        Pointer ap = ((CudaStorage) a).at(4 * aOffset), bp = ((CudaStorage) b).at(4 * bOffset);
        Pointer yp = ((CudaStorage) y).at(4 * yOffset);
        launch("tsr_" + kernelId(op), rows, cols, Pointer.to(longs(rows), longs(cols), Pointer.to(ap), longs(lda),
                Pointer.to(bp), longs(ldb), Pointer.to(yp), longs(ldy)));
    }

    private void launch(String kernel, long rows, long cols, Pointer params) {
        device.makeCurrent();
        int gridX = (int) Math.min((cols + BLOCK - 1) / BLOCK, 1024), gridY = (int) Math.min(rows, 65535);
        check("cuLaunchKernel(" + kernel + ")", JCudaDriver.cuLaunchKernel(device.function(kernel),
                gridX, gridY, 1, BLOCK, 1, 1, 0, null, params, null));
        check("cuCtxSynchronize after " + kernel, JCudaDriver.cuCtxSynchronize());
    }

    private static Pointer longs(long v) {
        return Pointer.to(new long[] {v});
    }
}

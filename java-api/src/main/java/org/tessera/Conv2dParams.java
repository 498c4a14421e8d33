package org.tessera;

/**
 * Stride, padding, dilation and groups of a 2-D convolution ({@link Ops#conv2d}). Build with
 * {@link #builder()}; {@link #DEFAULT} is stride 1, no padding, no dilation, one group.
 *
 * <pre>{@code
 * Conv2dParams same3x3 = Conv2dParams.builder().padding(1).build();
 * Conv2dParams depthwise = Conv2dParams.builder().padding(1).groups(channels).build();
 * }</pre>
 *
 * @param strideH   vertical stride, >= 1
 * @param strideW   horizontal stride, >= 1
 * @param padTop    zero rows above the input, >= 0
 * @param padBottom zero rows below
 * @param padLeft   zero columns left
 * @param padRight  zero columns right
 * @param dilationH vertical spacing of filter taps, >= 1
 * @param dilationW horizontal spacing of filter taps, >= 1
 * @param groups    channel groups (c and k multiples of it); c for depthwise
 */
public record Conv2dParams(int strideH, int strideW, int padTop, int padBottom, int padLeft, int padRight,
                           int dilationH, int dilationW, int groups) {
    /** Stride 1, no padding, dilation 1, one group. */
    public static final Conv2dParams DEFAULT = new Conv2dParams(1, 1, 0, 0, 0, 0, 1, 1, 1);

    /** @throws IllegalArgumentException for a stride, dilation or groups below 1, or negative padding, naming it */
    public Conv2dParams {
        atLeast("strideH", strideH, 1);
        atLeast("strideW", strideW, 1);
        atLeast("padTop", padTop, 0);
        atLeast("padBottom", padBottom, 0);
        atLeast("padLeft", padLeft, 0);
        atLeast("padRight", padRight, 0);
        atLeast("dilationH", dilationH, 1);
        atLeast("dilationW", dilationW, 1);
        atLeast("groups", groups, 1);
    }

    /** A builder starting from {@link #DEFAULT}. */
    public static Builder builder() {
        return new Builder();
    }

    private static void atLeast(String name, int value, int min) {
        if (value < min) throw new IllegalArgumentException(name + " must be >= " + min + ", got " + value);
    }

    /** Builds {@link Conv2dParams}; every setter returns the builder. */
    public static final class Builder {
        private int strideH = 1, strideW = 1, padTop, padBottom, padLeft, padRight, dilationH = 1, dilationW = 1, groups = 1;

        private Builder() {}

        /** The same stride in both directions. */
        public Builder stride(int stride) {
            return stride(stride, stride);
        }

        /** Vertical and horizontal stride. */
        public Builder stride(int strideH, int strideW) {
            this.strideH = strideH;
            this.strideW = strideW;
            return this;
        }

        /** The same padding on all four sides ("same" padding for a 3x3 filter is 1). */
        public Builder padding(int pad) {
            return padding(pad, pad, pad, pad);
        }

        /** Asymmetric padding. */
        public Builder padding(int top, int bottom, int left, int right) {
            this.padTop = top;
            this.padBottom = bottom;
            this.padLeft = left;
            this.padRight = right;
            return this;
        }

        /** The same dilation in both directions. */
        public Builder dilation(int dilation) {
            return dilation(dilation, dilation);
        }

        /** Vertical and horizontal dilation (1: adjacent taps). */
        public Builder dilation(int dilationH, int dilationW) {
            this.dilationH = dilationH;
            this.dilationW = dilationW;
            return this;
        }

        /** Channel groups; the input's channel count for a depthwise convolution. */
        public Builder groups(int groups) {
            this.groups = groups;
            return this;
        }

        /** @throws IllegalArgumentException for an invalid value, naming it */
        public Conv2dParams build() {
            return new Conv2dParams(strideH, strideW, padTop, padBottom, padLeft, padRight, dilationH, dilationW, groups);
        }
    }
}

package io.crossdistil.model;

/**
 * Row-major host matrices made of equal column blocks side by side, as a fused group's towers lie
 * in its layers (and queries, keys and values in their fused product): one block out of them, or
 * blocks joined into one.
 */
final class ColumnBlocks {
    private ColumnBlocks() {}

    /** Block {@code k} of the {@code blocks} equal column blocks of the {@code rows}-row matrix {@code m} (m itself if it is the only one). */
    static double[] take(double[] m, int rows, int blocks, int k) {
        if (blocks == 1) {
            return m;
        }
        int width = m.length / rows / blocks;
        double[] out = new double[rows * width];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(m, (i * blocks + k) * width, out, i * width, width);
        }
        return out;
    }

    /** The {@code rows}-row matrices {@code parts}, all of one width, side by side (the part itself if it is the only one). */
    static double[] join(double[][] parts, int rows) {
        if (parts.length == 1) {
            return parts[0];
        }
        int width = parts[0].length / rows;
        double[] out = new double[rows * width * parts.length];
        for (int k = 0; k < parts.length; k++) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(parts[k], i * width, out, (i * parts.length + k) * width, width);
            }
        }
        return out;
    }
}

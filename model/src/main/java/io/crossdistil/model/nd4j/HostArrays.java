package io.crossdistil.model.nd4j;

import java.lang.ref.Reference;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Copies between Java arrays and ND4J arrays of the model's data type (float or double), each
 * one pass over the values through the array's host buffer. ND4J's own conversions go element
 * by element: on a step's 768x48 input {@code Nd4j.create(double[], shape, FLOAT)} measured 225
 * microseconds against 30 for a buffer made from a float array, and {@code toFloatVector} 82
 * against 4 for a bulk read of the buffer.
 * Backend-neutral: the array is brought to the host before it is read.
 */
public final class HostArrays {
    private HostArrays() {}

    /** Per thread, a float array reused for the conversions, so that a copy allocates nothing on the heap. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] scratch(int n) {
        float[] f = SCRATCH.get();
        if (f.length < n) {
            f = new float[n + n / 4];
            SCRATCH.set(f);
        }
        return f;
    }

    /**
     * A new C-order {@code rows x cols} array of {@code dtype} holding the first {@code rows * cols}
     * of {@code values} (row-major). Made like any other array, so inside a workspace it is
     * workspace memory: no native allocation, no deallocator for the garbage collector to process.
     */
    public static INDArray matrix(double[] values, long rows, long cols, DataType dtype) {
        int n = Math.toIntExact(rows * cols);
        if (values.length < n) {
            throw new IllegalArgumentException(values.length + " values for a " + rows + "x" + cols + " matrix");
        }
        if (dtype != DataType.FLOAT && dtype != DataType.DOUBLE) {
            return Nd4j.create(java.util.Arrays.copyOf(values, n), new long[] {rows, cols}, dtype);
        }
        return put(values, Nd4j.createUninitialized(dtype, new long[] {rows, cols}, 'c'));
    }

    /** Overwrites {@code out}, a whole C-order float or double array, with the first {@code out.length()} of {@code values}; returns it. */
    public static INDArray put(double[] values, INDArray out) {
        int n = Math.toIntExact(out.length());
        if (!whole(out)) {
            throw new IllegalArgumentException("only a whole C-order array can be filled, not a view of " + n + " values");
        }
        if (values.length < n) {
            throw new IllegalArgumentException(values.length + " values for an array of " + n);
        }
        Nd4j.getAffinityManager().ensureLocation(out, AffinityManager.Location.HOST);
        if (out.dataType() == DataType.DOUBLE) {
            out.data().asNioDouble().put(values, 0, n);
        } else {
            float[] f = scratch(n);
            for (int i = 0; i < n; i++) {
                f[i] = (float) values[i];
            }
            out.data().asNioFloat().put(f, 0, n);
        }
        Nd4j.getAffinityManager().tagLocation(out, AffinityManager.Location.HOST);
        return out;
    }

    /** Sets the values at {@code positions} of {@code a} (a whole C-order float or double array, positions in C order) to 0. */
    public static void zeroAt(INDArray a, int[] positions) {
        if (positions.length == 0) {
            return;
        }
        if (!whole(a) || (a.dataType() != DataType.FLOAT && a.dataType() != DataType.DOUBLE)) {
            throw new IllegalArgumentException("only values of a whole C-order float or double array can be set, not of " + a.shapeInfoToString());
        }
        Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
        if (a.dataType() == DataType.FLOAT) {
            FloatBuffer b = a.data().asNioFloat();
            for (int p : positions) {
                b.put(p, 0f);
            }
        } else {
            java.nio.DoubleBuffer b = a.data().asNioDouble();
            for (int p : positions) {
                b.put(p, 0.0);
            }
        }
        Nd4j.getAffinityManager().tagLocation(a, AffinityManager.Location.HOST);
    }

    /** True when {@code a}'s buffer holds exactly its values, in C order: it can be read as it is. */
    private static boolean whole(INDArray a) {
        return !a.isView() && a.ordering() == 'c' && a.data().length() == a.length();
    }

    /** Every value of {@code a} in C order. */
    public static double[] values(INDArray a) {
        return values(a, new double[Math.toIntExact(a.length())]);
    }

    /** Every value of {@code a} in C order, written to the start of {@code out}; returns {@code out}. */
    public static double[] values(INDArray a, double[] out) {
        INDArray c = whole(a) ? a : a.dup('c');
        int n = Math.toIntExact(c.length());
        if (out.length < n) {
            throw new IllegalArgumentException("room for " + out.length + " values, the array has " + n);
        }
        Nd4j.getAffinityManager().ensureLocation(c, AffinityManager.Location.HOST);
        if (c.dataType() == DataType.DOUBLE) {
            c.data().asNioDouble().get(out, 0, n);
        } else if (c.dataType() == DataType.FLOAT) {
            float[] f = scratch(n);
            c.data().asNioFloat().get(f, 0, n);
            for (int i = 0; i < n; i++) {
                out[i] = f[i];
            }
        } else {
            System.arraycopy(c.toDoubleVector(), 0, out, 0, n);
        }
        // the NIO view does not hold the array: without this a temporary copy may be collected, its memory freed, mid-read
        Reference.reachabilityFence(c);
        return out;
    }

    /**
     * Every value of {@code a} in C order as floats (doubles rounded), put into {@code out}: a float
     * array's buffer in one bulk copy.
     */
    public static void putFloats(INDArray a, FloatBuffer out) {
        INDArray c = whole(a) ? a : a.dup('c');
        int n = Math.toIntExact(c.length());
        Nd4j.getAffinityManager().ensureLocation(c, AffinityManager.Location.HOST);
        if (c.dataType() == DataType.FLOAT) {
            out.put(c.data().asNioFloat().limit(n));
        } else {
            double[] d = values(c);
            float[] f = scratch(n);
            for (int i = 0; i < n; i++) {
                f[i] = (float) d[i];
            }
            out.put(f, 0, n);
        }
        Reference.reachabilityFence(c); // as in values: the copy must outlive the read of its buffer
    }

    /** True when every value of {@code a} is finite; read in place when {@code a} is a whole float or double array. */
    public static boolean allFinite(INDArray a) {
        if (whole(a) && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE)) {
            Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
            int n = Math.toIntExact(a.length());
            if (a.dataType() == DataType.FLOAT) {
                float[] f = scratch(n);
                a.data().asNioFloat().get(f, 0, n);
                for (int i = 0; i < n; i++) {
                    if (!Float.isFinite(f[i])) {
                        return false;
                    }
                }
            } else {
                java.nio.DoubleBuffer b = a.data().asNioDouble();
                for (int i = 0; i < n; i++) {
                    if (!Double.isFinite(b.get(i))) {
                        return false;
                    }
                }
            }
            return true;
        }
        for (double v : values(a)) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}

package io.crossdistil.model.nn;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Exact binary (de)serialization of float and double arrays: one bulk copy each way. */
public final class ArrayCodec {
    private ArrayCodec() {}

    public static void write(DataOutput out, INDArray a) throws IOException {
        INDArray flat = a.ravel();
        out.writeLong(flat.length());
        if (a.dataType() == DataType.DOUBLE) {
            for (double v : flat.toDoubleVector()) {
                out.writeDouble(v);
            }
        } else {
            for (float v : flat.toFloatVector()) {
                out.writeFloat(v);
            }
        }
    }

    /** Host values in the same format as an array of {@code dtype} with as many values. */
    public static void write(DataOutput out, double[] values, DataType dtype) throws IOException {
        out.writeLong(values.length);
        for (double v : values) {
            if (dtype == DataType.DOUBLE) {
                out.writeDouble(v);
            } else {
                out.writeFloat((float) v);
            }
        }
    }

    /** Reads what {@link #write(DataOutput, double[], DataType)} wrote into {@code into}, which must be as long. */
    public static void read(DataInput in, DataType dtype, double[] into) throws IOException {
        checkLength(in.readLong(), into.length);
        for (int i = 0; i < into.length; i++) {
            into[i] = dtype == DataType.DOUBLE ? in.readDouble() : in.readFloat();
        }
    }

    private static void checkLength(long n, long expected) throws IOException {
        if (n != expected) {
            throw new IOException("array of " + n + " values where " + expected + " were expected; the state was written by another model shape");
        }
    }

    public static INDArray read(DataInput in, DataType dtype, long[] shape) throws IOException {
        long n = in.readLong();
        long expected = 1;
        for (long s : shape) {
            expected *= s;
        }
        checkLength(n, expected);
        if (dtype == DataType.DOUBLE) {
            double[] v = new double[(int) n];
            for (int i = 0; i < n; i++) {
                v[i] = in.readDouble();
            }
            return Nd4j.create(v, shape, dtype);
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < n; i++) {
            v[i] = in.readFloat();
        }
        return Nd4j.create(v, shape, 'c');
    }
}

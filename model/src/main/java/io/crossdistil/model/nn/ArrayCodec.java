package io.crossdistil.model.nn;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Exact binary (de)serialization of host arrays: big-endian values, the bytes
 * {@code DataOutput.writeFloat}, {@code writeDouble} and {@code writeInt} would write. Values go
 * through a byte buffer in chunks, each filled by one bulk put of the JDK's (a byte-swapping copy):
 * one stream call per chunk and no per-value Java code, which matters because a checkpoint runs
 * this code seldom, so mostly before the JIT has compiled it.
 */
public final class ArrayCodec {
    private static final int CHUNK = 8192;

    private ArrayCodec() {}

    /** A length, then {@code values} as {@code dtype} values (float: rounded). */
    public static void write(DataOutput out, double[] values, DataType dtype) throws IOException {
        out.writeLong(values.length);
        boolean doubles = dtype == DataType.DOUBLE;
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * (doubles ? 8 : 4));
        float[] floats = doubles ? null : new float[CHUNK];
        for (int from = 0; from < values.length; from += CHUNK) {
            int n = Math.min(CHUNK, values.length - from);
            if (doubles) {
                chunk.asDoubleBuffer().put(values, from, n);
                out.write(chunk.array(), 0, n * 8);
            } else {
                for (int i = 0; i < n; i++) {
                    floats[i] = (float) values[from + i];
                }
                chunk.asFloatBuffer().put(floats, 0, n);
                out.write(chunk.array(), 0, n * 4);
            }
        }
    }

    /** Reads what {@link #write} wrote into {@code into}, which must be as long. */
    public static void read(DataInput in, DataType dtype, double[] into) throws IOException {
        long n = in.readLong();
        if (n != into.length) {
            throw new IOException("array of " + n + " values where " + into.length + " were expected; the state was written by another model shape");
        }
        boolean doubles = dtype == DataType.DOUBLE;
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * (doubles ? 8 : 4));
        float[] floats = doubles ? null : new float[CHUNK];
        for (int from = 0; from < into.length; from += CHUNK) {
            int count = Math.min(CHUNK, into.length - from);
            if (doubles) {
                in.readFully(chunk.array(), 0, count * 8);
                chunk.asDoubleBuffer().get(into, from, count);
            } else {
                in.readFully(chunk.array(), 0, count * 4);
                chunk.asFloatBuffer().get(floats, 0, count);
                for (int i = 0; i < count; i++) {
                    into[from + i] = floats[i];
                }
            }
        }
    }

    /** The first {@code count} values, without a length. */
    public static void writeRaw(DataOutput out, int[] values, int count) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * 4);
        for (int from = 0; from < count; from += CHUNK) {
            int n = Math.min(CHUNK, count - from);
            chunk.asIntBuffer().put(values, from, n);
            out.write(chunk.array(), 0, n * 4);
        }
    }

    /** Reads {@code count} values written by {@link #writeRaw(DataOutput, int[], int)} into the start of {@code into}. */
    public static void readRaw(DataInput in, int[] into, int count) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * 4);
        for (int from = 0; from < count; from += CHUNK) {
            int n = Math.min(CHUNK, count - from);
            in.readFully(chunk.array(), 0, n * 4);
            chunk.asIntBuffer().get(into, from, n);
        }
    }

    /** The first {@code count} values, without a length. */
    public static void writeRaw(DataOutput out, float[] values, int count) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * 4);
        for (int from = 0; from < count; from += CHUNK) {
            int n = Math.min(CHUNK, count - from);
            chunk.asFloatBuffer().put(values, from, n);
            out.write(chunk.array(), 0, n * 4);
        }
    }

    /** Reads {@code count} values written by {@link #writeRaw(DataOutput, float[], int)} into the start of {@code into}. */
    public static void readRaw(DataInput in, float[] into, int count) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * 4);
        for (int from = 0; from < count; from += CHUNK) {
            int n = Math.min(CHUNK, count - from);
            in.readFully(chunk.array(), 0, n * 4);
            chunk.asFloatBuffer().get(into, from, n);
        }
    }
}

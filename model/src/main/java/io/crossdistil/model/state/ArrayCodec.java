package io.crossdistil.model.state;

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

    /** Moves values {@code from} to {@code from + n - 1} between an array and the start of {@code chunk}. */
    private interface ChunkCopy {
        void copy(ByteBuffer chunk, int from, int n);
    }

    /** Values in a chunk of {@code count}: small arrays (a round update holds hundreds) allocate no more than they hold. */
    private static int chunkOf(int count) {
        return Math.min(CHUNK, count);
    }

    /** {@code count} values of {@code width} bytes, each chunk filled by {@code fill}. */
    private static void writeChunks(DataOutput out, int count, int width, ChunkCopy fill) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(chunkOf(count) * width);
        for (int from = 0; from < count; from += CHUNK) {
            int n = Math.min(CHUNK, count - from);
            fill.copy(chunk, from, n);
            out.write(chunk.array(), 0, n * width);
        }
    }

    /** {@code count} values of {@code width} bytes, each chunk emptied by {@code drain}. */
    private static void readChunks(DataInput in, int count, int width, ChunkCopy drain) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(chunkOf(count) * width);
        for (int from = 0; from < count; from += CHUNK) {
            int n = Math.min(CHUNK, count - from);
            in.readFully(chunk.array(), 0, n * width);
            drain.copy(chunk, from, n);
        }
    }

    /** A length, then {@code values} as {@code dtype} values (float: rounded). */
    public static void write(DataOutput out, double[] values, DataType dtype) throws IOException {
        out.writeLong(values.length);
        if (dtype == DataType.DOUBLE) {
            writeChunks(out, values.length, 8, (chunk, from, n) -> chunk.asDoubleBuffer().put(values, from, n));
        } else {
            float[] floats = new float[chunkOf(values.length)];
            writeChunks(out, values.length, 4, (chunk, from, n) -> {
                for (int i = 0; i < n; i++) {
                    floats[i] = (float) values[from + i];
                }
                chunk.asFloatBuffer().put(floats, 0, n);
            });
        }
    }

    /** Reads what {@link #write} wrote into {@code into}, which must be as long. */
    public static void read(DataInput in, DataType dtype, double[] into) throws IOException {
        readLength(in, into.length);
        readValues(in, dtype, into);
    }

    private static void readValues(DataInput in, DataType dtype, double[] into) throws IOException {
        if (dtype == DataType.DOUBLE) {
            readChunks(in, into.length, 8, (chunk, from, count) -> chunk.asDoubleBuffer().get(into, from, count));
        } else {
            float[] floats = new float[chunkOf(into.length)];
            readChunks(in, into.length, 4, (chunk, from, count) -> {
                chunk.asFloatBuffer().get(floats, 0, count);
                for (int i = 0; i < count; i++) {
                    into[from + i] = floats[i];
                }
            });
        }
    }

    /** Reads what {@link #write(DataOutput, double[], DataType)} wrote into a new array of the length it wrote. */
    public static double[] read(DataInput in, DataType dtype) throws IOException {
        double[] into = new double[Math.toIntExact(in.readLong())];
        readValues(in, dtype, into);
        return into;
    }

    /** A length, then {@code values}: what {@link #write(DataOutput, double[], DataType)} writes for them as FLOAT. */
    public static void write(DataOutput out, float[] values) throws IOException {
        out.writeLong(values.length);
        writeRaw(out, values, values.length);
    }

    /** Reads a float array written by either {@code write} into {@code into}, which must be as long. */
    public static void read(DataInput in, float[] into) throws IOException {
        readLength(in, into.length);
        readRaw(in, into, into.length);
    }

    private static void readLength(DataInput in, int expected) throws IOException {
        long n = in.readLong();
        if (n != expected) {
            throw new IOException("array of " + n + " values where " + expected + " were expected; the state was written by another model shape");
        }
    }

    /** The first {@code count} values, without a length. */
    public static void writeRaw(DataOutput out, int[] values, int count) throws IOException {
        writeChunks(out, count, 4, (chunk, from, n) -> chunk.asIntBuffer().put(values, from, n));
    }

    /** Reads {@code count} values written by {@link #writeRaw(DataOutput, int[], int)} into the start of {@code into}. */
    public static void readRaw(DataInput in, int[] into, int count) throws IOException {
        readChunks(in, count, 4, (chunk, from, n) -> chunk.asIntBuffer().get(into, from, n));
    }

    /** The first {@code count} values, without a length. */
    public static void writeRaw(DataOutput out, float[] values, int count) throws IOException {
        writeChunks(out, count, 4, (chunk, from, n) -> chunk.asFloatBuffer().put(values, from, n));
    }

    /** Reads {@code count} values written by {@link #writeRaw(DataOutput, float[], int)} into the start of {@code into}. */
    public static void readRaw(DataInput in, float[] into, int count) throws IOException {
        readChunks(in, count, 4, (chunk, from, n) -> chunk.asFloatBuffer().get(into, from, n));
    }
}

package io.crossdistil.model.nn;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Exact binary (de)serialization of host arrays as values of a model data type: a length, then
 * big-endian floats or doubles (what {@code DataOutput.writeFloat} writes). Values go through a
 * byte buffer in chunks: one stream call per chunk instead of one per value, which made writing a
 * checkpoint's three embedding-sized arrays several times faster.
 */
public final class ArrayCodec {
    private static final int CHUNK = 8192;

    private ArrayCodec() {}

    /** {@code values} as {@code dtype} values (float: rounded). */
    public static void write(DataOutput out, double[] values, DataType dtype) throws IOException {
        out.writeLong(values.length);
        boolean doubles = dtype == DataType.DOUBLE;
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * (doubles ? 8 : 4));
        for (int from = 0; from < values.length; from += CHUNK) {
            int to = Math.min(values.length, from + CHUNK);
            chunk.clear();
            for (int i = from; i < to; i++) {
                if (doubles) {
                    chunk.putDouble(values[i]);
                } else {
                    chunk.putFloat((float) values[i]);
                }
            }
            out.write(chunk.array(), 0, chunk.position());
        }
    }

    /** Reads what {@link #write} wrote into {@code into}, which must be as long. */
    public static void read(DataInput in, DataType dtype, double[] into) throws IOException {
        long n = in.readLong();
        if (n != into.length) {
            throw new IOException("array of " + n + " values where " + into.length + " were expected; the state was written by another model shape");
        }
        boolean doubles = dtype == DataType.DOUBLE;
        int width = doubles ? 8 : 4;
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * width);
        for (int from = 0; from < into.length; from += CHUNK) {
            int to = Math.min(into.length, from + CHUNK);
            chunk.clear();
            in.readFully(chunk.array(), 0, (to - from) * width);
            for (int i = from; i < to; i++) {
                into[i] = doubles ? chunk.getDouble() : chunk.getFloat();
            }
        }
    }
}

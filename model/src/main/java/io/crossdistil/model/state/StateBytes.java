package io.crossdistil.model.state;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one way state is written to bytes and read back: a format number first, so that state from
 * another build is refused with a clear message rather than misread.
 */
public final class StateBytes {
    /** Writes the body of a state. */
    public interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    /** Reads the body of a state. */
    public interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    /** Reads the body of a state written in the given format, for states whose older formats are still read. */
    public interface FormatReader<T> {
        T read(int format, DataInputStream in) throws IOException;
    }

    private StateBytes() {}

    public static byte[] write(int format, Writer body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(format);
            body.write(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @param what names the state in the error message, for example "sampler state" */
    public static <T> T read(byte[] data, int format, String what, Reader<T> body) {
        return read(data, format, format, what, (found, in) -> body.read(in));
    }

    /** Reads a state written in any format from {@code oldest} to {@code newest}. */
    public static <T> T read(byte[] data, int oldest, int newest, String what, FormatReader<T> body) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int found = in.readInt();
            if (found < oldest || found > newest) {
                throw new IllegalArgumentException(what + " has format " + found + ", this build reads "
                        + (oldest == newest ? Integer.toString(newest) : oldest + " to " + newest));
            }
            return body.read(found, in);
        } catch (IOException e) {
            throw new UncheckedIOException(what + " is truncated or damaged", e);
        }
    }

    /** A length-prefixed block, for nesting one state in another. */
    public static void writeBlock(DataOutputStream out, byte[] block) throws IOException {
        out.writeInt(block.length);
        out.write(block);
    }

    public static byte[] readBlock(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }
}

package io.crossdistil.model.features;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Hashes categorical (field, value) pairs into rows of one shared embedding table. The field name
 * salts the hash, so equal values in different fields land on different rows. Trainer and serving
 * both use this class, so they agree on every row.
 */
public final class FeatureHasher {
    /** Stands for a field the event does not carry; it gets its own learnable row per field. */
    public static final String MISSING = "\u0000missing";

    private static final int C1 = 0xcc9e2d51;
    private static final int C2 = 0x1b873593;

    private final List<String> fields;
    /**
     * Per field, the hash state after the bytes of its name and U+0001 that fill whole 4-byte
     * blocks, and the bytes left over (as the start of the next block, little-endian) and their
     * count: every value of the field is hashed on from there (see {@link #row(int, String)}).
     */
    private final int[] prefixState;
    private final int[] prefixCarry;
    private final int[] prefixCarryBytes;
    private final int[] prefixLength;
    private final int rows;

    public FeatureHasher(List<String> fields, int rows) {
        this.fields = List.copyOf(fields);
        this.rows = rows;
        int n = this.fields.size();
        prefixState = new int[n];
        prefixCarry = new int[n];
        prefixCarryBytes = new int[n];
        prefixLength = new int[n];
        for (int f = 0; f < n; f++) {
            byte[] prefix = hashedBytes(this.fields.get(f), "");
            prefixState[f] = mixBlocks(0, prefix);
            prefixCarry[f] = tail(prefix);
            prefixCarryBytes[f] = prefix.length & 3;
            prefixLength[f] = prefix.length;
        }
    }

    public int numFields() {
        return fields.size();
    }

    /** Rows for the event's values of the configured fields, in field order. */
    public int[] rows(Map<String, String> values) {
        return rows(values::get);
    }

    /** Rows for the values {@code valueOf} gives the configured fields (null: the field is missing), in field order. */
    public int[] rows(UnaryOperator<String> valueOf) {
        int[] out = new int[fields.size()];
        for (int f = 0; f < out.length; f++) {
            String v = valueOf.apply(fields.get(f));
            out[f] = row(f, v == null ? MISSING : v);
        }
        return out;
    }

    /** The row of {@code value} in {@code field}, by definition: MurmurHash3 of the UTF-8 bytes of field + U+0001 + value, modulo the table's rows. */
    public int row(String field, String value) {
        return Math.floorMod(murmur3x86_32(hashedBytes(field, value), 0), rows);
    }

    /**
     * {@link #row(String, String)} of configured field f. An ASCII value (ids usually are: its
     * characters are its UTF-8 bytes) is hashed on from the field's precomputed state, straight
     * from its characters: building the bytes (a string concatenation and its encoding, for each
     * of an event's fields) was a fifth of the source thread's allocation in the running job (JFR).
     */
    public int row(int f, String value) {
        int h1 = prefixState[f];
        int block = prefixCarry[f];
        int filled = prefixCarryBytes[f];
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c >= 0x80) {
                return row(fields.get(f), value);
            }
            block |= c << (8 * filled);
            if (++filled == 4) {
                h1 = mixBlock(h1, block);
                block = 0;
                filled = 0;
            }
        }
        return Math.floorMod(finish(h1, block, filled, prefixLength[f] + value.length()), rows);
    }

    /**
     * {@link #row(String, String)} of configured field {@code f} for the value whose UTF-8 bytes are
     * {@code length} bytes of {@code utf8} from {@code offset}, read as a UTF-8 decoder reads them
     * (a malformed sequence stands for U+FFFD). ASCII bytes are hashed where they lie, on from the
     * field's precomputed state, so an event's values need not become strings; other bytes go
     * through the decoded string, which is what the definition hashes.
     */
    public int row(int f, byte[] utf8, int offset, int length) {
        int h1 = prefixState[f];
        int block = prefixCarry[f];
        int filled = prefixCarryBytes[f];
        for (int i = offset; i < offset + length; i++) {
            int b = utf8[i];
            if (b < 0) {
                return row(fields.get(f), new String(utf8, offset, length, StandardCharsets.UTF_8));
            }
            block |= b << (8 * filled);
            if (++filled == 4) {
                h1 = mixBlock(h1, block);
                block = 0;
                filled = 0;
            }
        }
        return Math.floorMod(finish(h1, block, filled, prefixLength[f] + length), rows);
    }

    /** The bytes a value of a field hashes: UTF-8 of field + U+0001 + value. */
    private static byte[] hashedBytes(String field, String value) {
        return (field + '\u0001' + value).getBytes(StandardCharsets.UTF_8);
    }

    /** MurmurHash3's step for one whole 4-byte block {@code k1}. */
    private static int mixBlock(int h1, int k1) {
        k1 *= C1;
        k1 = Integer.rotateLeft(k1, 15);
        k1 *= C2;
        h1 ^= k1;
        h1 = Integer.rotateLeft(h1, 13);
        return h1 * 5 + 0xe6546b64;
    }

    /** MurmurHash3's tail (the last {@code tailBytes} bytes, 0 to 3, in {@code tail}) and finalisation. */
    private static int finish(int h1, int tail, int tailBytes, int length) {
        if (tailBytes > 0) {
            int k1 = tail * C1;
            k1 = Integer.rotateLeft(k1, 15);
            k1 *= C2;
            h1 ^= k1;
        }
        h1 ^= length;
        h1 ^= h1 >>> 16;
        h1 *= 0x85ebca6b;
        h1 ^= h1 >>> 13;
        h1 *= 0xc2b2ae35;
        h1 ^= h1 >>> 16;
        return h1;
    }

    /** MurmurHash3 x86_32 (Austin Appleby's public-domain reference algorithm). */
    public static int murmur3x86_32(byte[] data, int seed) {
        return finish(mixBlocks(seed, data), tail(data), data.length & 3, data.length);
    }

    /** MurmurHash3's state after the whole 4-byte blocks of {@code data} (little-endian), from {@code h1}. */
    private static int mixBlocks(int h1, byte[] data) {
        for (int i = 0; i + 4 <= data.length; i += 4) {
            h1 = mixBlock(h1, (data[i] & 0xff) | ((data[i + 1] & 0xff) << 8) | ((data[i + 2] & 0xff) << 16) | (data[i + 3] << 24));
        }
        return h1;
    }

    /** The 0 to 3 bytes after the whole blocks of {@code data}, as the start of a little-endian block. */
    private static int tail(byte[] data) {
        int blocks = data.length & ~3;
        int tail = 0;
        for (int i = blocks; i < data.length; i++) {
            tail |= (data[i] & 0xff) << (8 * (i - blocks));
        }
        return tail;
    }
}

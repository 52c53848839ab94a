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

    private final List<String> fields;
    private final int rows;

    public FeatureHasher(List<String> fields, int rows) {
        this.fields = List.copyOf(fields);
        this.rows = rows;
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
            out[f] = row(fields.get(f), v == null ? MISSING : v);
        }
        return out;
    }

    public int row(String field, String value) {
        byte[] bytes = (field + '\u0001' + value).getBytes(StandardCharsets.UTF_8);
        return Math.floorMod(murmur3x86_32(bytes, 0), rows);
    }

    /** MurmurHash3 x86_32 (Austin Appleby's public-domain reference algorithm). */
    public static int murmur3x86_32(byte[] data, int seed) {
        final int c1 = 0xcc9e2d51;
        final int c2 = 0x1b873593;
        int h1 = seed;
        int roundedEnd = data.length & ~3;
        for (int i = 0; i < roundedEnd; i += 4) {
            int k1 = (data[i] & 0xff) | ((data[i + 1] & 0xff) << 8) | ((data[i + 2] & 0xff) << 16) | (data[i + 3] << 24);
            k1 *= c1;
            k1 = Integer.rotateLeft(k1, 15);
            k1 *= c2;
            h1 ^= k1;
            h1 = Integer.rotateLeft(h1, 13);
            h1 = h1 * 5 + 0xe6546b64;
        }
        int k1 = 0;
        switch (data.length & 3) {
            case 3:
                k1 = (data[roundedEnd + 2] & 0xff) << 16;
                // fall through
            case 2:
                k1 |= (data[roundedEnd + 1] & 0xff) << 8;
                // fall through
            case 1:
                k1 |= data[roundedEnd] & 0xff;
                k1 *= c1;
                k1 = Integer.rotateLeft(k1, 15);
                k1 *= c2;
                h1 ^= k1;
                break;
            default:
                break;
        }
        h1 ^= data.length;
        h1 ^= h1 >>> 16;
        h1 *= 0x85ebca6b;
        h1 ^= h1 >>> 13;
        h1 *= 0xc2b2ae35;
        h1 ^= h1 >>> 16;
        return h1;
    }
}

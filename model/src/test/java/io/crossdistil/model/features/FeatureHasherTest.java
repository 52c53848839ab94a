package io.crossdistil.model.features;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The rows of an event's values, hashed from the values' characters, are those of the definition (the hash of the UTF-8 bytes). */
class FeatureHasherTest {
    private static final int ROWS = 131_072;
    private static final List<String> FIELDS = List.of("user_id", "item_id", "a", "", "gerät", "長");

    private static int defined(String field, String value) {
        byte[] bytes = (field + '\u0001' + value).getBytes(StandardCharsets.UTF_8);
        return Math.floorMod(FeatureHasher.murmur3x86_32(bytes, 0), ROWS);
    }

    /** Lengths 0 to 12 (every remainder of 4 after each field's bytes), ASCII or not, unpaired surrogates too. */
    private static String value(Random random) {
        String[] alphabets = {"abcxyz0129-_:", "\u0000\u007f !~", "éüß\u00ff", "長い日本語", "\ud83d\ude00", "\ud800\udfff"};
        StringBuilder b = new StringBuilder();
        int n = random.nextInt(13);
        boolean asciiOnly = random.nextBoolean();
        for (int i = 0; i < n; i++) {
            String alphabet = alphabets[asciiOnly ? random.nextInt(2) : random.nextInt(alphabets.length)];
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    @Test
    void rowsOfAnEventAreTheDefinedRowsForAsciiAndOtherValues() {
        FeatureHasher hasher = new FeatureHasher(FIELDS, ROWS);
        Random random = new Random(7);
        int ascii = 0;
        for (int trial = 0; trial < 5_000; trial++) {
            Map<String, String> values = new HashMap<>();
            for (String field : FIELDS) {
                if (random.nextInt(8) > 0) {
                    values.put(field, value(random));
                }
            }
            int[] rows = hasher.rows(values);
            for (int f = 0; f < FIELDS.size(); f++) {
                String field = FIELDS.get(f);
                String v = values.getOrDefault(field, FeatureHasher.MISSING);
                assertEquals(defined(field, v), rows[f], () -> field + " = " + v);
                assertEquals(defined(field, v), hasher.row(field, v), () -> field + " = " + v);
                ascii += v.chars().allMatch(c -> c < 0x80) ? 1 : 0;
            }
        }
        // both paths taken often
        assertEquals(true, ascii > 10_000 && ascii < 25_000, "ASCII values: " + ascii);
    }

    /** A value given as bytes inside a larger array, as a record holds it, hashes to its decoded string's row; bytes that are not UTF-8 as a decoder reads them. */
    @Test
    void rowsOfValueBytesAreTheRowsOfTheStringsTheyDecodeTo() {
        FeatureHasher hasher = new FeatureHasher(FIELDS, ROWS);
        Random random = new Random(8);
        for (int trial = 0; trial < 5_000; trial++) {
            byte[] value = trial % 5 == 0 ? new byte[random.nextInt(9)] : value(random).getBytes(StandardCharsets.UTF_8);
            if (trial % 5 == 0) {
                random.nextBytes(value); // mostly not UTF-8
            }
            byte[] record = new byte[value.length + 7];
            random.nextBytes(record);
            System.arraycopy(value, 0, record, 3, value.length);
            int f = random.nextInt(FIELDS.size());
            String decoded = new String(value, StandardCharsets.UTF_8);
            assertEquals(defined(FIELDS.get(f), decoded), hasher.row(f, record, 3, value.length), decoded);
        }
    }
}

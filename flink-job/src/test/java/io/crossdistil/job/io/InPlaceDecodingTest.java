package io.crossdistil.job.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.features.FeatureEncoder;
import io.crossdistil.model.features.InvalidEventException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/**
 * Reading an event in place gives exactly what Avro's decoding and the encoder's checks give, or leaves
 * the record to them: on valid events of every shape, on events the checks refuse, on events
 * written in Avro's blocked map encoding, and on corrupted bytes.
 */
class InPlaceDecodingTest {
    private static final ModelConfig CFG = ModelConfig.fromMap(Map.of("features", "user_id,item_id,author,device,長",
            "dense-features", "watch,age"));
    private static final int MAX_FEATURES = 6;
    private static final String[] KEYS = {"author", "device", "長", "user_id", "item_id", "other", "", "autho"};
    private static final String[] DENSE_KEYS = {"watch", "age", "other"};

    private final EventDecoder decoder = new EventDecoder(CFG, MAX_FEATURES, 1 << 20);

    /** What the Avro path makes of the bytes: the example, or the reason it refuses them. */
    private Object avroPath(byte[] bytes) {
        try {
            return new FeatureEncoder(CFG, MAX_FEATURES).example(FeedbackEvent.getDecoder().decode(bytes));
        } catch (InvalidEventException e) {
            return "refused: " + e.getMessage();
        } catch (IOException | RuntimeException e) {
            return "unreadable: " + e;
        }
    }

    private static String text(Random random) {
        String[] alphabets = {"abcxyz0129-_", "éü", "長い", "\ud83d\ude00"};
        StringBuilder b = new StringBuilder();
        int n = random.nextInt(10);
        boolean ascii = random.nextInt(3) > 0;
        for (int i = 0; i < n; i++) {
            String a = alphabets[ascii ? 0 : random.nextInt(alphabets.length)];
            b.append(a.charAt(random.nextInt(a.length())));
        }
        return b.toString();
    }

    /** Mostly valid events; some with a label, feature count or dense value the checks refuse. */
    private static FeedbackEvent event(Random random) {
        Map<String, String> categorical = new HashMap<>();
        for (int i = random.nextInt(MAX_FEATURES + 2); i > 0; i--) {
            categorical.put(KEYS[random.nextInt(KEYS.length)], text(random));
        }
        Map<String, Float> dense = new HashMap<>();
        for (int i = random.nextInt(3); i > 0; i--) {
            float v = random.nextInt(30) == 0 ? (random.nextBoolean() ? Float.NaN : Float.NEGATIVE_INFINITY) : (float) random.nextGaussian();
            dense.put(DENSE_KEYS[random.nextInt(DENSE_KEYS.length)], v);
        }
        Map<String, Integer> labels = new HashMap<>();
        labels.put("finish", random.nextInt(2));
        labels.put("like", random.nextInt(2));
        switch (random.nextInt(30)) {
            case 0 -> labels.remove("like");
            case 1 -> labels.put("share", 1);
            case 2 -> labels.put("finish", 2);
            default -> { }
        }
        Map<String, Float> teacher = random.nextBoolean() ? null : Map.of("finish", 0.5f, "like", -1.25f);
        return FeedbackEvent.newBuilder().setEventId(text(random)).setUserId(text(random)).setItemId(text(random))
                .setEventTime(random.nextLong()).setCategorical(categorical).setDense(dense).setLabels(labels)
                .setTeacherScores(teacher).build();
    }

    /** The event with its maps in Avro's blocked encoding (negative counts followed by byte sizes), as some writers send them. */
    private static byte[] blocked(FeedbackEvent e) throws IOException {
        byte[] header = Arrays.copyOf(Wire.encode(e), 10);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(header);
        BinaryEncoder encoder = new EncoderFactory().configureBlockSize(64).blockingBinaryEncoder(out, null);
        new SpecificDatumWriter<>(FeedbackEvent.class).write(e, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @Test
    void readsWhatTheAvroPathReadsAndLeavesItTheRest() throws IOException {
        Random random = new Random(11);
        int inPlace = 0;
        int avro = 0;
        int blockedOtherwise = 0;
        for (int trial = 0; trial < 20_000; trial++) {
            FeedbackEvent e = event(random);
            byte[] bytes = trial % 4 == 3 ? blocked(e) : Wire.encode(e);
            blockedOtherwise += Arrays.equals(bytes, Wire.encode(e)) ? 0 : 1;
            Object expected = avroPath(bytes);
            Example got = decoder.decodeInPlace(bytes);
            if (got != null) {
                assertEquals(expected, got, e::toString);
                inPlace++;
            } else {
                avro++;
            }
            // what the decoder gives, by either path
            assertEquals(expected, decodeOrReason(bytes), e::toString);
            // every valid event with ASCII keys and labels is read in place
            if (expected instanceof Example && e.getCategorical().size() <= MAX_FEATURES) {
                assertNotNull(got, e::toString);
            }
        }
        assertTrue(inPlace > 15_000 && avro > 500, inPlace + " in place, " + avro + " left to Avro");
        assertTrue(blockedOtherwise > 1_000, blockedOtherwise + " events written in blocks of their own");
    }

    private Object decodeOrReason(byte[] bytes) {
        try {
            return decoder.decode(bytes);
        } catch (InvalidEventException ex) {
            return "refused: " + ex.getMessage();
        }
    }

    @Test
    void corruptedBytesAreReadAsAvroReadsThemOrLeftToIt() {
        Random random = new Random(12);
        int inPlace = 0;
        for (int trial = 0; trial < 20_000; trial++) {
            byte[] bytes = Wire.encode(event(random));
            int at = 10 + random.nextInt(bytes.length - 10);
            switch (random.nextInt(4)) {
                case 0 -> bytes[at] = (byte) random.nextInt(256);
                case 1 -> bytes[at] ^= 1 << random.nextInt(8);
                case 2 -> bytes = Arrays.copyOf(bytes, at);
                default -> {
                    byte[] longer = new byte[bytes.length + 1];
                    System.arraycopy(bytes, 0, longer, 0, at);
                    longer[at] = (byte) random.nextInt(256);
                    System.arraycopy(bytes, at, longer, at + 1, bytes.length - at);
                    bytes = longer;
                }
            }
            Example got = decoder.decodeInPlace(bytes);
            if (got != null) {
                byte[] b = bytes;
                assertEquals(avroPath(b), got, () -> Arrays.toString(b));
                inPlace++;
            }
        }
        // a changed value byte or a flipped label still reads; both paths are taken
        assertTrue(inPlace > 2_000 && inPlace < 18_000, inPlace + " read in place");
    }

    @Test
    void oddButReadableBytesAreLeftToAvro() {
        FeedbackEvent e = FeedbackEvent.newBuilder().setEventId("e").setUserId("u").setItemId("zzzz").setEventTime(5)
                .setCategorical(Map.of("author", "qqqq")).setLabels(Map.of("finish", 1, "like", 0)).build();
        byte[] bytes = Wire.encode(e);
        assertEquals(avroPath(bytes), decoder.decodeInPlace(bytes));
        // a value that is not UTF-8: decoded as a decoder decodes it (U+FFFD), as the Avro path hashes it
        byte[] malformed = replace(bytes, "qqqq", new byte[] {'q', (byte) 0xff, (byte) 0xc3, 'q'});
        Example got = decoder.decodeInPlace(malformed);
        assertNotNull(got);
        assertEquals(avroPath(malformed), got);
        // the event time 5 (zig-zag 10) written in two bytes instead of one: Avro reads it, the in-place reader leaves it
        int time = indexOf(bytes, "zzzz") + 4;
        assertEquals(10, bytes[time]);
        byte[] padded = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, padded, 0, time);
        padded[time] = (byte) 0x8a;
        padded[time + 1] = 0;
        System.arraycopy(bytes, time + 1, padded, time + 2, bytes.length - time - 1);
        assertEquals(avroPath(bytes), avroPath(padded));
        assertNull(decoder.decodeInPlace(padded));
        // another schema's bytes
        assertNull(decoder.decodeInPlace(Arrays.copyOfRange(bytes, 1, bytes.length)));
    }

    private static int indexOf(byte[] bytes, String ascii) {
        byte[] pattern = ascii.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i + pattern.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + pattern.length, pattern, 0, pattern.length)) {
                return i;
            }
        }
        throw new AssertionError(ascii + " not in the record");
    }

    private static byte[] replace(byte[] bytes, String ascii, byte[] with) {
        byte[] out = bytes.clone();
        System.arraycopy(with, 0, out, indexOf(bytes, ascii), with.length);
        return out;
    }
}

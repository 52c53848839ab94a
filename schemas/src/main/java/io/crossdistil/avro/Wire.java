package io.crossdistil.avro;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.avro.util.ClassSecurityValidator.ClassSecurityPredicate;

/**
 * The one way records go on and off the wire: Avro single-object encoding (magic, schema
 * fingerprint, body), so that a reader knows the writer's schema.
 *
 * <p>Avro (1.11.4 and later) refuses to instantiate record classes it does not trust; without the
 * trust installed here every decode of a project record fails with a SecurityException. Using any
 * method of this class installs it, for this project's record package only.
 */
public final class Wire {
    private static final String PACKAGE = Wire.class.getPackageName() + ".";
    private static final Map<Schema, BinaryMessageEncoder<SpecificRecord>> ENCODERS = new ConcurrentHashMap<>();

    static {
        ClassSecurityPredicate before = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(c -> c.getName().startsWith(PACKAGE) || before.isTrusted(c));
    }

    private Wire() {}

    public static byte[] encode(SpecificRecord record) {
        BinaryMessageEncoder<SpecificRecord> encoder = ENCODERS.computeIfAbsent(record.getSchema(),
                s -> new BinaryMessageEncoder<>(SpecificData.getForSchema(s), s));
        try {
            ByteBuffer b = encoder.encode(record);
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @throws IOException (or an Avro runtime exception) for bytes that are not an intact event */
    public static FeedbackEvent feedbackEvent(byte[] bytes) throws IOException {
        return FeedbackEvent.getDecoder().decode(bytes);
    }

    public static DeadLetter deadLetter(byte[] bytes) throws IOException {
        return DeadLetter.getDecoder().decode(bytes);
    }

    public static ModelSnapshot modelSnapshot(byte[] bytes) throws IOException {
        return ModelSnapshot.getDecoder().decode(bytes);
    }

    public static TrainingMetrics trainingMetrics(byte[] bytes) throws IOException {
        return TrainingMetrics.getDecoder().decode(bytes);
    }
}

package io.crossdistil.avro;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.SystemLimitException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
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
 *
 * <p>It also bounds what a decoded length may claim ({@link #MAX_FIELD_BYTES} per string or bytes
 * field, {@link #MAX_COLLECTION_ITEMS} per map or array), unless the JVM was started with Avro's
 * own {@code -Dorg.apache.avro.limits.*} properties: without a bound, one corrupt length prefix
 * makes the decoder allocate gigabytes and takes the TaskManager down (found by fuzzing). Avro
 * reads these properties once, so this class must be the first to decode, which it is in this
 * project.
 */
public final class Wire {
    public static final int MAX_FIELD_BYTES = 8 * 1024 * 1024;
    public static final int MAX_COLLECTION_ITEMS = 100_000;
    private static final String PACKAGE = Wire.class.getPackageName() + ".";
    private static final Map<Schema, BinaryMessageEncoder<SpecificRecord>> ENCODERS = new ConcurrentHashMap<>();

    static {
        limit(SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_FIELD_BYTES);
        limit(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, MAX_FIELD_BYTES);
        limit(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, MAX_COLLECTION_ITEMS);
        ClassSecurityPredicate before = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(c -> c.getName().startsWith(PACKAGE) || before.isTrusted(c));
    }

    private Wire() {}

    private static void limit(String property, int value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(value));
        }
    }

    /**
     * The limit Avro's decoding applies for one of its {@code org.apache.avro.limits.*} properties
     * (this class's unless the JVM was started with its own); 0 when the property is not a number
     * (Avro then warns and keeps its own default; a reader that honours this limit then leaves
     * every string and map to Avro).
     */
    public static long avroLimit(String property) {
        try {
            return Long.parseLong(System.getProperty(property).trim());
        } catch (NullPointerException | NumberFormatException e) {
            return 0;
        }
    }

    public static byte[] encode(SpecificRecord record) {
        return encode(record, 256);
    }

    /**
     * {@link #encode(SpecificRecord)} for a record of about {@code expectedBytes}: written once into
     * a buffer of that size (a 4 MB model snapshot otherwise goes through Avro's growing buffer
     * and two more copies, on the trainer's thread).
     */
    public static byte[] encode(SpecificRecord record, int expectedBytes) {
        BinaryMessageEncoder<SpecificRecord> encoder = ENCODERS.computeIfAbsent(record.getSchema(),
                s -> new BinaryMessageEncoder<>(SpecificData.getForSchema(s), s));
        Bytes out = new Bytes(expectedBytes);
        try {
            encoder.encode(record, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.bytes();
    }

    /** A byte stream whose buffer is the result when the size was right. */
    private static final class Bytes extends ByteArrayOutputStream {
        Bytes(int size) {
            super(Math.max(32, size));
        }

        byte[] bytes() {
            return count == buf.length ? buf : Arrays.copyOf(buf, count);
        }
    }

    /** A reader of events for one thread (made here, so that this class's limits and trust are installed first). */
    public static FeedbackEventReader feedbackEventReader() {
        return new FeedbackEventReader(List.of(), Map.of());
    }

    /** A reader that also reads events written with other versions of the schema ({@link WriterSchemas}: checked). */
    public static FeedbackEventReader feedbackEventReader(List<Schema> writerSchemas) {
        return new FeedbackEventReader(writerSchemas, Map.of());
    }

    /**
     * A reader that also reads events written with other versions of the schema, and events framed
     * as Confluent Schema Registry serializers frame them ({@link #REGISTRY_MAGIC}, the writer
     * schema's 4-byte id, the Avro body) with the writer schema of each id in {@code registrySchemas}
     * (each {@link WriterSchemas}: checked).
     */
    public static FeedbackEventReader feedbackEventReader(List<Schema> writerSchemas, Map<Integer, Schema> registrySchemas) {
        return new FeedbackEventReader(writerSchemas, registrySchemas);
    }

    /** The first byte of a record framed by a Confluent Schema Registry serializer; a single-object record starts with 0xC3. */
    public static final byte REGISTRY_MAGIC = 0;

    /** Thrown for a registry-framed record whose schema id the reader was not given. */
    public static final class UnknownSchemaIdException extends AvroRuntimeException {
        private final int id;

        UnknownSchemaIdException(int id) {
            super("no writer schema for schema id " + id);
            this.id = id;
        }

        public int id() {
            return id;
        }
    }

    /**
     * Decodes events, for one thread, as Avro's message decoder ({@code FeedbackEvent.getDecoder()})
     * does, faster. Avro's message decoder reads the record through its unbuffered decoder from a
     * {@code ByteArrayInputStream}, a synchronized call per byte: 45% of the source thread's time
     * in the running job went to decoding, a third of it there. An event written with this
     * project's schema (the header's fingerprint says so) is read straight from the array by a
     * buffered decoder kept between calls; any other bytes go to Avro's message decoder, so that
     * errors (a bad header, an unknown schema) are the ones it raises. That decoder knows the
     * reader's other writer schemas and resolves their events to this project's. A record framed
     * by a Schema Registry serializer is read with the writer schema of its id.
     */
    public static final class FeedbackEventReader {
        private static final Schema SCHEMA = FeedbackEvent.getClassSchema();
        private static final byte[] HEADER = header(SCHEMA);
        private final DatumReader<FeedbackEvent> reader = new SpecificDatumReader<>(SCHEMA, SCHEMA, new FeedbackEvent().getSpecificData());
        private final BinaryMessageDecoder<FeedbackEvent> others = FeedbackEvent.createDecoder(null);
        /** Schema Registry ids -> readers that resolve their writer schema to this project's. */
        private final Map<Integer, DatumReader<FeedbackEvent>> registry = new HashMap<>();
        private BinaryDecoder decoder;

        private FeedbackEventReader(List<Schema> writerSchemas, Map<Integer, Schema> registrySchemas) {
            writerSchemas.forEach(others::addSchema);
            registrySchemas.forEach((id, writer) ->
                    registry.put(id, new SpecificDatumReader<>(writer, SCHEMA, new FeedbackEvent().getSpecificData())));
        }

        /**
         * The event in {@code bytes}, read into {@code reuse} (may be null): Avro refills the record
         * and clears and refills its maps instead of making new ones, so the caller must not keep
         * {@code reuse}'s earlier contents.
         *
         * @throws IOException (or an Avro runtime exception) for bytes that are not an intact event
         */
        public FeedbackEvent read(byte[] bytes, FeedbackEvent reuse) throws IOException {
            int body = bodyOffset(bytes);
            if (body >= 0) {
                return read(reader, bytes, body, reuse);
            }
            if (bytes.length >= 5 && bytes[0] == REGISTRY_MAGIC) {
                int id = ByteBuffer.wrap(bytes, 1, 4).getInt(); // big-endian, as the registry's serializers write it
                DatumReader<FeedbackEvent> framed = registry.get(id);
                if (framed == null) {
                    throw new UnknownSchemaIdException(id);
                }
                return read(framed, bytes, 5, reuse);
            }
            return others.decode(bytes, reuse);
        }

        private FeedbackEvent read(DatumReader<FeedbackEvent> datumReader, byte[] bytes, int body, FeedbackEvent reuse) {
            decoder = DecoderFactory.get().binaryDecoder(bytes, body, bytes.length - body, decoder);
            try {
                return datumReader.read(reuse, decoder);
            } catch (IOException e) {
                // as Avro's message decoder reports a record it cannot read
                throw new AvroRuntimeException("Decoding datum failed", e);
            }
        }

        /**
         * Where the Avro body of an event written with this project's own schema starts in {@code bytes}
         * (after its single-object header), or -1 when they do not start with that header.
         */
        public static int bodyOffset(byte[] bytes) {
            return bytes.length >= HEADER.length && Arrays.equals(bytes, 0, HEADER.length, HEADER, 0, HEADER.length) ? HEADER.length : -1;
        }

        /** Avro's single-object header: the marker 0xC3 0x01 and the schema's 64-bit fingerprint, little-endian. */
        static byte[] header(Schema schema) {
            long fingerprint = SchemaNormalization.parsingFingerprint64(schema);
            byte[] header = new byte[10];
            header[0] = (byte) 0xC3;
            header[1] = (byte) 0x01;
            for (int i = 0; i < 8; i++) {
                header[2 + i] = (byte) (fingerprint >>> (8 * i));
            }
            return header;
        }
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

package io.crossdistil.job.io;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.avro.WriterSchemas;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.features.FeatureEncoder;
import io.crossdistil.model.features.InvalidEventException;
import java.io.IOException;
import java.util.List;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.MissingSchemaException;

/**
 * Turns a record's bytes into a training {@link Example}, or says exactly why it cannot: bytes that
 * are not Avro single-object encoded, an unknown writer schema (events of the other versions of
 * the schema it is given are read by Avro's schema resolution; so are events framed by a Schema
 * Registry serializer, with the schema it is given for their id), a truncated or corrupt body, a
 * record too large, or an event the model refuses ({@link FeatureEncoder} says which). Plainly
 * valid events of this project's schema are read where they lie in their bytes; everything else
 * is decoded by Avro, so a bad record's reason is Avro's or the encoder's own. Plain Java; the
 * Flink function around it is thin. One per thread.
 */
public final class EventDecoder {
    private final FeatureEncoder encoder;
    private final int maxRecordBytes;
    /** The last decoded event, refilled by the next decode: nothing here keeps an event past {@link #decode}. */
    private FeedbackEvent reuse;
    private final Wire.FeedbackEventReader reader;

    public EventDecoder(ModelConfig cfg, int maxFeatures, int maxRecordBytes) {
        this(cfg, new DecodeSettings(maxFeatures, maxRecordBytes, false, List.of()));
    }

    public EventDecoder(ModelConfig cfg, DecodeSettings settings) {
        this.encoder = new FeatureEncoder(cfg, settings.maxFeatures(), settings.ignoreOtherLabels());
        this.maxRecordBytes = settings.maxRecordBytes();
        this.reader = Wire.feedbackEventReader(WriterSchemas.parseAll(settings.writerSchemas()),
                WriterSchemas.parseById(settings.registrySchemas()));
    }

    public Example decode(byte[] bytes) throws InvalidEventException {
        if (bytes.length > maxRecordBytes) {
            throw new InvalidEventException("record of " + bytes.length + " bytes exceeds max-record-bytes " + maxRecordBytes);
        }
        Example plain = encoder.exampleInPlace(bytes);
        if (plain != null) {
            return plain;
        }
        FeedbackEvent e;
        try {
            e = reader.read(bytes, reuse);
            reuse = e;
        } catch (BadHeaderException ex) {
            throw new InvalidEventException("not Avro single-object encoding: " + ex.getMessage());
        } catch (SecurityException ex) {
            // Avro refused our own record class: a setup bug, not a bad record; never hide it as dead letters
            throw ex;
        } catch (Wire.UnknownSchemaIdException ex) {
            throw new InvalidEventException("framed by a Schema Registry serializer (byte 0, schema id " + ex.id()
                    + "), and the job was not given that id's schema (--registry-schemas " + ex.id() + "=FILE)");
        } catch (MissingSchemaException ex) {
            throw new InvalidEventException("unknown writer schema: " + ex.getMessage()
                    + " (events written with another version of the FeedbackEvent schema are read once the job is given it: --writer-schemas)");
        } catch (IOException | RuntimeException ex) {
            throw new InvalidEventException("corrupt FeedbackEvent body: " + ex);
        }
        return encoder.example(e);
    }

    /** Only the in-place reading: the example, or null where {@link #decode} would decode with Avro (for tests). */
    Example decodeInPlace(byte[] bytes) {
        return encoder.exampleInPlace(bytes);
    }
}

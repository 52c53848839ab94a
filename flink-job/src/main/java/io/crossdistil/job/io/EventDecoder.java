package io.crossdistil.job.io;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.features.FeatureEncoder;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.MissingSchemaException;

/**
 * Turns a record's bytes into a training {@link Example}, or says exactly why it cannot: bytes that
 * are not Avro single-object encoded, an unknown writer schema, a truncated or corrupt body, a
 * missing or non-binary label, a label for a task this job does not train, a NaN or infinite dense
 * value, too many features, a record too large. Plain Java; the Flink function around it is thin.
 */
public final class EventDecoder {
    private final List<String> tasks;
    private final FeatureEncoder encoder;
    private final int maxFeatures;
    private final int maxRecordBytes;
    /** The last decoded event, refilled by the next decode: nothing here keeps an event past {@link #decode}. */
    private FeedbackEvent reuse;
    private final Wire.FeedbackEventReader reader = Wire.feedbackEventReader();
    /** Plainly valid events of this project's schema, without Avro's objects; everything else is decided below. */
    private final InPlaceExampleReader inPlace;

    public EventDecoder(ModelConfig cfg, int maxFeatures, int maxRecordBytes) {
        this.tasks = cfg.tasks;
        this.encoder = new FeatureEncoder(cfg);
        this.maxFeatures = maxFeatures;
        this.maxRecordBytes = maxRecordBytes;
        this.inPlace = new InPlaceExampleReader(cfg, maxFeatures);
    }

    public Example decode(byte[] bytes) throws InvalidEventException {
        if (bytes.length > maxRecordBytes) {
            throw new InvalidEventException("record of " + bytes.length + " bytes exceeds max-record-bytes " + maxRecordBytes);
        }
        Example plain = inPlace.read(bytes);
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
        } catch (MissingSchemaException ex) {
            throw new InvalidEventException("unknown writer schema: " + ex.getMessage());
        } catch (IOException | RuntimeException ex) {
            throw new InvalidEventException("corrupt FeedbackEvent body: " + ex);
        }
        return toExample(e);
    }

    public Example toExample(FeedbackEvent e) throws InvalidEventException {
        Map<String, Integer> labels = e.getLabels();
        for (String task : labels.keySet()) {
            if (!tasks.contains(task)) {
                throw new InvalidEventException("label for unknown task '" + task + "' (this job trains " + tasks + ")");
            }
        }
        int[] y = new int[tasks.size()];
        for (int k = 0; k < y.length; k++) {
            Integer v = labels.get(tasks.get(k));
            if (v == null) {
                throw new InvalidEventException("missing label for task '" + tasks.get(k) + "'");
            }
            if (v != 0 && v != 1) {
                throw new InvalidEventException("label of task '" + tasks.get(k) + "' is " + v + ", not 0 or 1");
            }
            y[k] = v;
        }
        if (e.getCategorical().size() > maxFeatures) {
            throw new InvalidEventException("too many features: " + e.getCategorical().size() + " > max-features " + maxFeatures);
        }
        for (Map.Entry<String, Float> d : e.getDense().entrySet()) {
            if (d.getValue() == null || !Float.isFinite(d.getValue())) {
                throw new InvalidEventException("dense feature '" + d.getKey() + "' is " + d.getValue() + ", not a finite number");
            }
        }
        return encoder.encode(e, LabelOrder.permutation(y));
    }
}

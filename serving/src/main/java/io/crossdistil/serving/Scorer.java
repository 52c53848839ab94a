package io.crossdistil.serving;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StudentModel;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.features.FeatureEncoder;
import io.crossdistil.model.snapshot.SnapshotCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Scores events with one snapshot's students (no teachers, no optimizer state): the student
 * probability of every task, exactly what the trainer predicted with the same parameters for the
 * same batch (alone, an event may differ in the float logit's last bit: BLAS takes another path
 * for one row). One scorer serves any number of threads at once; score in batches (each ND4J call
 * costs microseconds, so one event at a time is slow).
 */
public final class Scorer {
    private final ModelSnapshot snapshot;
    private final StudentModel model;
    /** An encoder holds the event it reads: one per thread. */
    private final ThreadLocal<FeatureEncoder> encoder;

    private Scorer(ModelSnapshot snapshot) {
        this.snapshot = snapshot;
        this.model = SnapshotCodec.toStudentModel(snapshot);
        this.encoder = ThreadLocal.withInitial(() -> new FeatureEncoder(model.config()));
    }

    /** A scorer for a verified snapshot (see {@link SnapshotCodec#decode}). */
    public static Scorer of(ModelSnapshot snapshot) {
        return new Scorer(snapshot);
    }

    /** Probabilities [event][task], tasks in {@link #tasks()} order. */
    public double[][] score(List<FeedbackEvent> events) {
        FeatureEncoder mine = encoder.get();
        List<Example> in = new ArrayList<>(events.size());
        for (FeedbackEvent e : events) {
            in.add(mine.encode(e, 0));
        }
        return model.predict(in);
    }

    /** One plain feature map (categorical field -> value, dense field -> value; a field left out reads as missing, a dense one as its mean). */
    public double[] score(Map<String, String> categorical, Map<String, Float> dense) {
        return model.predict(List.of(encoder.get().encode(categorical, dense)))[0];
    }

    public List<String> tasks() {
        return model.config().tasks;
    }

    /**
     * The snapshot's model configuration as the scorer reads it (its features, dense features,
     * tasks): the training options are this library's defaults (see ModelConfig#forScoring); the
     * snapshot's own are in {@code snapshot().getConfig()}.
     */
    public ModelConfig config() {
        return model.config();
    }

    public long version() {
        return snapshot.getVersion();
    }

    public ModelSnapshot snapshot() {
        return snapshot;
    }
}

package io.crossdistil.job.trainer;

import java.io.Serializable;
import java.util.Map;

/**
 * What the trainer operator is configured with (serializable, shipped with the job graph).
 *
 * @param modelOptions model options as given; the model's defaults fill the rest
 * @param snapshotEveryEvents snapshot after this many trained events, 0 for never by count
 * @param snapshotEverySeconds snapshot when this much wall-clock time passed, 0 for never by time
 * @param metricsEverySeconds progress report cadence
 * @param metricsWindow events in the windowed metrics
 * @param nd4jThreads threads of one ND4J operation in the trainer's process, 0 to leave ND4J's own
 */
public record TrainerSettings(Map<String, String> modelOptions, long snapshotEveryEvents, long snapshotEverySeconds,
        long metricsEverySeconds, int metricsWindow, int nd4jThreads) implements Serializable {
    public TrainerSettings {
        modelOptions = Map.copyOf(modelOptions);
    }
}

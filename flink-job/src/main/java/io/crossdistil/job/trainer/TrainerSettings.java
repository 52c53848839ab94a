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
 * @param exchange how data-parallel trainers exchange their changes, or null for one trainer
 */
public record TrainerSettings(Map<String, String> modelOptions, long snapshotEveryEvents, long snapshotEverySeconds,
        long metricsEverySeconds, int metricsWindow, int nd4jThreads, Exchange exchange) implements Serializable {
    public TrainerSettings {
        modelOptions = Map.copyOf(modelOptions);
    }

    /** One trainer, no exchange. */
    public TrainerSettings(Map<String, String> modelOptions, long snapshotEveryEvents, long snapshotEverySeconds,
            long metricsEverySeconds, int metricsWindow, int nd4jThreads) {
        this(modelOptions, snapshotEveryEvents, snapshotEverySeconds, metricsEverySeconds, metricsWindow, nd4jThreads, null);
    }

    /**
     * Data-parallel trainers (docs/scaling.md).
     *
     * @param trainers how many
     * @param roundSteps training steps of each between two merges
     * @param bootstrapServers Kafka brokers of the exchange topic
     * @param topic the exchange topic (its partition 0 carries every update)
     * @param kafka extra Kafka client properties
     * @param runId tells this run's updates from other runs' on the topic (kept in state: a restored job keeps its run's)
     * @param submittedMillis when the run was submitted: a fresh start reads the topic from there
     */
    public record Exchange(int trainers, int roundSteps, String bootstrapServers, String topic, Map<String, String> kafka, long runId,
            long submittedMillis) implements Serializable {
        public Exchange {
            kafka = Map.copyOf(kafka);
        }
    }
}

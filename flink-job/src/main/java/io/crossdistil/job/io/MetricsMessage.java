package io.crossdistil.job.io;

/** One encoded progress report ({@code TrainingMetrics}, Avro single-object encoding). */
public final class MetricsMessage {
    public byte[] bytes;

    public MetricsMessage() {}

    public MetricsMessage(byte[] bytes) {
        this.bytes = bytes;
    }
}

package io.crossdistil.job.io;

/** One encoded model snapshot on its way to the sinks (a Flink POJO). */
public final class SnapshotMessage {
    public long version;
    /** {@code ModelSnapshot} in Avro single-object encoding. */
    public byte[] bytes;

    public SnapshotMessage() {}

    public SnapshotMessage(long version, byte[] bytes) {
        this.version = version;
        this.bytes = bytes;
    }
}

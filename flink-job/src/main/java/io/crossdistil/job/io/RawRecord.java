package io.crossdistil.job.io;

/** A Kafka record's value exactly as read, with where it came from (a Flink POJO). */
public final class RawRecord {
    public byte[] value;
    public String topic;
    public int partition;
    public long offset;

    public RawRecord() {}

    public RawRecord(byte[] value, String topic, int partition, long offset) {
        this.value = value;
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
    }
}

package io.crossdistil.job.io;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.Wire;
import java.nio.ByteBuffer;

/** A rejected record with its reason, on its way to the dead-letter topic (a Flink POJO). */
public final class DeadLetterRecord {
    /**
     * At most this much of a rejected record's bytes goes into its dead letter, so that the dead
     * letter fits Kafka's default 1 MB message limit; a longer record is cut, and the reason says
     * so and where the whole record still is (its source topic, partition and offset).
     */
    public static final int MAX_RAW_BYTES = 900 * 1024;

    public byte[] raw;
    public String reason;
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;
    public long time;

    public DeadLetterRecord() {}

    public DeadLetterRecord(RawRecord from, String reason, long time) {
        boolean cut = from.value.length > MAX_RAW_BYTES;
        this.raw = cut ? java.util.Arrays.copyOf(from.value, MAX_RAW_BYTES) : from.value;
        this.reason = cut ? reason + " (raw bytes cut to " + MAX_RAW_BYTES + " of " + from.value.length + "; the whole record is "
                + from.topic + "/" + from.partition + "@" + from.offset + ")" : reason;
        this.sourceTopic = from.topic;
        this.sourcePartition = from.partition;
        this.sourceOffset = from.offset;
        this.time = time;
    }

    /** The Avro {@link DeadLetter} in single-object encoding. */
    public byte[] encode() {
        DeadLetter d = DeadLetter.newBuilder().setRaw(ByteBuffer.wrap(raw)).setReason(reason).setSourceTopic(sourceTopic)
                .setSourcePartition(sourcePartition).setSourceOffset(sourceOffset).setTime(time).build();
        return Wire.encode(d);
    }
}

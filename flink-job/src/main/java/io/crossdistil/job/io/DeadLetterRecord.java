package io.crossdistil.job.io;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.Wire;
import java.nio.ByteBuffer;

/** A rejected record with its reason, on its way to the dead-letter topic (a Flink POJO). */
public final class DeadLetterRecord {
    public byte[] raw;
    public String reason;
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;
    public long time;

    public DeadLetterRecord() {}

    public DeadLetterRecord(RawRecord from, String reason, long time) {
        this.raw = from.value;
        this.reason = reason;
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

package io.crossdistil.job.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import io.crossdistil.model.event.Example;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * Flink's own serializer checks (round trips through streams, copies, duplicates, snapshot and
 * restore of the configuration, reading from a stream split across buffers) on events with and
 * without dense values, an absent id, non-ASCII text (chars of one, two and three 7-bit groups,
 * a surrogate pair), extreme values, and null arrays.
 */
class ExampleSerializerTest extends SerializerTestBase<Example> {
    @Override
    protected TypeSerializer<Example> createSerializer() {
        return ExampleSerializer.INSTANCE;
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<Example> getTypeClass() {
        return Example.class;
    }

    @Override
    protected Example[] getTestData() {
        return new Example[] {
            new Example("e-1", 1_700_000_000_000L, new int[] {0, 17, 131_071}, new float[0], 3),
            new Example("ünïcødé-✓-中-\uD83D\uDE00", Long.MIN_VALUE, new int[] {Integer.MAX_VALUE}, new float[] {Float.NaN, -0.0f, 1e-30f}, 0),
            new Example(null, 0, new int[0], new float[] {Float.POSITIVE_INFINITY}, 1),
            new Example("", Long.MAX_VALUE, null, null, 2),
            new Example("x".repeat(70_000), 5, new int[] {-1, 2}, new float[] {2.5f}, 15),
        };
    }

    /** The job runs with object reuse and the trainer keeps a batch of events: a read must never refill the instance offered. */
    @Test
    void readingWithAReusableInstanceMakesANewEventAndLeavesTheOfferedOneAlone() throws IOException {
        Example written = getTestData()[0];
        DataOutputSerializer out = new DataOutputSerializer(64);
        ExampleSerializer.INSTANCE.serialize(written, out);
        Example reuse = new Example("kept", 7L, new int[] {1}, new float[] {0.5f}, 2);
        Example read = ExampleSerializer.INSTANCE.deserialize(reuse, new DataInputDeserializer(out.getCopyOfBuffer()));
        assertNotSame(reuse, read);
        assertArrayEquals(written.rows, read.rows);
        assertEquals("kept", reuse.eventId);
        assertArrayEquals(new int[] {1}, reuse.rows);
    }
}

package io.crossdistil.job.io;

import io.crossdistil.model.event.Example;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * Flink's serializer for the {@link Example}s that travel from decoding to the trainer, written out
 * field by field. Every event crosses that thread boundary, and the trainer's thread deserializes
 * it: Flink's POJO serializer did so through reflection (a constructor call and five field sets
 * per event, with null flags), 7% of the trainer thread in the pipeline.
 *
 * <p>Wire format: event id (Flink string, may be null), event time, permutation, the embedding
 * rows (count, then each) and the dense values (count, then each; a count of -1 is null).
 */
public final class ExampleSerializer extends TypeSerializerSingleton<Example> {
    private static final long serialVersionUID = 1L;

    public static final ExampleSerializer INSTANCE = new ExampleSerializer();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public Example createInstance() {
        return new Example();
    }

    @Override
    public Example copy(Example from) {
        return new Example(from.eventId, from.eventTime, from.rows == null ? null : from.rows.clone(),
                from.dense == null ? null : from.dense.clone(), from.permutation);
    }

    @Override
    public Example copy(Example from, Example reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(Example e, DataOutputView out) throws IOException {
        StringValue.writeString(e.eventId, out);
        out.writeLong(e.eventTime);
        out.writeInt(e.permutation);
        if (e.rows == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(e.rows.length);
            for (int r : e.rows) {
                out.writeInt(r);
            }
        }
        if (e.dense == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(e.dense.length);
            for (float v : e.dense) {
                out.writeFloat(v);
            }
        }
    }

    @Override
    public Example deserialize(DataInputView in) throws IOException {
        Example e = new Example();
        e.eventId = readString(in);
        e.eventTime = in.readLong();
        e.permutation = in.readInt();
        int n = in.readInt();
        if (n >= 0) {
            e.rows = new int[n];
            for (int i = 0; i < n; i++) {
                e.rows[i] = in.readInt();
            }
        }
        n = in.readInt();
        if (n >= 0) {
            e.dense = new float[n];
            for (int i = 0; i < n; i++) {
                e.dense[i] = in.readFloat();
            }
        }
        return e;
    }

    /**
     * {@link StringValue#readString}'s format (length + 1, then each char, as 7-bit groups with a
     * continuation bit; length 0 is null) without its thread-local buffer: on the trainer's thread,
     * whose thread-local map ND4J and Flink fill, that lookup was half of deserializing an event
     * (4% of the thread in a profile of the running job).
     */
    static String readString(DataInputView in) throws IOException {
        int length = readVarInt(in);
        if (length == 0) {
            return null;
        }
        char[] chars = new char[length - 1];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = (char) readVarInt(in);
        }
        return new String(chars);
    }

    private static int readVarInt(DataInputView in) throws IOException {
        int value = in.readUnsignedByte();
        if (value < 0x80) {
            return value;
        }
        value &= 0x7f;
        int shift = 7;
        int next;
        while ((next = in.readUnsignedByte()) >= 0x80) {
            value |= (next & 0x7f) << shift;
            shift += 7;
        }
        return value | next << shift;
    }

    /** Always a new event, never {@code reuse} refilled: the trainer keeps a batch of events, and the job runs with object reuse. */
    @Override
    public Example deserialize(Example reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<Example> snapshotConfiguration() {
        return new ExampleSerializerSnapshot();
    }

    /** Restores the serializer from a snapshot; it has no configuration. */
    public static final class ExampleSerializerSnapshot extends SimpleTypeSerializerSnapshot<Example> {
        public ExampleSerializerSnapshot() {
            super(() -> INSTANCE);
        }
    }
}

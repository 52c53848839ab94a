package io.crossdistil.job.io;

import io.crossdistil.model.Example;
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
        e.eventId = StringValue.readString(in);
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

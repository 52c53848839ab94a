package io.crossdistil.model.event;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One training event as the model sees it: features already hashed into embedding rows, dense
 * values in the configured order, and the labels as one label-permutation index (see
 * {@link LabelOrder}).
 *
 * <p>A plain mutable class with public fields and a no-argument constructor, so that Flink
 * serializes it as a POJO without this module knowing of Flink.
 */
public final class Example {
    /** The dense value of a field the event lacks (NaN: an event's own non-finite values are refused before this). */
    public static final float MISSING = Float.NaN;

    public String eventId;
    /** Epoch milliseconds. */
    public long eventTime;
    /** One embedding row per configured categorical field, in configuration order. */
    public int[] rows;
    /** One value per configured dense field, in configuration order; {@link #MISSING} where the event lacks the field. */
    public float[] dense;
    /** Label permutation: bit (K - 1 - k) holds the label of task k (task 0 most significant). */
    public int permutation;

    public Example() {}

    public Example(String eventId, long eventTime, int[] rows, float[] dense, int permutation) {
        this.eventId = eventId;
        this.eventTime = eventTime;
        this.rows = rows;
        this.dense = dense;
        this.permutation = permutation;
    }

    public void writeTo(DataOutput out) throws IOException {
        out.writeUTF(eventId == null ? "" : eventId);
        out.writeLong(eventTime);
        out.writeInt(permutation);
        out.writeInt(rows.length);
        for (int r : rows) {
            out.writeInt(r);
        }
        out.writeInt(dense.length);
        for (float v : dense) {
            out.writeFloat(v);
        }
    }

    /** Writes events as a count, then each as {@link #writeTo} writes it (read back by {@link #readAll}). */
    public static void writeAll(DataOutput out, List<Example> events) throws IOException {
        out.writeInt(events.size());
        for (Example e : events) {
            e.writeTo(out);
        }
    }

    public static List<Example> readAll(DataInput in) throws IOException {
        int n = in.readInt();
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(readFrom(in));
        }
        return out;
    }

    public static Example readFrom(DataInput in) throws IOException {
        Example e = new Example();
        e.eventId = in.readUTF();
        e.eventTime = in.readLong();
        e.permutation = in.readInt();
        e.rows = new int[in.readInt()];
        for (int i = 0; i < e.rows.length; i++) {
            e.rows[i] = in.readInt();
        }
        e.dense = new float[in.readInt()];
        for (int i = 0; i < e.dense.length; i++) {
            e.dense[i] = in.readFloat();
        }
        return e;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && eventTime == e.eventTime && permutation == e.permutation
                && Objects.equals(eventId, e.eventId) && Arrays.equals(rows, e.rows) && Arrays.equals(dense, e.dense);
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventId, eventTime, permutation, Arrays.hashCode(rows));
    }

    @Override
    public String toString() {
        return "Example{" + eventId + ", perm=" + permutation + ", rows=" + Arrays.toString(rows) + "}";
    }
}

package io.crossdistil.model.sampling;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.state.ArrayCodec;
import io.crossdistil.model.state.SeededRandom;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * A uniform random sample of fixed capacity of every event ever offered (Vitter's Algorithm R).
 * The generator is passed in, so that one checkpointed generator drives all reservoirs.
 *
 * <p>It keeps what the model reads of an event - its embedding rows and dense values - in two flat
 * arrays, slot after slot, not the events themselves: a draw then reads one short run of memory
 * instead of following three references to scattered objects (the draws were 6% of a training
 * step, mostly cache misses), and the kept events are no objects for the garbage collector to
 * trace and move.
 */
public final class Reservoir {
    private final int capacity;
    private final int fields;
    private final int denseFields;
    /** Slot s holds rows[s * fields ...] and dense[s * denseFields ...]; room for {@code slots}, grown up to the capacity. */
    private int[] rows;
    private float[] dense;
    private int slots;
    private int size;
    private long seen;

    /**
     * @param fields embedding rows per event (the configured categorical fields)
     * @param denseFields dense values per event
     */
    public Reservoir(int capacity, int fields, int denseFields) {
        if (capacity <= 0 || fields < 0 || denseFields < 0) {
            throw new IllegalArgumentException("reservoir capacity must be positive and widths not negative: "
                    + capacity + ", " + fields + ", " + denseFields);
        }
        if ((long) capacity * Math.max(fields, denseFields) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a reservoir of " + capacity + " events of " + Math.max(fields, denseFields)
                    + " values does not fit in one Java array; lower the reservoir capacity");
        }
        this.capacity = capacity;
        this.fields = fields;
        this.denseFields = denseFields;
        this.slots = Math.min(capacity, 1024);
        this.rows = new int[slots * fields];
        this.dense = new float[slots * denseFields];
    }

    public void offer(Example e, SeededRandom random) {
        seen++;
        if (size < capacity) {
            add(e);
        } else {
            long j = random.nextLong(seen);
            if (j < capacity) {
                store((int) j, e);
            }
        }
    }

    private void add(Example e) {
        if (size == slots) {
            slots = (int) Math.min(capacity, 2L * slots);
            rows = Arrays.copyOf(rows, slots * fields);
            dense = Arrays.copyOf(dense, slots * denseFields);
        }
        store(size++, e);
    }

    private void store(int slot, Example e) {
        if (e.rows.length != fields || e.dense.length != denseFields) {
            throw new IllegalArgumentException("event " + e.eventId + " has " + e.rows.length + " embedding rows and "
                    + e.dense.length + " dense values; the reservoir keeps " + fields + " and " + denseFields);
        }
        System.arraycopy(e.rows, 0, rows, slot * fields, fields);
        System.arraycopy(e.dense, 0, dense, slot * denseFields, denseFields);
    }

    /**
     * Copies a uniformly drawn kept event into {@code rowsOut} at slot {@code at} (and its dense
     * values into {@code denseOut}, same slot); the reservoir must not be empty.
     */
    public void drawInto(SeededRandom random, int[] rowsOut, float[] denseOut, int at) {
        int slot = random.nextInt(size);
        System.arraycopy(rows, slot * fields, rowsOut, at * fields, fields);
        System.arraycopy(dense, slot * denseFields, denseOut, at * denseFields, denseFields);
    }

    /** The embedding rows of the event kept in {@code slot} (a copy). */
    public int[] rows(int slot) {
        return Arrays.copyOfRange(rows, slot * fields, (slot + 1) * fields);
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public int size() {
        return size;
    }

    /** Events offered since the start. */
    public long seen() {
        return seen;
    }

    public int capacity() {
        return capacity;
    }

    /** A stored event count, refused when this reservoir could not have held it (damaged state). */
    private int checkedSize(int size) throws IOException {
        if (size < 0 || size > capacity) {
            throw new IOException("a reservoir of capacity " + capacity + " cannot hold " + size + " events");
        }
        return size;
    }

    void writeTo(DataOutput out) throws IOException {
        out.writeInt(capacity);
        out.writeLong(seen);
        out.writeInt(size);
        ArrayCodec.writeRaw(out, rows, size * fields);
        ArrayCodec.writeRaw(out, dense, size * denseFields);
    }

    static Reservoir readFrom(DataInput in, int fields, int denseFields) throws IOException {
        Reservoir r = new Reservoir(in.readInt(), fields, denseFields);
        r.seen = in.readLong();
        r.size = r.checkedSize(in.readInt());
        r.slots = Math.max(r.slots, r.size);
        r.rows = new int[r.slots * fields];
        r.dense = new float[r.slots * denseFields];
        ArrayCodec.readRaw(in, r.rows, r.size * fields);
        ArrayCodec.readRaw(in, r.dense, r.size * denseFields);
        return r;
    }

    /** Reads a reservoir as format 1 of the sampler state wrote it: whole events, of which the features are kept. */
    static Reservoir readEventsFrom(DataInput in, int fields, int denseFields) throws IOException {
        Reservoir r = new Reservoir(in.readInt(), fields, denseFields);
        long seen = in.readLong();
        int size = r.checkedSize(in.readInt());
        for (int i = 0; i < size; i++) {
            r.add(Example.readFrom(in));
        }
        r.seen = seen;
        return r;
    }
}

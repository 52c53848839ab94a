package io.crossdistil.model.sampling;

import io.crossdistil.model.Example;
import java.util.ArrayList;
import java.util.List;

/**
 * A uniform random sample of fixed capacity of every event ever offered (Vitter's Algorithm R).
 * The generator is passed in, so that one checkpointed generator drives all reservoirs.
 */
public final class Reservoir {
    private final int capacity;
    private final List<Example> items;
    private long seen;

    public Reservoir(int capacity) {
        this.capacity = capacity;
        this.items = new ArrayList<>(Math.min(capacity, 1024));
    }

    Reservoir(int capacity, long seen, List<Example> items) {
        this(capacity);
        this.seen = seen;
        this.items.addAll(items);
    }

    public void offer(Example e, SeededRandom random) {
        seen++;
        if (items.size() < capacity) {
            items.add(e);
        } else {
            long j = random.nextLong(seen);
            if (j < capacity) {
                items.set((int) j, e);
            }
        }
    }

    /** A uniform element; the reservoir must not be empty. */
    public Example draw(SeededRandom random) {
        return items.get(random.nextInt(items.size()));
    }

    public boolean isEmpty() {
        return items.isEmpty();
    }

    public int size() {
        return items.size();
    }

    /** Events offered since the start. */
    public long seen() {
        return seen;
    }

    public int capacity() {
        return capacity;
    }

    List<Example> items() {
        return items;
    }
}

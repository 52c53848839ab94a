package io.crossdistil.model.sampling;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.state.SeededRandom;
import io.crossdistil.model.state.StateBytes;
import java.util.List;

/**
 * One reservoir per label permutation, and the draws a training step needs: tuples (one event of
 * every permutation: quadruplets for two tasks) and marginal (positive, negative) pairs per task.
 *
 * <p>A marginal draw first picks one of the marginal set's member permutations with probability
 * proportional to how many events of it the stream has seen, then a uniform element of its
 * reservoir (docs/algorithm.md, "Reservoirs"). Its whole state - contents, counts and generator - is
 * written to bytes and read back exactly by {@link #toBytes()} and {@link #fromBytes(byte[], int, int)}.
 */
public final class QuadrupletSampler {
    /** 2: reservoirs hold features in flat arrays (1: whole events, still read). */
    private static final int FORMAT = 2;

    private final int numTasks;
    private final int fields;
    private final int denseFields;
    private final Reservoir[] reservoirs;
    private final SeededRandom random;
    /** [task][label]: the permutations in which the task has that label (a marginal set), worked out once. */
    private final int[][][] withLabel;

    /**
     * @param fields embedding rows per event
     * @param denseFields dense values per event
     */
    public QuadrupletSampler(int numTasks, int fields, int denseFields, int capacity, long seed) {
        this(numTasks, fields, denseFields, newReservoirs(numTasks, fields, denseFields, capacity), new SeededRandom(seed));
    }

    private QuadrupletSampler(int numTasks, int fields, int denseFields, Reservoir[] reservoirs, SeededRandom random) {
        this.numTasks = numTasks;
        this.fields = fields;
        this.denseFields = denseFields;
        this.reservoirs = reservoirs;
        this.random = random;
        withLabel = new int[numTasks][2][];
        for (int k = 0; k < numTasks; k++) {
            for (int y = 0; y < 2; y++) {
                withLabel[k][y] = LabelOrder.withLabel(k, y, numTasks);
            }
        }
    }

    private static Reservoir[] newReservoirs(int numTasks, int fields, int denseFields, int capacity) {
        Reservoir[] r = new Reservoir[1 << numTasks];
        for (int p = 0; p < r.length; p++) {
            r[p] = new Reservoir(capacity, fields, denseFields);
        }
        return r;
    }

    public void offer(Example e) {
        reservoirs[e.permutation].offer(e, random);
    }

    public void offerAll(List<Example> events) {
        for (Example e : events) {
            offer(e);
        }
    }

    /** Draws {@code tuples} tuples and {@code pairsPerTask} marginal pairs for every task. */
    public Samples draw(int tuples, int pairsPerTask) {
        int[] tupleCounts = new int[reservoirs.length];
        int n = 0;
        for (int p = 0; p < reservoirs.length; p++) {
            tupleCounts[p] = reservoirs[p].isEmpty() ? 0 : tuples;
            n += tupleCounts[p];
        }
        int[] pairCounts = new int[numTasks];
        for (int k = 0; k < numTasks; k++) {
            boolean both = seen(withLabel[k][1]) > 0 && seen(withLabel[k][0]) > 0;
            pairCounts[k] = both ? pairsPerTask : 0;
            n += 2 * pairCounts[k];
        }
        Samples s = new Samples(tupleCounts, pairCounts, new int[n * fields], new float[n * denseFields], new int[n]);
        int at = 0;
        for (int p = 0; p < reservoirs.length; p++) {
            for (int i = 0; i < tupleCounts[p]; i++) {
                drawFrom(p, s, at++);
            }
        }
        for (int k = 0; k < numTasks; k++) {
            at = drawMarginal(withLabel[k][1], pairCounts[k], s, at);
            at = drawMarginal(withLabel[k][0], pairCounts[k], s, at);
        }
        return s;
    }

    private void drawFrom(int permutation, Samples s, int at) {
        reservoirs[permutation].drawInto(random, s.rows(), s.dense(), at);
        s.permutations()[at] = permutation;
    }

    private long seen(int[] members) {
        long s = 0;
        for (int p : members) {
            s += reservoirs[p].seen();
        }
        return s;
    }

    /** Draws {@code n} events of the marginal set {@code members} into slots from {@code at}; returns the next free slot. */
    private int drawMarginal(int[] members, int n, Samples s, int at) {
        long total = seen(members);
        for (int i = 0; i < n; i++) {
            long pick = random.nextLong(total);
            int chosen = members[members.length - 1];
            for (int p : members) {
                if (pick < reservoirs[p].seen()) {
                    chosen = p;
                    break;
                }
                pick -= reservoirs[p].seen();
            }
            drawFrom(chosen, s, at++);
        }
        return at;
    }

    public Reservoir reservoir(int permutation) {
        return reservoirs[permutation];
    }

    public int numTasks() {
        return numTasks;
    }

    public byte[] toBytes() {
        return StateBytes.write(FORMAT, out -> {
            out.writeInt(numTasks);
            out.writeInt(fields);
            out.writeInt(denseFields);
            out.writeLong(random.state());
            for (Reservoir r : reservoirs) {
                r.writeTo(out);
            }
        });
    }

    /**
     * Reads what {@link #toBytes()} wrote, or format 1 (whole events; their ids and times are
     * dropped). {@code fields} and {@code denseFields} are the configured widths.
     */
    public static QuadrupletSampler fromBytes(byte[] data, int fields, int denseFields) {
        return StateBytes.read(data, 1, FORMAT, "sampler state", (format, in) -> {
            int numTasks = in.readInt();
            if (format >= 2) {
                int storedFields = in.readInt();
                int storedDense = in.readInt();
                if (storedFields != fields || storedDense != denseFields) {
                    throw new IllegalArgumentException("the sampler state holds events of " + storedFields + " embedding rows and "
                            + storedDense + " dense values, the model reads " + fields + " and " + denseFields);
                }
            }
            SeededRandom random = SeededRandom.fromState(in.readLong());
            Reservoir[] reservoirs = new Reservoir[1 << numTasks];
            for (int p = 0; p < reservoirs.length; p++) {
                reservoirs[p] = format == 1 ? Reservoir.readEventsFrom(in, fields, denseFields)
                        : Reservoir.readFrom(in, fields, denseFields);
            }
            return new QuadrupletSampler(numTasks, fields, denseFields, reservoirs, random);
        });
    }
}

package io.crossdistil.model.sampling;

import io.crossdistil.model.Example;
import io.crossdistil.model.LabelOrder;
import io.crossdistil.model.StateBytes;
import java.util.ArrayList;
import java.util.List;

/**
 * One reservoir per label permutation, and the draws a training step needs: tuples (one event of
 * every permutation: quadruplets for two tasks) and marginal (positive, negative) pairs per task.
 *
 * <p>A marginal draw first picks one of the marginal set's member permutations with probability
 * proportional to how many events of it the stream has seen, then a uniform element of its
 * reservoir (ALGORITHM.md section 1). Its whole state - contents, counts and generator - is
 * written to bytes and read back exactly by {@link #toBytes()} and {@link #fromBytes(byte[])}.
 */
public final class QuadrupletSampler {
    private static final int FORMAT = 1;

    private final int numTasks;
    private final Reservoir[] reservoirs;
    private final SeededRandom random;

    public QuadrupletSampler(int numTasks, int capacity, long seed) {
        this(numTasks, newReservoirs(numTasks, capacity), new SeededRandom(seed));
    }

    private QuadrupletSampler(int numTasks, Reservoir[] reservoirs, SeededRandom random) {
        this.numTasks = numTasks;
        this.reservoirs = reservoirs;
        this.random = random;
    }

    private static Reservoir[] newReservoirs(int numTasks, int capacity) {
        Reservoir[] r = new Reservoir[1 << numTasks];
        for (int p = 0; p < r.length; p++) {
            r[p] = new Reservoir(capacity);
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
        Example[][] t = new Example[reservoirs.length][];
        for (int p = 0; p < reservoirs.length; p++) {
            Reservoir r = reservoirs[p];
            t[p] = new Example[r.isEmpty() ? 0 : tuples];
            for (int i = 0; i < t[p].length; i++) {
                t[p][i] = r.draw(random);
            }
        }
        Example[][] pos = new Example[numTasks][];
        Example[][] neg = new Example[numTasks][];
        for (int k = 0; k < numTasks; k++) {
            int[] posMembers = LabelOrder.withLabel(k, 1, numTasks);
            int[] negMembers = LabelOrder.withLabel(k, 0, numTasks);
            boolean both = seen(posMembers) > 0 && seen(negMembers) > 0;
            pos[k] = both ? drawMarginal(posMembers, pairsPerTask) : new Example[0];
            neg[k] = both ? drawMarginal(negMembers, pairsPerTask) : new Example[0];
        }
        return new Samples(t, pos, neg);
    }

    private long seen(int[] members) {
        long s = 0;
        for (int p : members) {
            s += reservoirs[p].seen();
        }
        return s;
    }

    private Example[] drawMarginal(int[] members, int n) {
        long total = seen(members);
        Example[] out = new Example[n];
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
            out[i] = reservoirs[chosen].draw(random);
        }
        return out;
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
            out.writeLong(random.state());
            for (Reservoir r : reservoirs) {
                out.writeInt(r.capacity());
                out.writeLong(r.seen());
                out.writeInt(r.size());
                for (Example e : r.items()) {
                    e.writeTo(out);
                }
            }
        });
    }

    public static QuadrupletSampler fromBytes(byte[] data) {
        return StateBytes.read(data, FORMAT, "sampler state", in -> {
            int numTasks = in.readInt();
            SeededRandom random = SeededRandom.fromState(in.readLong());
            Reservoir[] reservoirs = new Reservoir[1 << numTasks];
            for (int p = 0; p < reservoirs.length; p++) {
                int capacity = in.readInt();
                long seen = in.readLong();
                int size = in.readInt();
                List<Example> items = new ArrayList<>(size);
                for (int i = 0; i < size; i++) {
                    items.add(Example.readFrom(in));
                }
                reservoirs[p] = new Reservoir(capacity, seen, items);
            }
            return new QuadrupletSampler(numTasks, reservoirs, random);
        });
    }
}

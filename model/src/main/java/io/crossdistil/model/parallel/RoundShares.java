package io.crossdistil.model.parallel;

import io.crossdistil.model.event.Example;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How many of a round's events each trainer reads from its own input (docs/scaling.md, "Shares
 * follow the traffic"). Every trainer trains an equal part of the round's events, but reads them
 * in proportion to its partitions' traffic: the ones whose input is behind in event time read more,
 * so that a busier partition is read as fast as it fills and no trainer falls behind for good.
 *
 * <p>The shares are a function of the events alone (their event times), never of arrival times, so
 * every trainer computes the same shares and a rerun the same model. Per trainer it keeps a clock:
 * the median event time of each read, never moving back, and forward by at most
 * {@link #MAX_STEP_MILLIS} at a time, so that event times from a broken producer clock (far in the
 * future or the past) neither stop a partition nor rush it; and its rate, events per millisecond
 * of its clock over its last {@link #RATE_READS} reads. {@link #next} gives each trainer still
 * reading {@code rate x (T - clock)} events, with T the one time at which those sum to the round's
 * events (water filling): a trainer ahead of T reads nothing in the round. Until every trainer
 * still reading has a rate, the shares are equal.
 */
public final class RoundShares {
    /** The most one read moves a trainer's clock forward. */
    static final long MAX_STEP_MILLIS = 60_000;
    /** Reads over which a trainer's rate is measured. */
    static final int RATE_READS = 16;

    private final long[] events;
    private final long[] clock;
    private final boolean[] ended;
    /** Per trainer, its events and clock after each of its last reads (a ring), how many reads so far, and its last rate (0: none yet). */
    private final long[][] pastEvents;
    private final long[][] pastClock;
    private final long[] reads;
    private final double[] rate;

    public RoundShares(int trainers) {
        this.events = new long[trainers];
        this.clock = new long[trainers];
        this.ended = new boolean[trainers];
        this.pastEvents = new long[trainers][RATE_READS];
        this.pastClock = new long[trainers][RATE_READS];
        this.reads = new long[trainers];
        this.rate = new double[trainers];
    }

    /** Takes in one read of trainer {@code t} (events in its input's order, maybe none), and whether its input has ended. */
    public void observe(int t, List<Example> read, boolean inputEnded) {
        ended[t] |= inputEnded;
        if (read.isEmpty()) {
            return;
        }
        long median = medianTime(read);
        clock[t] = events[t] == 0 ? median : Math.max(clock[t], Math.min(median, clock[t] + MAX_STEP_MILLIS));
        events[t] += read.size();
        int oldest = (int) (reads[t] % RATE_READS);
        if (reads[t] >= 1) {
            // the oldest read kept, or the first when fewer: events and clock time since
            int from = (int) (reads[t] < RATE_READS ? 0 : oldest);
            long span = clock[t] - pastClock[t][from];
            if (span > 0) {
                rate[t] = (events[t] - pastEvents[t][from]) / (double) span;
            }
        }
        pastEvents[t][oldest] = events[t];
        pastClock[t][oldest] = clock[t];
        reads[t]++;
    }

    private static long medianTime(List<Example> read) {
        long[] times = read.stream().mapToLong(e -> e.eventTime).sorted().toArray();
        return times[(times.length - 1) / 2];
    }

    /** Each trainer's share of the next {@code total} events: 0 for a trainer whose input ended, the rest summing to {@code total}. */
    public int[] next(int total) {
        int n = events.length;
        List<Integer> reading = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            if (!ended[t]) {
                reading.add(t);
            }
        }
        double[] want = new double[n];
        if (reading.isEmpty()) {
            return new int[n];
        }
        boolean rated = true;
        for (int t : reading) {
            rated &= rate[t] > 0;
        }
        if (!rated) {
            for (int t : reading) {
                want[t] = (double) total / reading.size();
            }
            return whole(want, total);
        }
        // water filling: raise T from the lowest clock until the trainers below it read `total`
        List<Integer> byClock = new ArrayList<>(reading);
        byClock.sort(Comparator.<Integer>comparingLong(t -> clock[t]).thenComparingInt(t -> t));
        double rates = 0;
        double weighted = 0;
        double level = 0;
        int below = 0;
        while (below < byClock.size()) {
            int t = byClock.get(below);
            rates += rate[t];
            weighted += rate[t] * clock[t];
            below++;
            level = (total + weighted) / rates;
            if (below == byClock.size() || level <= clock[byClock.get(below)]) {
                break;
            }
        }
        for (int i = 0; i < below; i++) {
            int t = byClock.get(i);
            want[t] = rate[t] * (level - clock[t]);
        }
        return whole(want, total);
    }

    /** Whole numbers summing to {@code total}: each share rounded down, the rest one each to the largest remainders (ties: the lower trainer). */
    private static int[] whole(double[] want, int total) {
        int n = want.length;
        int[] out = new int[n];
        int given = 0;
        for (int t = 0; t < n; t++) {
            out[t] = (int) Math.floor(Math.max(0, want[t]));
            given += out[t];
        }
        List<Integer> byRemainder = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            if (want[t] > 0) {
                byRemainder.add(t);
            }
        }
        byRemainder.sort(Comparator.<Integer>comparingDouble(t -> -(want[t] - Math.floor(want[t]))).thenComparingInt(t -> t));
        for (int i = 0; given < total && !byRemainder.isEmpty(); i = (i + 1) % byRemainder.size()) {
            out[byRemainder.get(i)]++;
            given++;
        }
        return out;
    }

    /** True when every trainer's input has ended. */
    public boolean allEnded() {
        for (boolean e : ended) {
            if (!e) {
                return false;
            }
        }
        return true;
    }

    /** The clock of the most advanced trainer still reading minus that of the least (those that read nothing yet left out). */
    public long spreadMillis() {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int t = 0; t < events.length; t++) {
            if (!ended[t] && events[t] > 0) {
                min = Math.min(min, clock[t]);
                max = Math.max(max, clock[t]);
            }
        }
        return max >= min ? max - min : 0;
    }

    void write(DataOutputStream out) throws IOException {
        for (int t = 0; t < events.length; t++) {
            out.writeLong(events[t]);
            out.writeLong(clock[t]);
            out.writeBoolean(ended[t]);
            out.writeLong(reads[t]);
            out.writeDouble(rate[t]);
            for (int i = 0; i < RATE_READS; i++) {
                out.writeLong(pastEvents[t][i]);
                out.writeLong(pastClock[t][i]);
            }
        }
    }

    void read(DataInputStream in) throws IOException {
        for (int t = 0; t < events.length; t++) {
            events[t] = in.readLong();
            clock[t] = in.readLong();
            ended[t] = in.readBoolean();
            reads[t] = in.readLong();
            rate[t] = in.readDouble();
            for (int i = 0; i < RATE_READS; i++) {
                pastEvents[t][i] = in.readLong();
                pastClock[t][i] = in.readLong();
            }
        }
    }
}

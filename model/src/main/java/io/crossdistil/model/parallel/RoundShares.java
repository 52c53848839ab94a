package io.crossdistil.model.parallel;

import io.crossdistil.model.event.Example;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How many of a round's events each trainer reads from its own input (docs/scaling.md, "Shares in
 * proportion to traffic"). Every trainer trains an equal part of the round's events, but reads them
 * in proportion to its partitions' traffic: the ones whose input is behind in event time read more,
 * so that a busier partition is read as fast as it fills and no trainer falls behind for good.
 *
 * <p>The shares are a function of the events alone (their event times), never of arrival times, so
 * every trainer computes the same shares and a rerun the same model. Per trainer it keeps the events
 * read so far, the event time of its first and the newest (its frontier), and whether its input
 * ended. {@link #next} gives each trainer still reading {@code rate x (T - frontier)} events, rate
 * its events per millisecond of event time since its first, with T the one event time at which those
 * sum to the round's events (water filling): a trainer ahead of T reads nothing in the round. Without
 * a rate for every trainer still reading (fewer than two events, or no time between them), the
 * shares are equal.
 */
public final class RoundShares {
    private final long[] events;
    private final long[] first;
    private final long[] frontier;
    private final boolean[] ended;

    public RoundShares(int trainers) {
        this.events = new long[trainers];
        this.first = new long[trainers];
        this.frontier = new long[trainers];
        this.ended = new boolean[trainers];
    }

    /** Takes in events trainer {@code t} read (in its input's order), and whether its input has ended. */
    public void observe(int t, List<Example> read, boolean inputEnded) {
        for (Example e : read) {
            if (events[t] == 0) {
                first[t] = e.eventTime;
                frontier[t] = e.eventTime;
            }
            frontier[t] = Math.max(frontier[t], e.eventTime);
            events[t]++;
        }
        ended[t] |= inputEnded;
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
        double[] rate = new double[n];
        boolean rated = true;
        for (int t : reading) {
            long span = frontier[t] - first[t];
            rated &= events[t] >= 2 && span > 0;
            rate[t] = rated ? (events[t] - 1) / (double) span : 0;
        }
        if (!rated) {
            for (int t : reading) {
                want[t] = (double) total / reading.size();
            }
            return whole(want, total);
        }
        // water filling: raise T from the lowest frontier until the trainers below it read `total`
        List<Integer> byFrontier = new ArrayList<>(reading);
        byFrontier.sort(Comparator.<Integer>comparingLong(t -> frontier[t]).thenComparingInt(t -> t));
        double rates = 0;
        double weighted = 0;
        double level = 0;
        int below = 0;
        while (below < byFrontier.size()) {
            int t = byFrontier.get(below);
            rates += rate[t];
            weighted += rate[t] * frontier[t];
            below++;
            level = (total + weighted) / rates;
            if (below == byFrontier.size() || level <= frontier[byFrontier.get(below)]) {
                break;
            }
        }
        for (int i = 0; i < below; i++) {
            int t = byFrontier.get(i);
            want[t] = rate[t] * (level - frontier[t]);
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

    /** The newest event time read by the most advanced trainer still reading minus that of the least (those that read nothing left out). */
    public long spreadMillis() {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int t = 0; t < events.length; t++) {
            if (!ended[t] && events[t] > 0) {
                min = Math.min(min, frontier[t]);
                max = Math.max(max, frontier[t]);
            }
        }
        return max >= min ? max - min : 0;
    }

    void write(DataOutputStream out) throws IOException {
        for (int t = 0; t < events.length; t++) {
            out.writeLong(events[t]);
            out.writeLong(first[t]);
            out.writeLong(frontier[t]);
            out.writeBoolean(ended[t]);
        }
    }

    void read(DataInputStream in) throws IOException {
        for (int t = 0; t < events.length; t++) {
            events[t] = in.readLong();
            first[t] = in.readLong();
            frontier[t] = in.readLong();
            ended[t] = in.readBoolean();
        }
    }
}

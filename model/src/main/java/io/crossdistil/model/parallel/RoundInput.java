package io.crossdistil.model.parallel;

import io.crossdistil.model.event.Example;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What one replica reads and trains, round by round (see ReplicaTrainer): the events it reads from
 * its input for the next round (its share, {@link RoundShares}), and every replica's part of the
 * current round's events: all replicas' reads of the round before, one after another in replica
 * order, cut into N equal parts. Round 0 has no parts: each replica trains its own input's first
 * events. Every replica holds the same parts and shares, from the same updates.
 */
final class RoundInput {
    private final int replica;
    private final int replicas;
    private final int roundEvents;
    private final RoundShares shares;
    private List<List<Example>> parts = List.of();
    private final List<Example> read = new ArrayList<>();
    private int share;
    private boolean ended;
    private boolean done;

    /** @param roundEvents events of a whole round, over all replicas */
    RoundInput(int replica, int replicas, int roundEvents) {
        this.replica = replica;
        this.replicas = replicas;
        this.roundEvents = roundEvents;
        this.shares = new RoundShares(replicas);
        this.share = roundEvents / replicas;
    }

    /** Adds an event read for the next round. */
    void add(Example e) {
        if (ended) {
            throw new IllegalStateException("the input has ended");
        }
        read.add(e);
    }

    /** True when this replica has read its share for the next round, or its input ended. */
    boolean readEnough() {
        return ended || read.size() >= share;
    }

    /** This replica's events of the current round (round 1 on). */
    List<Example> part() {
        return parts.get(replica);
    }

    /** The events read for the next round so far. */
    List<Example> reads() {
        return List.copyOf(read);
    }

    void end() {
        ended = true;
    }

    boolean ended() {
        return ended;
    }

    /** True when every replica's input has ended and all they read is trained. */
    boolean done() {
        return done;
    }

    int share() {
        return share;
    }

    long spreadMillis() {
        return shares.spreadMillis();
    }

    /**
     * The round's trained events of every replica in the stream's order (see {@link #interleaved}),
     * once its updates are in; then the next round's parts and this replica's next share, from
     * what every replica read.
     */
    List<Example> merge(long round, List<RoundUpdate> updates) {
        List<List<Example>> trained = round == 0 ? updates.stream().map(RoundUpdate::trained).toList() : parts;
        List<Example> next = new ArrayList<>();
        for (RoundUpdate u : updates) {
            if (round == 0) {
                shares.observe(u.replica(), u.trained(), false);
            }
            shares.observe(u.replica(), u.read(), u.inputEnded());
            next.addAll(u.read());
        }
        parts = split(next, replicas);
        done = next.isEmpty() && shares.allEnded();
        share = shares.next(roundEvents)[replica];
        read.clear();
        return interleaved(trained);
    }

    /**
     * The round's events of every replica, the i-th of each in replica order, then the (i+1)-th:
     * the stream's order when event i went to replica i mod N, so that every replica's reservoirs
     * hold what one trainer's would.
     */
    private static List<Example> interleaved(List<List<Example>> parts) {
        List<Example> out = new ArrayList<>();
        int longest = parts.stream().mapToInt(List::size).max().orElse(0);
        for (int i = 0; i < longest; i++) {
            for (List<Example> part : parts) {
                if (i < part.size()) {
                    out.add(part.get(i));
                }
            }
        }
        return out;
    }

    /** The round's events as N parts in order, as equal as can be (the first ones one longer). */
    private static List<List<Example>> split(List<Example> events, int n) {
        List<List<Example>> out = new ArrayList<>(n);
        int from = 0;
        for (int j = 0; j < n; j++) {
            int size = events.size() / n + (j < events.size() % n ? 1 : 0);
            out.add(List.copyOf(events.subList(from, from + size)));
            from += size;
        }
        return out;
    }

    void write(DataOutputStream out) throws IOException {
        out.writeInt(parts.size());
        for (List<Example> part : parts) {
            Example.writeAll(out, part);
        }
        Example.writeAll(out, read);
        out.writeInt(share);
        out.writeBoolean(ended);
        out.writeBoolean(done);
        shares.write(out);
    }

    void read(DataInputStream in) throws IOException {
        List<List<Example>> p = new ArrayList<>();
        for (int j = in.readInt(); j > 0; j--) {
            p.add(Example.readAll(in));
        }
        parts = p;
        read.addAll(Example.readAll(in));
        share = in.readInt();
        ended = in.readBoolean();
        done = in.readBoolean();
        shares.read(in);
    }
}

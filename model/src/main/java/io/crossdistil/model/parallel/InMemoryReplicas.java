package io.crossdistil.model.parallel;

import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import java.util.ArrayList;
import java.util.List;

/**
 * N replicas trained in one thread, their updates handed over in memory (encoded and decoded as
 * the job sends them through Kafka, so the bytes and the arithmetic are the job's). Event i of the
 * stream goes to replica i mod N, as a round-robin producer would spread a stream over N
 * partitions. For experiments and tests: what N trainers compute, without a cluster.
 */
public final class InMemoryReplicas {
    /** Told of every merged round: its updates in replica order, and the stream events handed out so far. */
    public interface RoundListener {
        void merged(List<RoundUpdate> updates, long eventsSoFar);
    }

    private final ReplicaTrainer[] replicas;
    private long updateBytes;
    private long updates;
    private long mergeNanos;
    private long codecNanos;

    public InMemoryReplicas(ModelConfig cfg, int metricsWindow, int replicas, int roundSteps) {
        this.replicas = new ReplicaTrainer[replicas];
        for (int j = 0; j < replicas; j++) {
            this.replicas[j] = new ReplicaTrainer(cfg, metricsWindow, j, replicas, roundSteps);
        }
    }

    /** Trains every event of {@code stream}, event i in replica i mod N's input (their end ends every replica's input). */
    public void train(List<Example> stream, RoundListener listener) {
        int n = replicas.length;
        List<List<Example>> inputs = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            inputs.add(new ArrayList<>());
        }
        for (int i = 0; i < stream.size(); i++) {
            inputs.get(i % n).add(stream.get(i));
        }
        trainInputs(inputs, listener);
    }

    /** Trains every event of every replica's input ({@code inputs}, in replica order), as far as each one's ends, and merges the last round. */
    public void trainInputs(List<List<Example>> inputs, RoundListener listener) {
        int n = replicas.length;
        int[] next = new int[n];
        long handedOut = 0;
        while (!replicas[0].done()) {
            List<RoundUpdate> round = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                ReplicaTrainer t = replicas[j];
                List<Example> input = inputs.get(j);
                while (!t.readyToSend() && next[j] < input.size()) {
                    t.learn(input.get(next[j]++));
                    handedOut++;
                }
                RoundUpdate u = t.readyToSend() ? t.update() : t.finish();
                long coding = System.nanoTime();
                byte[] bytes = u.encode(t.dtype());
                updateBytes += bytes.length;
                updates++;
                round.add(RoundUpdate.decode(bytes, t.dtype()));
                codecNanos += System.nanoTime() - coding;
            }
            long start = System.nanoTime();
            for (ReplicaTrainer t : replicas) {
                t.merge(round);
            }
            mergeNanos += System.nanoTime() - start;
            listener.merged(round, handedOut);
        }
    }

    public ReplicaTrainer replica(int j) {
        return replicas[j];
    }

    /** Bytes of all updates sent so far. */
    public long updateBytes() {
        return updateBytes;
    }

    /** Updates sent so far (one per replica and round). */
    public long updates() {
        return updates;
    }

    /** Time spent encoding and decoding the updates (each once), nanoseconds. */
    public long codecNanos() {
        return codecNanos;
    }

    /** Time every replica spent merging, summed, nanoseconds. */
    public long mergeNanos() {
        return mergeNanos;
    }
}

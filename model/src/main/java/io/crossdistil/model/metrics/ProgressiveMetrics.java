package io.crossdistil.model.metrics;

import io.crossdistil.model.state.StateBytes;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Progressive validation (River's default way to measure an online learner): every event is
 * scored before the model learns from it, and the scores are compared with the labels here.
 * Per task: AUC, Multi-AUC, log-loss and calibration, since the start and over a sliding window
 * of the most recent events. Memory is fixed; the whole state serializes to bytes.
 */
public final class ProgressiveMetrics {
    /** 2: the ring's bins are written (1: derived from the probabilities, still read). */
    private static final int FORMAT = 2;

    private final List<String> tasks;
    private final int window;
    private final ScoreHistograms total;
    private final ScoreHistograms recent;
    /**
     * The window's events as a ring, to remove them again: permutation, and from {@code slot * tasks}
     * on its probabilities. Flat arrays: a ring of small arrays made every event's reads chase a
     * reference to an object of its own.
     */
    private final int[] ringPermutation;
    private final double[] ringScores;
    /** Each ring event's bins and log-losses (see ScoreHistograms.score), laid out as ringScores; derived, not written to the state. */
    private final int[] ringBins;
    private final double[] ringLosses;
    private long recorded;
    /** A batch's evicted events (see {@link #record(int[], double[][])}), laid out as the ring; grown on demand. */
    private int[] batchPermutation = new int[0];
    private double[] batchScores = new double[0];
    private int[] batchBins = new int[0];
    private double[] batchLosses = new double[0];

    public ProgressiveMetrics(List<String> tasks, int window) {
        if (window <= 0) {
            throw new IllegalArgumentException("metrics window must be positive: " + window);
        }
        this.tasks = List.copyOf(tasks);
        this.window = window;
        total = new ScoreHistograms(tasks.size());
        recent = new ScoreHistograms(tasks.size());
        ringPermutation = new int[window];
        ringScores = new double[Math.multiplyExact(window, tasks.size())];
        ringBins = new int[ringScores.length];
        ringLosses = new double[ringScores.length];
    }

    /** Records one event's pre-learning probabilities (one per task) and its label permutation. */
    public void record(int permutation, double[] probabilities) {
        record(new int[] {permutation}, new double[][] {probabilities});
    }

    /** Records a batch whose probabilities also give its order (see {@link #record(int[], double[][], double[][])}). */
    public void record(int[] permutations, double[][] probabilities) {
        record(permutations, probabilities, probabilities);
    }

    /**
     * Records a batch of events, in order: what recording them one by one would, bit for bit. The
     * AUCs are read from {@code ranking}'s order, the log-loss and calibration from
     * {@code probabilities} (the served probabilities, whose order is the same at any one time).
     * The histogram updates come after all of the batch's scoring, in one tight loop: after a
     * training step each is likely a cache miss (measured in the running job: recording took 11%
     * of the trainer thread, 3% beside the bare trainer), and a loop of nothing but updates lets
     * the processor overlap the misses.
     */
    public void record(int[] permutations, double[][] ranking, double[][] probabilities) {
        int n = permutations.length;
        int numTasks = tasks.size();
        if (n > window) {
            // the batch would overwrite its own events in the ring: a window's worth at a time
            record(Arrays.copyOf(permutations, window), Arrays.copyOf(ranking, window), Arrays.copyOf(probabilities, window));
            record(Arrays.copyOfRange(permutations, window, n), Arrays.copyOfRange(ranking, window, n),
                    Arrays.copyOfRange(probabilities, window, n));
            return;
        }
        if (batchPermutation.length < n) {
            batchPermutation = new int[n];
            batchScores = new double[n * numTasks];
            batchBins = new int[n * numTasks];
            batchLosses = new double[n * numTasks];
        }
        // the events that leave the window, copied out of the ring before the batch overwrites them
        int evicted = 0;
        for (int i = 0; i < n; i++) {
            if (recorded + i >= window) {
                int slot = (int) ((recorded + i) % window);
                batchPermutation[evicted] = ringPermutation[slot];
                System.arraycopy(ringScores, slot * numTasks, batchScores, evicted * numTasks, numTasks);
                System.arraycopy(ringBins, slot * numTasks, batchBins, evicted * numTasks, numTasks);
                System.arraycopy(ringLosses, slot * numTasks, batchLosses, evicted * numTasks, numTasks);
                evicted++;
            }
        }
        int firstSlot = (int) (recorded % window);
        for (int i = 0; i < n; i++) {
            int slot = (firstSlot + i) % window;
            ringPermutation[slot] = permutations[i];
            System.arraycopy(probabilities[i], 0, ringScores, slot * numTasks, numTasks);
            ScoreHistograms.score(permutations[i], ranking[i], ringScores, numTasks, ringBins, ringLosses, slot * numTasks);
        }
        // the updates in the order record(int, double[]) makes them, so that every sum is the same
        int firstEvicting = n - evicted;
        for (int i = 0; i < n; i++) {
            if (i >= firstEvicting) {
                int e = i - firstEvicting;
                recent.add(batchPermutation[e], batchScores, batchBins, batchLosses, e * numTasks, -1);
            }
            int at = ((firstSlot + i) % window) * numTasks;
            recent.add(permutations[i], ringScores, ringBins, ringLosses, at, 1);
            total.add(permutations[i], ringScores, ringBins, ringLosses, at, 1);
        }
        recorded += n;
    }

    public long recorded() {
        return recorded;
    }

    public List<String> tasks() {
        return tasks;
    }

    public List<TaskScore> scores() {
        List<TaskScore> out = new ArrayList<>();
        for (int k = 0; k < tasks.size(); k++) {
            out.add(new TaskScore(tasks.get(k), total.events, total.positives[k], total.auc(k), total.multiAuc(k),
                    total.logLoss(k), total.calibration(k), recent.auc(k), recent.multiAuc(k), recent.logLoss(k),
                    recent.calibration(k)));
        }
        return out;
    }

    public byte[] toBytes() {
        return StateBytes.write(FORMAT, out -> {
            out.writeInt(tasks.size());
            for (String t : tasks) {
                out.writeUTF(t);
            }
            out.writeInt(window);
            out.writeLong(recorded);
            int kept = (int) Math.min(recorded, window);
            for (int i = 0; i < kept; i++) {
                out.writeInt(ringPermutation[i]);
                for (int k = 0; k < tasks.size(); k++) {
                    out.writeDouble(ringScores[i * tasks.size() + k]);
                    out.writeShort(ringBins[i * tasks.size() + k]);
                }
            }
            writeHistograms(out, total);
            writeHistograms(out, recent);
        });
    }

    public static ProgressiveMetrics fromBytes(byte[] data) {
        return StateBytes.read(data, 1, FORMAT, "metrics state", (format, in) -> {
            int n = in.readInt();
            List<String> tasks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                tasks.add(in.readUTF());
            }
            ProgressiveMetrics m = new ProgressiveMetrics(tasks, in.readInt());
            m.recorded = in.readLong();
            int kept = (int) Math.min(m.recorded, m.window);
            for (int i = 0; i < kept; i++) {
                m.ringPermutation[i] = in.readInt();
                int[] bins = new int[n];
                for (int k = 0; k < n; k++) {
                    m.ringScores[i * n + k] = in.readDouble();
                    bins[k] = format >= 2 ? in.readShort() : -1;
                }
                ScoreHistograms.score(m.ringPermutation[i], m.ringScores, n, m.ringBins, m.ringLosses, i * n);
                if (format >= 2) {
                    // the bins as written: they may come from another score than the probabilities
                    System.arraycopy(bins, 0, m.ringBins, i * n, n);
                }
            }
            // both histograms are read, not rebuilt, so that their floating-point sums are exact
            readHistograms(in, m.total);
            readHistograms(in, m.recent);
            return m;
        });
    }

    private static void writeHistograms(DataOutputStream out, ScoreHistograms h) throws IOException {
        out.writeLong(h.events);
        for (int k = 0; k < h.numTasks; k++) {
            out.writeDouble(h.logLossSum[k]);
            out.writeDouble(h.predictionSum[k]);
            out.writeLong(h.positives[k]);
            for (long[] perPermutation : h.counts[k]) {
                // sparse: most bins are empty
                int nonZero = 0;
                for (long c : perPermutation) {
                    nonZero += c != 0 ? 1 : 0;
                }
                out.writeInt(nonZero);
                for (int b = 0; b < perPermutation.length; b++) {
                    if (perPermutation[b] != 0) {
                        out.writeShort(b);
                        out.writeLong(perPermutation[b]);
                    }
                }
            }
        }
    }

    private static void readHistograms(DataInputStream in, ScoreHistograms h) throws IOException {
        h.events = in.readLong();
        for (int k = 0; k < h.numTasks; k++) {
            h.logLossSum[k] = in.readDouble();
            h.predictionSum[k] = in.readDouble();
            h.positives[k] = in.readLong();
            for (long[] perPermutation : h.counts[k]) {
                int nonZero = in.readInt();
                for (int i = 0; i < nonZero; i++) {
                    perPermutation[in.readShort()] = in.readLong();
                }
            }
        }
    }
}

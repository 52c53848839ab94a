package io.crossdistil.model.metrics;

import io.crossdistil.model.event.LabelOrder;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * AUC, Multi-AUC and log-loss of one scorer over the recent stream. AUC and Multi-AUC exactly,
 * from the pairs inside each mini-batch: per task and per pair of label permutations (a, b), the
 * number of (a, b) pairs the scorer ranks a over b (ties one half) and the number of pairs; the
 * log-loss of sigmoid(score) per event; every count and sum decaying by exp(-events / window) as
 * batches arrive. Cheap enough to keep for several scorers on every step
 * (a sort of the batch per task), and two scorers recorded on the same batches are compared on
 * the same pairs.
 */
public final class RecentMetrics {
    private final int numTasks;
    private final int classes;
    private final double window;
    /** wins[task][a * classes + b]: decayed pairs ranked a over b. */
    private final double[][] wins;
    /** pairs[a * classes + b]: decayed pairs of an a and a b event (the same for every task). */
    private final double[] pairs;
    /** sizes[a]: decayed events of permutation a. */
    private final double[] sizes;
    /** logLoss[task]: decayed sum of the events' log-losses. */
    private final double[] logLoss;
    /** Per task: its positive and negative permutations, and its teacher order (fixed; kept to spare the work per step). */
    private final int[][] positives;
    private final int[][] negatives;
    private final int[][] orders;
    /** Scratch: per row, its score's order key and the row (see {@link #record}). */
    private long[] keys = new long[0];

    /** @param window events over which the counts decay by 1/e */
    public RecentMetrics(int numTasks, double window) {
        if (!(window > 0)) {
            throw new IllegalArgumentException("window must be positive: " + window);
        }
        this.numTasks = numTasks;
        this.classes = 1 << numTasks;
        this.window = window;
        wins = new double[numTasks][classes * classes];
        pairs = new double[classes * classes];
        sizes = new double[classes];
        logLoss = new double[numTasks];
        positives = new int[numTasks][];
        negatives = new int[numTasks][];
        orders = new int[numTasks][];
        for (int k = 0; k < numTasks; k++) {
            positives[k] = LabelOrder.withLabel(k, 1, numTasks);
            negatives[k] = LabelOrder.withLabel(k, 0, numTasks);
            orders[k] = LabelOrder.teacherOrder(k, numTasks);
        }
    }

    /**
     * Adds one batch: {@code scores[task][row]}, logits, for the first {@code rows} rows, and
     * each row's permutation. Scores are ranked at float precision (the model's logits are
     * floats): each row's float, made to sort as a signed int, and its row number form one long,
     * so that a primitive sort orders the batch (a sort of boxed indices was most of the cost).
     */
    public void record(int[] permutations, double[][] scores, int rows) {
        double keep = Math.exp(-rows / window);
        for (double[] w : wins) {
            scale(w, keep);
        }
        scale(pairs, keep);
        scale(sizes, keep);
        scale(logLoss, keep);
        int[] count = new int[classes];
        for (int i = 0; i < rows; i++) {
            count[permutations[i]]++;
        }
        for (int a = 0; a < classes; a++) {
            sizes[a] += count[a];
            for (int b = 0; b < classes; b++) {
                if (a != b) {
                    pairs[a * classes + b] += (double) count[a] * count[b];
                }
            }
        }
        if (keys.length < rows) {
            keys = new long[rows];
        }
        double[] below = new double[classes];
        double[] tie = new double[classes];
        for (int k = 0; k < numTasks; k++) {
            double[] s = scores[k];
            for (int i = 0; i < rows; i++) {
                keys[i] = ((long) sortable((float) s[i]) << 32) | i;
                // -log sigmoid(z) for a positive, -log(1 - sigmoid(z)) for a negative
                double z = LabelOrder.label(permutations[i], k, numTasks) == 1 ? s[i] : -s[i];
                logLoss[k] += Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
            }
            Arrays.sort(keys, 0, rows);
            Arrays.fill(below, 0);
            double[] w = wins[k];
            for (int start = 0; start < rows;) {
                int end = start;
                Arrays.fill(tie, 0);
                while (end < rows && (keys[end] >> 32) == (keys[start] >> 32)) {
                    tie[permutations[(int) keys[end]]]++;
                    end++;
                }
                for (int a = 0; a < classes; a++) {
                    if (tie[a] == 0) {
                        continue;
                    }
                    for (int b = 0; b < classes; b++) {
                        if (a != b) {
                            w[a * classes + b] += tie[a] * (below[b] + 0.5 * tie[b]);
                        }
                    }
                }
                for (int a = 0; a < classes; a++) {
                    below[a] += tie[a];
                }
                start = end;
            }
        }
    }

    /** An int whose signed order is the float's order (NaN above every number). */
    private static int sortable(float f) {
        int bits = Float.floatToIntBits(f);
        return bits >= 0 ? bits : bits ^ Integer.MAX_VALUE;
    }

    private static void scale(double[] v, double by) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= by;
        }
    }

    /** AUC of task k: its positives over its negatives; NaN before a pair of the two was seen. */
    public double auc(int task) {
        double won = 0;
        double all = 0;
        for (int a : positives[task]) {
            for (int b : negatives[task]) {
                won += wins[task][a * classes + b];
                all += pairs[a * classes + b];
            }
        }
        return all > 0 ? won / all : Double.NaN;
    }

    /**
     * Multi-AUC of task k, as {@link ProgressiveMetrics} defines it: over the task's teacher order,
     * the pairwise AUCs (higher permutation over lower) weighted by the two permutations' events.
     */
    public double multiAuc(int task) {
        int[] order = orders[task];
        double weighted = 0;
        double weights = 0;
        for (int i = 0; i < order.length; i++) {
            for (int j = i + 1; j < order.length; j++) {
                int at = order[i] * classes + order[j];
                if (pairs[at] > 0) {
                    double w = sizes[order[i]] + sizes[order[j]];
                    weighted += w * wins[task][at] / pairs[at];
                    weights += w;
                }
            }
        }
        return weights > 0 ? weighted / weights : Double.NaN;
    }

    /** Mean log-loss of sigmoid(score) for task k; NaN before an event. */
    public double logLoss(int task) {
        double events = 0;
        for (double n : sizes) {
            events += n;
        }
        return events > 0 ? logLoss[task] / events : Double.NaN;
    }

    public void write(DataOutputStream out) throws IOException {
        out.writeInt(numTasks);
        out.writeDouble(window);
        for (double[] w : wins) {
            writeAll(out, w);
        }
        writeAll(out, pairs);
        writeAll(out, sizes);
        writeAll(out, logLoss);
    }

    public static RecentMetrics read(DataInputStream in) throws IOException {
        RecentMetrics r = new RecentMetrics(in.readInt(), in.readDouble());
        for (double[] w : r.wins) {
            readAll(in, w);
        }
        readAll(in, r.pairs);
        readAll(in, r.sizes);
        readAll(in, r.logLoss);
        return r;
    }

    private static void writeAll(DataOutputStream out, double[] v) throws IOException {
        for (double x : v) {
            out.writeDouble(x);
        }
    }

    private static void readAll(DataInputStream in, double[] v) throws IOException {
        for (int i = 0; i < v.length; i++) {
            v[i] = in.readDouble();
        }
    }
}

package io.crossdistil.model.metrics;

import io.crossdistil.model.event.LabelOrder;

/**
 * Per task, per label permutation: a histogram of the predicted logits, plus the sums for
 * log-loss and calibration. AUC and Multi-AUC are read off the histograms: two events in one bin
 * count as a tie (one half). Bins are 0.006 logits wide over [-12, 12] (scores beyond are
 * clamped), so the AUC differs from the exact one only through near-ties.
 */
final class ScoreHistograms {
    static final int BINS = 4096;
    static final double RANGE = 12.0;

    final int numTasks;
    final int perms;
    /** counts[task][permutation][bin] */
    final long[][][] counts;
    final double[] logLossSum;
    final double[] predictionSum;
    final long[] positives;
    long events;

    ScoreHistograms(int numTasks) {
        this.numTasks = numTasks;
        this.perms = 1 << numTasks;
        counts = new long[numTasks][perms][BINS];
        logLossSum = new double[numTasks];
        predictionSum = new double[numTasks];
        positives = new long[numTasks];
    }

    static int bin(double probability) {
        double p = Math.min(Math.max(probability, 1e-12), 1 - 1e-12);
        double logit = Math.log(p / (1 - p));
        int b = (int) Math.floor((logit + RANGE) / (2 * RANGE) * BINS);
        return Math.min(Math.max(b, 0), BINS - 1);
    }

    static double logLoss(double probability, int y) {
        double p = Math.min(Math.max(probability, 1e-7), 1 - 1e-7);
        return -(y == 1 ? Math.log(p) : Math.log(1 - p));
    }

    /**
     * Per task k, the bin and the log-loss of one event whose probabilities start at
     * {@code probabilities[at]}: {@code bins[at + k]} and {@code losses[at + k]}. Worked out once
     * per event and kept (see ProgressiveMetrics), as the logarithms were most of recording an
     * event, which is added to two histograms and later removed from one.
     */
    static void score(int permutation, double[] probabilities, int numTasks, int[] bins, double[] losses, int at) {
        for (int k = 0; k < numTasks; k++) {
            bins[at + k] = bin(probabilities[at + k]);
            losses[at + k] = logLoss(probabilities[at + k], LabelOrder.label(permutation, k, numTasks));
        }
    }

    /**
     * {@link #score} with the bins of another score per task, {@code ranking}: the order the AUCs
     * are read from, where the log-losses are those of the probabilities.
     */
    static void score(int permutation, double[] ranking, double[] probabilities, int numTasks, int[] bins, double[] losses, int at) {
        for (int k = 0; k < numTasks; k++) {
            bins[at + k] = bin(ranking[k]);
            losses[at + k] = logLoss(probabilities[at + k], LabelOrder.label(permutation, k, numTasks));
        }
    }

    /** Adds ({@code sign} = 1) or removes ({@code sign} = -1) one event, with its {@link #score} (all three from {@code at}). */
    void add(int permutation, double[] probabilities, int[] bins, double[] losses, int at, int sign) {
        events += sign;
        for (int k = 0; k < numTasks; k++) {
            counts[k][permutation][bins[at + k]] += sign;
            logLossSum[k] += sign * losses[at + k];
            predictionSum[k] += sign * probabilities[at + k];
            positives[k] += sign * LabelOrder.label(permutation, k, numTasks);
        }
    }

    /** P(score of a random event of {@code high} > score of one of {@code low}), ties one half. */
    static double auc(long[] high, long[] low) {
        double nHigh = 0;
        double nLow = 0;
        for (int b = 0; b < BINS; b++) {
            nHigh += high[b];
            nLow += low[b];
        }
        if (nHigh == 0 || nLow == 0) {
            return Double.NaN;
        }
        double lowBelow = 0;
        double wins = 0;
        for (int b = 0; b < BINS; b++) {
            wins += high[b] * (lowBelow + 0.5 * low[b]);
            lowBelow += low[b];
        }
        return wins / (nHigh * nLow);
    }

    private long[] sum(int task, int[] permutations) {
        long[] out = new long[BINS];
        for (int p : permutations) {
            long[] c = counts[task][p];
            for (int b = 0; b < BINS; b++) {
                out[b] += c[b];
            }
        }
        return out;
    }

    double auc(int task) {
        return auc(sum(task, LabelOrder.withLabel(task, 1, numTasks)), sum(task, LabelOrder.withLabel(task, 0, numTasks)));
    }

    /**
     * Multi-AUC (docs/algorithm.md, "Metrics"): over the task's fine-grained classes (its teacher order), the mean
     * of the pairwise AUCs (higher class over lower) weighted by the share of events in the two
     * classes, weights normalised; pairs with an empty class are left out.
     */
    double multiAuc(int task) {
        int[] order = LabelOrder.teacherOrder(task, numTasks);
        long[] sizes = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            for (long c : counts[task][order[i]]) {
                sizes[i] += c;
            }
        }
        double weighted = 0;
        double weights = 0;
        for (int j = 0; j < order.length; j++) {
            for (int k = j + 1; k < order.length; k++) {
                if (sizes[j] == 0 || sizes[k] == 0) {
                    continue;
                }
                double w = sizes[j] + sizes[k];
                weighted += w * auc(counts[task][order[j]], counts[task][order[k]]);
                weights += w;
            }
        }
        return weights == 0 ? Double.NaN : weighted / weights;
    }

    double logLoss(int task) {
        return events == 0 ? Double.NaN : logLossSum[task] / events;
    }

    double calibration(int task) {
        return positives[task] == 0 ? Double.NaN : predictionSum[task] / positives[task];
    }
}

package io.crossdistil.model.metrics;

import io.crossdistil.model.event.LabelOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A reliability table per task: the predicted probabilities in equal-width buckets over [0, 1],
 * and in each the mean prediction against the observed positive rate. A calibrated model's
 * points lie on the diagonal. Fed with progressive predictions, it describes what serving would
 * have returned since the start of the stream. Not part of any checkpointed state.
 */
public final class Reliability {
    /** One bucket: predictions in [from, to). */
    public record Bucket(double from, double to, long events, double meanPredicted, double observedRate) {}

    private final int numTasks;
    private final int buckets;
    private final long[][] events;
    private final double[][] predicted;
    private final long[][] positives;

    public Reliability(int numTasks, int buckets) {
        this.numTasks = numTasks;
        this.buckets = buckets;
        events = new long[numTasks][buckets];
        predicted = new double[numTasks][buckets];
        positives = new long[numTasks][buckets];
    }

    /** One event's predictions (one per task) and its label permutation. */
    public void record(int permutation, double[] probabilities) {
        for (int k = 0; k < numTasks; k++) {
            double p = probabilities[k];
            int b = Math.min(buckets - 1, Math.max(0, (int) (p * buckets)));
            events[k][b]++;
            predicted[k][b] += p;
            positives[k][b] += LabelOrder.label(permutation, k, numTasks);
        }
    }

    /** Task k's non-empty buckets, lowest first. */
    public List<Bucket> table(int k) {
        List<Bucket> out = new ArrayList<>();
        for (int b = 0; b < buckets; b++) {
            long n = events[k][b];
            if (n > 0) {
                out.add(new Bucket((double) b / buckets, (double) (b + 1) / buckets, n, predicted[k][b] / n, (double) positives[k][b] / n));
            }
        }
        return out;
    }

    /** Expected calibration error of task k: the event-weighted mean of |mean predicted - observed| over the buckets. */
    public double expectedCalibrationError(int k) {
        long total = 0;
        double sum = 0;
        for (Bucket b : table(k)) {
            total += b.events();
            sum += b.events() * Math.abs(b.meanPredicted() - b.observedRate());
        }
        return total == 0 ? Double.NaN : sum / total;
    }
}

package io.crossdistil.model.metrics;

/**
 * The mean of the recent values of one quantity: every earlier value's weight decays by
 * exp(-1 / window) with each new value, so about the last {@code window} values count. NaN (a
 * missing value) is skipped. One writer; a reader on another thread sees a mean at most a few
 * values old.
 */
public final class RecentMean {
    private final double decay;
    private double sum;
    private double weight;

    /** @param window values over which an earlier value's weight decays by 1/e */
    public RecentMean(double window) {
        if (!(window > 0)) {
            throw new IllegalArgumentException("window must be positive: " + window);
        }
        decay = Math.exp(-1 / window);
    }

    public void add(double value) {
        if (!Double.isNaN(value)) {
            sum = sum * decay + value;
            weight = weight * decay + 1;
        }
    }

    /** The recent mean; NaN before any value. */
    public double mean() {
        double w = weight;
        return w == 0 ? Double.NaN : sum / w;
    }
}

package io.crossdistil.model.objective;

/**
 * The elementwise loss pieces, computed stably on logits: never the log of a rounded sigmoid.
 *
 * <p>All cross-entropies here are one formula: CE(p, sigmoid(z)) = softplus(z) - p * z, with
 * gradient sigmoid(z) - p. It covers BCE with hard labels (p = y), soft-label distillation
 * (p = sigmoid(t / tau), z = r / tau) and the pairwise ranking loss -ln sigmoid(d) = softplus(-d).
 *
 * <p>They work on host values: past the towers every loss is a handful of operations per row on
 * a few hundred rows, where an ND4J call costs about ten microseconds however small its array
 * and a Java loop over the rows costs less than one. The model copies each head's logits to the
 * host once and its logit gradients back once.
 */
public final class Losses {
    private Losses() {}

    /** softplus(x) = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), finite for every finite x. */
    public static double softplus(double x) {
        return softplus(x, expNegAbs(x));
    }

    /**
     * e^-|x|, the exponential softplus, sigmoid and the cross-entropy of x share: a loss and its
     * gradient at the same logit need it once (the forms taking it give the same bits).
     */
    public static double expNegAbs(double x) {
        return Math.exp(-Math.abs(x));
    }

    /** softplus(x), given {@code e = expNegAbs(x)}. */
    public static double softplus(double x, double e) {
        return Math.max(x, 0) + Math.log1p(e);
    }

    /** ln sigmoid(x) = -softplus(-x). */
    public static double logSigmoid(double x) {
        return -softplus(-x);
    }

    public static double sigmoid(double x) {
        return sigmoid(x, expNegAbs(x));
    }

    /** sigmoid(x), given {@code e = expNegAbs(x)}. */
    public static double sigmoid(double x, double e) {
        return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    }

    /** CE(p, sigmoid(z)) = softplus(z) - p z. */
    public static double crossEntropyWithLogits(double p, double z) {
        return crossEntropyWithLogits(p, z, expNegAbs(z));
    }

    /** CE(p, sigmoid(z)), given {@code e = expNegAbs(z)}. */
    public static double crossEntropyWithLogits(double p, double z, double e) {
        return softplus(z, e) - p * z;
    }

    /**
     * Error correction (docs/algorithm.md, "Error correction"): pulls each calibrated teacher logit to the side of
     * its hard label by at least {@code margin}: t = s * max(s * r~, m), s = +1 for y = 1, else -1.
     * In place; returns {@code calibrated}.
     */
    public static double[] errorCorrected(double[] calibrated, double[] labels, double margin) {
        for (int i = 0; i < calibrated.length; i++) {
            double sign = 2 * labels[i] - 1;
            calibrated[i] = sign * Math.max(sign * calibrated[i], margin);
        }
        return calibrated;
    }

    /**
     * Platt calibration of one task on the first {@code n} rows: z = P r + Q; returns {L, dL/dP,
     * dL/dQ} for L = mean CE(y, sigmoid(z)), with the teacher logits r constant.
     */
    public static double[] plattLossAndGradient(double[] r, double[] y, int n, double scale, double shift) {
        double loss = 0;
        double dScale = 0;
        double dShift = 0;
        for (int i = 0; i < n; i++) {
            double z = scale * r[i] + shift;
            double e = expNegAbs(z);
            loss += crossEntropyWithLogits(y[i], z, e);
            double err = sigmoid(z, e) - y[i];
            dScale += err * r[i];
            dShift += err;
        }
        return new double[] {loss / n, dScale / n, dShift / n};
    }
}

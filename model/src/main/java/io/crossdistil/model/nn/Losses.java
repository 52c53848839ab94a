package io.crossdistil.model.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The elementwise loss pieces, computed stably on logits: never the log of a rounded sigmoid.
 *
 * <p>All cross-entropies here are one formula: CE(p, sigmoid(z)) = softplus(z) - p * z, with
 * gradient sigmoid(z) - p. It covers BCE with hard labels (p = y), soft-label distillation
 * (p = sigmoid(t / tau), z = r / tau) and the pairwise ranking loss -ln sigmoid(d) = softplus(-d).
 */
public final class Losses {
    private Losses() {}

    /** softplus(x) = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), finite for every finite x. */
    public static INDArray softplus(INDArray x) {
        INDArray tail = Transforms.log1p(Transforms.exp(Transforms.abs(x, true).negi(), false), false);
        return Transforms.relu(x, true).addi(tail);
    }

    /** ln sigmoid(x) = -softplus(-x). */
    public static INDArray logSigmoid(INDArray x) {
        return softplus(x.neg()).negi();
    }

    /** Elementwise CE(p, sigmoid(z)) = softplus(z) - p z. */
    public static INDArray crossEntropyWithLogits(INDArray p, INDArray z) {
        return softplus(z).subi(p.mul(z));
    }

    /**
     * Error correction (ALGORITHM.md section 4): pulls each calibrated teacher logit to the side of
     * its hard label by at least {@code margin}: t = s * max(s * r~, m), s = +1 for y = 1, else -1.
     */
    public static INDArray errorCorrected(INDArray calibrated, INDArray labels, double margin) {
        INDArray sign = labels.mul(2.0).subi(1.0);
        return Transforms.max(calibrated.mul(sign), margin, false).muli(sign);
    }

    /**
     * Platt calibration of one task on a batch: z = P r + Q; returns {L, dL/dP, dL/dQ} for
     * L = mean CE(y, sigmoid(z)), with the teacher logits r constant.
     */
    public static double[] plattLossAndGradient(INDArray r, INDArray y, double scale, double shift) {
        long n = r.length();
        INDArray z = r.mul(scale).addi(shift);
        double loss = crossEntropyWithLogits(y, z).sumNumber().doubleValue() / n;
        INDArray err = Transforms.sigmoid(z, false).subi(y);
        return new double[] {loss, err.mul(r).sumNumber().doubleValue() / n, err.sumNumber().doubleValue() / n};
    }

    public static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    public static double sigmoid(double x) {
        return x >= 0 ? 1.0 / (1.0 + Math.exp(-x)) : Math.exp(x) / (1.0 + Math.exp(x));
    }
}

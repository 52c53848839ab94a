package io.crossdistil.model.objective;

import java.util.Map;

/**
 * A student head's loss on the batch: L_Stu = (1 - alpha) BCE(y, sigmoid(r)) + alpha L_KD, with
 * L_KD = CE(sigmoid(t / tau), sigmoid(r / tau)) towards a constant soft target sigmoid(t / tau)
 * (docs/algorithm.md, "Students"). Every term is a mean over the batch.
 */
public final class StudentObjective {
    private final String task;
    private final double alpha;
    private final double weight;
    private final double tau;

    /**
     * @param alpha the distillation weight (0: the plain regression student of the multi-task baseline)
     * @param weight the student's weight in L_Model
     */
    public StudentObjective(String task, double alpha, double weight, double tau) {
        this.task = task;
        this.alpha = alpha;
        this.weight = weight;
        this.tau = tau;
    }

    /** True when the loss has a distillation term, so that it needs a soft target. */
    public boolean distils() {
        return alpha > 0;
    }

    public double tau() {
        return tau;
    }

    /**
     * Writes dL/dr (scaled by the weight) into {@code d} and sigmoid(r) into {@code probability},
     * the first {@code d.length} rows of {@code r} and {@code y}; returns weight * L_Stu and puts
     * its terms into {@code terms}.
     *
     * @param soft sigmoid(t / tau) per row, a constant of the step; read only when {@link #distils}
     * @param share the part of alpha in force this step, in [0, 1] (a curriculum's ramp)
     */
    public double lossAndGradient(double[] r, double[] y, double[] soft, double share, double[] d, double[] probability,
            Map<String, Double> terms) {
        int b = d.length;
        double alpha = this.alpha * share;
        // L = BCE(y, sigmoid(r)); d/dr = sigmoid(r) - y
        double bce = 0;
        for (int i = 0; i < b; i++) {
            double e = Losses.expNegAbs(r[i]);
            bce += Losses.crossEntropyWithLogits(y[i], r[i], e);
            probability[i] = Losses.sigmoid(r[i], e);
            d[i] = (probability[i] - y[i]) * (1 - alpha) * weight / b;
        }
        bce /= b;
        terms.put("student." + task + ".bce", bce);
        double loss = (1 - alpha) * bce;
        if (alpha > 0) {
            // L_KD = CE(sigmoid(t / tau), sigmoid(r / tau)); d/dr = (sigmoid(r / tau) - sigmoid(t / tau)) / tau
            double kd = 0;
            for (int i = 0; i < b; i++) {
                double z = r[i] / tau;
                double e = Losses.expNegAbs(z);
                kd += Losses.crossEntropyWithLogits(soft[i], z, e);
                d[i] += (Losses.sigmoid(z, e) - soft[i]) * alpha * weight / (tau * b);
            }
            kd /= b;
            terms.put("student." + task + ".kd", kd);
            loss += alpha * kd;
        }
        return weight * loss;
    }

    /** sigmoid(v / tau), elementwise, as a new array: the soft target of a logit target v. */
    public static double[] softTargets(double[] v, double tau) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Losses.sigmoid(v[i] / tau);
        }
        return out;
    }
}

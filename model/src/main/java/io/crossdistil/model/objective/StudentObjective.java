package io.crossdistil.model.objective;

import java.util.Map;

/**
 * A student head's loss on the batch: L_Stu = (1 - alpha) BCE(y, sigmoid(r)) + alpha L_KD, with
 * L_KD = CE(sigmoid(t / tau), sigmoid(r / tau)) towards a constant soft target sigmoid(t / tau)
 * (docs/algorithm.md, "Students"). Every term is a mean over the batch. One-sided, L_KD counts
 * only the events whose target lies on their label's side of the student's prediction
 * (docs/algorithm.md, "One-sided distillation").
 */
public final class StudentObjective {
    private final String head;
    private final double alpha;
    private final double weight;
    private final double tau;
    private final boolean oneSided;

    /**
     * @param head names the loss terms, for example {@code student.finish}
     * @param alpha the distillation weight (0: the plain regression student of the multi-task baseline)
     * @param weight the student's weight in L_Model
     */
    public StudentObjective(String head, double alpha, double weight, double tau) {
        this(head, alpha, weight, tau, false);
    }

    /**
     * @param oneSided distil an event only where its target pulls the student towards the event's
     *     label: a positive up, a negative down (the other events' distillation terms are 0)
     */
    public StudentObjective(String head, double alpha, double weight, double tau, boolean oneSided) {
        this.oneSided = oneSided;
        this.head = head;
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
        terms.put(head + ".bce", bce);
        double loss = (1 - alpha) * bce;
        if (alpha > 0) {
            // L_KD = CE(sigmoid(t / tau), sigmoid(r / tau)); d/dr = (sigmoid(r / tau) - sigmoid(t / tau)) / tau
            double kd = 0;
            for (int i = 0; i < b; i++) {
                double z = r[i] / tau;
                double e = Losses.expNegAbs(z);
                double pull = soft[i] - Losses.sigmoid(z, e);
                if (oneSided && (y[i] > 0.5 ? pull <= 0 : pull >= 0)) {
                    continue;
                }
                kd += Losses.crossEntropyWithLogits(soft[i], z, e);
                d[i] -= pull * alpha * weight / (tau * b);
            }
            kd /= b;
            terms.put(head + ".kd", kd);
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

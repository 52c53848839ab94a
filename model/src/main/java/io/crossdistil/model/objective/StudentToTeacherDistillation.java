package io.crossdistil.model.objective;

import java.util.Map;

/**
 * The reverse distillation of the {@code two-way-kd} variant: a teacher also learns from its task's
 * student, alpha * CE(sigmoid(r_S / tau), sigmoid((P r + Q) / tau)) on the batch, with the
 * student's logit r_S and the calibration (P, Q) as constants. A loss between the two towers'
 * predictions; not the hidden-representation exchange of published Deep Mutual Learning across
 * task towers.
 */
public final class StudentToTeacherDistillation {
    private final String task;
    private final double alpha;
    private final double weight;
    private final double tau;

    public StudentToTeacherDistillation(String task, double alpha, double weight, double tau) {
        this.task = task;
        this.alpha = alpha;
        this.weight = weight;
        this.tau = tau;
    }

    /** Off for a task whose alpha is 0. */
    public boolean active() {
        return alpha > 0;
    }

    public double tau() {
        return tau;
    }

    /**
     * Adds the term's gradient to the teacher's {@code d} on the batch rows and returns alpha
     * times the term.
     *
     * @param soft sigmoid(r_S / tau) per batch row
     */
    public double lossAndGradient(double[] r, double[] soft, int batch, double scale, double shift, double[] d, Map<String, Double> terms) {
        double kd = 0;
        for (int i = 0; i < batch; i++) {
            double z = (scale * r[i] + shift) / tau;
            double e = Losses.expNegAbs(z);
            kd += Losses.crossEntropyWithLogits(soft[i], z, e);
            d[i] += (Losses.sigmoid(z, e) - soft[i]) * alpha * scale * weight / (tau * batch);
        }
        kd /= batch;
        terms.put("teacher." + task + ".from-student", kd);
        return alpha * kd;
    }
}

package io.crossdistil.model.objective;

import java.util.Map;

/** A teacher trained as a regression head on the batch with BCE, as plain knowledge distillation has it. */
public final class RegressionTeacherObjective implements TeacherObjective {
    private final String task;
    private final double weight;

    public RegressionTeacherObjective(String task, double weight) {
        this.task = task;
        this.weight = weight;
    }

    @Override
    public double lossAndGradient(double[] r, double[] y, StackedRows rows, double[] d, Map<String, Double> terms) {
        int b = rows.batch;
        double bce = 0;
        for (int i = 0; i < b; i++) {
            double e = Losses.expNegAbs(r[i]);
            bce += Losses.crossEntropyWithLogits(y[i], r[i], e);
            d[i] = (Losses.sigmoid(r[i], e) - y[i]) * weight / b;
        }
        bce /= b;
        terms.put("teacher." + task + ".bce", bce);
        return bce;
    }
}

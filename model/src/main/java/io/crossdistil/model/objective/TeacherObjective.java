package io.crossdistil.model.objective;

import java.util.Map;

/**
 * A teacher head's loss over a training step's stacked rows (the batch and the reservoir
 * samples). The teachers' logits reach the students only as constants (see
 * {@link DistillationTarget}), so a teacher objective shapes the teacher alone.
 */
public interface TeacherObjective {
    /**
     * Adds dL/dr (scaled by the teacher's weight) to {@code d}, one value per stacked row, and
     * returns the unweighted loss, its terms put into {@code terms}.
     *
     * @param r the teacher's logit for every stacked row
     * @param y the task's labels for the batch rows
     */
    double lossAndGradient(double[] r, double[] y, StackedRows rows, double[] d, Map<String, Double> terms);
}

package io.crossdistil.model.objective;

import io.crossdistil.model.event.LabelOrder;
import java.util.List;
import java.util.Map;

/**
 * The cross-task ranking teacher of task k (docs/algorithm.md, "Teachers"): on the drawn tuples,
 * the auxiliary pairs of its fine-grained order weighted by beta1 (inside the task's positives)
 * and beta2 (inside its negatives); on the marginal pairs, the coarse ranking of its own label.
 * Each term is -beta * mean ln sigmoid(r(higher) - r(lower)) over its pairs; a term whose
 * reservoirs are still empty is left out of the step.
 */
public final class RankingTeacherObjective implements TeacherObjective {
    private final String task;
    private final int k;
    private final List<LabelOrder.Pair> auxiliaryPairs;
    private final double beta1;
    private final double beta2;
    private final double weight;

    /** @param auxiliary whether the fine-grained terms are on (off: the coarse ranking alone) */
    public RankingTeacherObjective(String task, int k, int numTasks, boolean auxiliary, double beta1, double beta2, double weight) {
        this.task = task;
        this.k = k;
        this.auxiliaryPairs = auxiliary ? LabelOrder.auxiliaryPairs(k, numTasks) : null;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weight = weight;
    }

    @Override
    public double lossAndGradient(double[] r, double[] y, StackedRows rows, double[] d, Map<String, Double> terms) {
        double loss = 0;
        if (auxiliaryPairs != null) {
            double aux = 0;
            for (LabelOrder.Pair pair : auxiliaryPairs) {
                double beta = pair.insidePositives() ? beta1 : beta2;
                int n = Math.min(rows.tupleCount[pair.higher()], rows.tupleCount[pair.lower()]);
                if (n == 0 || beta == 0) {
                    continue;
                }
                aux += rankingTerm(r, d, rows.tupleStart[pair.higher()], rows.tupleStart[pair.lower()], n, beta, weight);
            }
            terms.put("teacher." + task + ".aux", aux);
            loss += aux;
        }
        int m = rows.marginalCount[k];
        if (m > 0) {
            int start = rows.marginalStart[k];
            double coarse = rankingTerm(r, d, start, start + m, m, 1.0, weight);
            terms.put("teacher." + task + ".coarse", coarse);
            loss += coarse;
        }
        return loss;
    }

    /**
     * Adds {@code -beta * mean ln sigmoid(r[hi] - r[lo])} over {@code n} row pairs to the gradient
     * {@code d} (scaled by {@code weight}) and returns the unweighted term.
     */
    private static double rankingTerm(double[] r, double[] d, int hi, int lo, int n, double beta, double weight) {
        double loss = 0;
        for (int j = 0; j < n; j++) {
            double diff = r[hi + j] - r[lo + j];
            double e = Losses.expNegAbs(diff);
            loss += Losses.softplus(-diff, e);
            double g = -Losses.sigmoid(-diff, e) * beta * weight / n; // d/d(diff) of the term
            d[hi + j] += g;
            d[lo + j] -= g;
        }
        return beta * loss / n;
    }
}

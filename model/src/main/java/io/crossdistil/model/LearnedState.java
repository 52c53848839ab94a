package io.crossdistil.model;

import io.crossdistil.model.nd4j.SingleStep;
import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.nn.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Everything a model learns, as replicas of it exchange it (parallel.ReplicaSync): the dense
 * vectors of every parameter store (the networks, the twins, both calibrations; each store's
 * parameters, then its optimizer state) in a fixed order, then the dense inputs' statistics, and
 * the embedding table with its optimizer state. Step counts, the distillation gate and the frozen
 * teachers are not in it. The vectors are the model's own arrays, not copies.
 */
public final class LearnedState {
    private final List<INDArray> vectors = new ArrayList<>();
    private final boolean[] sums;
    /** Per vector: its optimizer's step when it holds parameters (their state vectors follow), else null; null for SGD too. */
    private final SingleStep[] steps;
    private final EmbeddingTable table;

    /** @param runningSums the dense inputs' statistics (a running sum), or null */
    LearnedState(List<ParameterStore> stores, EmbeddingTable table, INDArray runningSums) {
        List<Boolean> flags = new ArrayList<>();
        List<SingleStep> steps = new ArrayList<>();
        for (ParameterStore store : stores) {
            List<INDArray> own = store.stateVectors();
            vectors.addAll(own);
            for (int i = 0; i < own.size(); i++) {
                steps.add(i == 0 ? store.singleStep() : null);
            }
            for (boolean f : store.sumVectors()) {
                flags.add(f);
            }
        }
        if (runningSums != null) {
            vectors.add(runningSums);
            flags.add(true);
            steps.add(null);
        }
        sums = new boolean[flags.size()];
        for (int i = 0; i < sums.length; i++) {
            sums[i] = flags.get(i);
        }
        this.steps = steps.toArray(new SingleStep[0]);
        this.table = table;
    }

    /** The dense vectors, in their fixed order. */
    public List<INDArray> vectors() {
        return vectors;
    }

    /**
     * Per vector: true for a running sum (AdaGrad's sums of squared gradients, the dense inputs'
     * statistics), false for parameters and moving averages (Adam's moments).
     */
    public boolean[] sums() {
        return sums.clone();
    }

    /** The optimizer's step of vector {@code v} when it holds parameters (their state vectors follow it), else null (and for SGD). */
    public SingleStep singleStep(int v) {
        return steps[v];
    }

    /** The embedding table, with its optimizer state. */
    public EmbeddingTable table() {
        return table;
    }
}

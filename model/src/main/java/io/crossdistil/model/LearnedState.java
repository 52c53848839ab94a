package io.crossdistil.model;

import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.nn.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Everything a model learns, as replicas of it exchange it (parallel.ReplicaSync): the dense
 * vectors of every parameter store (the networks, the twins, both calibrations; each store's
 * parameters, then its optimizer state) in a fixed order, and the embedding table with its
 * optimizer state. Step counts, the gate's evidence and the frozen teachers are not in it.
 * The vectors are the model's own arrays, not copies.
 */
public final class LearnedState {
    private final List<INDArray> vectors = new ArrayList<>();
    private final boolean[] sums;
    private final EmbeddingTable table;

    LearnedState(List<ParameterStore> stores, EmbeddingTable table) {
        List<Boolean> flags = new ArrayList<>();
        for (ParameterStore store : stores) {
            vectors.addAll(store.stateVectors());
            for (boolean f : store.sumVectors()) {
                flags.add(f);
            }
        }
        sums = new boolean[flags.size()];
        for (int i = 0; i < sums.length; i++) {
            sums[i] = flags.get(i);
        }
        this.table = table;
    }

    /** The dense vectors, in their fixed order. */
    public List<INDArray> vectors() {
        return vectors;
    }

    /**
     * Per vector: true for a running sum (AdaGrad's sums of squared gradients), false for
     * parameters and moving averages (Adam's moments).
     */
    public boolean[] sums() {
        return sums.clone();
    }

    /** The embedding table, with its optimizer state. */
    public EmbeddingTable table() {
        return table;
    }
}

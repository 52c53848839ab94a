package io.crossdistil.model.objective;

import io.crossdistil.model.sampling.Samples;

/**
 * Where every row of a training step's stacked matrix comes from: the batch first, then the drawn
 * samples in their order (the tuples grouped by label permutation, then per task its marginal
 * positives followed by as many negatives). Every ranking pair is then two rows at the same
 * offset in two contiguous blocks.
 */
public final class StackedRows {
    /** Rows of the batch, the first rows. */
    public final int batch;
    /** Rows in all: the batch and the samples. */
    public final int total;
    final int[] tupleStart;
    final int[] tupleCount;
    final int[] marginalStart;
    final int[] marginalCount;

    public StackedRows(int batch, Samples s) {
        this.batch = batch;
        total = batch + s.rowCount();
        tupleCount = s.tupleCounts();
        tupleStart = new int[tupleCount.length];
        for (int p = 0; p < tupleCount.length; p++) {
            tupleStart[p] = batch + s.tupleStart(p);
        }
        marginalCount = s.pairCounts();
        marginalStart = new int[marginalCount.length];
        for (int k = 0; k < marginalCount.length; k++) {
            marginalStart[k] = batch + s.positivesStart(k);
        }
    }
}

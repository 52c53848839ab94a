package io.crossdistil.model.sampling;

import java.util.Arrays;

/**
 * What one training step draws from the reservoirs, stacked as the model reads it: the tuples
 * grouped by label permutation, then per task its marginal positives followed by as many
 * negatives. Every drawn event is a slot: its embedding rows in {@code rows} (a fixed number per
 * slot), its dense values in {@code dense}, its label permutation in {@code permutations}.
 *
 * @param tupleCounts per label permutation, its events among the tuples (the i-th events of all
 *     permutations form the i-th tuple; a quadruplet for K = 2); 0 where the reservoir is still
 *     empty, and then the ranking terms that need it are left out of the step
 * @param pairCounts per task, its marginal (positive, negative) pairs; 0 while either side has
 *     no event yet
 */
public record Samples(int[] tupleCounts, int[] pairCounts, int[] rows, float[] dense, int[] permutations) {

    /** No samples: for variants without ranking losses. */
    public static Samples none(int numTasks) {
        return new Samples(new int[1 << numTasks], new int[numTasks], new int[0], new float[0], new int[0]);
    }

    public int rowCount() {
        return permutations.length;
    }

    /** First slot of permutation {@code p}'s tuple events. */
    public int tupleStart(int p) {
        return Arrays.stream(tupleCounts, 0, p).sum();
    }

    /** First slot of task {@code k}'s marginal positives; its negatives follow them. */
    public int positivesStart(int k) {
        int start = Arrays.stream(tupleCounts).sum();
        for (int j = 0; j < k; j++) {
            start += 2 * pairCounts[j];
        }
        return start;
    }

    public int negativesStart(int k) {
        return positivesStart(k) + pairCounts[k];
    }

    /**
     * Share {@code part} of {@code parts}: every {@code parts}-th tuple and marginal pair from the
     * {@code part}-th. Data-parallel trainers make the same draw and each trains on its share, so
     * together they train on the draw one trainer would make (parallel.ReplicaTrainer).
     */
    public Samples share(int part, int parts) {
        if (parts == 1) {
            return this;
        }
        int fields = rowCount() == 0 ? 0 : rows.length / rowCount();
        int denseFields = rowCount() == 0 ? 0 : dense.length / rowCount();
        int[] tuples = new int[tupleCounts.length];
        int[] pairs = new int[pairCounts.length];
        int[] slots = new int[rowCount()];
        int n = 0;
        for (int p = 0; p < tupleCounts.length; p++) {
            for (int i = part; i < tupleCounts[p]; i += parts, tuples[p]++) {
                slots[n++] = tupleStart(p) + i;
            }
        }
        for (int k = 0; k < pairCounts.length; k++) {
            for (int i = part; i < pairCounts[k]; i += parts, pairs[k]++) {
                slots[n++] = positivesStart(k) + i;
            }
            for (int i = part; i < pairCounts[k]; i += parts) {
                slots[n++] = negativesStart(k) + i;
            }
        }
        Samples out = new Samples(tuples, pairs, new int[n * fields], new float[n * denseFields], new int[n]);
        for (int j = 0; j < n; j++) {
            System.arraycopy(rows, slots[j] * fields, out.rows, j * fields, fields);
            System.arraycopy(dense, slots[j] * denseFields, out.dense, j * denseFields, denseFields);
            out.permutations[j] = permutations[slots[j]];
        }
        return out;
    }
}

package io.crossdistil.model.sampling;

import io.crossdistil.model.Example;

/**
 * What one training step draws from the reservoirs.
 *
 * @param tuples per label permutation, the events of that permutation (the i-th entries of all
 *     permutations form the i-th tuple; a quadruplet for K = 2); empty where the reservoir is
 *     still empty, and then the ranking terms that need it are left out of the step
 * @param positives per task, events drawn from the task's positive marginal set
 * @param negatives per task, as many events from its negative marginal set; both empty where
 *     either side has no event yet
 */
public record Samples(Example[][] tuples, Example[][] positives, Example[][] negatives) {

    /** No samples: for variants without ranking losses. */
    public static Samples none(int numTasks) {
        Example[][] empty = new Example[1 << numTasks][0];
        return new Samples(empty, new Example[numTasks][0], new Example[numTasks][0]);
    }

    public int rowCount() {
        int n = 0;
        for (Example[] t : tuples) {
            n += t.length;
        }
        for (int k = 0; k < positives.length; k++) {
            n += positives[k].length + negatives[k].length;
        }
        return n;
    }
}

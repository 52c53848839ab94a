package io.crossdistil.model.nd4j;

import org.nd4j.linalg.factory.Nd4j;

/**
 * How many threads ND4J gives one operation, for the whole process: its own element-wise ops'
 * and the BLAS library's. A step's operations are small (a few hundred microseconds at most), so
 * more threads than one mostly wait for each other and for cores that other work holds: on the
 * 2-core development machine a step took 3.7 ms with one thread and 8 to 23 with two, in one JVM
 * alternating between the settings. Parallelism comes from Flink's slots instead.
 */
public final class Nd4jThreads {
    private Nd4jThreads() {}

    /**
     * Sets both thread counts to {@code threads}; 0 leaves ND4J's own (from OMP_NUM_THREADS, else
     * the cores). ND4J's own ops take at most the count it fixed when it started, so this lowers
     * theirs and sets BLAS's.
     */
    public static void limit(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("ND4J threads must not be negative: " + threads);
        }
        if (threads == 0) {
            return;
        }
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    /** The thread counts in force, for a log line. */
    public static String describe() {
        return opThreads() + " for ND4J's own ops, " + blasThreads() + " for BLAS";
    }

    /** ND4J's own ops' thread count. */
    public static int opThreads() {
        return Nd4j.getEnvironment().maxMasterThreads();
    }

    /** The BLAS library's thread count. */
    public static int blasThreads() {
        return Nd4j.factory().blas().getMaxThreads();
    }
}

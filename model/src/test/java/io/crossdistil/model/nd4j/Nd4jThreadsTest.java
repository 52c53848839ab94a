package io.crossdistil.model.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class Nd4jThreadsTest {
    @Test
    void aLimitSetsBothThreadCountsAndZeroLeavesThem() {
        int ops = Nd4jThreads.opThreads();
        int blas = Nd4jThreads.blasThreads();
        try {
            // ND4J's own ops cannot go above the count fixed at its start (the tests run with OMP_NUM_THREADS=1)
            Nd4jThreads.limit(2);
            assertEquals(Math.min(2, Nd4j.getEnvironment().maxThreads()), Nd4jThreads.opThreads());
            assertEquals(2, Nd4jThreads.blasThreads());
            Nd4jThreads.limit(1);
            assertEquals(1, Nd4jThreads.opThreads());
            assertEquals(1, Nd4jThreads.blasThreads());
            Nd4jThreads.limit(0);
            assertEquals(1, Nd4jThreads.opThreads());
            assertEquals(1, Nd4jThreads.blasThreads());
            assertThrows(IllegalArgumentException.class, () -> Nd4jThreads.limit(-1));
        } finally {
            Nd4j.getEnvironment().setMaxMasterThreads(ops);
            Nd4j.factory().blas().setMaxThreads(blas);
        }
    }
}

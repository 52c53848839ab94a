package io.crossdistil.model;

import io.crossdistil.model.state.SeededRandom;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Inverted dropout's mask: each entry 0 with probability {@code rate}, else 1 / (1 - rate), so
 * that an output keeps its expectation and prediction needs no mask. Drawn from a generator the
 * caller seeds per step, so a step and its replay after a restore drop the same entries.
 */
final class DropoutMask {
    private DropoutMask() {}

    /**
     * A {@code rows x cols} mask on the host, row-major, its scale in the model's data type; null
     * when {@code rate} is 0 or there is no generator (prediction).
     */
    static double[] draw(SeededRandom random, double rate, long rows, long cols, DataType dtype) {
        if (random == null || rate == 0) {
            return null;
        }
        double keep = 1 - rate;
        double scale = dtype == DataType.FLOAT ? (float) (1 / keep) : 1 / keep;
        double[] m = new double[Math.toIntExact(rows * cols)];
        for (int i = 0; i < m.length; i++) {
            m[i] = random.nextDouble() < keep ? scale : 0;
        }
        return m;
    }
}

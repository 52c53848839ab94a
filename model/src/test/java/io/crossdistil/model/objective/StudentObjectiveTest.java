package io.crossdistil.model.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import org.junit.jupiter.api.Test;

class StudentObjectiveTest {
    private static final double[] R = {1.5, -0.3, 0.2, -2.0};
    private static final double[] Y = {1, 0, 0, 1};
    private static final double[] SOFT = {0.9, 0.4, 0.2, 0.6};

    private static double[] gradient(StudentObjective o, double share, double[] loss) {
        double[] d = new double[R.length];
        loss[0] = o.lossAndGradient(R, Y, SOFT, share, d, new double[R.length], new HashMap<>());
        return d;
    }

    /** A ramp's share of alpha acts as alpha itself would: share s of alpha a is alpha s a. */
    @Test
    void aShareOfAlphaIsThatAlpha() {
        double[] loss = new double[1];
        double[] expectedLoss = new double[1];
        for (double share : new double[] {0.0, 0.25, 1.0}) {
            double[] d = gradient(new StudentObjective("a", 0.4, 1.2, 2.0), share, loss);
            double[] expected = gradient(new StudentObjective("a", 0.4 * share, 1.2, 2.0), 1.0, expectedLoss);
            assertArrayEquals(expected, d, 1e-15, "share " + share);
            assertEquals(expectedLoss[0], loss[0], 1e-15, "share " + share);
        }
        // at share 0 the loss is the weighted BCE alone
        double bce = 0;
        for (int i = 0; i < R.length; i++) {
            bce += Losses.crossEntropyWithLogits(Y[i], R[i]);
        }
        gradient(new StudentObjective("a", 0.4, 1.2, 2.0), 0.0, loss);
        assertEquals(1.2 * bce / R.length, loss[0], 1e-12);
    }
}

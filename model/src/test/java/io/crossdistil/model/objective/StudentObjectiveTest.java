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

    /**
     * One-sided: the first two events' targets pull against their labels (a positive down, a
     * negative up), so only their BCE terms act; the last two are distilled as two-sided.
     */
    @Test
    void oneSidedDistillationSkipsTheEventsWhoseTargetPullsAgainstTheirLabel() {
        double[] soft = {0.5, 0.6, 0.2, 0.6};
        StudentObjective oneSided = new StudentObjective("a", 0.4, 1.2, 2.0, true);
        StudentObjective twoSided = new StudentObjective("a", 0.4, 1.2, 2.0, false);
        StudentObjective labelsOnly = new StudentObjective("a", 0.0, 1.2 * 0.6, 2.0, false);
        double[] d = new double[4];
        double[] both = new double[4];
        double[] bce = new double[4];
        oneSided.lossAndGradient(R, Y, soft, 1.0, d, new double[4], new HashMap<>());
        twoSided.lossAndGradient(R, Y, soft, 1.0, both, new double[4], new HashMap<>());
        labelsOnly.lossAndGradient(R, Y, soft, 1.0, bce, new double[4], new HashMap<>());
        assertEquals(bce[0], d[0], 1e-15);
        assertEquals(bce[1], d[1], 1e-15);
        assertEquals(both[2], d[2], 1e-15);
        assertEquals(both[3], d[3], 1e-15);
        // and the gradient is the loss's (finite differences; which events count is constant near R)
        for (int i = 0; i < R.length; i++) {
            double[] plus = R.clone();
            double[] minus = R.clone();
            plus[i] += 1e-6;
            minus[i] -= 1e-6;
            double numeric = (oneSided.lossAndGradient(plus, Y, soft, 1.0, new double[4], new double[4], new HashMap<>())
                    - oneSided.lossAndGradient(minus, Y, soft, 1.0, new double[4], new double[4], new HashMap<>())) / 2e-6;
            assertEquals(numeric, d[i], 1e-8, "event " + i);
        }
    }
}

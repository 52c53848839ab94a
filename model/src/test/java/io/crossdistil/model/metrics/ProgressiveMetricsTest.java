package io.crossdistil.model.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.state.SeededRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressiveMetricsTest {

    /** Exact AUC by comparing every pair, ties one half. */
    static double bruteAuc(double[] s, int[] y) {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < s.length; i++) {
            for (int j = 0; j < s.length; j++) {
                if (y[i] == 1 && y[j] == 0) {
                    wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                    pairs++;
                }
            }
        }
        return wins / pairs;
    }

    @Test
    void aBatchRecordsWhatItsEventsRecordOneByOne() {
        SeededRandom r = new SeededRandom(5);
        int window = 50;
        ProgressiveMetrics single = new ProgressiveMetrics(List.of("a", "b"), window);
        ProgressiveMetrics batched = new ProgressiveMetrics(List.of("a", "b"), window);
        // batches below, at and above the window, the window filling and wrapping around mid-batch
        for (int size : new int[] {7, 30, 50, 13, 64, 1, 49, 120, 5}) {
            int[] perms = new int[size];
            double[][] scores = new double[size][2];
            for (int i = 0; i < size; i++) {
                perms[i] = r.nextInt(4);
                scores[i][0] = r.nextDouble();
                scores[i][1] = r.nextDouble();
                single.record(perms[i], scores[i]);
            }
            batched.record(perms, scores);
            assertArrayEquals(single.toBytes(), batched.toBytes(), "after a batch of " + size);
            assertEquals(single.scores(), batched.scores());
        }
    }

    @Test
    void aucAgreesWithThePairwiseDefinition() {
        SeededRandom r = new SeededRandom(3);
        int n = 3000;
        double[][] scores = new double[n][2];
        int[] perms = new int[n];
        for (int i = 0; i < n; i++) {
            perms[i] = r.nextInt(4);
            for (int k = 0; k < 2; k++) {
                int y = LabelOrder.label(perms[i], k, 2);
                scores[i][k] = 1 / (1 + Math.exp(-(r.nextGaussian() + 0.8 * y)));
            }
        }
        ProgressiveMetrics m = new ProgressiveMetrics(List.of("a", "b"), 100_000);
        for (int i = 0; i < n; i++) {
            m.record(perms[i], scores[i]);
        }
        for (int k = 0; k < 2; k++) {
            double[] s = new double[n];
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                s[i] = scores[i][k];
                y[i] = LabelOrder.label(perms[i], k, 2);
            }
            assertEquals(bruteAuc(s, y), m.scores().get(k).auc(), 2e-4, "task " + k);
        }
    }

    @Test
    void multiAucOfAPerfectFineGrainedRankingIsOneAndOfTiesOneHalf() {
        ProgressiveMetrics perfect = new ProgressiveMetrics(List.of("a", "b"), 100);
        ProgressiveMetrics tied = new ProgressiveMetrics(List.of("a", "b"), 100);
        for (int i = 0; i < 40; i++) {
            int perm = i % 4;
            // task A's order ++ > +- > -+ > -- is the permutation number itself
            perfect.record(perm, new double[] {0.1 + 0.2 * perm, 0.5});
            tied.record(perm, new double[] {0.5, 0.5});
        }
        assertEquals(1.0, perfect.scores().get(0).multiAuc(), 1e-12);
        assertEquals(1.0, perfect.scores().get(0).auc(), 1e-12);
        assertEquals(0.5, tied.scores().get(0).multiAuc(), 1e-12);
        assertEquals(0.5, perfect.scores().get(1).auc(), 1e-12);
    }

    @Test
    void multiAucWeightsPairsByTheirShare() {
        // classes of task A: ++ (3), +- (2), -+ (1), --(0); sizes 1, 1, 2, 0 (-- empty: its pairs are left out)
        // scores make exactly one pair wrong: +- below -+ ; pairs (++,+-) w2 AUC 1, (++,-+) w3 AUC 1, (+-,-+) w3 AUC 0
        // Multi-AUC = (2 * 1 + 3 * 1 + 3 * 0) / (2 + 3 + 3) = 5 / 8
        ProgressiveMetrics m = new ProgressiveMetrics(List.of("a", "b"), 100);
        m.record(3, new double[] {0.9, 0.5});
        m.record(2, new double[] {0.2, 0.5});
        m.record(1, new double[] {0.6, 0.5});
        m.record(1, new double[] {0.7, 0.5});
        assertEquals(5.0 / 8.0, m.scores().get(0).multiAuc(), 1e-12);
    }

    @Test
    void logLossCalibrationAndTheWindow() {
        ProgressiveMetrics m = new ProgressiveMetrics(List.of("a", "b"), 2);
        m.record(3, new double[] {0.8, 0.5}); // y = (1, 1)
        m.record(0, new double[] {0.4, 0.5}); // y = (0, 0)
        m.record(2, new double[] {0.6, 0.5}); // y = (1, 0): the window now holds the last two only
        TaskScore a = m.scores().get(0);
        assertEquals(-(Math.log(0.8) + Math.log(0.6) + Math.log(0.6)) / 3, a.logLoss(), 1e-12);
        assertEquals((0.8 + 0.4 + 0.6) / 2, a.calibration(), 1e-12);
        assertEquals(-(Math.log(0.6) + Math.log(0.6)) / 2, a.windowLogLoss(), 1e-12);
        assertEquals((0.4 + 0.6) / 1, a.windowCalibration(), 1e-12);
        assertEquals(1.0, a.windowAuc(), 1e-12);
        assertEquals(Double.NaN, new ProgressiveMetrics(List.of("a", "b"), 2).scores().get(0).auc());
    }

    @Test
    void stateRoundTrips() {
        ProgressiveMetrics m = new ProgressiveMetrics(List.of("a", "b"), 50);
        SeededRandom r = new SeededRandom(1);
        for (int i = 0; i < 120; i++) {
            m.record(r.nextInt(4), new double[] {r.nextDouble(), r.nextDouble()});
        }
        ProgressiveMetrics back = ProgressiveMetrics.fromBytes(m.toBytes());
        assertEquals(m.scores().toString(), back.scores().toString());
        assertArrayEquals(m.toBytes(), back.toBytes());
        assertTrue(back.recorded() == 120);
    }

    /** AUCs follow the ranking scores, log-loss and calibration the served probabilities; a restored state keeps both apart. */
    @Test
    void aucsAreReadFromTheRankingAndLossesFromTheProbabilities() {
        ProgressiveMetrics split = new ProgressiveMetrics(List.of("a", "b"), 40);
        ProgressiveMetrics ranking = new ProgressiveMetrics(List.of("a", "b"), 40);
        ProgressiveMetrics served = new ProgressiveMetrics(List.of("a", "b"), 40);
        SeededRandom r = new SeededRandom(3);
        ProgressiveMetrics restored = null;
        for (int step = 0; step < 10; step++) {
            int[] perms = new int[8];
            double[][] scores = new double[8][];
            double[][] probabilities = new double[8][];
            for (int i = 0; i < 8; i++) {
                perms[i] = r.nextInt(4);
                scores[i] = new double[] {r.nextDouble(), r.nextDouble()};
                // served: another probability, in another order
                probabilities[i] = new double[] {1 - scores[i][0], 0.5 * scores[i][1]};
            }
            split.record(perms, scores, probabilities);
            ranking.record(perms, scores);
            served.record(perms, probabilities);
            if (restored != null) {
                restored.record(perms, scores, probabilities);
            }
            if (step == 4) {
                restored = ProgressiveMetrics.fromBytes(split.toBytes());
            }
        }
        for (int k = 0; k < 2; k++) {
            TaskScore s = split.scores().get(k);
            assertEquals(ranking.scores().get(k).auc(), s.auc());
            assertEquals(ranking.scores().get(k).windowMultiAuc(), s.windowMultiAuc());
            assertEquals(served.scores().get(k).logLoss(), s.logLoss());
            assertEquals(served.scores().get(k).windowCalibration(), s.windowCalibration());
        }
        assertEquals(split.scores().toString(), restored.scores().toString());
    }
}

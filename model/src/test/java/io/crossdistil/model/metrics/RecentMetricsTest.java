package io.crossdistil.model.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.state.SeededRandom;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecentMetricsTest {

    /** One batch of K = 2 events with random permutations and scores that carry some of the labels. */
    private record Batch(int[] perms, double[][] scores) {}

    private static Batch batch(SeededRandom r, int n) {
        int[] perms = new int[n];
        double[][] scores = new double[2][n];
        for (int i = 0; i < n; i++) {
            perms[i] = r.nextInt(4);
            for (int k = 0; k < 2; k++) {
                // a coarse score (rounded to tenths) so that ties occur
                scores[k][i] = Math.round(10 * (LabelOrder.label(perms[i], k, 2) + 0.5 * LabelOrder.label(perms[i], 1 - k, 2)
                        + r.nextGaussian())) / 10.0;
            }
        }
        return new Batch(perms, scores);
    }

    @Test
    void oneBatchGivesTheExactAucMultiAucAndLogLoss() {
        Batch b = batch(new SeededRandom(1), 400);
        RecentMetrics recent = new RecentMetrics(2, 1e12); // no decay within one batch anyway
        recent.record(b.perms(), b.scores(), 400);
        // the histogram metrics count ties the same way and agree up to their bin width
        ProgressiveMetrics exact = new ProgressiveMetrics(List.of("a", "b"), 1000);
        double[][] byEvent = new double[400][2];
        for (int i = 0; i < 400; i++) {
            for (int k = 0; k < 2; k++) {
                byEvent[i][k] = 1 / (1 + Math.exp(-b.scores()[k][i]));
            }
        }
        exact.record(b.perms(), byEvent);
        for (int k = 0; k < 2; k++) {
            int[] y = new int[400];
            for (int i = 0; i < 400; i++) {
                y[i] = LabelOrder.label(b.perms()[i], k, 2);
            }
            assertEquals(ProgressiveMetricsTest.bruteAuc(b.scores()[k], y), recent.auc(k), 1e-12, "AUC of task " + k);
            assertEquals(exact.scores().get(k).multiAuc(), recent.multiAuc(k), 1e-9, "Multi-AUC of task " + k);
            assertEquals(exact.scores().get(k).logLoss(), recent.logLoss(k), 1e-6, "log-loss of task " + k);
        }
    }

    @Test
    void oldBatchesFadeWithTheWindow() {
        // a batch ranked perfectly, then many ranked backwards: the AUC moves from 1 towards 0
        int n = 64;
        int[] perms = new int[n];
        double[][] right = new double[2][n];
        double[][] wrong = new double[2][n];
        for (int i = 0; i < n; i++) {
            perms[i] = i % 4;
            for (int k = 0; k < 2; k++) {
                right[k][i] = LabelOrder.label(perms[i], k, 2);
                wrong[k][i] = -right[k][i];
            }
        }
        RecentMetrics recent = new RecentMetrics(2, 100);
        recent.record(perms, right, n);
        assertEquals(1.0, recent.auc(0), 1e-12);
        recent.record(perms, wrong, n);
        // weights exp(-64/100) : 1 for the old and the new batch
        double old = Math.exp(-64 / 100.0);
        assertEquals(old / (old + 1), recent.auc(0), 1e-12);
        for (int i = 0; i < 20; i++) {
            recent.record(perms, wrong, n);
        }
        assertTrue(recent.auc(0) < 1e-5, "the first batch is forgotten: " + recent.auc(0));
    }

    @Test
    void beforeBothClassesAreSeenTheAucIsUndefined() {
        RecentMetrics recent = new RecentMetrics(2, 100);
        assertTrue(Double.isNaN(recent.auc(0)));
        assertTrue(Double.isNaN(recent.logLoss(0)));
        recent.record(new int[] {3, 3}, new double[][] {{0.1, 0.2}, {0.3, 0.4}}, 2);
        assertTrue(Double.isNaN(recent.auc(0)), "positives only");
        assertEquals(Math.log1p(Math.exp(-0.1)) / 2 + Math.log1p(Math.exp(-0.2)) / 2, recent.logLoss(0), 1e-12);
    }

    @Test
    void writtenAndReadBackItContinuesExactly() throws IOException {
        SeededRandom r = new SeededRandom(9);
        RecentMetrics a = new RecentMetrics(2, 500);
        Batch first = batch(r, 100);
        a.record(first.perms(), first.scores(), 100);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.write(new DataOutputStream(bytes));
        RecentMetrics b = RecentMetrics.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        Batch next = batch(r, 100);
        a.record(next.perms(), next.scores(), 100);
        b.record(next.perms(), next.scores(), 100);
        for (int k = 0; k < 2; k++) {
            assertEquals(a.auc(k), b.auc(k), 0);
            assertEquals(a.multiAuc(k), b.multiAuc(k), 0);
            assertEquals(a.logLoss(k), b.logLoss(k), 0);
        }
    }
}

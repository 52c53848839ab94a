package io.crossdistil.model.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.state.SeededRandom;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class DistillationGateTest {
    private static final int ROWS = 200;
    private static final double ADAPT = 20_000;

    /**
     * Feeds {@code steps} batches whose twin scores carry the labels and whose student scores are
     * {@code scale} times the twin's plus {@code noise} times a standard normal draw.
     */
    private static void feed(DistillationGate gate, SeededRandom r, int steps, double scale, double noise, double ramp) {
        for (int s = 0; s < steps; s++) {
            int[] perms = new int[ROWS];
            double[][] twin = new double[2][ROWS];
            double[][] stu = new double[2][ROWS];
            for (int i = 0; i < ROWS; i++) {
                perms[i] = r.nextInt(4);
                for (int k = 0; k < 2; k++) {
                    twin[k][i] = 2 * LabelOrder.label(perms[i], k, 2) - 1 + r.nextGaussian();
                    stu[k][i] = scale * twin[k][i] + noise * r.nextGaussian();
                }
            }
            gate.observe(perms, new double[][][] {twin}, stu, twin, ROWS, ramp);
        }
    }

    @Test
    void aStudentThatCostsNothingIsLetDistilMoreAndMore() {
        DistillationGate gate = new DistillationGate(2, 2_000, 0.001, 0.01, ADAPT, 1, 0);
        feed(gate, new SeededRandom(1), 10, 1, 0, 1.0);
        for (int k = 0; k < 2; k++) {
            // ten steps at the full rate: 10 * 200 / 20,000
            assertEquals(0.1, gate.limit(k), 1e-12);
            assertEquals(0.1, gate.share(k), 1e-12);
        }
        feed(gate, new SeededRandom(2), 200, 1, 0, 0.5);
        assertEquals(1.0, gate.limit(0), 1e-12, "the limit stops at 1");
        assertEquals(0.5, gate.share(0), 1e-12, "the ramp scales the share");
    }

    @Test
    void aStudentThatRanksWorseThanItsTwinIsHeldBack() {
        DistillationGate gate = new DistillationGate(2, 2_000, 0.001, 10, ADAPT, 1, 0);
        feed(gate, new SeededRandom(3), 60, 1, 0, 1.0);
        double open = gate.limit(0);
        // noise on top of the twin's scores: a clearly lower AUC
        feed(gate, new SeededRandom(4), 5, 1, 0.8, 1.0);
        assertTrue(gate.studentAuc(0) < gate.twinAuc(0) - 0.01, gate.studentAuc(0) + " vs " + gate.twinAuc(0));
        // five steps falling four times as fast as it rose
        assertEquals(open - 5 * 4 * ROWS / ADAPT, gate.limit(0), 1e-9);
        feed(gate, new SeededRandom(5), 100, 1, 0.8, 1.0);
        assertEquals(0.0, gate.limit(0), 0, "shut");
        assertEquals(0.0, gate.share(1), 0);
    }

    @Test
    void aStudentWhoseProbabilitiesAreWorseIsHeldBackToo() {
        DistillationGate gate = new DistillationGate(2, 2_000, 1.0, 0.01, ADAPT, 1, 0);
        feed(gate, new SeededRandom(6), 60, 1, 0, 1.0);
        double open = gate.limit(1);
        // the same order (AUC equal), over-confident probabilities
        feed(gate, new SeededRandom(7), 10, 8, 0, 1.0);
        assertEquals(gate.twinAuc(1), gate.studentAuc(1), 1e-12, "the same order");
        assertTrue(gate.studentLogLoss(1) > 1.02 * gate.twinLogLoss(1), gate.studentLogLoss(1) + " vs " + gate.twinLogLoss(1));
        assertTrue(gate.limit(1) < open - 0.1, "limit " + gate.limit(1) + " was " + open);
    }

    @Test
    void aTeacherThatRanksBackwardsWeighsNothingInTheTarget() {
        DistillationGate gate = new DistillationGate(2, 2_000, 0.001, 0.01, ADAPT, 2, 1);
        SeededRandom r = new SeededRandom(10);
        for (int s = 0; s < 20; s++) {
            int[] perms = new int[ROWS];
            double[][] informed = new double[2][ROWS];
            double[][] backwards = new double[2][ROWS];
            for (int i = 0; i < ROWS; i++) {
                perms[i] = r.nextInt(4);
                for (int k = 0; k < 2; k++) {
                    informed[k][i] = 2 * LabelOrder.label(perms[i], k, 2) - 1 + r.nextGaussian();
                    backwards[k][i] = -informed[k][i] + r.nextGaussian();
                }
            }
            // the online teacher ranks backwards (as one early in a stream may), the frozen one well
            gate.observe(perms, new double[][][] {backwards, informed}, informed, informed, ROWS, 1.0);
        }
        double[] w = gate.teacherWeights(0);
        assertEquals(0.0, w[0], 0);
        assertEquals(1.0, w[1], 0);
        assertEquals(1.0, gate.limit(0), 0, "with a frozen teacher the limit starts open");
    }

    @Test
    void writtenAndReadBackItContinuesExactly() throws IOException {
        DistillationGate a = new DistillationGate(2, 2_000, 0.001, 0.01, ADAPT, 1, 0);
        feed(a, new SeededRandom(8), 30, 1, 0.8, 1.0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.write(new DataOutputStream(bytes));
        DistillationGate b = DistillationGate.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), 2, 0.001, 0.01,
                ADAPT);
        feed(a, new SeededRandom(9), 7, 1, 0, 0.7);
        feed(b, new SeededRandom(9), 7, 1, 0, 0.7);
        for (int k = 0; k < 2; k++) {
            assertEquals(a.share(k), b.share(k), 0);
            assertEquals(a.teacherMultiAuc(k), b.teacherMultiAuc(k), 0);
        }
    }
}

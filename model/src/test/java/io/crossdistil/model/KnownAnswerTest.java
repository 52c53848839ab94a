package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.features.FeatureHasher;
import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.objective.Losses;
import io.crossdistil.model.state.SeededRandom;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;

/** Tiny cases computed by hand (the arithmetic is in the comments). */
class KnownAnswerTest {

    @Test
    void logSigmoidIsStableForLargeLogits() {
        double[] x = {-1000, -30, 0, 30, 1000};
        double[] v = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            v[i] = Losses.logSigmoid(x[i]);
            assertTrue(Double.isFinite(v[i]), "log-sigmoid must stay finite at " + x[i]);
        }
        assertEquals(-1000.0, v[0], 1e-9);                  // ln sigmoid(-1000) = -1000 - ln(1 + e^-1000)
        assertEquals(-30.0 - Math.exp(-30), v[1], 1e-12);  // ln sigmoid(-30) = -30 - ln(1 + e^-30)
        assertEquals(-Math.log(2), v[2], 1e-15);
        assertEquals(-Math.exp(-30), v[3], 1e-25);          // ln(1 + e^-30) = e^-30 to the last digit (log1p)
        assertEquals(0.0, v[4], 0.0);
        assertEquals(0.0, Losses.sigmoid(-1000), 0.0);
        assertEquals(1.0, Losses.sigmoid(1000), 0.0);
    }

    @Test
    void rankingPairLoss() {
        // -ln sigmoid(r_hi - r_lo) for r_hi = 2, r_lo = 1: ln(1 + e^-1) = 0.31326168751822286
        assertEquals(0.31326168751822286, Losses.softplus(-(2.0 - 1.0)), 1e-15);
        // a wrongly ordered pair costs more: r_hi = 1, r_lo = 2 gives ln(1 + e) = 1.3132616875182228
        assertEquals(1.3132616875182228, Losses.softplus(-(1.0 - 2.0)), 1e-15);
    }

    @Test
    void distillationWithTemperature() {
        // t = 2, r = 1, tau = 2: p = sigmoid(1) = 0.7310585786300049, z = 0.5,
        // CE = softplus(0.5) - p z = 0.9740769841801067 - 0.36552928931500245 = 0.6085476948651042
        double p = 1.0 / (1.0 + Math.exp(-1.0));
        assertEquals(0.6085476948651042, Losses.crossEntropyWithLogits(p, 0.5), 1e-15);
        // with hard labels it is BCE: y = 1, z = 0 gives ln 2
        assertEquals(Math.log(2), Losses.crossEntropyWithLogits(1.0, 0.0), 1e-15);
    }

    @Test
    void errorCorrectionPullsTeacherLogitsToTheLabelSideByTheMargin() {
        // m = 0.5: a positive's logit is at least 0.5, a negative's at most -0.5, correct ones unchanged
        double[] t = Losses.errorCorrected(new double[] {-0.3, 0.8, 0.2, -1.5}, new double[] {1, 1, 0, 0}, 0.5);
        assertArrayEquals(new double[] {0.5, 0.8, -0.5, -1.5}, t, 1e-15);
        // m = 0: only the side is corrected
        double[] t0 = Losses.errorCorrected(new double[] {-0.3, 0.8, 0.2, -1.5}, new double[] {1, 1, 0, 0}, 0.0);
        assertArrayEquals(new double[] {0.0, 0.8, 0.0, -1.5}, t0, 1e-15);
    }

    @Test
    void plattCalibration() {
        // r = (1, -2), y = (1, 0), P = 0.5, Q = 0.1: z = (0.6, -0.9)
        // L = ((softplus(0.6) - 0.6) + softplus(-0.9)) / 2 = (0.43748795 + 0.34115387) / 2
        // sigmoid(z) - y = (0.645656306 - 1, 0.289050497) = (-0.354343694, 0.289050497)
        // dL/dQ = mean = -0.032646598; dL/dP = mean((sigmoid(z) - y) r) = (-0.354343694 - 0.578100994) / 2
        double[] lg = Losses.plattLossAndGradient(new double[] {1, -2}, new double[] {1, 0}, 2, 0.5, 0.1);
        assertEquals((Math.log1p(Math.exp(0.6)) - 0.6 + Math.log1p(Math.exp(-0.9))) / 2, lg[0], 1e-15);
        assertEquals(0.38932091, lg[0], 1e-8);
        assertEquals(-0.46622234, lg[1], 1e-8);
        assertEquals(-0.03264660, lg[2], 1e-8);
    }

    @Test
    void teacherOrdersForTwoTasksAreThePublishedOnes() {
        // permutations: 3 = ++, 2 = +-, 1 = -+, 0 = --
        assertArrayEquals(new int[] {3, 2, 1, 0}, LabelOrder.teacherOrder(0, 2)); // A: ++ > +- > -+ > --
        assertArrayEquals(new int[] {3, 1, 2, 0}, LabelOrder.teacherOrder(1, 2)); // B: ++ > -+ > +- > --
        assertEquals(List.of(new LabelOrder.Pair(3, 2, true), new LabelOrder.Pair(1, 0, false)), LabelOrder.auxiliaryPairs(0, 2));
        assertEquals(List.of(new LabelOrder.Pair(3, 1, true), new LabelOrder.Pair(2, 0, false)), LabelOrder.auxiliaryPairs(1, 2));
        assertEquals(2, LabelOrder.permutation(new int[] {1, 0}));
        assertEquals("+-", LabelOrder.name(2, 2));
    }

    @Test
    void threeTaskOrdersNeverCrossTheTasksOwnLabel() {
        for (int k = 0; k < 3; k++) {
            List<LabelOrder.Pair> pairs = LabelOrder.auxiliaryPairs(k, 3);
            assertEquals(6, pairs.size()); // 2^(K-1) - 1 = 3 per side
            for (LabelOrder.Pair p : pairs) {
                assertEquals(LabelOrder.label(p.higher(), k, 3), LabelOrder.label(p.lower(), k, 3));
                assertEquals(p.insidePositives() ? 1 : 0, LabelOrder.label(p.higher(), k, 3));
            }
        }
        // teacher B of three tasks: y_B first, then y_A, then y_C
        assertArrayEquals(new int[] {0b111, 0b110, 0b011, 0b010, 0b101, 0b100, 0b001, 0b000}, LabelOrder.teacherOrder(1, 3));
    }

    @Test
    void embeddingUpdatesTouchOnlyTheRowsUsedAndSumDuplicates() {
        // SGD, lr 0.5: row 3 is used twice, its gradients add up; row 7 once; every other row stays
        EmbeddingTable t = new EmbeddingTable(10, 2, DataType.DOUBLE, new Sgd(0.5), new SeededRandom(1), 0.1);
        double[] before = t.table().ravel().toDoubleVector();
        t.accumulate(new int[] {3, 7, 3}, Nd4j.createFromArray(new double[][] {{1, 2}, {4, -2}, {0.5, 0}}));
        t.applyUpdate(0);
        double[] after = t.table().ravel().toDoubleVector();
        for (int i = 0; i < after.length; i++) {
            double expected = switch (i) {
                case 6 -> before[6] - 0.5 * 1.5;
                case 7 -> before[7] - 0.5 * 2;
                case 14 -> before[14] - 0.5 * 4;
                case 15 -> before[15] - 0.5 * -2;
                default -> before[i];
            };
            assertEquals(expected, after[i], 1e-15, "value " + i);
        }
    }

    @Test
    void embeddingMomentsOfUnusedRowsDoNotDecay() {
        // Adam's first step moves each used value by lr against the gradient's sign (up to its epsilon, 1e-8);
        // a row left out of the second step keeps its value and its moments (lazy Adam)
        EmbeddingTable t = new EmbeddingTable(4, 1, DataType.DOUBLE, new Adam(0.01), new SeededRandom(1), 0.1);
        double[] start = t.table().ravel().toDoubleVector();
        t.accumulate(new int[] {0, 2}, Nd4j.createFromArray(new double[][] {{3}, {-1}}));
        t.applyUpdate(0);
        double[] one = t.table().ravel().toDoubleVector();
        assertEquals(start[0] - 0.01, one[0], 1e-7);
        assertEquals(start[2] + 0.01, one[2], 1e-7);
        assertEquals(start[1], one[1]);
        t.accumulate(new int[] {2}, Nd4j.createFromArray(new double[][] {{-1}}));
        t.applyUpdate(1);
        double[] two = t.table().ravel().toDoubleVector();
        assertEquals(one[0], two[0], "row 0 was not used");
        assertEquals(one[2] + 0.01, two[2], 1e-7, "the same gradient again: bias-corrected moments give the same step");
    }

    @Test
    void murmur3MatchesReferenceVectors() {
        // published MurmurHash3 x86_32 test vectors
        assertEquals(0, FeatureHasher.murmur3x86_32(new byte[0], 0));
        assertEquals(0x514E28B7, FeatureHasher.murmur3x86_32(new byte[0], 1));
        assertEquals(0x81F16F39, FeatureHasher.murmur3x86_32(new byte[0], 0xffffffff));
        assertEquals(0x24884CBA, FeatureHasher.murmur3x86_32("Hello, world!".getBytes(StandardCharsets.UTF_8), 0x9747b28c));
        assertEquals(0x2FA826CD, FeatureHasher.murmur3x86_32("The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8), 0x9747b28c));
        assertEquals(0x2E4FF723, FeatureHasher.murmur3x86_32("The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8), 0));
        // two-byte tails, from the mmh3 Python package (the reference C code)
        assertEquals(0x9BBFD75F, FeatureHasher.murmur3x86_32("ab".getBytes(StandardCharsets.UTF_8), 0));
        assertEquals(0x20362266, FeatureHasher.murmur3x86_32("Hello, world!!".getBytes(StandardCharsets.UTF_8), 0x9747b28c));
    }

    @Test
    void aRowIsTheHashOfFieldAndValueModuloTheRows() {
        // mmh3.hash(b"user_id\x01u42", 0) = 0xC8BBE9B6 and (UTF-8) b"ger\xc3\xa4t\x01" + "長い" = 0x38B9460A;
        // modulo 2^17 the low 17 bits
        FeatureHasher h = new FeatureHasher(List.of("user_id", "gerät"), 1 << 17);
        assertEquals(0xC8BBE9B6 & 0x1FFFF, h.rows(java.util.Map.of("user_id", "u42", "gerät", "長い"))[0]);
        assertEquals(0x38B9460A & 0x1FFFF, h.rows(java.util.Map.of("user_id", "u42", "gerät", "長い"))[1]);
        assertEquals(0xC8BBE9B6 & 0x1FFFF, h.row("user_id", "u42"));
    }

    @Test
    void fieldsSaltTheHash() {
        FeatureHasher h = new FeatureHasher(List.of("user_id", "item_id"), 1 << 20);
        assertTrue(h.row("user_id", "42") != h.row("item_id", "42"));
        assertEquals(h.row("user_id", "42"), h.rows(java.util.Map.of("user_id", "42"))[0]);
        assertEquals(h.row("item_id", FeatureHasher.MISSING), h.rows(java.util.Map.of("user_id", "42"))[1]);
    }
}

package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.sampling.Reservoir;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.sampling.SeededRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static Example event(int id, int permutation) {
        return new Example("e" + id, id, new int[] {id}, new float[0], permutation);
    }

    /**
     * Algorithm R keeps every offered event with probability capacity / seen. 10,000 events into a
     * reservoir of 100, 2,000 seeded trials: the kept events per arrival decile are compared with
     * the uniform expectation (20,000 each) by a chi-square test with 9 degrees of freedom; 27.88
     * is its 0.1% critical value. Then draws from one full reservoir are checked to be uniform
     * over its slots the same way (99 degrees of freedom, 0.1% critical value 148.23).
     */
    @Test
    void reservoirIsUniformOverTheWholeStream() {
        int n = 10_000;
        int capacity = 100;
        int trials = 2_000;
        long[] perDecile = new long[10];
        SeededRandom random = new SeededRandom(1234);
        for (int t = 0; t < trials; t++) {
            Reservoir r = new Reservoir(capacity);
            for (int i = 0; i < n; i++) {
                r.offer(event(i, 0), random);
            }
            assertEquals(capacity, r.size());
            assertEquals(n, r.seen());
            java.util.Set<Long> kept = new java.util.HashSet<>();
            for (int i = 0; i < 100_000 && kept.size() < capacity; i++) {
                kept.add(r.draw(random).eventTime);
            }
            assertEquals(capacity, kept.size());
            kept.forEach(time -> perDecile[(int) (time / (n / 10))]++);
        }
        assertTrue(chiSquare(perDecile) < 27.88, "chi-square " + chiSquare(perDecile) + " over deciles " + java.util.Arrays.toString(perDecile));

        Reservoir full = new Reservoir(capacity);
        for (int i = 0; i < capacity; i++) {
            full.offer(event(i, 0), random);
        }
        long[] perSlot = new long[capacity];
        for (int i = 0; i < 200_000; i++) {
            perSlot[(int) full.draw(random).eventTime]++;
        }
        assertTrue(chiSquare(perSlot) < 148.23, "draws not uniform: chi-square " + chiSquare(perSlot));
    }

    private static double chiSquare(long[] counts) {
        double expected = java.util.Arrays.stream(counts).sum() / (double) counts.length;
        double chi2 = 0;
        for (long c : counts) {
            chi2 += (c - expected) * (c - expected) / expected;
        }
        return chi2;
    }

    @Test
    void marginalDrawsFollowTheSeenCounts() {
        QuadrupletSampler s = new QuadrupletSampler(2, 50, 9);
        // task A positives: 100 events of ++ (3) and 300 of +- (2); the reservoirs keep 50 each
        for (int i = 0; i < 100; i++) {
            s.offer(event(i, 3));
        }
        for (int i = 0; i < 300; i++) {
            s.offer(event(1000 + i, 2));
        }
        for (int i = 0; i < 10; i++) {
            s.offer(event(5000 + i, 0));
        }
        Samples draw = s.draw(1, 20_000);
        long fromPlusPlus = java.util.Arrays.stream(draw.positives()[0]).filter(e -> e.permutation == 3).count();
        double share = fromPlusPlus / 20_000.0;
        assertEquals(0.25, share, 0.015, "++ must be drawn in proportion to its seen count, 100 of 400");
        // the empty -+ reservoir gives no tuple entries, the others do
        assertEquals(0, draw.tuples()[1].length);
        assertEquals(1, draw.tuples()[3].length);
        // task B has positives only in ++ and negatives in +- and --
        assertTrue(java.util.Arrays.stream(draw.positives()[1]).allMatch(e -> e.permutation == 3));
        assertTrue(java.util.Arrays.stream(draw.negatives()[1]).allMatch(e -> e.permutation == 2 || e.permutation == 0));
    }

    @Test
    void noMarginalPairsWhileOneSideIsEmpty() {
        QuadrupletSampler s = new QuadrupletSampler(2, 10, 1);
        s.offer(event(1, 3));
        Samples d = s.draw(2, 2);
        assertEquals(0, d.positives()[0].length);
        assertEquals(0, d.negatives()[0].length);
        assertEquals(2, d.tuples()[3].length);
    }

    @Test
    void stateRoundTripsExactly() {
        QuadrupletSampler a = new QuadrupletSampler(2, 30, 5);
        for (int i = 0; i < 500; i++) {
            a.offer(event(i, i % 4));
        }
        byte[] bytes = a.toBytes();
        QuadrupletSampler b = QuadrupletSampler.fromBytes(bytes);
        assertArrayEquals(bytes, b.toBytes());
        // continuing both gives the same draws: contents, counts and generator were restored
        for (int round = 0; round < 3; round++) {
            Samples x = a.draw(4, 4);
            Samples y = b.draw(4, 4);
            for (int p = 0; p < 4; p++) {
                assertArrayEquals(x.tuples()[p], y.tuples()[p]);
            }
            assertArrayEquals(x.positives()[1], y.positives()[1]);
            a.offer(event(900 + round, round));
            b.offer(event(900 + round, round));
        }
        assertArrayEquals(a.toBytes(), b.toBytes());
    }
}

package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.sampling.Reservoir;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.state.SeededRandom;
import io.crossdistil.model.state.StateBytes;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** An event whose one embedding row is its id, so that a drawn row says which event it was. */
    private static Example event(int id, int permutation) {
        return new Example("e" + id, id, new int[] {id}, new float[0], permutation);
    }

    private static int drawId(Reservoir r, SeededRandom random) {
        int[] row = new int[1];
        r.drawInto(random, row, new float[0], 0);
        return row[0];
    }

    /** The permutations of task k's marginal positives (or negatives) in a draw. */
    private static int[] marginal(Samples s, int k, boolean positives) {
        int start = positives ? s.positivesStart(k) : s.negativesStart(k);
        return Arrays.copyOfRange(s.permutations(), start, start + s.pairCounts()[k]);
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
            Reservoir r = new Reservoir(capacity, 1, 0);
            for (int i = 0; i < n; i++) {
                r.offer(event(i, 0), random);
            }
            assertEquals(capacity, r.size());
            assertEquals(n, r.seen());
            java.util.Set<Integer> kept = new java.util.HashSet<>();
            for (int slot = 0; slot < capacity; slot++) {
                kept.add(r.rows(slot)[0]);
            }
            assertEquals(capacity, kept.size(), "every slot holds another event");
            kept.forEach(id -> perDecile[id / (n / 10)]++);
        }
        assertTrue(chiSquare(perDecile) < 27.88, "chi-square " + chiSquare(perDecile) + " over deciles " + Arrays.toString(perDecile));

        Reservoir full = new Reservoir(capacity, 1, 0);
        for (int i = 0; i < capacity; i++) {
            full.offer(event(i, 0), random);
        }
        long[] perSlot = new long[capacity];
        for (int i = 0; i < 200_000; i++) {
            perSlot[drawId(full, random)]++;
        }
        assertTrue(chiSquare(perSlot) < 148.23, "draws not uniform: chi-square " + chiSquare(perSlot));
    }

    private static double chiSquare(long[] counts) {
        double expected = Arrays.stream(counts).sum() / (double) counts.length;
        double chi2 = 0;
        for (long c : counts) {
            chi2 += (c - expected) * (c - expected) / expected;
        }
        return chi2;
    }

    @Test
    void aDrawCopiesTheKeptEventsFeatures() {
        Reservoir r = new Reservoir(10, 3, 2);
        r.offer(new Example("a", 1, new int[] {7, 8, 9}, new float[] {0.5f, -1f}, 0), new SeededRandom(1));
        int[] rows = new int[6];
        float[] dense = new float[4];
        r.drawInto(new SeededRandom(2), rows, dense, 1);
        assertArrayEquals(new int[] {0, 0, 0, 7, 8, 9}, rows);
        assertArrayEquals(new float[] {0, 0, 0.5f, -1f}, dense);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> r.offer(new Example("b", 2, new int[] {1, 2}, new float[] {0, 0}, 0), new SeededRandom(1)));
        assertTrue(e.getMessage().contains("2 embedding rows"), e.getMessage());
    }

    @Test
    void marginalDrawsFollowTheSeenCounts() {
        QuadrupletSampler s = new QuadrupletSampler(2, 1, 0, 50, 9);
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
        long fromPlusPlus = Arrays.stream(marginal(draw, 0, true)).filter(p -> p == 3).count();
        double share = fromPlusPlus / 20_000.0;
        assertEquals(0.25, share, 0.015, "++ must be drawn in proportion to its seen count, 100 of 400");
        // the empty -+ reservoir gives no tuple entries, the others do
        assertArrayEquals(new int[] {1, 0, 1, 1}, draw.tupleCounts());
        // task B has positives only in ++ and negatives in +- and --
        assertTrue(Arrays.stream(marginal(draw, 1, true)).allMatch(p -> p == 3));
        assertTrue(Arrays.stream(marginal(draw, 1, false)).allMatch(p -> p == 2 || p == 0));
        // every slot's row is an event of the permutation the slot says (ids: ++ below 1000, +- from 1000, -- from 5000)
        for (int i = 0; i < draw.rowCount(); i++) {
            int id = draw.rows()[i];
            int expected = id < 1000 ? 3 : id < 5000 ? 2 : 0;
            assertEquals(expected, draw.permutations()[i], "slot " + i + " holds event " + id);
        }
    }

    @Test
    void noMarginalPairsWhileOneSideIsEmpty() {
        QuadrupletSampler s = new QuadrupletSampler(2, 1, 0, 10, 1);
        s.offer(event(1, 3));
        Samples d = s.draw(2, 2);
        assertArrayEquals(new int[] {0, 0}, d.pairCounts());
        assertArrayEquals(new int[] {0, 0, 0, 2}, d.tupleCounts());
        assertArrayEquals(new int[] {1, 1}, d.rows());
    }

    @Test
    void stateRoundTripsExactly() {
        QuadrupletSampler a = new QuadrupletSampler(2, 1, 0, 30, 5);
        for (int i = 0; i < 500; i++) {
            a.offer(event(i, i % 4));
        }
        byte[] bytes = a.toBytes();
        QuadrupletSampler b = QuadrupletSampler.fromBytes(bytes, 1, 0);
        assertArrayEquals(bytes, b.toBytes());
        // continuing both gives the same draws: contents, counts and generator were restored
        for (int round = 0; round < 3; round++) {
            Samples x = a.draw(4, 4);
            Samples y = b.draw(4, 4);
            assertArrayEquals(x.rows(), y.rows());
            assertArrayEquals(x.permutations(), y.permutations());
            a.offer(event(900 + round, round));
            b.offer(event(900 + round, round));
        }
        assertArrayEquals(a.toBytes(), b.toBytes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuadrupletSampler.fromBytes(bytes, 2, 0));
        assertTrue(e.getMessage().contains("1 embedding rows"), e.getMessage());
    }

    /**
     * Checkpoints and savepoints written before the reservoirs kept flat features (sampler format
     * 1: whole events) still restore: the events' features, the seen counts and the generator.
     */
    @Test
    void readsTheFormerStateFormatOfWholeEvents() {
        long generator = new SeededRandom(77).state();
        int[][] kept = {{10, 11}, {15}, {20}, {30, 31, 32}};
        byte[] former = StateBytes.write(1, out -> {
            out.writeInt(2);
            out.writeLong(generator);
            for (int p = 0; p < 4; p++) {
                out.writeInt(5);
                out.writeLong(100 + p);
                out.writeInt(kept[p].length);
                for (int id : kept[p]) {
                    new Example("e" + id, id, new int[] {id, -id}, new float[] {id / 2f}, p).writeTo(out);
                }
            }
        });
        QuadrupletSampler s = QuadrupletSampler.fromBytes(former, 2, 1);
        for (int p = 0; p < 4; p++) {
            assertEquals(kept[p].length, s.reservoir(p).size());
            assertEquals(100 + p, s.reservoir(p).seen());
            for (int i = 0; i < kept[p].length; i++) {
                assertArrayEquals(new int[] {kept[p][i], -kept[p][i]}, s.reservoir(p).rows(i));
            }
        }
        // the generator continues where it was: the same draws as from a copy in the current format
        QuadrupletSampler copy = QuadrupletSampler.fromBytes(s.toBytes(), 2, 1);
        Samples d = s.draw(3, 2);
        assertArrayEquals(d.rows(), copy.draw(3, 2).rows());
        SeededRandom replay = SeededRandom.fromState(generator);
        int first = kept[0][replay.nextInt(kept[0].length)];
        assertArrayEquals(new int[] {first, -first}, Arrays.copyOfRange(d.rows(), 0, 2));
        assertEquals(first / 2f, d.dense()[0]);
    }
    @Test
    void sharesOfADrawSplitItsTuplesAndPairsAndTogetherHoldAllOfIt() {
        QuadrupletSampler sampler = new QuadrupletSampler(2, 1, 0, 50, 9);
        for (int i = 0; i < 400; i++) {
            sampler.offer(event(i, i % 4));
        }
        Samples all = sampler.draw(5, 3);
        Samples first = all.share(0, 2);
        Samples second = all.share(1, 2);
        assertEquals(all, all.share(0, 1));
        // 5 tuples: 3 and 2; 3 pairs per task: 2 and 1
        assertArrayEquals(new int[] {3, 3, 3, 3}, first.tupleCounts());
        assertArrayEquals(new int[] {2, 2, 2, 2}, second.tupleCounts());
        assertArrayEquals(new int[] {2, 2}, first.pairCounts());
        assertArrayEquals(new int[] {1, 1}, second.pairCounts());
        for (int p = 0; p < 4; p++) {
            // the i-th tuple of the share is tuple part + i * parts of the draw: tuples stay whole
            for (int i = 0; i < 2; i++) {
                assertEquals(all.rows()[all.tupleStart(p) + 1 + 2 * i], second.rows()[second.tupleStart(p) + i]);
            }
        }
        for (int k = 0; k < 2; k++) {
            assertEquals(all.rows()[all.positivesStart(k) + 1], second.rows()[second.positivesStart(k)]);
            assertEquals(all.rows()[all.negativesStart(k) + 1], second.rows()[second.negativesStart(k)]);
            assertEquals(all.rows()[all.negativesStart(k) + 2], first.rows()[first.negativesStart(k) + 1]);
        }
        int[] together = java.util.stream.IntStream.concat(Arrays.stream(first.rows()), Arrays.stream(second.rows())).sorted().toArray();
        int[] whole = Arrays.stream(all.rows()).sorted().toArray();
        assertArrayEquals(whole, together);
    }
}

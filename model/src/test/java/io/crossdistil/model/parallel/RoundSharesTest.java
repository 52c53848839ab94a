package io.crossdistil.model.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RoundSharesTest {
    private static Example at(long time) {
        return new Example("e", time, new int[0], new float[0], 0);
    }

    /** Events {@code perMs} a millisecond (times rounded down to whole milliseconds) from {@code from} to {@code to}, the end left out. */
    private static List<Example> events(int perMs, long from, long to) {
        List<Example> out = new ArrayList<>();
        for (long i = from * perMs; i < to * perMs; i++) {
            out.add(at(i / perMs));
        }
        return out;
    }

    /** Trainer {@code t} reads its events from 0 to {@code to} ms in two reads, halves of the time. */
    private static void twoReads(RoundShares s, int t, int perMs, long to) {
        s.observe(t, events(perMs, 0, to / 2), false);
        s.observe(t, events(perMs, to / 2, to), false);
    }

    @Test
    void untilEveryTrainerHasARateTheSharesAreEqual() {
        RoundShares s = new RoundShares(3);
        assertArrayEquals(new int[] {86, 85, 85}, s.next(256));
        twoReads(s, 0, 2, 100);
        twoReads(s, 1, 1, 100);
        s.observe(2, events(1, 0, 100), false); // one read: no rate yet
        assertArrayEquals(new int[] {86, 85, 85}, s.next(256));
        s.observe(2, List.of(at(49), at(49)), false); // a read whose median does not move the clock
        assertArrayEquals(new int[] {86, 85, 85}, s.next(256));
    }

    @Test
    void trainersLevelWithEachOtherAtTheirRates() {
        // known answers: trainer 0 reads 2 events a millisecond, trainer 1 one; a clock is the median time of each read
        RoundShares s = new RoundShares(2);
        twoReads(s, 0, 2, 100);
        twoReads(s, 1, 1, 100);
        // both clocks at 74 ms (the second read's median), 300 events take them both to 174 ms
        assertArrayEquals(new int[] {200, 100}, s.next(300));

        // trainer 1 at 37 ms: both reach (300 + 2 x 74 + 37) / 3 ms, 175.33 and 124.67 events, the spare one to the larger remainder
        RoundShares behind = new RoundShares(2);
        twoReads(behind, 0, 2, 100);
        twoReads(behind, 1, 1, 50);
        assertArrayEquals(new int[] {175, 125}, behind.next(300));
        assertEquals(37, behind.spreadMillis());

        // trainer 1 far behind: it reads the whole round, trainer 0 nothing
        RoundShares far = new RoundShares(2);
        twoReads(far, 0, 2, 1_000);
        twoReads(far, 1, 1, 10);
        assertArrayEquals(new int[] {0, 300}, far.next(300));
    }

    @Test
    void aBrokenProducerClockNeitherStopsNorRushesAPartition() {
        RoundShares s = new RoundShares(2);
        twoReads(s, 0, 1, 100);
        twoReads(s, 1, 1, 100);
        assertArrayEquals(new int[] {100, 100}, s.next(200));
        // two events a year ahead and one in 1970 among a read of trainer 0: its clock follows the read's median
        List<Example> read = new ArrayList<>(events(1, 100, 200));
        read.set(10, at(365L * 24 * 3_600_000));
        read.set(20, at(365L * 24 * 3_600_000));
        read.set(30, at(0));
        s.observe(0, read, false);
        s.observe(1, events(1, 100, 200), false);
        long spread = s.spreadMillis();
        assertTrue(spread <= 2, "clocks apart: " + spread);
        int[] shares = s.next(200);
        assertTrue(Math.abs(shares[0] - 100) <= 3, "trainer 0 reads " + shares[0] + " of 200");
        // a read of one event a year ahead moves the clock a minute at most
        s.observe(0, List.of(at(365L * 24 * 3_600_000)), false);
        assertEquals(spread + RoundShares.MAX_STEP_MILLIS, s.spreadMillis());
    }

    @Test
    void aTrainerWhoseInputEndedReadsNothing() {
        RoundShares s = new RoundShares(3);
        twoReads(s, 0, 1, 100);
        twoReads(s, 1, 1, 100);
        s.observe(1, List.of(), true);
        twoReads(s, 2, 1, 100);
        assertArrayEquals(new int[] {128, 0, 128}, s.next(256));
        assertFalse(s.allEnded());
        s.observe(0, List.of(), true);
        s.observe(2, List.of(), true);
        assertTrue(s.allEnded());
        assertArrayEquals(new int[] {0, 0, 0}, s.next(256));
    }

    @Test
    void theSharesAlwaysSumToTheRoundKeepTheInputsTogetherAndSurviveTheirBytes() throws Exception {
        RoundShares s = new RoundShares(4);
        Random random = new Random(3);
        long[] time = new long[4];
        for (int round = 0; round < 300; round++) {
            int[] shares = s.next(1024);
            int sum = 0;
            for (int t = 0; t < 4; t++) {
                assertTrue(shares[t] >= 0);
                sum += shares[t];
                // each trainer's events come at its own rate, 2 to 8 a millisecond, at random
                List<Example> read = new ArrayList<>();
                for (int i = 0; i < shares[t]; i++) {
                    time[t] += random.nextInt(2 * (t + 1)) == 0 ? 1 : 0;
                    read.add(at(time[t]));
                }
                s.observe(t, read, false);
            }
            assertEquals(1024, sum);
        }
        assertTrue(s.spreadMillis() < 50, "spread " + s.spreadMillis());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        s.write(new DataOutputStream(bytes));
        RoundShares back = new RoundShares(4);
        back.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertArrayEquals(s.next(1024), back.next(1024));
        assertEquals(s.spreadMillis(), back.spreadMillis());
    }
}

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
import org.junit.jupiter.api.Test;

class RoundSharesTest {
    /** {@code n} events whose times run evenly from {@code from} to {@code to} milliseconds (whole milliseconds, rounded down). */
    private static List<Example> events(int n, long from, long to) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Example("e" + i, n == 1 ? from : from + (to - from) * i / (n - 1), new int[0], new float[0], 0));
        }
        return out;
    }

    @Test
    void withoutRatesTheSharesAreEqual() {
        RoundShares s = new RoundShares(3);
        assertArrayEquals(new int[] {86, 85, 85}, s.next(256));
        // one event, or events all at one time, give no rate
        s.observe(0, events(2, 5, 5), false);
        s.observe(1, events(1, 7, 7), false);
        s.observe(2, events(100, 0, 50), false);
        assertArrayEquals(new int[] {86, 85, 85}, s.next(256));
    }

    @Test
    void trainersLevelWithEachOtherAtTheirRates() {
        // known answers: trainer 0 reads 2 events a millisecond, trainer 1 one
        RoundShares s = new RoundShares(2);
        s.observe(0, events(201, 0, 100), false);
        s.observe(1, events(101, 0, 100), false);
        // level: both at 100 ms, 300 events take them both to 200 ms
        assertArrayEquals(new int[] {200, 100}, s.next(300));

        // trainer 1 at 50 ms: both reach 550 / 3 ms, 166.67 and 133.33 events, the spare one to the larger remainder
        RoundShares behind = new RoundShares(2);
        behind.observe(0, events(201, 0, 100), false);
        behind.observe(1, events(51, 0, 50), false);
        assertArrayEquals(new int[] {167, 133}, behind.next(300));
        assertEquals(50, behind.spreadMillis());

        // trainer 1 far behind: it reads the whole round, trainer 0 nothing
        RoundShares far = new RoundShares(2);
        far.observe(0, events(2001, 0, 1000), false);
        far.observe(1, events(11, 0, 10), false);
        assertArrayEquals(new int[] {0, 300}, far.next(300));
        assertEquals(990, far.spreadMillis());
    }

    @Test
    void aTrainerWhoseInputEndedReadsNothing() {
        RoundShares s = new RoundShares(3);
        s.observe(0, events(101, 0, 100), false);
        s.observe(1, events(101, 0, 100), true);
        s.observe(2, events(101, 0, 100), false);
        assertArrayEquals(new int[] {128, 0, 128}, s.next(256));
        assertFalse(s.allEnded());
        s.observe(0, List.of(), true);
        s.observe(2, List.of(), true);
        assertTrue(s.allEnded());
        assertArrayEquals(new int[] {0, 0, 0}, s.next(256));
    }

    @Test
    void theSharesAlwaysSumToTheRoundAndSurviveTheirBytes() throws Exception {
        RoundShares s = new RoundShares(4);
        java.util.Random random = new java.util.Random(3);
        long[] time = new long[4];
        for (int round = 0; round < 200; round++) {
            int[] shares = s.next(1024);
            int sum = 0;
            for (int t = 0; t < 4; t++) {
                assertTrue(shares[t] >= 0);
                sum += shares[t];
                // each trainer's events come at its own rate, 2 to 8 a millisecond, at random
                List<Example> read = new ArrayList<>();
                for (int i = 0; i < shares[t]; i++) {
                    time[t] += random.nextInt(2 * (t + 1)) == 0 ? 1 : 0;
                    read.add(new Example("e", time[t], new int[0], new float[0], 0));
                }
                s.observe(t, read, false);
            }
            assertEquals(1024, sum);
        }
        // the inputs move together in event time
        assertTrue(s.spreadMillis() < 50, "spread " + s.spreadMillis());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        s.write(new DataOutputStream(bytes));
        RoundShares back = new RoundShares(4);
        back.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertArrayEquals(s.next(1024), back.next(1024));
        assertEquals(s.spreadMillis(), back.spreadMillis());
    }
}

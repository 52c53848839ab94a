package io.crossdistil.model.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RecentMeanTest {
    @Test
    void weighsEachValueByItsAgeAndSkipsMissingOnes() {
        RecentMean m = new RecentMean(2);
        assertTrue(Double.isNaN(m.mean()), "no value yet");
        m.add(4);
        m.add(Double.NaN);
        m.add(10);
        double d = Math.exp(-0.5);
        assertEquals((4 * d + 10) / (d + 1), m.mean(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new RecentMean(0));
    }

    /** A change of level (a producer switching seconds for milliseconds) shows within a few windows. */
    @Test
    void followsAChangeOfLevel() {
        RecentMean m = new RecentMean(1_000);
        for (int i = 0; i < 10_000; i++) {
            m.add(1 + (i % 2));
        }
        assertEquals(1.5, m.mean(), 1e-3);
        for (int i = 0; i < 5_000; i++) {
            m.add(1_500);
        }
        // the old level keeps exp(-5) of the weight
        assertEquals(1_500 * (1 - Math.exp(-5)) + 1.5 * Math.exp(-5), m.mean(), 0.5);
    }
}

package io.crossdistil.model.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReliabilityTest {
    @Test
    void bucketsHoldMeanPredictionsAndObservedRates() {
        Reliability r = new Reliability(2, 10);
        // task 0 is the high bit of the permutation: 2 and 3 are its positives; task 1: 1 and 3
        r.record(3, new double[] {0.95, 0.15});
        r.record(2, new double[] {0.91, 0.12});
        r.record(0, new double[] {0.99, 0.05});
        r.record(1, new double[] {0.05, 1.0});
        List<Reliability.Bucket> a = r.table(0);
        assertEquals(2, a.size());
        assertEquals(new Reliability.Bucket(0.0, 0.1, 1, 0.05, 0.0), a.get(0));
        assertEquals(3, a.get(1).events());
        assertEquals((0.95 + 0.91 + 0.99) / 3, a.get(1).meanPredicted(), 1e-12);
        assertEquals(2.0 / 3, a.get(1).observedRate(), 1e-12);
        // a prediction of exactly 1 falls in the top bucket
        assertEquals(0.9, r.table(1).get(r.table(1).size() - 1).from(), 1e-12);
        assertEquals((1 * 0.05 + 3 * Math.abs((0.95 + 0.91 + 0.99) / 3 - 2.0 / 3)) / 4, r.expectedCalibrationError(0), 1e-12);
    }
}

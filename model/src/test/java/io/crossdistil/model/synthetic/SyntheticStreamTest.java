package io.crossdistil.model.synthetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.training.OnlineTrainer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SyntheticStreamTest {
    private static final List<String> TASKS = List.of("finish", "like");

    /** Recent-window AUC of the first task after {@code n} events of a stream with these settings. */
    private static double windowAucAfter(int n, int users, int items, double signal) {
        ModelConfig cfg = ModelConfig.fromMap(Map.of("features", "user_id,item_id,author,category,device,hour", "hash-rows", "16384"));
        OnlineTrainer t = new OnlineTrainer(cfg, 10_000);
        SyntheticExamples.take(cfg, new SyntheticStream(TASKS, new double[] {0.38, 0.04}, 1, users, items, signal), n).forEach(t::learn);
        return t.scores().get(0).windowAuc();
    }

    @Test
    void aStrongerSignalIsLearnedFasterAndTheDemoStreamShowsLearning() {
        double standard = windowAucAfter(60_000, 2_000, 500, 1.0);
        double demo = windowAucAfter(60_000, 2_000, 500, 3.0);
        assertTrue(demo > standard + 0.05, "signal 3: " + demo + ", signal 1: " + standard);
        assertTrue(demo > 0.70, "the demo stream's recent AUC after 60,000 events is only " + demo);
    }

    @Test
    void labelRatesHoldWhateverTheSignal() {
        for (double signal : new double[] {1.0, 3.0}) {
            SyntheticStream s = new SyntheticStream(TASKS, new double[] {0.38, 0.04}, 2, 2_000, 500, signal);
            int[] positives = new int[2];
            int n = 50_000;
            for (int i = 0; i < n; i++) {
                int[] y = s.next().labels();
                positives[0] += y[0];
                positives[1] += y[1];
            }
            assertEquals(0.38, positives[0] / (double) n, 0.02, "finish rate at signal " + signal);
            assertEquals(0.04, positives[1] / (double) n, 0.01, "like rate at signal " + signal);
        }
    }

    @Test
    void aSignalMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new SyntheticStream(TASKS, new double[] {0.3, 0.1}, 1, 10, 10, 0.0));
    }
}

package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.serving.Scorer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The bench's section on serving a snapshot (docs/performance.md, "Serving"). */
final class ServingCost {
    private static final int[] BATCHES = {1, 16, 256};

    private ServingCost() {}

    /**
     * What a serving replica pays, in one thread: taking up a new snapshot (its bytes verified and
     * decoded, the students built: what SnapshotFollower does when one arrives), and scoring
     * generated Avro events in batches of 1, 16 and 256, the batch sizes taken in turn. Per batch
     * size: events per second and microseconds per call, medians over the rounds.
     */
    static Map<String, Object> measure(byte[] snapshot, ModelConfig cfg, boolean quick, PrintStream out) {
        double[] loadMs = new double[5];
        Scorer scorer = null;
        for (int i = 0; i < loadMs.length; i++) {
            long s = System.nanoTime();
            scorer = Scorer.of(SnapshotCodec.decode(snapshot));
            loadMs[i] = (System.nanoTime() - s) / 1e6;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("load_ms", Bench.median(loadMs));
        out.printf(Locale.ROOT, "serving: a snapshot taken up in     %.0f ms (verified, decoded, students built)%n", Bench.median(loadMs));

        SyntheticStream stream = new SyntheticStream(cfg.tasks, new double[] {0.38, 0.04}, 3);
        List<FeedbackEvent> events = new ArrayList<>();
        for (int i = 0; i < 4_096; i++) {
            events.add(Events.fromSynthetic(stream.next(), cfg.tasks));
        }
        int rounds = quick ? 8 : 16;
        double[][] roundMs = new double[BATCHES.length][rounds];
        for (int round = -2; round < rounds; round++) { // two rounds of warm-up for the JIT
            for (int b = 0; b < BATCHES.length; b++) {
                long s = System.nanoTime();
                for (int from = 0; from < events.size(); from += BATCHES[b]) {
                    scorer.score(events.subList(from, Math.min(events.size(), from + BATCHES[b])));
                }
                if (round >= 0) {
                    roundMs[b][round] = (System.nanoTime() - s) / 1e6;
                }
            }
        }
        for (int b = 0; b < BATCHES.length; b++) {
            double ms = Bench.median(roundMs[b]);
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("events_per_s", events.size() * 1000.0 / ms);
            o.put("us_per_call", ms * 1000 / Math.ceil(events.size() / (double) BATCHES[b]));
            r.put("batch " + BATCHES[b], o);
            out.printf(Locale.ROOT, "serving: scoring, batch %4d         %,8.0f events/s  %8.1f us a call%n", BATCHES[b],
                    o.get("events_per_s"), o.get("us_per_call"));
        }
        return r;
    }
}

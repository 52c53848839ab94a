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
    /** Request threads sharing one scorer in the last measurement, at batch 16. */
    private static final int THREADS = 2;

    private ServingCost() {}

    /**
     * What a serving replica pays, in one thread: taking up a new snapshot (its bytes verified and
     * decoded, the students built: what SnapshotFollower does when one arrives), and scoring
     * generated Avro events in batches of 1, 16 and 256, the batch sizes taken in turn. Per batch
     * size: events per second and microseconds per call, medians over the rounds. Then one scorer
     * shared by two threads at once, batches of 16: events per second of both, and against one.
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
            events.add(Events.fromSynthetic(stream.next(), cfg.tasks, cfg.denseFeatures));
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
        r.put("batch 16, " + THREADS + " threads", shared(scorer, events, rounds, (double) ((Map<?, ?>) r.get("batch 16")).get("events_per_s"), out));
        return r;
    }

    /** One scorer on {@link #THREADS} threads at once, each scoring every event in batches of 16: what a replica's request threads share. */
    private static Map<String, Object> shared(Scorer scorer, List<FeedbackEvent> events, int rounds, double oneThread, PrintStream out) {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(THREADS);
        try {
            double[] roundMs = new double[rounds];
            for (int round = -1; round < rounds; round++) {
                long s = System.nanoTime();
                List<java.util.concurrent.Future<?>> running = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    running.add(pool.submit(() -> {
                        for (int from = 0; from < events.size(); from += 16) {
                            scorer.score(events.subList(from, Math.min(events.size(), from + 16)));
                        }
                    }));
                }
                for (java.util.concurrent.Future<?> f : running) {
                    f.get();
                }
                if (round >= 0) {
                    roundMs[round] = (System.nanoTime() - s) / 1e6;
                }
            }
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("events_per_s", THREADS * events.size() * 1000.0 / Bench.median(roundMs));
            o.put("of_one_thread", (double) o.get("events_per_s") / oneThread);
            out.printf(Locale.ROOT, "serving: scoring, batch   16, %d threads sharing one scorer %,8.0f events/s  x%.2f of one thread%n",
                    THREADS, o.get("events_per_s"), o.get("of_one_thread"));
            return o;
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a serving thread failed", e);
        } finally {
            pool.shutdownNow();
        }
    }
}

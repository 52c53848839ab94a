package io.crossdistil.cli;

import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.parallel.InMemoryReplicas;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The bench's section on data-parallel trainers (docs/scaling.md, "Cost"). */
final class TrainersCost {
    private TrainersCost() {}

    /**
     * What data-parallel trainers cost, in one thread (docs/scaling.md): N replicas (InMemoryReplicas)
     * on the same generated events as one trainer, each configuration in turn after a warm-up. Per
     * configuration: CPU per event (all replicas, their updates' encoding and decoding and merges
     * included) and its ratio to one trainer's, bytes of one update and sent per event, and per round
     * the time one replica spends merging and one update takes to encode and decode. Waiting for
     * peers is not here: in one thread nobody waits (the job's trainers report it, roundWaitMicros).
     */
    static Map<String, Object> measure(ModelConfig base, boolean quick, PrintStream out) {
        ModelConfig cfg = base.with("batch-size", "256");
        List<Example> events = SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, new double[] {0.38, 0.04}, 4), quick ? 24_576 : 65_536);
        // trainers, steps per round, the step's batch over all trainers: the batch shared (each trainer
        // steps on 256 / N events: what one trainer learns), then grown with N (each steps on 256)
        int[][] configurations = {{1, 0, 256}, {2, 1, 256}, {4, 1, 256}, {2, 4, 256}, {4, 4, 256}, {2, 1, 512}, {4, 1, 1024}};
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        // warm-up: the JIT compiles the replicas' code paths too
        new InMemoryReplicas(cfg, 10_000, 2, 1).train(events.subList(0, 8_192), (u, n) -> {});
        Map<String, Object> r = new LinkedHashMap<>();
        double single = Double.NaN;
        for (int[] c : configurations) {
            int n = c[0];
            int rounds = c[1];
            ModelConfig batch = cfg.with("batch-size", Integer.toString(c[2]));
            long cpu = threads.getCurrentThreadCpuTime();
            Map<String, Object> o = new LinkedHashMap<>();
            if (n == 1) {
                OnlineTrainer t = new OnlineTrainer(cfg, 10_000);
                events.forEach(t::learn);
                t.flush();
            } else {
                InMemoryReplicas g = new InMemoryReplicas(batch, 10_000, n, rounds);
                long[] merged = {0};
                g.train(events, (u, x) -> merged[0]++);
                o.put("rounds", merged[0]);
                o.put("bytes_per_update", (double) g.updateBytes() / g.updates());
                o.put("bytes_sent_per_event", (double) g.updateBytes() / events.size());
                o.put("merge_ms_per_round_and_replica", g.mergeNanos() / 1e6 / n / merged[0]);
                o.put("encode_decode_ms_per_update", g.codecNanos() / 1e6 / g.updates());
            }
            double usPerEvent = (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / events.size();
            if (n == 1) {
                single = usPerEvent;
            }
            o.put("cpu_us_per_event", usPerEvent);
            o.put("cpu_ratio_to_one_trainer", usPerEvent / single);
            String name = n == 1 ? "1 trainer" : n + " trainers, R " + rounds + (c[2] == 256 ? "" : ", batch " + c[2]);
            o.put("batch_size", c[2]);
            r.put(name, o);
            out.printf(Locale.ROOT, "%-32s batch %4d  %6.2f us CPU/event  x%.2f", name, c[2], usPerEvent, usPerEvent / single);
            if (n > 1) {
                out.printf(Locale.ROOT, "  update %,.0f bytes, %,.0f bytes/event sent, merge %.2f ms/round, encode+decode %.2f ms/update",
                        o.get("bytes_per_update"), o.get("bytes_sent_per_event"), o.get("merge_ms_per_round_and_replica"),
                        o.get("encode_decode_ms_per_update"));
            }
            out.println();
        }
        return r;
    }
}

package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StepResult;
import io.crossdistil.model.TowerExchange;
import io.crossdistil.model.Variant;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.features.FeatureEncoder;
import io.crossdistil.model.features.InvalidEventException;
import io.crossdistil.model.metrics.Reliability;
import io.crossdistil.model.objective.DistillationGate;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.parallel.InMemoryReplicas;
import io.crossdistil.model.parallel.ReplicaTrainer;
import io.crossdistil.model.parallel.RoundUpdate;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@code bin/crossdistil experiment}: the same stream, in the same order, through every variant,
 * straight through the trainer code (or, with {@code --through-kafka}, through the whole local
 * pipeline). Progressive validation throughout; writes a results table, JSON and learning curves.
 */
public final class ExperimentRunner {

    /**
     * One point of a learning curve: metrics over the recent window after {@code events} events,
     * and each task's distillation share then (NaN without a gate).
     */
    public record CurvePoint(long events, double[] auc, double[] multiAuc, double[] share) {}

    /**
     * The distillation gate at the end of a run, per task: the share of alpha, the recent
     * evidence, the student against its label-only twin (AUC and Multi-AUC differences, log-loss
     * ratio), and the online teacher's own recent AUC and Multi-AUC.
     */
    public record GateSummary(double[] share, double[] auc, double[] multiAuc, double[] logLossRatio, double[] teacherAuc,
            double[] teacherMultiAuc) {
        static GateSummary of(DistillationGate g, int tasks) {
            double[] share = new double[tasks];
            double[] auc = new double[tasks];
            double[] multiAuc = new double[tasks];
            double[] logLoss = new double[tasks];
            double[] teacherAuc = new double[tasks];
            double[] teacherMultiAuc = new double[tasks];
            for (int k = 0; k < tasks; k++) {
                share[k] = g.share(k);
                auc[k] = g.studentAuc(k) - g.twinAuc(k);
                multiAuc[k] = g.studentMultiAuc(k) - g.twinMultiAuc(k);
                logLoss[k] = g.studentLogLoss(k) / g.twinLogLoss(k);
                teacherAuc[k] = g.teacherAuc(k);
                teacherMultiAuc[k] = g.teacherMultiAuc(k);
            }
            return new GateSummary(share, auc, multiAuc, logLoss, teacherAuc, teacherMultiAuc);
        }
    }

    /**
     * One variant's outcome.
     *
     * @param reliability of the served probabilities since the start, or null (a run through Kafka)
     * @param gate the distillation gate at the end, or null (none, or a run through Kafka)
     * @param exchange what data-parallel replicas exchanged, or null (one trainer)
     * @param heldOut the final snapshot's metrics on the held-out events (scored as serving scores
     *     them), or null (none held out)
     */
    public record VariantResult(String variant, List<TaskScore> scores, double eventsPerSecond, List<CurvePoint> curve,
            Reliability reliability, GateSummary gate, Exchange exchange, List<TaskScore> heldOut) {}

    /**
     * What N replicas exchanged (docs/scaling.md): rounds merged, bytes of one replica's update on
     * average, bytes sent per trained event, and the time one replica spent merging a round.
     */
    public record Exchange(int trainers, int roundSteps, long rounds, double bytesPerUpdate, double bytesPerEvent,
            double mergeMillisPerRound) {}

    /** A variant trained by {@code trainers} data-parallel replicas with rounds of {@code roundSteps} steps: {@code variant@N/R}. */
    record Parallelism(String variant, int trainers, int roundSteps) {
        static Parallelism parse(String spec) {
            String s = spec.trim();
            int at = s.indexOf('@');
            if (at < 0) {
                return new Parallelism(s, 1, 0);
            }
            String[] nr = s.substring(at + 1).split("/");
            try {
                int n = Integer.parseInt(nr[0]);
                int r = nr.length > 1 ? Integer.parseInt(nr[1]) : ReplicaTrainer.DEFAULT_ROUND_STEPS;
                if (n < 1 || r < 1 || nr.length > 2) {
                    throw new NumberFormatException();
                }
                return new Parallelism(s.substring(0, at), n, r);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + spec + "': a variant on N trainers is VARIANT@N or VARIANT@N/R (R steps a round), N and R at least 1");
            }
        }
    }


    /** Buckets of the reliability tables. */
    static final int RELIABILITY_BUCKETS = 10;

    /** What was run, for the record: {@code events} learned from, then {@code heldOut} scored by the final snapshots. */
    public record Setup(String command, String data, long events, long heldOut, List<String> tasks, Map<String, String> modelOptions) {}

    private ExperimentRunner() {}

    /** Feedback events with labels, in stream order, read once and shared by all variants ({@code dense}: a CSV's dense columns). */
    public static List<FeedbackEvent> load(Path csv, List<String> labels, List<String> features, List<String> dense, String time, long events,
            Generator generator, List<String> tasks, PrintStream out) throws IOException {
        List<FeedbackEvent> all = new ArrayList<>();
        if (csv != null) {
            long rejected = 0;
            try (CsvEvents rows = new CsvEvents(csv, labels, features, dense, time)) {
                for (CsvEvents.Row r = rows.next(); r != null; r = rows.next()) {
                    if (r.event() != null) {
                        all.add(r.event());
                    } else if (rejected++ < 3) {
                        out.println("  skipping a row that is not an event: " + r.error());
                    }
                }
            }
            out.printf("Read %,d events from %s (%,d rows skipped)%n", all.size(), csv, rejected);
        } else {
            SyntheticStream stream = generator.stream(tasks);
            for (long i = 0; i < events; i++) {
                all.add(Events.fromSynthetic(stream.next(), tasks, generator.dense()));
            }
            out.printf("Generated %,d events (seed %d, label rates %s)%n", all.size(), generator.seed(), java.util.Arrays.toString(generator.rates()));
        }
        return all;
    }

    /**
     * The model options a variant of an experiment names: a variant's key, optionally followed by
     * tower exchange modules ({@code crossdistil+ctfm+gkd}), or {@code dml}, Deep Mutual Learning
     * across Task Towers as published: {@code mtl+ctfm+gkd}.
     *
     * @throws IllegalArgumentException for an unknown variant or module
     */
    public static Map<String, String> variantOptions(String spec) {
        String s = spec.trim();
        s = Parallelism.parse(s).variant();
        String[] parts = (s.equals("dml") ? "mtl+ctfm+gkd" : s).split("\\+", 2);
        Map<String, String> options = new LinkedHashMap<>();
        options.put("variant", Variant.parse(parts[0]).key());
        if (parts.length == 2) {
            options.put("tower-exchange", TowerExchange.parse(parts[1]).key());
        }
        return options;
    }

    /**
     * Trains every variant on the events (several at once with {@code parallel} > 1) and returns
     * their results; each variant's final snapshot then scores the {@code heldOut} events, which
     * no variant learns from (none: an empty list).
     */
    public static List<VariantResult> run(List<FeedbackEvent> events, List<FeedbackEvent> heldOut, List<String> variants,
            Map<String, String> modelOptions, int parallel, int curvePoints, PrintStream out) throws Exception {
        AtomicLongArray progress = new AtomicLongArray(variants.size());
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        List<Future<VariantResult>> futures = new ArrayList<>();
        for (int v = 0; v < variants.size(); v++) {
            int index = v;
            Map<String, String> options = new LinkedHashMap<>(modelOptions);
            options.putAll(variantOptions(variants.get(v)));
            ModelConfig cfg = ModelConfig.fromMap(options);
            String name = variants.get(v).trim();
            Parallelism p = Parallelism.parse(name);
            futures.add(pool.submit(() -> p.trainers() == 1 ? trainOne(name, cfg, events, heldOut, curvePoints, progress, index)
                    : trainReplicas(name, cfg, p, events, heldOut, curvePoints, progress, index)));
        }
        pool.shutdown();
        long start = System.nanoTime();
        while (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "[%6.0fs]", (System.nanoTime() - start) / 1e9));
            for (int v = 0; v < variants.size(); v++) {
                b.append(String.format(Locale.ROOT, " %s %d%%", variants.get(v), 100 * progress.get(v) / Math.max(1, events.size())));
            }
            out.println(b);
        }
        List<VariantResult> results = new ArrayList<>();
        for (Future<VariantResult> f : futures) {
            results.add(f.get());
        }
        return results;
    }

    private static VariantResult trainOne(String name, ModelConfig cfg, List<FeedbackEvent> events, List<FeedbackEvent> heldOut,
            int curvePoints, AtomicLongArray progress, int index) {
        // the job's own definition turns an event into an example, so the experiment trains on what the job would
        FeatureEncoder encoder = new FeatureEncoder(cfg);
        // curves are read over the most recent tenth of the stream: smaller windows are mostly noise
        OnlineTrainer trainer = new OnlineTrainer(cfg, Math.max(2_000, events.size() / 10));
        long every = Math.max(cfg.batchSize, events.size() / curvePoints);
        List<CurvePoint> curve = new ArrayList<>();
        Reliability reliability = new Reliability(cfg.numTasks(), RELIABILITY_BUCKETS);
        List<Example> batch = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < events.size(); i++) {
            try {
                Example x = encoder.example(events.get(i));
                batch.add(x);
                record(reliability, batch, trainer.learn(x));
            } catch (InvalidEventException e) {
                throw new IllegalArgumentException("event " + i + " of the stream: " + e.getMessage(), e);
            }
            if ((i + 1) % every == 0) {
                curve.add(point(i + 1, trainer.scores(), trainer.model().gate()));
                progress.set(index, i + 1);
            }
        }
        record(reliability, batch, trainer.flush());
        double seconds = (System.nanoTime() - start) / 1e9;
        progress.set(index, events.size());
        DistillationGate gate = trainer.model().gate();
        return new VariantResult(name, trainer.scores(), events.size() / seconds, curve, reliability,
                gate == null ? null : GateSummary.of(gate, cfg.numTasks()), null, heldOut(trainer.snapshot(1, 0), heldOut, cfg));
    }

    /**
     * N replicas in one thread (InMemoryReplicas: event i to replica i mod N), measured as the
     * first replica sees the stream after each merge; the gate summary is the first replica's.
     */
    private static VariantResult trainReplicas(String name, ModelConfig cfg, Parallelism p, List<FeedbackEvent> events,
            List<FeedbackEvent> heldOut, int curvePoints, AtomicLongArray progress, int index) {
        FeatureEncoder encoder = new FeatureEncoder(cfg);
        List<Example> stream = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            try {
                stream.add(encoder.example(events.get(i)));
            } catch (InvalidEventException e) {
                throw new IllegalArgumentException("event " + i + " of the stream: " + e.getMessage(), e);
            }
        }
        InMemoryReplicas group = new InMemoryReplicas(cfg, Math.max(2_000, events.size() / 10), p.trainers(), p.roundSteps());
        ReplicaTrainer first = group.replica(0);
        long every = Math.max(cfg.batchSize, events.size() / curvePoints);
        List<CurvePoint> curve = new ArrayList<>();
        Reliability reliability = new Reliability(cfg.numTasks(), RELIABILITY_BUCKETS);
        long[] rounds = {0};
        long start = System.nanoTime();
        group.train(stream, (updates, handedOut) -> {
            for (RoundUpdate u : updates) {
                for (int i = 0; i < u.permutations().length; i++) {
                    reliability.record(u.permutations()[i], u.predictions()[i]);
                }
            }
            if (first.mergedEvents() / every > (first.mergedEvents() - updates.stream().mapToLong(RoundUpdate::events).sum()) / every) {
                curve.add(point(first.mergedEvents(), first.scores(), first.trainer().model().gate()));
            }
            progress.set(index, handedOut);
            rounds[0]++;
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        progress.set(index, events.size());
        DistillationGate gate = first.trainer().model().gate();
        Exchange exchange = new Exchange(p.trainers(), p.roundSteps(), rounds[0], (double) group.updateBytes() / group.updates(),
                (double) group.updateBytes() / events.size(), group.mergeNanos() / 1e6 / p.trainers() / rounds[0]);
        return new VariantResult(name, first.scores(), events.size() / seconds, curve, reliability,
                gate == null ? null : GateSummary.of(gate, cfg.numTasks()), exchange, heldOut(first.snapshot(1, 0), heldOut, cfg));
    }

    /** The snapshot's metrics on the held-out events (their labels named as the tasks), or null when none are held out. */
    private static List<TaskScore> heldOut(ModelSnapshot snapshot, List<FeedbackEvent> heldOut, ModelConfig cfg) {
        return heldOut.isEmpty() ? null : SnapshotEvaluation.of(snapshot, heldOut, cfg.tasks);
    }

    /** A step's served probabilities against its events' labels; the events since the last step are its batch. */
    private static void record(Reliability reliability, List<Example> batch, StepResult step) {
        if (step == null) {
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            reliability.record(batch.get(i).permutation, step.predictions()[i]);
        }
        batch.clear();
    }

    private static CurvePoint point(long events, List<TaskScore> scores, DistillationGate gate) {
        double[] auc = new double[scores.size()];
        double[] mauc = new double[scores.size()];
        double[] share = new double[scores.size()];
        for (int k = 0; k < auc.length; k++) {
            auc[k] = scores.get(k).windowAuc();
            mauc[k] = scores.get(k).windowMultiAuc();
            share[k] = gate == null ? Double.NaN : gate.share(k);
        }
        return new CurvePoint(events, auc, mauc, share);
    }

    /** The final progressive metrics of one variant run through the whole local pipeline. */
    public static VariantResult throughKafka(LocalRunner.Options base, String variant, PrintStream out) throws Exception {
        Map<String, String> options = new LinkedHashMap<>(base.jobOptions());
        options.putAll(variantOptions(variant));
        Parallelism p = Parallelism.parse(variant);
        if (p.trainers() > 1) {
            options.put("trainers", Integer.toString(p.trainers()));
            options.put("round-steps", Integer.toString(p.roundSteps()));
        }
        LocalRunner.Options o = new LocalRunner.Options(base.events(), base.csv(), base.labels(), base.csvFeatures(),
                base.timeColumn(), null, null, p.trainers(), base.generator(), 0, options);
        LocalRunner.Summary s = LocalRunner.run(o, out);
        return new VariantResult(variant, SnapshotCodec.scores(s.metrics().getTasks()), s.eventsTrained() / s.trainingSeconds(), List.of(),
                null, null, null, null);
    }
}

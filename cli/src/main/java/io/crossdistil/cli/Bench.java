package io.crossdistil.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.crossdistil.job.JobConfig;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.Backbone;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.TeacherRouting;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.nd4j.MatMul;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * {@code bin/crossdistil bench [--quick] --json FILE}: the trainer's speed at several batch sizes,
 * the arithmetic it does against this machine's matrix-product rate, the whole pipeline's speed,
 * memory, checkpoint and snapshot costs, serving a snapshot (ServingCost), data-parallel trainers
 * (TrainersCost), all measured in one run. Medians over short rounds after
 * a warm-up, the batch sizes taken in turn and the rounds split around five pipeline runs after a
 * pipeline warm-up (their median is the pipeline's rate); the peak is the best of products sampled
 * all through the run. No assertion: these machines are shared and noisy.
 */
final class Bench {
    private Bench() {}

    static Map<String, Object> run(boolean quick, Map<String, String> modelOptions, PrintStream out) throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("quick", quick);
        r.put("cpu", cpuModel());
        r.put("cores", Runtime.getRuntime().availableProcessors());
        out.println("CPU                                 " + r.get("cpu") + ", " + r.get("cores") + " cores");
        r.put("omp_num_threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)"));
        r.put("nd4j_native_build", nativeBuild());
        out.println("ND4J native build                   " + r.get("nd4j_native_build"));
        Map<String, String> opts = new LinkedHashMap<>(modelOptions);
        opts.putIfAbsent("features", "user_id,item_id," + String.join(",", SyntheticStream.FIELDS));
        ModelConfig base = ModelConfig.fromMap(opts);
        r.put("model_options", base.toMap());

        int peakSize = quick ? 1024 : 2048;
        double peak = peakGflops(peakSize, quick ? 15 : 20);

        // the JIT compiles the step's code over its first few hundred steps: warm it up once, at the default batch size
        new TrainerRounds(base, quick ? 200 : 500, 1, 1).round();
        // One trainer per batch size, each warmed up (its reservoirs fill, its shapes are new), then
        // short rounds taken in turn - 64, 256, 1024, 64, ... - in six parts around five pipeline
        // runs: a burst of load elsewhere on a shared machine then falls on every batch size and on
        // both sides of the ratio, not on one of them.
        int[] batches = {64, 256, 1024};
        int rounds = quick ? 24 : 40;
        TrainerRounds[] trainers = new TrainerRounds[batches.length];
        for (int i = 0; i < batches.length; i++) {
            int batch = batches[i];
            trainers[i] = new TrainerRounds(base.with("batch-size", Integer.toString(batch)),
                    Math.max(40, (quick ? 16_384 : 65_536) / batch), Math.max(8, (quick ? 4_096 : 16_384) / batch), rounds);
        }
        int pipelineRuns = 5;
        peak = Math.max(peak, inTurn(trainers, part(rounds, 0, pipelineRuns + 1), peakSize));
        // checkpoint (the trainer's whole state) and snapshot costs, on a trained model
        OnlineTrainer t = new OnlineTrainer(base, 10_000);
        SyntheticExamples.take(base, new SyntheticStream(base.tasks, new double[] {0.38, 0.04}, 2), 20_000).forEach(t::learn);
        double[] cpMs = new double[5];
        byte[] state = null;
        for (int i = 0; i < cpMs.length; i++) {
            long s = System.nanoTime();
            state = t.toBytes();
            cpMs[i] = (System.nanoTime() - s) / 1e6;
        }
        long s0 = System.nanoTime();
        OnlineTrainer.fromBytes(state);
        double restoreMs = (System.nanoTime() - s0) / 1e6;
        r.put("checkpoint_bytes", state.length);
        r.put("checkpoint_ms", median(cpMs));
        r.put("restore_ms", restoreMs);
        Path tmp = Files.createTempFile("crossdistil-bench", ".avro");
        double[] snapMs = new double[5];
        byte[] snapshot = null;
        for (int i = 0; i < snapMs.length; i++) {
            long s = System.nanoTime();
            snapshot = SnapshotCodec.encode(t.snapshot(i + 1, System.currentTimeMillis()));
            Files.write(tmp, snapshot);
            snapMs[i] = (System.nanoTime() - s) / 1e6;
        }
        Files.deleteIfExists(tmp);
        long snapBytes = snapshot.length;
        r.put("snapshot_bytes", snapBytes);
        r.put("snapshot_write_ms", median(snapMs));
        out.printf(Locale.ROOT, "checkpoint                          %,d bytes in %.0f ms (restore %.0f ms)%n", state.length, median(cpMs), restoreMs);
        out.printf(Locale.ROOT, "snapshot                            %,d bytes, built, encoded and written in %.0f ms%n", snapBytes, median(snapMs));
        r.put("serving", ServingCost.measure(snapshot, base, quick, out));

        // the whole pipeline: Kafka -> decode -> trainer -> snapshots, at batch 256. A warm-up run of
        // the same length first, not counted: the JIT compiles Flink's, Kafka's and Avro's code over
        // the first runs, on the core the trainer's neighbours share (measured: 5.8 s of compiler CPU
        // in a first run of 11 s, 2-3.5 s in later ones; after a warm-up of a third of a run the next
        // was still the slowest of five), as the trainer's code was warmed up above. Then five runs,
        // each run's rate taken between the progress reports of its second half; their median, as
        // the trainer's is the median of its rounds.
        long events = quick ? 1_500_000 : 4_000_000;
        double warmUp = pipelineRate(events, modelOptions);
        out.printf(Locale.ROOT, "pipeline warm-up (not counted)       %,.0f events/s%n", warmUp);
        double[] pipelineRates = new double[pipelineRuns];
        for (int p = 0; p < pipelineRuns; p++) {
            pipelineRates[p] = pipelineRate(events, modelOptions);
            out.printf(Locale.ROOT, "pipeline run %d of %d                  %,.0f events/s%n", p + 1, pipelineRuns, pipelineRates[p]);
            peak = Math.max(peak, inTurn(trainers, part(rounds, p + 1, pipelineRuns + 1), peakSize));
        }
        double pipeline = median(pipelineRates);
        r.put("peak_gflops", peak);
        out.printf(Locale.ROOT, "peak float matrix product (ND4J)   %.1f GFLOP/s%n", peak);
        Map<String, Object> trainer = new LinkedHashMap<>();
        for (int i = 0; i < batches.length; i++) {
            int batch = batches[i];
            ModelConfig cfg = trainers[i].cfg;
            double median = median(trainers[i].wallMs);
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("ms_per_step_median", median);
            b.put("ms_per_step_rounds", trainers[i].wallMs);
            // the best round: the least disturbed by other processes on a shared machine
            b.put("ms_per_step_best", Arrays.stream(trainers[i].wallMs).min().orElse(Double.NaN));
            // the thread's own CPU time: what the step costs, less the time other processes took the core
            b.put("cpu_ms_per_step_median", median(trainers[i].cpuMs));
            b.put("events_per_s", batch * 1000.0 / median);
            b.put("flops_per_step", flopsPerStep(cfg));
            b.put("step_gflops", flopsPerStep(cfg) / (median / 1000.0) / 1e9);
            trainer.put(Integer.toString(batch), b);
            out.printf(Locale.ROOT, "trainer, batch %4d                  %7.2f ms/step (CPU %.2f)  %,8.0f events/s  %.2f GFLOP/s%n", batch,
                    median, (double) b.get("cpu_ms_per_step_median"), batch * 1000.0 / median, (double) b.get("step_gflops"));
        }
        r.put("trainer", trainer);
        @SuppressWarnings("unchecked")
        Map<String, Object> at256 = (Map<String, Object>) trainer.get("256");
        r.put("trainer_events_per_s", at256.get("events_per_s"));
        r.put("flops_per_step", at256.get("flops_per_step"));
        r.put("step_gflops", at256.get("step_gflops"));
        r.put("step_share_of_peak", (double) at256.get("step_gflops") / peak);
        out.printf(Locale.ROOT, "batch 256: %.1f%% of the peak matrix-product rate%n", 100 * (double) at256.get("step_gflops") / peak);

        r.put("tower_exchange", towerExchangeCost(base, quick, out));
        r.put("trainers", TrainersCost.measure(base, quick, out));

        r.put("pipeline_warmup_events", events);
        r.put("pipeline_warmup_events_per_s", warmUp);
        r.put("pipeline_events", events);
        r.put("pipeline_events_per_s", pipeline);
        r.put("pipeline_runs_events_per_s", pipelineRates);
        r.put("pipeline_share_of_trainer", pipeline / (double) r.get("trainer_events_per_s"));
        out.printf(Locale.ROOT, "pipeline (Kafka -> trainer -> snapshots), batch 256  %,.0f events/s (%.0f%% of the bare trainer)%n",
                pipeline, 100 * pipeline / (double) r.get("trainer_events_per_s"));

        long heapPeak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                heapPeak += pool.getPeakUsage().getUsed();
            }
        }
        // ND4J allocates natively past JavaCPP's counter, so off-heap is read as what the process holds
        // beyond the JVM's committed heap and non-heap memory
        long rss = Pointer.physicalBytes();
        long jvm = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted()
                + ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage().getCommitted();
        r.put("peak_heap_bytes", heapPeak);
        r.put("offheap_bytes", Math.max(0, rss - jvm));
        r.put("process_rss_bytes", rss);
        out.printf(Locale.ROOT, "memory                              heap peak %,d MB, off-heap %,d MB (RSS %,d MB less the JVM's committed memory)%n",
                heapPeak >> 20, Math.max(0, rss - jvm) >> 20, rss >> 20);
        return r;
    }

    /**
     * The step's cost with each tower exchange option (none, ctfm, gkd, ctfm+gkd) at batch 256,
     * their rounds taken in turn; per option milliseconds per step, microseconds per event and the
     * ratio to none, all from the same run.
     */
    static Map<String, Object> towerExchangeCost(ModelConfig base, boolean quick, PrintStream out) {
        String[] options = {"none", "ctfm", "gkd", "ctfm+gkd"};
        int rounds = quick ? 8 : 16;
        TrainerRounds[] trainers = new TrainerRounds[options.length];
        for (int i = 0; i < options.length; i++) {
            trainers[i] = new TrainerRounds(base.with("batch-size", "256").with("tower-exchange", options[i]), 64, 16, rounds);
        }
        inTurn(trainers, rounds, 256);
        Map<String, Object> r = new LinkedHashMap<>();
        double none = median(trainers[0].wallMs);
        for (int i = 0; i < options.length; i++) {
            double ms = median(trainers[i].wallMs);
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("ms_per_step_median", ms);
            o.put("cpu_ms_per_step_median", median(trainers[i].cpuMs));
            o.put("us_per_event", ms * 1000 / 256);
            o.put("ratio_to_none", ms / none);
            r.put(options[i], o);
            out.printf(Locale.ROOT, "tower exchange %-9s batch 256     %7.2f ms/step  %6.2f us/event  x%.2f%n", options[i], ms, ms * 1000 / 256, ms / none);
        }
        return r;
    }

    /** The whole pipeline over {@code events} generated events at the job's default snapshot interval: events per second in the second half. */
    private static double pipelineRate(long events, Map<String, String> modelOptions) throws Exception {
        Map<String, String> jobOptions = new LinkedHashMap<>(modelOptions);
        jobOptions.putIfAbsent("metrics-every-seconds", "1");
        // snapshots as often as the job writes them by default, not as often as the local demo does
        jobOptions.putIfAbsent("snapshot-every-events", JobConfig.OPTIONS.stream()
                .filter(op -> op.key().equals("snapshot-every-events")).findFirst().orElseThrow().defaultValue());
        LocalRunner.Options o = new LocalRunner.Options(events, null, List.of(), List.of(), null,
                Files.createTempDirectory("crossdistil-bench-snapshots"), null, 1, Generator.standard(1, new double[] {0.38, 0.04}), 0, jobOptions);
        LocalRunner.Summary summary = LocalRunner.run(o, new PrintStream(java.io.OutputStream.nullOutputStream()));
        EmbeddedKafka.deleteQuietly(summary.snapshotDir());
        return RunMonitor.eventsPerSecondAfter(summary.progress(), events / 2);
    }

    /** The size of part {@code p} of {@code n} near-equal parts of {@code rounds}. */
    static int part(int rounds, int p, int n) {
        return rounds * (p + 1) / n - rounds * p / n;
    }

    /** The processor's name as Linux reports it (the machine a result belongs to), else the JVM's architecture. */
    static String cpuModel() {
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse(System.getProperty("os.arch"));
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
    }

    /**
     * Which instruction set ND4J's native library was built for ({@code mvn -Dnd4j.native.extension=...}
     * chooses it), and whether this CPU could run a better one.
     */
    static String nativeBuild() {
        Nd4j.create(DataType.FLOAT, 1); // loads the backend
        NativeOps ops = NativeOpsHolder.getInstance().getDeviceNativeOps();
        String build = switch (ops.binaryLevel()) {
            case 3 -> "avx512";
            case 2 -> "avx2";
            default -> "generic";
        };
        return ops.isOptimalRequirementsMet() ? build : build + " (this CPU supports a faster build)";
    }

    /**
     * Best GFLOP/s of an n x n x n float matrix product over {@code iterations}: a peak is what the
     * core can do when nothing else disturbs it (the step's median is compared against it). The
     * product goes the way the step's do ({@link MatMul}: ND4J's matmul op into a C-order matrix);
     * {@code INDArray.mmuli}, used before, computes into an F-order matrix and copies it back,
     * and measured 67 GFLOP/s where this path does 88.
     */
    static double peakGflops(int n, int iterations) {
        INDArray a = Nd4j.rand(DataType.FLOAT, n, n);
        INDArray b = Nd4j.rand(DataType.FLOAT, n, n);
        INDArray c = Nd4j.create(DataType.FLOAT, n, n);
        MatMul.into(a, false, b, false, c);
        double[] g = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long s = System.nanoTime();
            MatMul.into(a, false, b, false, c);
            g[i] = 2.0 * n * n * n / ((System.nanoTime() - s) / 1e9) / 1e9;
        }
        return Arrays.stream(g).max().orElse(Double.NaN);
    }

    /**
     * {@code rounds} rounds of every trainer, one after the other, each cycle followed by one peak
     * product of size {@code peakSize}; returns the best peak rate seen. The peak is sampled all
     * through the run, like the step, so that it is the core's rate at its least disturbed.
     */
    static double inTurn(TrainerRounds[] trainers, int rounds, int peakSize) {
        double peak = 0;
        for (int k = 0; k < rounds; k++) {
            for (TrainerRounds t : trainers) {
                t.round();
            }
            peak = Math.max(peak, peakGflops(peakSize, 1));
        }
        return peak;
    }

    /**
     * One trainer at one batch size and the events for its rounds: {@link #round()} trains
     * {@code stepsPerRound} steps and records milliseconds per step, wall clock and the training
     * thread's CPU time. ND4J runs on the calling thread (OMP_NUM_THREADS=1).
     */
    static final class TrainerRounds {
        final ModelConfig cfg;
        final double[] wallMs;
        final double[] cpuMs;
        private final List<Example> events;
        private final OnlineTrainer trainer;
        private final int stepsPerRound;
        private int next;
        private int done;

        TrainerRounds(ModelConfig cfg, int warmupSteps, int stepsPerRound, int rounds) {
            this.cfg = cfg;
            this.stepsPerRound = stepsPerRound;
            int b = cfg.batchSize;
            events = SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, new double[] {0.38, 0.04}, 3),
                    (warmupSteps + rounds * stepsPerRound) * b);
            trainer = new OnlineTrainer(cfg, 10_000);
            for (; next < warmupSteps * b; next++) {
                trainer.learn(events.get(next));
            }
            wallMs = new double[rounds];
            cpuMs = new double[rounds];
        }

        void round() {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long s = System.nanoTime();
            long c = threads.getCurrentThreadCpuTime();
            for (int k = 0; k < stepsPerRound * cfg.batchSize; k++) {
                trainer.learn(events.get(next++));
            }
            wallMs[done] = (System.nanoTime() - s) / 1e6 / stepsPerRound;
            cpuMs[done] = (threads.getCurrentThreadCpuTime() - c) / 1e6 / stepsPerRound;
            done++;
        }
    }

    /**
     * Floating-point operations of one step, counted from the layer sizes: 2 per multiply-add of
     * every matrix product the step needs. Forward, each layer over the rows it reads; backward,
     * its weight gradient over the rows whose loss reaches it and, unless nothing upstream learns
     * from it, its input gradient over those rows. Rows: the batch for the students; batch,
     * tuples and marginal samples for the teachers and, when they read it, the shared backbone,
     * which those rows train only under {@code teacher-routing shared} (under {@code stop} the
     * teachers' first layers pass no gradient down, and the teachers backpropagate only the rows
     * their losses reach: the samples, unless the teachers also learn on the batch). Bias and
     * elementwise work are not counted.
     */
    static double flopsPerStep(ModelConfig cfg) {
        int b = cfg.batchSize;
        boolean teachers = cfg.variant.hasTeachers();
        int samples = cfg.variant.ranksTeachers()
                ? cfg.numPermutations() * cfg.quadrupletsPerStep + 2 * cfg.numTasks() * cfg.marginalPairsPerStep : 0;
        int all = b + samples;
        int in = cfg.features.size() * cfg.embeddingDim + cfg.denseFeatures.size();
        TeacherRouting routing = cfg.teacherRouting;
        boolean teachersReadShared = teachers && routing != TeacherRouting.SEPARATE;
        int sharedRows = teachersReadShared ? all : b;
        int sharedBackRows = teachers && routing == TeacherRouting.SHARED ? all : b;
        boolean mmoe = cfg.backbone == Backbone.MMOE;
        int[] backbone = mmoe ? cfg.expertLayers() : cfg.bottomLayers();
        int sharedOut = backbone[backbone.length - 1];
        int[] tower = Arrays.copyOf(cfg.towerLayers(), cfg.towerLayers().length + 1);
        tower[tower.length - 1] = 1;

        double flops = (mmoe ? cfg.experts : 1) * denseFlops(sharedRows, sharedBackRows, in, backbone, true);
        if (mmoe) {
            int[] gate = {cfg.experts};
            flops += cfg.numTasks() * denseFlops(b, b, in, gate, true);
            if (teachersReadShared) {
                flops += cfg.numTasks() * denseFlops(all, sharedBackRows == all ? all : 0, in, gate, true);
            }
        }
        flops += cfg.numTasks() * denseFlops(b, b, sharedOut, tower, true);
        if (teachers) {
            int teacherIn = sharedOut;
            if (routing == TeacherRouting.SEPARATE) {
                flops += denseFlops(all, all, in, cfg.bottomLayers(), true);
                teacherIn = cfg.bottomLayers()[cfg.bottomLayers().length - 1];
            }
            // the rows from the first one a teacher loss reaches: the batch's when the teachers learn on it,
            // else the tuples' (auxiliary ranking), else the marginal pairs'
            int marginalRows = 2 * cfg.numTasks() * cfg.marginalPairsPerStep;
            boolean batchTeaches = cfg.variant.teachersLearnOnBatch();
            int teacherBackRows = routing != TeacherRouting.STOP || batchTeaches ? all
                    : cfg.variant.auxiliaryRanking() ? samples : marginalRows;
            flops += cfg.numTasks() * denseFlops(all, teacherBackRows, teacherIn, tower, routing != TeacherRouting.STOP);
        }
        return flops;
    }

    /**
     * Matrix-product flops of a stack of dense layers: forward over {@code rows}, weight and
     * input gradients over {@code backRows} (0: no backward); the first layer's input gradient
     * only when {@code inputGradient}.
     */
    static double denseFlops(int rows, int backRows, int in, int[] sizes, boolean inputGradient) {
        double flops = 0;
        int prev = in;
        for (int l = 0; l < sizes.length; l++) {
            double perRow = 2.0 * prev * sizes[l];
            flops += perRow * rows + perRow * backRows;
            if (l > 0 || inputGradient) {
                flops += perRow * backRows;
            }
            prev = sizes[l];
        }
        return flops;
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    static void write(Map<String, Object> results, Path json) throws java.io.IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), results);
    }
}

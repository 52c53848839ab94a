package io.crossdistil.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.crossdistil.job.JobConfig;
import io.crossdistil.model.Backbone;
import io.crossdistil.model.Example;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.TeacherRouting;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * memory, checkpoint and snapshot costs, all measured in one run. Medians over repeated rounds
 * after a warm-up; no assertion, these machines are shared and noisy.
 */
final class Bench {
    private Bench() {}

    static Map<String, Object> run(boolean quick, Map<String, String> modelOptions, PrintStream out) throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("quick", quick);
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("omp_num_threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)"));
        r.put("nd4j_native_build", nativeBuild());
        out.println("ND4J native build                   " + r.get("nd4j_native_build"));
        Map<String, String> opts = new LinkedHashMap<>(modelOptions);
        opts.putIfAbsent("features", "user_id,item_id," + String.join(",", SyntheticStream.FIELDS));
        ModelConfig base = ModelConfig.fromMap(opts);
        r.put("model_options", base.toMap());

        double peak = peakGflops(quick ? 1024 : 2048, quick ? 15 : 20);
        r.put("peak_gflops", peak);
        out.printf(Locale.ROOT, "peak float matrix product (ND4J)   %.1f GFLOP/s%n", peak);

        // the JIT compiles the step's code over its first few hundred steps: warm it up once, at the default batch size
        stepTimes(base, quick ? 200 : 500, 1, 1);
        Map<String, Object> trainer = new LinkedHashMap<>();
        int rounds = quick ? 9 : 15; // short rounds, many of them: a burst of load elsewhere moves the median less
        for (int batch : new int[] {64, 256, 1024}) {
            ModelConfig cfg = base.with("batch-size", Integer.toString(batch));
            // a warm-up per batch size (its reservoirs fill, its shapes are new), rounds of 8k or 32k events
            int warmup = Math.max(40, (quick ? 16_384 : 65_536) / batch);
            int stepsPerRound = Math.max(8, (quick ? 8_192 : 32_768) / batch);
            StepTimes times = stepTimes(cfg, warmup, rounds, stepsPerRound);
            double median = median(times.wallMs());
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("ms_per_step_median", median);
            t.put("ms_per_step_rounds", times.wallMs());
            // the best round: the least disturbed by other processes on a shared machine
            t.put("ms_per_step_best", Arrays.stream(times.wallMs()).min().orElse(Double.NaN));
            // the thread's own CPU time: what the step costs, less the time other processes took the core
            t.put("cpu_ms_per_step_median", median(times.cpuMs()));
            t.put("events_per_s", batch * 1000.0 / median);
            t.put("flops_per_step", flopsPerStep(cfg));
            t.put("step_gflops", flopsPerStep(cfg) / (median / 1000.0) / 1e9);
            trainer.put(Integer.toString(batch), t);
            out.printf(Locale.ROOT, "trainer, batch %4d                  %7.2f ms/step (CPU %.2f)  %,8.0f events/s  %.2f GFLOP/s%n", batch,
                    median, (double) t.get("cpu_ms_per_step_median"), batch * 1000.0 / median, (double) t.get("step_gflops"));
        }
        r.put("trainer", trainer);
        @SuppressWarnings("unchecked")
        Map<String, Object> at256 = (Map<String, Object>) trainer.get("256");
        r.put("trainer_events_per_s", at256.get("events_per_s"));
        r.put("flops_per_step", at256.get("flops_per_step"));
        r.put("step_gflops", at256.get("step_gflops"));
        r.put("step_share_of_peak", (double) at256.get("step_gflops") / peak);

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
        long snapBytes = 0;
        for (int i = 0; i < snapMs.length; i++) {
            long s = System.nanoTime();
            byte[] b = SnapshotCodec.encode(t.snapshot(i + 1, System.currentTimeMillis()));
            Files.write(tmp, b);
            snapMs[i] = (System.nanoTime() - s) / 1e6;
            snapBytes = b.length;
        }
        Files.deleteIfExists(tmp);
        r.put("snapshot_bytes", snapBytes);
        r.put("snapshot_write_ms", median(snapMs));
        out.printf(Locale.ROOT, "checkpoint                          %,d bytes in %.0f ms (restore %.0f ms)%n", state.length, median(cpMs), restoreMs);
        out.printf(Locale.ROOT, "snapshot                            %,d bytes, built, encoded and written in %.0f ms%n", snapBytes, median(snapMs));

        // the whole pipeline: Kafka -> decode -> trainer -> snapshots, at batch 256; the rate is taken
        // between the progress reports of the second half, after Flink's, Kafka's and Avro's code has warmed up
        // (the trainer's already has, above); the first seconds run at half speed
        long events = quick ? 600_000 : 2_000_000;
        Map<String, String> jobOptions = new LinkedHashMap<>(modelOptions);
        jobOptions.putIfAbsent("metrics-every-seconds", "1");
        // snapshots as often as the job writes them by default, not as often as the local demo does
        jobOptions.putIfAbsent("snapshot-every-events", JobConfig.OPTIONS.stream()
                .filter(op -> op.key().equals("snapshot-every-events")).findFirst().orElseThrow().defaultValue());
        LocalRunner.Options o = new LocalRunner.Options(events, null, List.of(), List.of(), null,
                Files.createTempDirectory("crossdistil-bench-snapshots"), null, 1, 1, new double[] {0.38, 0.04}, 0, jobOptions);
        LocalRunner.Summary summary = LocalRunner.run(o, new PrintStream(java.io.OutputStream.nullOutputStream()));
        EmbeddedKafka.deleteQuietly(summary.snapshotDir());
        double pipeline = RunMonitor.eventsPerSecondAfter(summary.progress(), events / 2);
        r.put("pipeline_events", events);
        r.put("pipeline_events_per_s", pipeline);
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
     * core can do when nothing else disturbs it (the step's median is compared against it).
     */
    static double peakGflops(int n, int iterations) {
        INDArray a = Nd4j.rand(DataType.FLOAT, n, n);
        INDArray b = Nd4j.rand(DataType.FLOAT, n, n);
        INDArray c = Nd4j.create(DataType.FLOAT, n, n);
        a.mmuli(b, c);
        double[] g = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long s = System.nanoTime();
            a.mmuli(b, c);
            g[i] = 2.0 * n * n * n / ((System.nanoTime() - s) / 1e9) / 1e9;
        }
        return Arrays.stream(g).max().orElse(Double.NaN);
    }

    /** Milliseconds per training step, wall clock and the training thread's CPU time, one per round. */
    record StepTimes(double[] wallMs, double[] cpuMs) {}

    /** Times rounds of {@code stepsPerRound} steps after {@code warmup} steps; ND4J runs on the calling thread (OMP_NUM_THREADS=1). */
    static StepTimes stepTimes(ModelConfig cfg, int warmup, int rounds, int stepsPerRound) {
        int b = cfg.batchSize;
        int total = (warmup + rounds * stepsPerRound) * b;
        List<Example> events = SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, new double[] {0.38, 0.04}, 3), total);
        OnlineTrainer t = new OnlineTrainer(cfg, 10_000);
        int i = 0;
        for (; i < warmup * b; i++) {
            t.learn(events.get(i));
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] wall = new double[rounds];
        double[] cpu = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long s = System.nanoTime();
            long c = threads.getCurrentThreadCpuTime();
            for (int k = 0; k < stepsPerRound * b; k++) {
                t.learn(events.get(i++));
            }
            wall[r] = (System.nanoTime() - s) / 1e6 / stepsPerRound;
            cpu[r] = (threads.getCurrentThreadCpuTime() - c) / 1e6 / stepsPerRound;
        }
        return new StepTimes(wall, cpu);
    }

    /**
     * Floating-point operations of one step, counted from the layer sizes: 2 per multiply-add of
     * every matrix product the step needs. Forward, each layer over the rows it reads; backward,
     * its weight gradient over the rows whose loss reaches it and, unless nothing upstream learns
     * from it, its input gradient over those rows. Rows: the batch for the students; batch,
     * tuples and marginal samples for the teachers and, when they read it, the shared backbone,
     * which those rows train only under {@code teacher-routing shared} (under {@code stop} the
     * teachers' first layers pass no gradient down). Bias and elementwise work are not counted.
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
        int[] backbone = mmoe ? cfg.expertLayers : cfg.bottomLayers;
        int sharedOut = backbone[backbone.length - 1];
        int[] tower = Arrays.copyOf(cfg.towerLayers, cfg.towerLayers.length + 1);
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
                flops += denseFlops(all, all, in, cfg.bottomLayers, true);
                teacherIn = cfg.bottomLayers[cfg.bottomLayers.length - 1];
            }
            flops += cfg.numTasks() * denseFlops(all, all, teacherIn, tower, routing != TeacherRouting.STOP);
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

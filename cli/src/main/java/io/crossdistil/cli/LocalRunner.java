package io.crossdistil.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.crossdistil.avro.TaskMetrics;
import io.crossdistil.avro.TrainingMetrics;
import io.crossdistil.job.CrossDistilPipeline;
import io.crossdistil.job.JobConfig;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code bin/crossdistil local}: the whole pipeline on this machine with real parts - a KRaft Kafka
 * broker in this process, the job on a Flink MiniCluster (with its Web UI), generated or replayed
 * events, snapshots in a directory - a progress line every few seconds and a summary at the end.
 */
public final class LocalRunner {
    public static final String TOPIC = "feedback";
    public static final String DLQ_TOPIC = "feedback-dlq";
    public static final String SNAPSHOT_TOPIC = "model-snapshots";
    public static final String METRICS_TOPIC = "feedback-metrics";

    /** What to run. {@code csv} null means generated events. */
    public record Options(long events, Path csv, List<String> labels, List<String> csvFeatures, String timeColumn,
            Path snapshots, Path summary, int partitions, Generator generator, long badEvery,
            Map<String, String> jobOptions) {}

    /**
     * The run's outcome, also written as JSON with {@code --summary}.
     *
     * @param seconds the whole run, broker start to end
     * @param trainingSeconds from the job's submission to its end
     * @param steadyEventsPerSecond training throughput after the first tenth of the events (see
     *     {@link RunMonitor#eventsPerSecondAfter}); NaN for a run too short to tell
     */
    public record Summary(long eventsProduced, long eventsTrained, long deadLetters, long snapshotsWritten, Path snapshotDir,
            double seconds, double trainingSeconds, double steadyEventsPerSecond, TrainingMetrics metrics,
            List<io.crossdistil.avro.DeadLetter> deadLetterRecords, List<long[]> progress) {}

    private LocalRunner() {}

    /**
     * Checks everything a run needs before it starts anything: the CSV and its columns, the
     * generator's rates, the snapshot directory, and every job and model option; throws
     * IllegalArgumentException saying what to fix.
     */
    public static void check(Options o) throws IOException {
        if (o.snapshots() != null) {
            requireFreshDirectory(o.snapshots());
        }
        jobConfig(o, "127.0.0.1:9092", Path.of("snapshots"), Path.of("checkpoints"));
    }

    /** The --trainers option as a number, 1 when not given, 0 when not a number (the job's configuration refuses it with its own message). */
    static long trainers(Map<String, String> jobOptions) {
        try {
            return Long.parseLong(jobOptions.getOrDefault("trainers", "1"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The job's configuration for a run: the data's tasks and features, the local topics and directories, then the user's options. */
    private static JobConfig jobConfig(Options o, String servers, Path snapshots, Path checkpoints) throws IOException {
        Map<String, String> job = new LinkedHashMap<>();
        if (o.csv() != null) {
            job.put("tasks", String.join(",", o.labels()));
            job.put("features", String.join(",", CsvEvents.check(o.csv(), o.labels(), o.csvFeatures(),
                    CsvEvents.denseColumns(o.jobOptions()), o.timeColumn())));
        } else {
            List<String> tasks = generatedTasks(o);
            generator(o).stream(tasks); // one rate per task; dense features the stream has
            List<String> features = new ArrayList<>(List.of("user_id", "item_id"));
            features.addAll(SyntheticStream.FIELDS);
            job.put("tasks", String.join(",", tasks));
            job.put("features", String.join(",", features));
        }
        job.put("bootstrap-servers", servers);
        job.put("topic", TOPIC);
        job.put("dlq-topic", DLQ_TOPIC);
        job.put("snapshot-topic", SNAPSHOT_TOPIC);
        job.put("metrics-topic", METRICS_TOPIC);
        job.put("starting-offsets", "earliest");
        job.put("bounded", "true");
        job.put("snapshot-dir", snapshots.toAbsolutePath().toString());
        if (trainers(o.jobOptions()) == 1) {
            job.put("decode-parallelism", Integer.toString(o.partitions())); // N trainers: N readers, one each
        }
        job.put("snapshot-every-events", "20000");
        // a progress report every second: the demo's 100,000 events train in a few seconds
        job.put("metrics-every-seconds", "1");
        job.put("job-name", "crossdistil-local");
        job.put("checkpoint-dir", checkpoints.toUri().toString());
        job.putAll(o.jobOptions());
        return JobConfig.fromMap(job);
    }

    private static List<String> generatedTasks(Options o) {
        return List.of(o.jobOptions().getOrDefault("tasks", "finish,like").split(","));
    }

    public static Summary run(Options o, PrintStream out) throws Exception {
        Path snapshots = o.snapshots() != null ? o.snapshots()
                : Path.of("snapshots", "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        requireFreshDirectory(snapshots);
        long start = System.nanoTime();
        // counted down after the broker is closed: a Ctrl-C waits for it before the JVM exits
        CountDownLatch cleanedUp = new CountDownLatch(1);
        Path checkpoints = Files.createTempDirectory("crossdistil-checkpoints");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            out.printf("Kafka broker (KRaft, in-process) at %s%n", kafka.bootstrapServers());
            kafka.createTopic(TOPIC, o.partitions(), false);
            kafka.createTopic(DLQ_TOPIC, 1, false);
            kafka.createTopic(SNAPSHOT_TOPIC, 1, true);
            kafka.createTopic(METRICS_TOPIC, 1, false);

            JobConfig config = jobConfig(o, kafka.bootstrapServers(), snapshots, checkpoints);
            long produced = produce(o, kafka.bootstrapServers(), out);

            Configuration conf = CrossDistilPipeline.configuration(config);
            int uiPort = EmbeddedKafka.freePort();
            conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
            conf.set(RestOptions.ADDRESS, "127.0.0.1");
            conf.set(RestOptions.PORT, uiPort);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
            env.setParallelism(o.partitions());
            CrossDistilPipeline.build(env, config);
            JobClient client = env.executeAsync(config.jobName());
            out.printf("Flink MiniCluster running job %s; Web UI at http://127.0.0.1:%d%n", client.getJobID(), uiPort);
            out.printf("Training %s (variant %s) on %,d records; snapshots -> %s%n", config.modelConfig().tasks,
                    config.modelConfig().variant.key(), produced, snapshots);

            Thread hook = new Thread(() -> {
                out.println("\nInterrupted: stopping the job and the broker ...");
                client.cancel();
                try {
                    cleanedUp.await(60, TimeUnit.SECONDS); // let the main thread stop everything it started
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
            try (RunMonitor monitor = new RunMonitor(kafka.bootstrapServers(), METRICS_TOPIC, DLQ_TOPIC)) {
                long trainStart = System.nanoTime();
                long lastPrint = 0;
                int printed = 0; // reports printed: a line repeats no report, so its rate is never stale
                // the local executor shuts the MiniCluster down when the job ends, so wait on the result, not the status
                CompletableFuture<JobExecutionResult> result = client.getJobExecutionResult();
                while (!result.isDone()) {
                    monitor.poll(Duration.ofMillis(500));
                    int reports = monitor.reports();
                    if (System.nanoTime() - lastPrint > 1_000_000_000L && (reports > printed || reports == 0)) {
                        lastPrint = System.nanoTime();
                        printed = reports;
                        out.println(progressLine(monitor, (System.nanoTime() - trainStart) / 1e9));
                    }
                }
                result.get(); // raises the job's failure or cancellation
                double trainingSeconds = (System.nanoTime() - trainStart) / 1e9;
                monitor.drain();
                if (monitor.reports() > printed) {
                    out.println(progressLine(monitor, (System.nanoTime() - trainStart) / 1e9));
                }
                TrainingMetrics m = monitor.latest();
                Summary s = new Summary(produced, m == null ? 0 : m.getEventsTrained(), monitor.deadLetters().size(),
                        countSnapshots(snapshots), snapshots, (System.nanoTime() - start) / 1e9, trainingSeconds,
                        monitor.eventsPerSecondAfter(produced / 10), m, monitor.deadLetters(), monitor.progress());
                if (o.summary() != null) {
                    writeSummary(s, o.summary());
                }
                out.println(summaryLine(s));
                return s;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running; it waits for cleanedUp
                }
            }
        } finally {
            EmbeddedKafka.deleteQuietly(checkpoints);
            cleanedUp.countDown();
        }
    }

    private static long produce(Options o, String servers, PrintStream out) throws IOException {
        try (FeedbackProducer producer = new FeedbackProducer(servers, TOPIC, DLQ_TOPIC)) {
            long t0 = System.nanoTime();
            if (o.csv() != null) {
                try (CsvEvents csv = new CsvEvents(o.csv(), o.labels(), o.csvFeatures(), CsvEvents.denseColumns(o.jobOptions()), o.timeColumn())) {
                    producer.produceCsv(csv, o.csv().getFileName().toString(),
                            n -> out.printf("  replaying %s: %,d rows%n", o.csv(), n));
                }
            } else {
                producer.produceGenerated(generatedTasks(o), generator(o), o.events(), o.badEvery(),
                        n -> out.printf("  generating: %,d events%n", n));
            }
            long total = producer.sent() + producer.deadLetters();
            out.printf("Produced %,d records to '%s' (%,d rejected rows straight to '%s') in %.1f s%n", producer.sent(), TOPIC,
                    producer.deadLetters(), DLQ_TOPIC, (System.nanoTime() - t0) / 1e9);
            return total;
        }
    }

    /** The generated stream, its events carrying the model's dense features. */
    private static Generator generator(Options o) {
        return o.generator().withDense(CsvEvents.denseColumns(o.jobOptions()));
    }

    static void requireFreshDirectory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("snapshot directory " + dir + " is not empty: its versions would mix with"
                            + " this run's; choose another --snapshots directory or remove it");
                }
            }
        }
    }

    static long countSnapshots(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> SnapshotFiles.isSnapshotFile(p.getFileName().toString())).count();
        }
    }

    static String progressLine(RunMonitor monitor, double seconds) {
        TrainingMetrics m = monitor.latest();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "[%6.1fs] ", seconds));
        if (m == null) {
            return b.append("waiting for the first training steps ... dead letters ").append(monitor.deadLetters().size()).toString();
        }
        double rate = monitor.recentEventsPerSecond(3_000);
        b.append(String.format(Locale.ROOT, "trained %,d (%s ev/s now) | dead letters %,d | snapshots %d", m.getEventsTrained(),
                Double.isNaN(rate) ? "-" : String.format(Locale.ROOT, "%,.0f", rate), monitor.deadLetters().size(), m.getSnapshotsWritten()));
        for (TaskMetrics t : m.getTasks()) {
            b.append(String.format(Locale.ROOT, " | %s AUC %.3f (recent %.3f) MAUC %.3f (recent %.3f)", t.getTask(), t.getAuc(),
                    t.getWindowAuc(), t.getMultiAuc(), t.getWindowMultiAuc()));
        }
        return b.toString();
    }

    static String summaryLine(Summary s) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "Done in %.1f s: produced %,d, trained %,d, dead letters %,d, snapshots %d in %s", s.seconds(), s.eventsProduced(),
                s.eventsTrained(), s.deadLetters(), s.snapshotsWritten(), s.snapshotDir()));
        if (!Double.isNaN(s.steadyEventsPerSecond())) {
            b.append(String.format(Locale.ROOT, "; %,.0f events/s after the first tenth", s.steadyEventsPerSecond()));
        }
        if (s.metrics() != null) {
            for (TaskMetrics t : s.metrics().getTasks()) {
                b.append(String.format(Locale.ROOT, "; %s AUC %.4f (recent %.4f) Multi-AUC %.4f (recent %.4f)", t.getTask(),
                        t.getAuc(), t.getWindowAuc(), t.getMultiAuc(), t.getWindowMultiAuc()));
            }
        }
        return b.toString();
    }

    static void writeSummary(Summary s, Path file) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("events_produced", s.eventsProduced());
        json.put("events_trained", s.eventsTrained());
        json.put("dead_letters", s.deadLetters());
        json.put("snapshots_written", s.snapshotsWritten());
        json.put("snapshot_dir", s.snapshotDir().toAbsolutePath().toString());
        json.put("seconds", s.seconds());
        json.put("training_seconds", s.trainingSeconds());
        json.put("steady_events_per_s", Double.isNaN(s.steadyEventsPerSecond()) ? null : s.steadyEventsPerSecond());
        Map<String, Object> metrics = new LinkedHashMap<>();
        if (s.metrics() != null) {
            json.put("steps", s.metrics().getSteps());
            json.put("skipped_steps", s.metrics().getSkippedSteps());
            for (TaskScore t : SnapshotCodec.scores(s.metrics().getTasks())) {
                metrics.put(t.task(), ExperimentReport.taskJson(t));
            }
        }
        json.put("metrics", metrics);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), json);
    }

}

package io.crossdistil.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.Tensor;
import io.crossdistil.cli.FeedbackProducer;
import io.crossdistil.cli.GeneratedRecords;
import io.crossdistil.cli.RunMonitor;
import io.crossdistil.job.CrossDistilJob;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.snapshot.SnapshotFiles;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * the guarantees of docs/operations.md on real parts: the job jar submitted over REST to a
 * standalone Flink cluster (JobManager and TaskManager in their own JVMs) reading from a real
 * KRaft broker. One unfailed run over a single-partition stream is the reference; then the same
 * stream is trained while the TaskManager is killed with SIGKILL several times, and again while
 * the broker is restarted. Each must end with every good event trained once, every bad record
 * dead-lettered once (the sinks write exactly once), and a model bit-identical to the reference;
 * readers of the snapshot directory and topic never see a corrupt snapshot.
 */
class ClusterFailoverTest {
    private static final List<String> TASKS = List.of("finish", "like");
    private static final double[] RATES = {0.38, 0.1};
    private static final long SEED = 23;
    private static final int BATCH = 64;
    /** 64,000 records, every 100th bad: 63,360 good ones, 990 full batches. */
    private static final long RECORDS = 64_000;
    private static final long BAD_EVERY = 100;
    private static final long BAD = RECORDS / BAD_EVERY;
    private static final long GOOD = RECORDS - BAD;
    /** A count-based snapshot lands exactly on the last event; time-based ones would differ between runs. */
    private static final long SNAPSHOT_EVERY = GOOD / 10;

    private static Path work;
    private static EmbeddedKafka kafka;
    private static StandaloneFlinkCluster cluster;
    private static String jarId;
    private static ModelSnapshot reference;

    @BeforeAll
    static void startClusterAndRunReference() throws Exception {
        // under target/, not a temporary folder: the JobManager's and TaskManagers' logs outlive a failure
        work = Path.of("target", "cluster-work").toAbsolutePath();
        EmbeddedKafka.deleteQuietly(work);
        kafka = EmbeddedKafka.start();
        cluster = StandaloneFlinkCluster.start(Path.of(System.getProperty("crossdistil.flink.lib")), work.resolve("flink"),
                Map.of(), List.of(System.getProperty("crossdistil.java.options").trim().split("\\s+")),
                Map.of("OMP_NUM_THREADS", "1"));
        jarId = cluster.rest().uploadJar(Path.of(System.getProperty("crossdistil.job.jar")));

        Run run = new Run("reference");
        run.produce(0);
        run.submit();
        reference = run.awaitLastSnapshot(Duration.ofMinutes(5));
        run.cancelAndCheck();
    }

    @AfterAll
    static void stopEverything() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            if (kafka != null) {
                kafka.close();
            }
        }
    }

    @Test
    void killedTaskManagersLoseNothingRepeatNothingAndChangeNoBit() throws Exception {
        Run run = new Run("kills");
        Random random = new Random(SEED);
        try (SnapshotWatcher watcher = run.watchSnapshots()) {
            // paced so that three kills and restarts (5 to 8 s each on 2 cores under load) fit into the
            // run with room to spare: at 4,000 records/s the last kill sometimes came after the last record
            Future<?> producing = run.produceInBackground(1_500);
            run.submit();
            long restarts = 0;
            for (int kill = 1; kill <= 3; kill++) {
                // spread over the run, each at a random moment: mid-step, mid-checkpoint, mid-restore ...
                run.awaitTrained(kill * GOOD / 5 + random.nextInt((int) (GOOD / 10)), Duration.ofMinutes(3));
                Thread.sleep(random.nextInt(2_000));
                long trained = run.trained();
                assertTrue(trained < GOOD, "kill " + kill + " came before the end");
                cluster.killTaskManager();
                cluster.startTaskManager();
                restarts = awaitRestarts(run.jobId, kill, Duration.ofMinutes(2));
                System.out.printf("kill -9 TaskManager #%d after about %,d trained events; the job restarted %d times%n", kill, trained, restarts);
            }
            producing.get(5, TimeUnit.MINUTES);
            ModelSnapshot last = run.awaitLastSnapshot(Duration.ofMinutes(5));
            assertTrue(restarts >= 3, "the job restarted after each kill (" + restarts + " restarts)");
            run.cancelAndCheck();
            assertSameModel(reference, last);
            assertEquals(0, watcher.directoryCorrupt(), "corrupt snapshots read from the directory");
            assertEquals(0, watcher.topicCorrupt(), "corrupt snapshots read from the topic");
            assertTrue(watcher.directoryReads() > 0, "the directory reader read snapshots");
            assertEquals(last.getVersion(), watcher.topicVersion(), "the topic reader ends on the last version");
            System.out.printf("snapshot readers: %,d intact reads from the directory, 0 corrupt; topic reader at version %d%n",
                    watcher.directoryReads(), watcher.topicVersion());
        }
    }

    @Test
    void aBrokerRestartLosesNothingRepeatsNothingAndChangesNoBit() throws Exception {
        Run run = new Run("broker-restart");
        // production paced, so that the broker goes down while records are still written and read
        Future<?> producing = run.produceInBackground(4_000);
        run.submit();
        run.awaitTrained(GOOD / 3, Duration.ofMinutes(3));
        long trained = run.trained();
        assertTrue(trained < GOOD, "the broker restart came before the end");
        kafka.restart(Duration.ofSeconds(5));
        System.out.printf("broker restarted after about %,d trained events; the job restarted %d times%n", trained,
                cluster.rest().restarts(run.jobId));
        producing.get(5, TimeUnit.MINUTES);
        ModelSnapshot last = run.awaitLastSnapshot(Duration.ofMinutes(5));
        run.cancelAndCheck();
        assertSameModel(reference, last);
    }

    private static long awaitRestarts(String jobId, long atLeast, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long restarts;
        while ((restarts = cluster.rest().restarts(jobId)) < atLeast) {
            assertTrue(System.nanoTime() < deadline, "the job did not restart after the TaskManager was killed");
            Thread.sleep(200);
        }
        return restarts;
    }

    /** Bit for bit: every tensor, the event count, the version and every metric. */
    private static void assertSameModel(ModelSnapshot expected, ModelSnapshot actual) {
        assertEquals(expected.getEventsTrained(), actual.getEventsTrained());
        assertEquals(expected.getVersion(), actual.getVersion());
        assertEquals(expected.getConfig(), actual.getConfig());
        assertEquals(expected.getTensors().size(), actual.getTensors().size());
        for (int i = 0; i < expected.getTensors().size(); i++) {
            Tensor e = expected.getTensors().get(i);
            Tensor a = actual.getTensors().get(i);
            assertEquals(e.getName(), a.getName());
            assertEquals(e.getValues(), a.getValues(), "tensor " + e.getName() + " differs from the unfailed run");
        }
        assertEquals(expected.getMetrics(), actual.getMetrics(), "the progressive metrics differ from the unfailed run");
    }

    /** One job over its own topics, consumer group, snapshot and checkpoint folders. */
    private static final class Run {
        final String name;
        final String topic;
        final Path snapshots;
        String jobId;
        private RunMonitor monitor;

        Run(String name) throws Exception {
            this.name = name;
            this.topic = "feedback-" + name;
            this.snapshots = work.resolve(name).resolve("snapshots");
            kafka.createTopic(topic, 1, false);
            kafka.createTopic(topic + "-dlq", 1, false);
            kafka.createTopic(topic + "-metrics", 1, false);
            kafka.createTopic(topic + "-snapshots", 1, true);
        }

        /** The same records in every run: the same generator, seed and bad-record positions. */
        void produce(int perSecond) {
            GeneratedRecords records = new GeneratedRecords(TASKS, RATES, SEED, BAD_EVERY);
            long start = System.nanoTime();
            try (FeedbackProducer p = new FeedbackProducer(kafka.bootstrapServers(), topic, topic + "-dlq")) {
                for (long i = 1; i <= RECORDS; i++) {
                    p.send(records.next().bytes());
                    if (perSecond > 0 && i % 500 == 0) {
                        long due = start + i * 1_000_000_000L / perSecond;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            sleep(wait / 1_000_000);
                        }
                    }
                }
            }
        }

        Future<?> produceInBackground(int perSecond) {
            ExecutorService ex = Executors.newSingleThreadExecutor();
            Future<?> f = ex.submit(() -> produce(perSecond));
            ex.shutdown();
            return f;
        }

        void submit() throws Exception {
            Map<String, String> args = new LinkedHashMap<>();
            args.put("bootstrap-servers", kafka.bootstrapServers());
            args.put("topic", topic);
            args.put("dlq-topic", topic + "-dlq");
            args.put("metrics-topic", topic + "-metrics");
            args.put("snapshot-topic", topic + "-snapshots");
            args.put("group-id", name);
            args.put("job-name", "crossdistil-" + name);
            args.put("starting-offsets", "earliest");
            args.put("snapshot-dir", snapshots.toString());
            args.put("snapshot-every-events", Long.toString(SNAPSHOT_EVERY));
            args.put("snapshot-every-seconds", "0");
            args.put("snapshot-retain", "4");
            args.put("metrics-every-seconds", "1");
            args.put("checkpoint-dir", work.resolve(name).resolve("checkpoints").toUri().toString());
            args.put("checkpoint-interval-ms", "1000");
            args.put("state-backend", "rocksdb");
            args.put("decode-parallelism", "1");
            args.put("delivery-guarantee", "exactly-once");
            args.put("features", "user_id,item_id," + String.join(",", SyntheticStream.FIELDS));
            args.put("tasks", String.join(",", TASKS));
            args.put("batch-size", Integer.toString(BATCH));
            args.put("hash-rows", "4096");
            args.put("bottom-layers", "32");
            args.put("tower-layers", "8");
            args.put("quadruplets-per-step", "16");
            args.put("marginal-pairs-per-step", "16");
            args.put("reservoir-capacity", "2000");
            List<String> list = new ArrayList<>();
            args.forEach((k, v) -> {
                list.add("--" + k);
                list.add(v);
            });
            jobId = cluster.rest().run(jarId, CrossDistilJob.class.getName(), list);
            monitor = new RunMonitor(kafka.bootstrapServers(), topic + "-metrics", topic + "-dlq");
        }

        long trained() {
            return monitor.latest() == null ? 0 : monitor.latest().getEventsTrained();
        }

        SnapshotWatcher watchSnapshots() {
            return new SnapshotWatcher(snapshots, kafka.bootstrapServers(), topic + "-snapshots");
        }

        /** Waits until the job reports at least this many trained events. */
        void awaitTrained(long events, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (trained() < events) {
                assertTrue(System.nanoTime() < deadline, name + ": not " + events + " trained events in time (" + trained() + ")");
                monitor.poll(Duration.ofMillis(200));
            }
        }

        /** The snapshot written after the last good event, read from the directory. */
        ModelSnapshot awaitLastSnapshot(Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                if (Files.exists(snapshots.resolve(SnapshotFiles.LATEST))) {
                    ModelSnapshot s = SnapshotFiles.read(snapshots);
                    if (s.getEventsTrained() >= GOOD) {
                        assertEquals(GOOD, s.getEventsTrained(), name + ": events trained");
                        return s;
                    }
                }
                assertTrue(System.nanoTime() < deadline, name + ": the last snapshot did not appear in time");
                monitor.poll(Duration.ofMillis(200));
            }
        }

        /**
         * Waits for the dead letters (committed with a checkpoint), cancels the job, and checks that
         * nothing more was trained or dead-lettered than the records hold.
         */
        void cancelAndCheck() throws Exception {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (monitor.deadLetters().size() < BAD && System.nanoTime() < deadline) {
                monitor.poll(Duration.ofMillis(200));
            }
            Thread.sleep(3_000); // several more checkpoints: a repeated record would show up now
            cluster.rest().cancel(jobId, Duration.ofMinutes(1));
            monitor.drain();
            assertEquals(GOOD, trained(), name + ": every good event trained, none twice");
            Set<Long> offsets = new HashSet<>();
            for (DeadLetter d : monitor.deadLetters()) {
                offsets.add(d.getSourceOffset());
            }
            assertEquals(BAD, offsets.size(), name + ": every bad record dead-lettered");
            assertEquals(BAD, monitor.deadLetters().size(), name + ": no dead letter twice");
            monitor.close();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

package io.crossdistil.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.Tensor;
import io.crossdistil.cli.FeedbackProducer;
import io.crossdistil.cli.GeneratedRecords;
import io.crossdistil.cli.Generator;
import io.crossdistil.cli.RunMonitor;
import io.crossdistil.job.CrossDistilJob;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.snapshot.SnapshotCodec;
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
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One run of the job on the standalone cluster, over its own topics, consumer group, snapshot and
 * checkpoint folders, and the checks every failover test makes of it: the same records in every
 * run (generator, seed, bad-record positions, partition of each record), every good event trained
 * once, every bad record dead-lettered once, and a final model compared bit for bit (dense
 * features' statistics included).
 */
final class FailoverRun {
    static final List<String> TASKS = List.of("finish", "like");
    static final double[] RATES = {0.38, 0.1};
    static final long SEED = 23;
    /** The generated stream's dense feature, missing for one user in five: its statistics are state too. */
    static final List<String> DENSE = SyntheticStream.DENSE_FIELDS;
    static final int BATCH = 64;
    /** 64,000 records, every 100th bad: 63,360 good ones, 990 full batches. */
    static final long RECORDS = 64_000;
    static final long BAD_EVERY = 100;
    static final long BAD = RECORDS / BAD_EVERY;
    static final long GOOD = RECORDS - BAD;

    final String name;
    final String topic;
    final Path snapshots;
    String jobId;
    private final EmbeddedKafka kafka;
    private final StandaloneFlinkCluster cluster;
    private final String jarId;
    private final Path work;
    private final int partitions;
    private final Map<String, String> options;
    private RunMonitor monitor;

    /**
     * @param partitions partitions of the events topic; records go to them in blocks of {@link #BAD_EVERY}
     *     (block b to partition b mod P), so every partition holds as many good records
     * @param options job options on top of the common ones
     */
    FailoverRun(String name, EmbeddedKafka kafka, StandaloneFlinkCluster cluster, String jarId, Path work, int partitions,
            Map<String, String> options) throws Exception {
        this.name = name;
        this.kafka = kafka;
        this.cluster = cluster;
        this.jarId = jarId;
        this.work = work;
        this.partitions = partitions;
        this.options = options;
        this.topic = "feedback-" + name;
        this.snapshots = work.resolve(name).resolve("snapshots");
        kafka.createTopic(topic, partitions, false);
        kafka.createTopic(topic + "-dlq", 1, false);
        kafka.createTopic(topic + "-metrics", 1, false);
        kafka.createTopic(topic + "-snapshots", 1, true);
    }

    /** The same records in every run: the same generator, seed and bad-record positions. */
    void produce(int perSecond) {
        GeneratedRecords records = new GeneratedRecords(TASKS, Generator.standard(SEED, RATES).withDense(DENSE), BAD_EVERY);
        long start = System.nanoTime();
        try (FeedbackProducer p = new FeedbackProducer(kafka.bootstrapServers(), topic, topic + "-dlq")) {
            for (long i = 1; i <= RECORDS; i++) {
                p.send((int) ((i - 1) / BAD_EVERY % partitions), records.next().bytes());
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
        args.put("snapshot-every-seconds", "0");
        args.put("snapshot-retain", "4");
        args.put("metrics-every-seconds", "1");
        args.put("checkpoint-dir", work.resolve(name).resolve("checkpoints").toUri().toString());
        args.put("checkpoint-interval-ms", "1000");
        args.put("state-backend", "rocksdb");
        args.put("delivery-guarantee", "exactly-once");
        args.put("features", "user_id,item_id," + String.join(",", SyntheticStream.FIELDS));
        args.put("dense-features", String.join(",", DENSE));
        args.put("tasks", String.join(",", TASKS));
        args.put("batch-size", Integer.toString(BATCH));
        args.put("hash-rows", "4096");
        args.put("bottom-layers", "32");
        args.put("tower-layers", "8");
        args.put("quadruplets-per-step", "16");
        args.put("marginal-pairs-per-step", "16");
        args.put("reservoir-capacity", "2000");
        args.putAll(options);
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
     * Waits until the job has trained all it can of the records and returns the latest snapshot:
     * until the trained events and the latest snapshot have not changed for {@code settle}.
     * Several trainers stop short of the last record when the stream stops (a round's events are
     * trained once every trainer has read its share of the next), at a point the records decide.
     */
    ModelSnapshot awaitSettled(Duration settle, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long since = System.nanoTime();
        long trained = -1;
        long version = -1;
        while (true) {
            long v = Files.exists(snapshots.resolve(SnapshotFiles.LATEST)) ? SnapshotFiles.read(snapshots).getVersion() : -1;
            if (trained() != trained || v != version) {
                trained = trained();
                version = v;
                since = System.nanoTime();
            } else if (v >= 0 && System.nanoTime() - since > settle.toNanos()) {
                return SnapshotFiles.read(snapshots);
            }
            assertTrue(System.nanoTime() < deadline, name + ": the job did not settle in time (" + trained() + " trained)");
            monitor.poll(Duration.ofMillis(200));
        }
    }

    /** Waits for the snapshot of this version and returns it (the directory keeps the latest few). */
    ModelSnapshot awaitSnapshot(long version, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(snapshots.resolve(SnapshotFiles.LATEST)) || SnapshotFiles.read(snapshots).getVersion() < version) {
            assertTrue(System.nanoTime() < deadline, name + ": no snapshot " + version + " in time (" + trained() + " trained)");
            monitor.poll(Duration.ofMillis(200));
        }
        ModelSnapshot s = SnapshotFiles.read(snapshots);
        assertEquals(version, s.getVersion(), name + ": the last snapshot");
        return s;
    }

    /**
     * Waits for the dead letters (committed with a checkpoint), cancels the job, and checks that
     * nothing more was trained or dead-lettered than the records hold.
     */
    void cancelAndCheck() throws Exception {
        cancelAndCheck(GOOD);
    }

    /** As {@link #cancelAndCheck()}, for a job that trains {@code trained} of the good events (see {@link #awaitSettled}). */
    void cancelAndCheck(long expectedTrained) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (monitor.deadLetters().size() < BAD && System.nanoTime() < deadline) {
            monitor.poll(Duration.ofMillis(200));
        }
        Thread.sleep(3_000); // several more checkpoints: a repeated record would show up now
        cluster.rest().cancel(jobId, Duration.ofMinutes(1));
        monitor.drain();
        assertEquals(expectedTrained, trained(), name + ": every good event trained, none twice");
        Set<String> offsets = new HashSet<>();
        for (DeadLetter d : monitor.deadLetters()) {
            offsets.add(d.getSourcePartition() + ":" + d.getSourceOffset());
        }
        assertEquals(BAD, offsets.size(), name + ": every bad record dead-lettered");
        assertEquals(BAD, monitor.deadLetters().size(), name + ": no dead letter twice");
        monitor.close();
    }

    /** Bit for bit: every tensor, the event count, the version and every metric. */
    static void assertSameModel(ModelSnapshot expected, ModelSnapshot actual) {
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
        // the dense statistics are there to compare: every trained event counted, some lacking the field
        float[] dense = SnapshotCodec.values(expected.getTensors().stream().filter(t -> t.getName().equals("dense-scaling.sums"))
                .findFirst().orElseThrow());
        assertEquals((float) expected.getEventsTrained(), dense[0]);
        assertTrue(dense[3] > 0 && dense[3] < dense[0] / 2, "events lacking the dense field: " + dense[3]);
    }

    /** Waits until the job has restarted at least {@code atLeast} times; returns how often it has. */
    static long awaitRestarts(StandaloneFlinkCluster cluster, String jobId, long atLeast, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long restarts;
        while ((restarts = cluster.rest().restarts(jobId)) < atLeast) {
            assertTrue(System.nanoTime() < deadline, "the job did not restart after the TaskManager was killed");
            Thread.sleep(200);
        }
        return restarts;
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

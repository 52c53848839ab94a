package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TaskManager of a Flink MiniCluster is terminated while the job trains and a new one is
 * started: the job restores from its last checkpoint (RocksDB state backend) and ends having
 * trained every good event exactly once. Records are written at a fixed rate while the job reads
 * them, so the failure comes before the end however fast the trainer is.
 */
class FailoverTest {
    private static final long EVENTS = 25_600;
    private static final long BAD_EVERY = 200;
    /** 398 full batches of 64: the stream stays open, so a partial last batch would wait for more events. */
    private static final long GOOD = EVENTS - EVENTS / BAD_EVERY;

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).setConfiguration(ClusterJobs.quickRestarts()).build());

    @Test
    void aLostTaskManagerLosesAndDuplicatesNoTrainedEvent(@InjectMiniCluster MiniCluster cluster, @TempDir Path dir) throws Exception {
        ExecutorService producer = Executors.newSingleThreadExecutor();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            ClusterJobs.createTopics(kafka);
            JobClient client = ClusterJobs.submit(kafka, dir, Map.of("state-backend", "rocksdb", "snapshot-every-events", "2000",
                    "bounded", "false"));
            Future<?> producing = producer.submit(() -> producePaced(kafka, 5_000));

            try (RunMonitor monitor = new RunMonitor(kafka.bootstrapServers(), LocalRunner.METRICS_TOPIC, LocalRunner.DLQ_TOPIC)) {
                awaitTrained(monitor, 6_000);
                long trainedBeforeFailure = monitor.latest().getEventsTrained();
                cluster.terminateTaskManager(0).get(60, TimeUnit.SECONDS);
                cluster.startTaskManager();
                assertTrue(trainedBeforeFailure < GOOD, "the failure came before the end");
                producing.get(2, TimeUnit.MINUTES);

                awaitTrained(monitor, GOOD);
                // dead letters are written at least once: a replay may repeat some, none may be missing
                Set<Long> offsets = new HashSet<>();
                long deadline = System.currentTimeMillis() + 60_000;
                while (offsets.size() < EVENTS / BAD_EVERY && System.currentTimeMillis() < deadline) {
                    monitor.poll(Duration.ofMillis(200));
                    monitor.deadLetters().forEach(d -> offsets.add(d.getSourceOffset()));
                }
                assertEquals(EVENTS / BAD_EVERY, offsets.size());
                // an idle trainer still reports; a duplicated event would show as a count above GOOD
                monitor.drain();
                assertEquals(GOOD, monitor.latest().getEventsTrained(), "every good event trained exactly once");
            } finally {
                client.cancel().get(1, TimeUnit.MINUTES);
            }
            try (Stream<Path> files = Files.list(dir.resolve("snapshots"))) {
                List<Path> snaps = files.filter(f -> SnapshotFiles.isSnapshotFile(f.getFileName().toString())).sorted().toList();
                assertTrue(snaps.size() >= 5);
                for (Path f : snaps) {
                    SnapshotCodec.decode(Files.readAllBytes(f)); // intact, also across the failure
                }
            }
        } finally {
            producer.shutdownNow();
        }
    }

    private static void awaitTrained(RunMonitor monitor, long events) {
        long deadline = System.currentTimeMillis() + 120_000;
        while (monitor.latest() == null || monitor.latest().getEventsTrained() < events) {
            assertTrue(System.currentTimeMillis() < deadline, "the job did not train " + events + " events in time");
            monitor.poll(Duration.ofMillis(200));
        }
    }

    /** Writes the generated records at {@code perSecond}, every {@code BAD_EVERY}-th a bad one. */
    private static void producePaced(EmbeddedKafka kafka, int perSecond) {
        try (FeedbackProducer p = new FeedbackProducer(kafka.bootstrapServers(), LocalRunner.TOPIC, LocalRunner.DLQ_TOPIC)) {
            GeneratedRecords records = new GeneratedRecords(List.of("finish", "like"), new double[] {0.38, 0.1}, 11, BAD_EVERY);
            long start = System.nanoTime();
            for (long i = 1; i <= EVENTS; i++) {
                p.send(records.next().bytes());
                long ahead = start + i * 1_000_000_000L / perSecond - System.nanoTime();
                if (i % 500 == 0 && ahead > 0) {
                    Thread.sleep(ahead / 1_000_000);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

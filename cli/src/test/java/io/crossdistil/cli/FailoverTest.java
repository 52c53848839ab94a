package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.TrainingMetrics;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * trained every good event exactly once.
 */
class FailoverTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).setConfiguration(ClusterJobs.quickRestarts()).build());

    @Test
    void aLostTaskManagerLosesAndDuplicatesNoTrainedEvent(@InjectMiniCluster MiniCluster cluster, @TempDir Path dir) throws Exception {
        long events = 20_000;
        long badEvery = 200;
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            ClusterJobs.createTopics(kafka);
            try (FeedbackProducer p = new FeedbackProducer(kafka.bootstrapServers(), LocalRunner.TOPIC, LocalRunner.DLQ_TOPIC)) {
                p.produceGenerated(List.of("finish", "like"), new double[] {0.38, 0.1}, 11, events, badEvery, n -> { });
            }
            JobClient client = ClusterJobs.submit(kafka, dir, Map.of("state-backend", "rocksdb", "snapshot-every-events", "2000"));

            try (RunMonitor monitor = new RunMonitor(kafka.bootstrapServers(), LocalRunner.METRICS_TOPIC, LocalRunner.DLQ_TOPIC)) {
                long deadline = System.currentTimeMillis() + 120_000;
                while (monitor.latest() == null || monitor.latest().getEventsTrained() < 6_000) {
                    assertTrue(System.currentTimeMillis() < deadline, "the job did not train 6,000 events in time");
                    monitor.poll(Duration.ofMillis(200));
                }
                long trainedBeforeFailure = monitor.latest().getEventsTrained();
                cluster.terminateTaskManager(0).get(60, TimeUnit.SECONDS);
                cluster.startTaskManager();
                client.getJobExecutionResult().get(5, TimeUnit.MINUTES);
                monitor.drain();

                TrainingMetrics last = monitor.latest();
                assertTrue(last.getFinal$(), "the last report is the end-of-input one");
                assertTrue(trainedBeforeFailure < events - events / badEvery, "the failure came before the end");
                assertEquals(events - events / badEvery, last.getEventsTrained(), "every good event trained exactly once");
                // dead letters are written at least once: a replay may repeat some, none may be missing
                Set<Long> offsets = new HashSet<>();
                for (DeadLetter d : monitor.deadLetters()) {
                    offsets.add(d.getSourceOffset());
                }
                assertEquals(events / badEvery, offsets.size());
            }
            try (Stream<Path> files = Files.list(dir.resolve("snapshots"))) {
                List<Path> snaps = files.filter(f -> SnapshotFiles.isSnapshotFile(f.getFileName().toString())).sorted().toList();
                assertTrue(snaps.size() >= 5);
                for (Path f : snaps) {
                    SnapshotCodec.decode(Files.readAllBytes(f)); // intact, also across the failure
                }
            }
        }
    }
}

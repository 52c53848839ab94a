package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.snapshot.SnapshotFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A bounded job (a replay) stopped with a savepoint part way and started again from it ends, and
 * has then trained every good event exactly once. The restored job's Kafka enumerator finds every
 * partition assigned already; without BoundedKafkaSource it never tells the readers that no more
 * splits will come, and the job never ends (FLINK-31006). A failure and restore from a checkpoint
 * takes the same path. With one trainer, and with two data-parallel trainers on two partitions.
 */
class BoundedRestoreTest {
    private static final long EVENTS = 40_000;
    private static final long BAD_EVERY = 200;
    private static final long GOOD = EVENTS - EVENTS / BAD_EVERY;
    /** A model slow enough that the stop comes long before the end (at about a sixth of the stream here). */
    private static final Map<String, String> SLOW = Map.of("bottom-layers", "512,512", "snapshot-every-events", "2000");

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @ParameterizedTest(name = "{0} trainer(s)")
    @ValueSource(ints = {1, 2})
    void aReplayRestoredFromASavepointEndsHavingTrainedEveryEventOnce(int trainers, @TempDir Path dir) throws Exception {
        Map<String, String> options = new HashMap<>(SLOW);
        options.put("trainers", Integer.toString(trainers));
        options.put("decode-parallelism", Integer.toString(trainers));
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            ClusterJobs.createTopics(kafka, trainers);
            try (FeedbackProducer p = new FeedbackProducer(kafka.bootstrapServers(), LocalRunner.TOPIC, LocalRunner.DLQ_TOPIC)) {
                GeneratedRecords records = new GeneratedRecords(List.of("finish", "like"), new double[] {0.38, 0.1}, 3, BAD_EVERY);
                for (long i = 0; i < EVENTS; i++) {
                    p.send((int) (i / 100 % trainers), records.next().bytes()); // blocks of 100 per partition
                }
            }
            JobClient first = null;
            JobClient second = null;
            try (RunMonitor monitor = new RunMonitor(kafka.bootstrapServers(), LocalRunner.METRICS_TOPIC, LocalRunner.DLQ_TOPIC)) {
                first = ClusterJobs.submit(kafka, dir, options);
                long deadline = System.currentTimeMillis() + 120_000;
                while (monitor.latest() == null || monitor.latest().getEventsTrained() < 1_000) {
                    assertTrue(System.currentTimeMillis() < deadline, "the first run did not train 1,000 events in time");
                    monitor.poll(Duration.ofMillis(100));
                }
                // fails if the first run has ended already: then there would be nothing left to restore into
                String savepoint = first.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(),
                        SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
                ModelSnapshot atStop = SnapshotFiles.read(dir.resolve("snapshots"));
                assertTrue(atStop.getEventsTrained() < GOOD / 2, "stopped part way: " + atStop.getEventsTrained());

                second = ClusterJobs.submit(kafka, dir, options, savepoint);
                second.getJobExecutionResult().get(3, TimeUnit.MINUTES); // the restored replay ends
                assertEquals(GOOD, SnapshotFiles.read(dir.resolve("snapshots")).getEventsTrained(),
                        "every good event trained exactly once over both runs");
                Set<String> deadLetters = new HashSet<>();
                deadline = System.currentTimeMillis() + 60_000;
                while (deadLetters.size() < EVENTS / BAD_EVERY && System.currentTimeMillis() < deadline) {
                    monitor.poll(Duration.ofMillis(200));
                    monitor.deadLetters().forEach(d -> deadLetters.add(d.getSourcePartition() + ":" + d.getSourceOffset()));
                }
                assertEquals(EVENTS / BAD_EVERY, deadLetters.size(), "every bad record dead-lettered");
            } finally {
                // a run that did not end (the failure this test is for) must not hold the cluster's slots
                for (JobClient job : new JobClient[] {first, second}) {
                    if (job != null && !job.getJobStatus().get(1, TimeUnit.MINUTES).isGloballyTerminalState()) {
                        job.cancel().get(1, TimeUnit.MINUTES);
                    }
                }
            }
        }
    }
}

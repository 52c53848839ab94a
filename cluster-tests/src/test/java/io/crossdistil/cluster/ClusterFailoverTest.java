package io.crossdistil.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.ModelSnapshot;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
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
    private static final long GOOD = FailoverRun.GOOD;
    /** A count-based snapshot lands exactly on the last event; time-based ones would differ between runs. */
    private static final Map<String, String> OPTIONS = Map.of("snapshot-every-events", Long.toString(GOOD / 10), "decode-parallelism", "1");

    private static ClusterFixture fixture;
    private static StandaloneFlinkCluster cluster;
    private static ModelSnapshot reference;

    @BeforeAll
    static void startClusterAndRunReference() throws Exception {
        fixture = ClusterFixture.start("cluster-work", Map.of(), 1);
        cluster = fixture.cluster();
        reference = fixture.reference(1, OPTIONS);
    }

    @AfterAll
    static void stopEverything() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void killedTaskManagersLoseNothingRepeatNothingAndChangeNoBit() throws Exception {
        FailoverRun run = run("kills");
        Random random = new Random(FailoverRun.SEED);
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
                restarts = FailoverRun.awaitRestarts(cluster, run.jobId, kill, Duration.ofMinutes(2));
                System.out.printf("kill -9 TaskManager #%d after about %,d trained events; the job restarted %d times%n", kill, trained, restarts);
            }
            producing.get(5, TimeUnit.MINUTES);
            ModelSnapshot last = run.awaitLastSnapshot(Duration.ofMinutes(5));
            assertTrue(restarts >= 3, "the job restarted after each kill (" + restarts + " restarts)");
            run.cancelAndCheck();
            FailoverRun.assertSameModel(reference, last);
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
        FailoverRun run = run("broker-restart");
        // production paced, so that the broker goes down while records are still written and read
        Future<?> producing = run.produceInBackground(4_000);
        run.submit();
        run.awaitTrained(GOOD / 3, Duration.ofMinutes(3));
        long trained = run.trained();
        assertTrue(trained < GOOD, "the broker restart came before the end");
        fixture.kafka().restart(Duration.ofSeconds(5));
        System.out.printf("broker restarted after about %,d trained events; the job restarted %d times%n", trained,
                cluster.rest().restarts(run.jobId));
        producing.get(5, TimeUnit.MINUTES);
        ModelSnapshot last = run.awaitLastSnapshot(Duration.ofMinutes(5));
        run.cancelAndCheck();
        FailoverRun.assertSameModel(reference, last);
    }

    private static FailoverRun run(String name) throws Exception {
        return fixture.run(name, 1, OPTIONS);
    }
}

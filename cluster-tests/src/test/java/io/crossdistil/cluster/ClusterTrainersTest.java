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
 * Two data-parallel trainers (docs/scaling.md) on a real standalone cluster of two TaskManagers with
 * one slot each, so each trainer runs in a JVM of its own and their updates cross processes through
 * the exchange topic. An unfailed run is the reference; then the same stream is trained while a
 * TaskManager is killed with SIGKILL twice, and the final snapshot must equal the reference's byte
 * for byte, with every good event trained once and every bad record dead-lettered once.
 */
class ClusterTrainersTest {
    private static final long GOOD = FailoverRun.GOOD;
    /**
     * Two partitions of 31,680 good events each, 64 a batch, 5 steps a round: 99 rounds of 640 events
     * end exactly at the last event, and a snapshot every 9 rounds lands on it.
     */
    private static final Map<String, String> OPTIONS = Map.of("trainers", "2", "round-steps", "5",
            "snapshot-every-events", Long.toString(9 * 640));

    private static ClusterFixture fixture;
    private static StandaloneFlinkCluster cluster;
    private static ModelSnapshot reference;

    @BeforeAll
    static void startClusterAndRunReference() throws Exception {
        fixture = ClusterFixture.start("cluster-trainers-work", Map.of("taskmanager.numberOfTaskSlots", "1"), 2);
        cluster = fixture.cluster();
        reference = fixture.reference(2, OPTIONS);
        // a snapshot every 9 rounds, each written once (by the first trainer, right after a merge)
        assertEquals(GOOD / (9 * 640), reference.getVersion(), "snapshot versions");
    }

    @AfterAll
    static void stopEverything() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void twoTrainersKilledTwiceLoseNothingRepeatNothingAndChangeNoBit() throws Exception {
        FailoverRun run = run("kills");
        Random random = new Random(FailoverRun.SEED);
        Future<?> producing = run.produceInBackground(1_500);
        run.submit();
        long restarts = 0;
        for (int kill = 1; kill <= 2; kill++) {
            run.awaitTrained(kill * GOOD / 4 + random.nextInt((int) (GOOD / 8)), Duration.ofMinutes(3));
            Thread.sleep(random.nextInt(2_000));
            long trained = run.trained();
            assertTrue(trained < GOOD, "kill " + kill + " came before the end");
            int victim = random.nextInt(cluster.taskManagers());
            cluster.killTaskManager(victim);
            cluster.startTaskManager();
            restarts = FailoverRun.awaitRestarts(cluster, run.jobId, kill, Duration.ofMinutes(2));
            System.out.printf("kill -9 of TaskManager %d of 2 after about %,d trained events; the job restarted %d times%n", victim,
                    trained, restarts);
        }
        producing.get(5, TimeUnit.MINUTES);
        ModelSnapshot last = run.awaitLastSnapshot(Duration.ofMinutes(5));
        assertTrue(restarts >= 2, "the job restarted after each kill (" + restarts + " restarts)");
        run.cancelAndCheck();
        FailoverRun.assertSameModel(reference, last);
    }

    private static FailoverRun run(String name) throws Exception {
        return fixture.run(name, 2, OPTIONS);
    }
}

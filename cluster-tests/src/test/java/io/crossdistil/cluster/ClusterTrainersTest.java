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
 * for byte, with as many good events trained (none twice) and every bad record dead-lettered once.
 *
 * <p>The records go to the two partitions in blocks of 100, so the trainers' event times move
 * apart and together, and their shares of each round (docs/scaling.md) differ from round to round.
 * Where the stream stops, the trainers stop a little short of its last event (a round's events
 * are trained once every trainer has read its share of the next), at the same point in every run.
 */
class ClusterTrainersTest {
    private static final long GOOD = FailoverRun.GOOD;
    /** 64 a batch, 5 steps a round (640 events), a snapshot every 9 rounds. */
    private static final Map<String, String> OPTIONS = Map.of("trainers", "2", "round-steps", "5",
            "snapshot-every-events", Long.toString(9 * 640));

    private static ClusterFixture fixture;
    private static StandaloneFlinkCluster cluster;
    private static ModelSnapshot reference;
    private static long referenceTrained;

    @BeforeAll
    static void startClusterAndRunReference() throws Exception {
        fixture = ClusterFixture.start("cluster-trainers-work", Map.of("taskmanager.numberOfTaskSlots", "1"), 2);
        cluster = fixture.cluster();
        FailoverRun run = run("reference");
        run.produce(0);
        run.submit();
        reference = run.awaitSettled(Duration.ofSeconds(10), Duration.ofMinutes(5));
        referenceTrained = run.trained();
        System.out.printf("reference: %,d of %,d good events trained where the stream stops, snapshot version %d%n", referenceTrained,
                GOOD, reference.getVersion());
        // short of the end by a few rounds at most; a snapshot every 9 rounds, each written once (by the first trainer, after a merge)
        assertTrue(referenceTrained > GOOD - 4 * 640 && referenceTrained <= GOOD, "trained " + referenceTrained + " of " + GOOD);
        assertEquals(reference.getEventsTrained() / (9 * 640), reference.getVersion(), "snapshot versions");
        run.cancelAndCheck(referenceTrained);
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
            assertTrue(trained < referenceTrained, "kill " + kill + " came before the end");
            int victim = random.nextInt(cluster.taskManagers());
            cluster.killTaskManager(victim);
            cluster.startTaskManager();
            restarts = FailoverRun.awaitRestarts(cluster, run.jobId, kill, Duration.ofMinutes(2));
            System.out.printf("kill -9 of TaskManager %d of 2 after about %,d trained events; the job restarted %d times%n", victim,
                    trained, restarts);
        }
        producing.get(5, TimeUnit.MINUTES);
        ModelSnapshot last = run.awaitSnapshot(reference.getVersion(), Duration.ofMinutes(5));
        run.awaitTrained(referenceTrained, Duration.ofMinutes(2));
        assertTrue(restarts >= 2, "the job restarted after each kill (" + restarts + " restarts)");
        run.cancelAndCheck(referenceTrained);
        FailoverRun.assertSameModel(reference, last);
    }

    private static FailoverRun run(String name) throws Exception {
        return fixture.run(name, 2, OPTIONS);
    }
}

package io.crossdistil.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.cli.RunMonitor;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/compose.yaml for real, on local base images (docker/local-bases.sh): Kafka, the topics,
 * a JobManager in application mode and a TaskManager (RocksDB, checkpoints and snapshots on a
 * volume), the generator with bad records. Checked from outside, through Kafka (the trainer's
 * progress reports and the dead-letter topic, read committed) and the snapshot volume (read by
 * the tools image's {@code snapshot show}); the TaskManager container is killed mid-run and started
 * again, and the counts must stay exact. Everything started is removed at the end, images and
 * volumes included (a Docker engine started here goes with its data).
 */
class DockerComposeTest {
    private static final String PROJECT = "crossdistil-docker-test";
    private static final long EVENTS = 128_000;
    private static final long BAD_EVERY = 1_000;
    private static final long BAD = EVENTS / BAD_EVERY;
    private static final long GOOD = EVENTS - BAD;
    /** Divides GOOD, so that the last good event completes a step and a snapshot follows it. */
    private static final int BATCH = 64;
    /** A divisor of GOOD and a multiple of BATCH: a snapshot is written exactly after the last good event. */
    private static final long SNAPSHOT_EVERY = GOOD / 6;
    private static final Duration BUILD = Duration.ofMinutes(20);
    /** What docker/local-bases.sh builds. */
    private static final String[] LOCAL_BASES = {"crossdistil-local/jre:17", "crossdistil-local/flink:2.2.1", "crossdistil-local/kafka:4.2.0",
        "crossdistil-local/build"};

    @Test
    void composeUpTrainsEveryGoodRecordDeadLettersEveryBadOneAndSurvivesAKilledTaskManager(@TempDir Path work) throws Exception {
        Path root = Path.of(System.getProperty("crossdistil.root")).toRealPath();
        try (DockerEngine engine = DockerEngine.startIfNeeded(work)) {
            Map<String, String> env = new LinkedHashMap<>();
            long start = System.nanoTime();
            // what is there before is left there: only what this test builds is removed at the end
            List<String> built = new ArrayList<>();
            for (String image : LOCAL_BASES) {
                if (engine.tryDocker(Duration.ofMinutes(1), "image", "inspect", image).code() != 0) {
                    built.add(image);
                }
            }
            String bases = engine.run(BUILD, root.resolve("docker/local-bases.sh").toString());
            for (String line : bases.lines().toList()) {
                if (line.matches("[A-Z_]+_IMAGE=\\S+")) {
                    env.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
                }
            }
            assertEquals(4, env.size(), "the images local-bases.sh prints:\n" + bases);
            int kafkaPort = freePort();
            int uiPort = freePort();
            env.put("KAFKA_HOST_PORT", Integer.toString(kafkaPort));
            env.put("FLINK_UI_PORT", Integer.toString(uiPort));
            env.put("EVENTS", Long.toString(EVENTS));
            env.put("BAD_EVERY", Long.toString(BAD_EVERY));
            // small batches (a slower trainer: the kill falls mid-run), a snapshot after the last event
            assertEquals(0, GOOD % BATCH);
            assertEquals(0, SNAPSHOT_EVERY % BATCH);
            env.put("JOB_OPTIONS", "--batch-size " + BATCH + " --snapshot-every-events " + SNAPSHOT_EVERY
                    + " --snapshot-every-seconds 0 --metrics-every-seconds 1 --checkpoint-interval-ms 2000");
            String compose = root.resolve("docker/compose.yaml").toString();
            long killedAt;
            boolean passed = false;
            try {
                engine.compose(env, BUILD, "-p", PROJECT, "-f", compose, "build");
                System.out.printf("docker-tests: local bases and images built in %.0f s%n", (System.nanoTime() - start) / 1e9);
                engine.compose(env, Duration.ofMinutes(10), "-p", PROJECT, "-f", compose, "up", "-d");
                try (RunMonitor monitor = new RunMonitor("localhost:" + kafkaPort, "feedback-metrics", "feedback-dlq")) {
                    awaitTrained(monitor, GOOD / 4, Duration.ofMinutes(10));
                    String taskManager = engine.compose(env, Duration.ofMinutes(1), "-p", PROJECT, "-f", compose, "ps", "-q", "taskmanager").trim();
                    engine.docker(Duration.ofMinutes(1), "kill", taskManager);
                    killedAt = trained(monitor);
                    assertEquals("false", engine.docker(Duration.ofMinutes(1), "inspect", "-f", "{{.State.Running}}", taskManager).trim());
                    assertTrue(killedAt < GOOD, "the kill came before the end (" + killedAt + " trained)");
                    Thread.sleep(5_000);
                    engine.docker(Duration.ofMinutes(1), "start", taskManager);
                    awaitTrained(monitor, GOOD, Duration.ofMinutes(10));

                    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                    while (monitor.deadLetters().size() < BAD && System.nanoTime() < deadline) {
                        monitor.poll(Duration.ofMillis(200));
                    }
                    Thread.sleep(6_000); // more checkpoints: a repeated record would show up now
                    monitor.drain();
                    assertEquals(GOOD, trained(monitor), "every good record trained, none twice");
                    Set<Long> offsets = new HashSet<>();
                    for (DeadLetter d : monitor.deadLetters()) {
                        offsets.add(d.getSourcePartition() * 1_000_000_000L + d.getSourceOffset());
                    }
                    assertEquals(BAD, offsets.size(), "every bad record dead-lettered");
                    assertEquals(BAD, monitor.deadLetters().size(), "no dead letter twice");
                }
                assertTrue(recoveredFailures(uiPort) >= 1, "the job recovered from the killed TaskManager");

                // the snapshots on the volume, as a user reads them
                String show = engine.docker(Duration.ofMinutes(2), "run", "--rm", "-v", PROJECT + "_data:/data", "crossdistil-tools",
                        "snapshot", "show", "/data/snapshots");
                Matcher m = Pattern.compile("events trained\\s+([0-9,.]+)").matcher(show);
                assertTrue(m.find(), show);
                assertEquals(GOOD, Long.parseLong(m.group(1).replaceAll("[,.]", "")), "the last snapshot's events:\n" + show);
                assertTrue(show.contains("checksum") && show.contains("(verified)"), show);
                System.out.printf("docker-tests: %,d good records trained, %,d dead-lettered, a TaskManager killed at %,d; %.0f s in all%n",
                        GOOD, BAD, killedAt, (System.nanoTime() - start) / 1e9);
                passed = true;
            } finally {
                if (!passed) {
                    // what the services said, for the failure's reader
                    System.out.println(engine.tryCompose(env, Duration.ofMinutes(2), "-p", PROJECT, "-f", compose, "logs", "--no-color", "--tail", "60").output());
                }
                // containers, the data volume and the network; then the images this test built
                engine.tryCompose(env, Duration.ofMinutes(5), "-p", PROJECT, "-f", compose, "down", "-v", "--remove-orphans");
                engine.tryDocker(Duration.ofMinutes(2), "rmi", "-f", "crossdistil-job", "crossdistil-tools");
                // the builder's intermediate image of the build stage, and the local bases
                engine.tryDocker(Duration.ofMinutes(2), "image", "prune", "-f", "--filter", "label=io.crossdistil.stage=build");
                for (String image : built) {
                    engine.tryDocker(Duration.ofMinutes(2), "rmi", "-f", image);
                }
            }
        }
    }

    private static long trained(RunMonitor monitor) {
        return monitor.latest() == null ? 0 : monitor.latest().getEventsTrained();
    }

    private static void awaitTrained(RunMonitor monitor, long events, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (trained(monitor) < events) {
            assertTrue(System.nanoTime() < deadline, "not " + events + " trained events in time (" + trained(monitor) + ")");
            monitor.poll(Duration.ofMillis(200));
        }
    }

    /**
     * The failures the running job recovered from, from Flink's REST API: the entries of its
     * exception history (a lost TaskManager is one), the job RUNNING again.
     */
    private static long recoveredFailures(int uiPort) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String jobs = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + uiPort + "/jobs/overview")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher id = Pattern.compile("\"jid\":\"([0-9a-f]+)\"").matcher(jobs);
        assertTrue(id.find() && jobs.contains("\"state\":\"RUNNING\""), "one running job: " + jobs);
        String history = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + uiPort + "/jobs/" + id.group(1)
                + "/exceptions")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return Pattern.compile("\"exceptionName\"").matcher(history).results().count();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

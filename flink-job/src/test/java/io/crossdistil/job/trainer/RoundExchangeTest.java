package io.crossdistil.job.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.parallel.RoundUpdate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** The trainers' exchange on a real broker. */
class RoundExchangeTest {
    private static final String TOPIC = "feedback-exchange";
    private static final long RUN = 7;

    private static byte[] update(long round, int replica) {
        return new RoundUpdate(round, replica, false, 0, new int[0], List.of(), List.of(), new double[0][], new double[0][], new double[0][], new int[0],
                new double[0], List.of()).encode(DataType.FLOAT);
    }

    /** A topic made beforehand with a small message limit: the trainer's failure says which limit and how to raise it. */
    @Test
    void anUpdateTheTopicCannotTakeFailsSayingHowToRaiseTheLimit() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(); Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("max.message.bytes", "2000")))).all().get();
            byte[] large = new RoundUpdate(0, 0, false, 0, new int[0], List.of(), List.of(), new double[0][], new double[0][], new double[][] {new double[1_000]},
                    new int[0], new double[0], List.of()).encode(DataType.FLOAT);
            try (RoundExchange exchange = exchange(kafka, -1)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> exchange.publish(0, 0, large));
                assertTrue(e.getMessage().startsWith("the update of round 0 of trainer 0 is " + large.length + " bytes, more than the"
                        + " exchange topic " + TOPIC + " takes (max.message.bytes): raise it"), e.getMessage());
            }
        }
    }

    private static RoundExchange exchange(EmbeddedKafka kafka, long resumeOffset) {
        return new RoundExchange(kafka.bootstrapServers(), TOPIC, Map.of(), RUN, resumeOffset, System.currentTimeMillis(), DataType.FLOAT);
    }

    /**
     * A trainer restored from a checkpoint older than the exchange topic's retention: the updates
     * after its resume offset are deleted. Its peers, restored from the same checkpoint, send their
     * updates of its unfinished round again, and it must read them, also those sent before it first
     * polls (Kafka's default reset, to the end, skipped them and the trainer waited for ever).
     */
    @Test
    void aTrainerWhoseResumeOffsetIsPastRetentionReadsThePeersUpdatesSentAgain() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic(TOPIC, 1, false);
            try (RoundExchange before = exchange(kafka, -1)) {
                for (long round = 0; round < 4; round++) {
                    before.publish(round, 0, update(round, 0));
                    before.publish(round, 1, update(round, 1));
                }
            }
            TopicPartition p = new TopicPartition(TOPIC, 0);
            kafka.admin().deleteRecords(Map.of(p, RecordsToDelete.beforeOffset(8))).all().get(); // retention took them all
            try (RoundExchange peer = exchange(kafka, 2)) {
                peer.publish(1, 1, update(1, 1)); // the peer's round 1, sent again after the restore
            }
            try (RoundExchange restored = exchange(kafka, 2)) {
                List<RoundUpdate> got = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> restored.await(1, List.of(1), Long.MAX_VALUE));
                assertEquals(1, got.get(0).round());
                assertEquals(1, got.get(0).replica());
            }
        }
    }

    /**
     * A trainer waiting for a round leaves the wait, with the round incomplete, once a peer has
     * taken a checkpoint it has not taken itself (the peer may be stopped at that barrier), and
     * only then; the round's updates still count when they come.
     */
    @Test
    void aWaitEndsWhenAPeerHasTakenACheckpointThisTrainerHasNot() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic(TOPIC, 1, false);
            try (RoundExchange trainer0 = exchange(kafka, -1); RoundExchange trainer1 = exchange(kafka, -1)) {
                trainer0.publish(0, 0, update(0, 0));
                trainer1.publishCheckpoint(5, 1);
                // taken already: the wait goes on until the round is complete
                CompletableFuture<List<RoundUpdate>> waiting = CompletableFuture.supplyAsync(() -> trainer0.await(0, List.of(0, 1), 5));
                Thread.sleep(1_000);
                assertFalse(waiting.isDone(), "a checkpoint this trainer has taken does not end the wait");
                trainer1.publish(0, 1, update(0, 1));
                assertEquals(2, waiting.get(30, TimeUnit.SECONDS).size());

                trainer0.publish(1, 0, update(1, 0));
                trainer1.publishCheckpoint(6, 1);
                assertNull(assertTimeoutPreemptively(Duration.ofSeconds(30), () -> trainer0.await(1, List.of(0, 1), 5)),
                        "trainer 1 took checkpoint 6, trainer 0 only 5");
                trainer1.publish(1, 1, update(1, 1));
                List<RoundUpdate> got = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> trainer0.await(1, List.of(0, 1), 6));
                assertEquals(List.of(0, 1), got.stream().map(RoundUpdate::replica).toList());
            }
        }
    }
}

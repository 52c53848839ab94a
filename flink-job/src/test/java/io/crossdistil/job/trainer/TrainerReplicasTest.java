package io.crossdistil.job.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.job.io.SnapshotMessage;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.snapshot.SnapshotCodec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Two data-parallel trainer subtasks with Flink's operator test harness, exchanging their rounds through a real broker. */
class TrainerReplicasTest {
    private static final int EVENTS = 200;

    private static OneInputStreamOperatorTestHarness<Example, SnapshotMessage> replica(EmbeddedKafka kafka, String topic, int index)
            throws Exception {
        TrainerSettings.Exchange x = new TrainerSettings.Exchange(2, 1, kafka.bootstrapServers(), topic, Map.of(), 11,
                System.currentTimeMillis());
        TrainerSettings settings = new TrainerSettings(TrainerOperatorTest.MODEL, 0, 0, 3600, 500, 1, x);
        return new OneInputStreamOperatorTestHarness<>(new TrainerOperator(settings), 2, 2, index);
    }

    /** Feeds {@code events} from {@code from} on, then ends the input, on a thread of its own (a replica waits for its peer). */
    private static CompletableFuture<Void> run(OneInputStreamOperatorTestHarness<Example, SnapshotMessage> h, List<Example> events, int from) {
        return CompletableFuture.runAsync(() -> {
            try {
                for (Example e : events.subList(from, events.size())) {
                    h.processElement(new StreamRecord<>(e));
                }
                h.endInput();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static ModelSnapshot last(OneInputStreamOperatorTestHarness<Example, SnapshotMessage> h) {
        List<SnapshotMessage> out = h.extractOutputValues();
        return SnapshotCodec.decode(out.get(out.size() - 1).bytes);
    }

    /**
     * A stop-with-savepoint stops every source at the savepoint's barrier. Replica 1 took its
     * barrier half way through round 0; replica 0 completed round 0 before its own and waits for
     * replica 1's round 0, which never comes: it must leave the wait, keep its input queued and
     * reach its barrier, or the savepoint never completes. Restored from the two checkpoints, the
     * run ends with the model of a run never stopped, bit for bit.
     */
    @Test
    void aTrainerWaitingForItsPeerReachesItsBarrierWhenThePeerIsStoppedAtItsOwn() throws Exception {
        List<Example> input0 = TrainerOperatorTest.events(EVENTS);
        List<Example> input1 = TrainerOperatorTest.events(2 * EVENTS).subList(EVENTS, 2 * EVENTS);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            ModelSnapshot unstopped;
            kafka.createTopic("exchange-a", 1, false);
            try (var h0 = replica(kafka, "exchange-a", 0); var h1 = replica(kafka, "exchange-a", 1)) {
                h0.open();
                h1.open();
                CompletableFuture.allOf(run(h0, input0, 0), run(h1, input1, 0)).get(2, TimeUnit.MINUTES);
                unstopped = last(h0);
            }
            assertEquals(2 * EVENTS, unstopped.getEventsTrained());

            kafka.createTopic("exchange-b", 1, false);
            OperatorSubtaskState at0;
            OperatorSubtaskState at1;
            try (var h0 = replica(kafka, "exchange-b", 0); var h1 = replica(kafka, "exchange-b", 1)) {
                h0.open();
                h1.open();
                for (Example e : input1.subList(0, 16)) {
                    h1.processElement(new StreamRecord<>(e));
                }
                at1 = h1.snapshot(1, 0);
                // 32 events complete replica 0's round 0; the other 32 come before its barrier
                assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                    for (Example e : input0.subList(0, 64)) {
                        h0.processElement(new StreamRecord<>(e));
                    }
                }, "replica 0 waited for a round its stopped peer cannot finish");
                at0 = h0.snapshot(1, 0);
            }
            try (var h0 = replica(kafka, "exchange-b", 0); var h1 = replica(kafka, "exchange-b", 1)) {
                h0.initializeState(at0);
                h1.initializeState(at1);
                h0.open();
                h1.open();
                CompletableFuture.allOf(run(h0, input0, 64), run(h1, input1, 16)).get(2, TimeUnit.MINUTES);
                ModelSnapshot restored = last(h0);
                assertEquals(unstopped.getEventsTrained(), restored.getEventsTrained());
                for (int t = 0; t < unstopped.getTensors().size(); t++) {
                    assertEquals(unstopped.getTensors().get(t).getValues(), restored.getTensors().get(t).getValues(),
                            unstopped.getTensors().get(t).getName());
                }
            }
        }
    }
}

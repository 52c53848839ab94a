package io.crossdistil.job.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.Wire;
import io.crossdistil.job.io.MetricsMessage;
import io.crossdistil.job.io.SnapshotMessage;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.nd4j.Nd4jThreads;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.metrics.groups.InternalOperatorMetricGroup;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;
import org.apache.flink.runtime.metrics.util.InterceptingTaskMetricGroup;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** The trainer operator's state, with Flink's own operator test harness. */
class TrainerOperatorTest {
    static final Map<String, String> MODEL = Map.of("hash-rows", "4096", "batch-size", "64", "bottom-layers", "32",
            "tower-layers", "8", "quadruplets-per-step", "16", "marginal-pairs-per-step", "16", "reservoir-capacity", "500",
            "features", "user_id,item_id,author,category", "dense-features", "x");

    static List<Example> events(int n) {
        ModelConfig cfg = ModelConfig.fromMap(MODEL);
        return SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, new double[] {0.4, 0.15}, 9, 2_000, 500), n);
    }

    static OneInputStreamOperatorTestHarness<Example, SnapshotMessage> harness(Map<String, String> model) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new TrainerOperator(new TrainerSettings(model, 200, 0, 3600, 500, 1)));
    }

    private static List<long[]> versionsAndCounts(List<SnapshotMessage> out) {
        List<long[]> r = new ArrayList<>();
        for (SnapshotMessage m : out) {
            ModelSnapshot s = SnapshotCodec.decode(m.bytes);
            r.add(new long[] {s.getVersion(), s.getEventsTrained()});
        }
        return r;
    }

    /** The operator's metrics, by name; those of a group as {@code key.value.name}. */
    private static final class RecordingMetrics extends InterceptingOperatorMetricGroup {
        private final Map<String, Metric> inGroups = new java.util.HashMap<>();

        @Override
        public MetricGroup addGroup(String key, String value) {
            return new InterceptingOperatorMetricGroup() {
                @Override
                protected void addMetric(String name, Metric metric) {
                    inGroups.put(key + "." + value + "." + name, metric);
                }
            };
        }

        @Override
        public Metric get(String name) {
            Metric m = super.get(name);
            return m != null ? m : inGroups.get(name);
        }
    }

    /** A trainer with the test model in {@code env}. */
    private static OneInputStreamOperatorTestHarness<Example, SnapshotMessage> harnessIn(MockEnvironment env) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new TrainerOperator(new TrainerSettings(MODEL, 200, 0, 3600, 500, 1)), env);
    }

    private static MockEnvironment environmentReportingTo(RecordingMetrics metrics) {
        InterceptingTaskMetricGroup taskMetrics = new InterceptingTaskMetricGroup() {
            @Override
            public InternalOperatorMetricGroup getOrAddOperator(OperatorID id, String name, Map<String, String> additionalVariables) {
                return metrics;
            }
        };
        return new MockEnvironmentBuilder().setMetricGroup(taskMetrics).build();
    }

    /** Each training step's wall time goes into the stepMicros histogram, one value a step; events that only join a batch add none; and the model's staleness is a gauge. */
    @Test
    void everyStepsWallTimeIsInTheStepHistogram() throws Exception {
        RecordingMetrics operatorMetrics = new RecordingMetrics();
        try (MockEnvironment env = environmentReportingTo(operatorMetrics);
                OneInputStreamOperatorTestHarness<Example, SnapshotMessage> h = harnessIn(env)) {
            h.open();
            Gauge<?> lag = (Gauge<?>) operatorMetrics.get("eventTimeLagMillis");
            assertEquals(-1L, lag.getValue(), "nothing trained yet");
            List<Example> events = events(3 * 64 + 10);
            long start = System.nanoTime();
            for (Example e : events) {
                h.processElement(new StreamRecord<>(e));
            }
            double elapsedMicros = (System.nanoTime() - start) / 1e3;
            Histogram steps = (Histogram) operatorMetrics.get("stepMicros");
            assertEquals(3, steps.getCount());
            assertEquals(3L, ((Gauge<?>) operatorMetrics.get("steps")).getValue());
            assertTrue(steps.getStatistics().getMin() > 0, "a step takes time");
            // the three steps are timed within the loop that made them
            assertTrue(3 * steps.getStatistics().getMean() <= elapsedMicros, steps.getStatistics().getMean() + " us a step, " + elapsedMicros + " us in all");
            // the newest event of the three steps, not of the 10 still waiting for a batch
            long newestTrained = events.subList(0, 3 * 64).stream().mapToLong(e -> e.eventTime).max().orElseThrow();
            h.setProcessingTime(newestTrained + 5_000);
            assertEquals(5_000L, lag.getValue());
        }
    }

    /** Each task's distillation share is a gauge under its task group, and it follows the gate. */
    @Test
    void eachTasksDistillationShareIsAGauge() throws Exception {
        RecordingMetrics operatorMetrics = new RecordingMetrics();
        try (MockEnvironment env = environmentReportingTo(operatorMetrics);
                OneInputStreamOperatorTestHarness<Example, SnapshotMessage> h = harnessIn(env)) {
            h.open();
            Gauge<?> like = (Gauge<?>) operatorMetrics.get("task.like.distillationShare");
            assertEquals(0.0, (Double) like.getValue(), 0, "shut before any evidence");
            for (Example e : events(5 * 64)) {
                h.processElement(new StreamRecord<>(e));
            }
            double share = (Double) like.getValue();
            // the limit rises from 0 by 64 / 160,000 a step at the most
            assertTrue(share > 0 && share <= 5 * 64 / 160_000.0 + 1e-12, "share after five steps: " + share);
        }
    }

    /** The trainer sets ND4J's threads for its process before its model makes an array: 1 by default, or as configured. */
    @Test
    void theTrainerSetsNd4jsThreadsForItsProcess() throws Exception {
        int blas = Nd4jThreads.blasThreads();
        try {
            Nd4j.factory().blas().setMaxThreads(2);
            try (OneInputStreamOperatorTestHarness<Example, SnapshotMessage> h = harness(MODEL)) {
                h.open();
                assertEquals(1, Nd4jThreads.blasThreads());
                assertEquals(1, Nd4jThreads.opThreads());
            }
            try (OneInputStreamOperatorTestHarness<Example, SnapshotMessage> h = new OneInputStreamOperatorTestHarness<>(
                    new TrainerOperator(new TrainerSettings(MODEL, 200, 0, 3600, 500, 0)))) {
                Nd4j.factory().blas().setMaxThreads(2);
                h.open();
                assertEquals(2, Nd4jThreads.blasThreads(), "0 leaves ND4J's own count");
            }
        } finally {
            Nd4j.factory().blas().setMaxThreads(blas);
        }
    }

    @Test
    void restoringMidBatchContinuesBitForBit() throws Exception {
        List<Example> events = events(1_000);

        OneInputStreamOperatorTestHarness<Example, SnapshotMessage> straight = harness(MODEL);
        straight.open();
        for (Example e : events) {
            straight.processElement(e, e.eventTime);
        }
        straight.endInput();
        byte[] expected = ((TrainerOperator) straight.getOperator()).trainer().toBytes();
        List<long[]> expectedSnapshots = versionsAndCounts(straight.extractOutputValues());
        straight.close();

        // 500 events: 7 full batches of 64 and 52 events of a partial batch when the checkpoint is taken
        OneInputStreamOperatorTestHarness<Example, SnapshotMessage> first = harness(MODEL);
        first.open();
        for (Example e : events.subList(0, 500)) {
            first.processElement(e, e.eventTime);
        }
        assertEquals(500 % 64, ((TrainerOperator) first.getOperator()).trainer().pendingEvents());
        OperatorSubtaskState state = first.snapshot(1, 1);
        List<SnapshotMessage> before = new ArrayList<>(first.extractOutputValues());
        first.close();

        OneInputStreamOperatorTestHarness<Example, SnapshotMessage> second = harness(MODEL);
        second.initializeState(state);
        second.open();
        assertEquals(500 % 64, ((TrainerOperator) second.getOperator()).trainer().pendingEvents(), "the partial batch is state");
        for (Example e : events.subList(500, 1_000)) {
            second.processElement(e, e.eventTime);
        }
        second.endInput();
        byte[] restored = ((TrainerOperator) second.getOperator()).trainer().toBytes();
        before.addAll(second.extractOutputValues());
        second.close();

        assertEquals(1_000, ((TrainerOperator) straight.getOperator()).trainer().eventsTrained());
        assertArrayEquals(expected, restored, "model, optimizer, reservoirs, generator and metrics must match the uninterrupted run");
        List<long[]> got = versionsAndCounts(before);
        assertEquals(expectedSnapshots.size(), got.size());
        for (int i = 0; i < got.size(); i++) {
            assertArrayEquals(expectedSnapshots.get(i), got.get(i), "snapshot " + i + ": version and events trained");
        }
        assertEquals(4, got.size(), "at the first step boundary past every 200 events (256, 512, 768) and at the end");
    }

    @Test
    void anIdleStreamStillGetsItsLastReportAndTimedSnapshot() throws Exception {
        // snapshots every 5 s of processing time, reports every second
        OneInputStreamOperatorTestHarness<Example, SnapshotMessage> h =
                new OneInputStreamOperatorTestHarness<>(new TrainerOperator(new TrainerSettings(MODEL, 0, 5, 1, 500, 1)));
        h.setProcessingTime(10_000);
        h.open();
        List<Example> events = events(128);
        for (Example e : events.subList(0, 64)) {
            h.processElement(e, e.eventTime);
        }
        h.setProcessingTime(10_500);
        for (Example e : events.subList(64, 128)) {
            h.processElement(e, e.eventTime); // a second step, too soon for a report
        }
        assertEquals(List.of(64L), reportedCounts(h));

        h.setProcessingTime(11_000); // no more events: the timer reports the second step
        assertEquals(List.of(64L, 128L), reportedCounts(h));
        h.setProcessingTime(12_000); // nothing new: no report
        assertEquals(List.of(64L, 128L), reportedCounts(h));
        assertTrue(h.extractOutputValues().isEmpty());

        h.setProcessingTime(15_000); // 5 s since the start: a snapshot of what was trained
        assertArrayEquals(new long[] {1, 128}, versionsAndCounts(h.extractOutputValues()).get(0));
        h.setProcessingTime(21_000); // nothing new: no second snapshot
        assertEquals(1, h.extractOutputValues().size());
        h.close();
    }

    private static List<Long> reportedCounts(OneInputStreamOperatorTestHarness<Example, SnapshotMessage> h) throws Exception {
        List<Long> counts = new ArrayList<>();
        for (Object o : h.getSideOutput(TrainerOperator.METRICS)) {
            @SuppressWarnings("unchecked")
            StreamRecord<MetricsMessage> r = (StreamRecord<MetricsMessage>) o;
            counts.add(Wire.trainingMetrics(r.getValue().bytes).getEventsTrained());
        }
        return counts;
    }

    @Test
    void restoringAModelTrainedWithOtherOptionsIsRefused() throws Exception {
        OneInputStreamOperatorTestHarness<Example, SnapshotMessage> first = harness(MODEL);
        first.open();
        for (Example e : events(100)) {
            first.processElement(e, e.eventTime);
        }
        OperatorSubtaskState state = first.snapshot(1, 1);
        first.close();
        Map<String, String> other = new java.util.HashMap<>(MODEL);
        other.put("batch-size", "32");
        OneInputStreamOperatorTestHarness<Example, SnapshotMessage> second = harness(other);
        Exception e = assertThrows(Exception.class, () -> second.initializeState(state));
        Throwable root = e;
        while (root.getCause() != null && !(root instanceof IllegalStateException)) {
            root = root.getCause();
        }
        assertTrue(root.getMessage().contains("batch-size=64 -> 32"), root.getMessage());
    }
}

package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.training.OnlineTrainer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CrossDistilModelTest {

    static ModelConfig small(String... kv) {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("features", "user_id,item_id,author,category,device");
        m.put("hash-rows", "16384");
        m.put("batch-size", "128");
        m.put("bottom-layers", "64,32");
        m.put("tower-layers", "16");
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return ModelConfig.fromMap(m);
    }

    /** Feeds events one at a time through the online trainer (docs/algorithm.md, "One training step"); every step must be finite. */
    static OnlineTrainer train(OnlineTrainer trainer, List<Example> events, List<Double> studentLosses) {
        List<String> tasks = trainer.config().tasks;
        for (Example e : events) {
            StepResult r = trainer.learn(e);
            if (r != null) {
                assertFalse(r.skipped(), "a step was skipped: " + r.terms());
                if (studentLosses != null) {
                    studentLosses.add(r.terms().get("student." + tasks.get(0) + ".bce") + r.terms().get("student." + tasks.get(1) + ".bce"));
                }
            }
        }
        return trainer;
    }

    @Test
    void learnsEveryTaskOnAGeneratedStream() {
        ModelConfig cfg = small();
        List<Example> events = TestData.examples(cfg, new double[] {0.38, 0.08}, 40_000, 3);
        List<Double> losses = new java.util.ArrayList<>();
        OnlineTrainer trainer = train(new OnlineTrainer(cfg, 5_000), events, losses);
        double first = losses.subList(0, 5).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = losses.subList(losses.size() - 20, losses.size()).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(last < first * 0.9, "student loss must fall: first 5 steps " + first + ", last 20 " + last);
        for (TaskScore s : trainer.scores()) {
            assertTrue(s.windowAuc() > 0.65, s.task() + ": progressive AUC over the last 5,000 events is " + s.windowAuc());
            assertTrue(s.windowMultiAuc() > 0.6, s.task() + ": progressive Multi-AUC " + s.windowMultiAuc());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"crossdistil", "no-aux-rank", "no-calibration", "no-correction", "vanilla-kd", "mtl", "two-way-kd"})
    void everyVariantTrainsWithFiniteLossesAndLearns(String variant) {
        ModelConfig cfg = small("variant", variant, "teacher-routing", "shared", "backbone", "mmoe", "expert-layers", "32");
        List<Example> events = TestData.examples(cfg, new double[] {0.38, 0.1}, 12_800, 4);
        OnlineTrainer t = train(new OnlineTrainer(cfg, 5_000), events, null);
        assertEquals(100, t.model().steps());
        assertTrue(t.model().allFinite());
        assertTrue(t.scores().get(0).windowAuc() > 0.55, variant + " AUC " + t.scores().get(0).windowAuc());
    }

    @Test
    void threeTasksTrain() {
        ModelConfig cfg = small("tasks", "click,finish,like", "teacher-routing", "separate");
        List<Example> events = TestData.examples(cfg, new double[] {0.5, 0.3, 0.15}, 12_800, 5);
        OnlineTrainer t = train(new OnlineTrainer(cfg, 5_000), events, null);
        assertEquals(3, t.scores().size());
        assertTrue(t.model().allFinite());
        // all eight permutations occur, so every auxiliary pair of every teacher had data
        long[] perPermutation = new long[8];
        events.forEach(e -> perPermutation[e.permutation]++);
        for (int p = 0; p < 8; p++) {
            assertTrue(perPermutation[p] > 0, "permutation " + LabelOrder.name(p, 3) + " never seen");
        }
        for (TaskScore s : t.scores()) {
            assertTrue(s.windowAuc() > 0.55, s.task() + " AUC " + s.windowAuc());
        }
    }

    @Test
    void sameSeedAndInputGiveTheSameBits() {
        ModelConfig cfg = small();
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 2_560, 6);
        assertArrayEquals(new CrossDistilModel(cfg).toBytes(), new CrossDistilModel(cfg).toBytes());
        OnlineTrainer a = train(new OnlineTrainer(cfg, 1000), events, null);
        OnlineTrainer b = train(new OnlineTrainer(cfg, 1000), events, null);
        assertArrayEquals(a.toBytes(), b.toBytes());
        // and another seed gives another model
        assertFalse(java.util.Arrays.equals(a.model().toBytes(), new CrossDistilModel(cfg.with("seed", "43")).toBytes()));
    }

    @Test
    void stateRoundTripsExactlyAndTrainingContinuesIdentically() {
        ModelConfig cfg = small("optimizer", "adam");
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 2_560, 7);
        // 1,300 events: the state is taken with a partial batch of 20 pending
        OnlineTrainer a = train(new OnlineTrainer(cfg, 1000), events.subList(0, 1300), null);
        OnlineTrainer b = OnlineTrainer.fromBytes(a.toBytes());
        assertArrayEquals(a.toBytes(), b.toBytes());
        assertEquals(1300 % cfg.batchSize, b.pendingEvents());
        assertArrayEquals(a.model().toBytes(), CrossDistilModel.fromBytes(a.model().toBytes()).toBytes());
        train(a, events.subList(1300, 2560), null);
        train(b, events.subList(1300, 2560), null);
        assertArrayEquals(a.toBytes(), b.toBytes(), "restored trainer must continue bit for bit");
        double[][] pa = a.model().predict(events.subList(0, 10));
        double[][] pb = b.model().predict(events.subList(0, 10));
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(pa[i], pb[i], 0.0);
        }
    }

    @Test
    void everyOptimizerSteps() {
        for (String opt : List.of("adam", "adagrad", "sgd")) {
            ModelConfig cfg = small("optimizer", opt, "learning-rate", "0.01");
            List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 1_280, 8);
            byte[] before = new CrossDistilModel(cfg).toBytes();
            OnlineTrainer t = train(new OnlineTrainer(cfg, 1000), events, null);
            assertFalse(java.util.Arrays.equals(before, t.model().toBytes()), opt + " changed nothing");
            assertTrue(t.model().allFinite(), opt);
        }
    }

    @Test
    void aNonFiniteStepIsSkippedAndChangesNothing() {
        ModelConfig cfg = small();
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 256, 9);
        CrossDistilModel m = new CrossDistilModel(cfg.with("dense-features", "x"));
        events.forEach(e -> e.dense = new float[] {Float.POSITIVE_INFINITY});
        Map<String, double[]> before = new java.util.LinkedHashMap<>();
        m.tensors().forEach((k, v) -> before.put(k, v.dup().ravel().toDoubleVector()));
        StepResult r = m.step(events.subList(0, 128), Samples.none(2));
        assertTrue(r.skipped());
        assertEquals(1, m.skippedSteps());
        assertEquals(0, m.steps());
        m.tensors().forEach((k, v) -> assertArrayEquals(before.get(k), v.dup().ravel().toDoubleVector(), 0.0, k));
    }

    @Test
    void aModelWithANonFiniteParameterIsNeverSnapshotted() {
        OnlineTrainer t = new OnlineTrainer(small(), 100);
        assertTrue(t.snapshot(1, 0) != null);
        t.model().tensors().get("student.like.0.b").putScalar(3, Double.POSITIVE_INFINITY);
        assertFalse(t.model().allFinite());
        assertEquals(null, t.snapshot(2, 0));
    }

    @Test
    void predictionsAreTheStudentsAndMatchTheStepsScores() {
        ModelConfig cfg = small();
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 128, 10);
        CrossDistilModel m = new CrossDistilModel(cfg);
        double[][] before = m.predict(events);
        StepResult r = m.step(events, Samples.none(2));
        for (int i = 0; i < events.size(); i++) {
            assertArrayEquals(before[i], r.predictions()[i], 0.0, "the step scores each event before learning from it");
        }
    }

    @Test
    void badConfigurationNamesTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(Map.of("alpha", "1.5")));
        assertTrue(e.getMessage().contains("'alpha'") && e.getMessage().contains("1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(Map.of("tasks", "finish")));
        assertTrue(e.getMessage().contains("'tasks'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(Map.of("embeding-dim", "8")));
        assertTrue(e.getMessage().contains("unknown model option 'embeding-dim'") && e.getMessage().contains("embedding-dim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(Map.of("variant", "distil")));
        assertTrue(e.getMessage().contains("crossdistil"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(Map.of("beta1", "1,2,3")));
        assertTrue(e.getMessage().contains("'beta1'") && e.getMessage().contains("one per task"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(Map.of("bottom-layers", "64,0")));
        assertTrue(e.getMessage().contains("'bottom-layers'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(Map.of("reservoir-capacity", "1500000000")));
        assertTrue(e.getMessage().contains("'reservoir-capacity'") && e.getMessage().contains("too large"), e.getMessage());
        assertEquals(ModelConfig.defaults(), ModelConfig.fromMap(ModelConfig.defaults().toMap()));
    }

    /** With a ramp the students start without distillation and take it up as events are trained. */
    @Test
    void aDistillationRampStartsTheStudentsOnTheLabels() {
        ModelConfig cfg = small("distillation-ramp-events", "256");
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 384, 12);
        CrossDistilModel m = new CrossDistilModel(cfg);
        StepResult first = m.step(events.subList(0, 128), Samples.none(2));
        StepResult second = m.step(events.subList(128, 256), Samples.none(2));
        assertFalse(first.terms().containsKey("student.finish.kd"), "share 0 at the first step: " + first.terms());
        assertTrue(second.terms().containsKey("student.finish.kd"), "share 0.5 at the second: " + second.terms());
        CrossDistilModel without = new CrossDistilModel(small());
        assertTrue(without.step(events.subList(0, 128), Samples.none(2)).terms().containsKey("student.finish.kd"));
    }
}

package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.metrics.ProgressiveMetrics;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.sampling.Samples;
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

    /** Runs the synchronous loop of ALGORITHM.md section 5 and returns the progressive metrics. */
    static ProgressiveMetrics train(CrossDistilModel model, QuadrupletSampler sampler, List<Example> events, double[] losses) {
        ModelConfig cfg = model.config();
        ProgressiveMetrics metrics = new ProgressiveMetrics(cfg.tasks, 5_000);
        int b = cfg.batchSize;
        for (int s = 0; s + b <= events.size(); s += b) {
            List<Example> batch = events.subList(s, s + b);
            Samples samples = cfg.variant.ranksTeachers()
                    ? sampler.draw(cfg.quadrupletsPerStep, cfg.marginalPairsPerStep) : Samples.none(cfg.numTasks());
            StepResult r = model.step(batch, samples);
            assertFalse(r.skipped(), "step " + s / b + " was skipped: " + r.terms());
            for (int i = 0; i < batch.size(); i++) {
                metrics.record(batch.get(i).permutation, r.predictions()[i]);
            }
            if (losses != null) {
                losses[s / b] = r.terms().get("student." + cfg.tasks.get(0) + ".bce") + r.terms().get("student." + cfg.tasks.get(1) + ".bce");
            }
            sampler.offerAll(batch);
        }
        return metrics;
    }

    @Test
    void learnsEveryTaskOnAGeneratedStream() {
        ModelConfig cfg = small();
        List<Example> events = TestData.examples(cfg, new double[] {0.38, 0.08}, 40_000, 3);
        CrossDistilModel model = new CrossDistilModel(cfg);
        double[] losses = new double[events.size() / cfg.batchSize];
        ProgressiveMetrics metrics = train(model, new QuadrupletSampler(2, cfg.reservoirCapacity, cfg.seed), events, losses);
        double first = java.util.Arrays.stream(losses, 0, 20).average().orElseThrow();
        double last = java.util.Arrays.stream(losses, losses.length - 20, losses.length).average().orElseThrow();
        assertTrue(last < first * 0.9, "student loss must fall: first 20 steps " + first + ", last 20 " + last);
        for (TaskScore s : metrics.scores()) {
            assertTrue(s.windowAuc() > 0.65, s.task() + ": progressive AUC over the last 5,000 events is " + s.windowAuc());
            assertTrue(s.windowMultiAuc() > 0.6, s.task() + ": progressive Multi-AUC " + s.windowMultiAuc());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"crossdistil", "no-aux-rank", "no-calibration", "no-correction", "vanilla-kd", "mtl", "mutual"})
    void everyVariantTrainsWithFiniteLossesAndLearns(String variant) {
        ModelConfig cfg = small("variant", variant, "teacher-routing", "shared", "backbone", "mmoe", "expert-layers", "32");
        List<Example> events = TestData.examples(cfg, new double[] {0.38, 0.1}, 12_800, 4);
        CrossDistilModel model = new CrossDistilModel(cfg);
        ProgressiveMetrics m = train(model, new QuadrupletSampler(2, 5_000, 1), events, null);
        assertEquals(100, model.steps());
        assertTrue(model.allFinite());
        assertTrue(m.scores().get(0).windowAuc() > 0.55, variant + " AUC " + m.scores().get(0).windowAuc());
    }

    @Test
    void threeTasksTrain() {
        ModelConfig cfg = small("tasks", "click,finish,like", "teacher-routing", "separate");
        List<Example> events = TestData.examples(cfg, new double[] {0.5, 0.3, 0.15}, 12_800, 5);
        CrossDistilModel model = new CrossDistilModel(cfg);
        QuadrupletSampler sampler = new QuadrupletSampler(3, 5_000, 1);
        ProgressiveMetrics m = train(model, sampler, events, null);
        assertEquals(3, m.scores().size());
        assertTrue(model.allFinite());
        // all eight reservoirs were filled and used
        for (int p = 0; p < 8; p++) {
            assertTrue(sampler.reservoir(p).seen() > 0, "permutation " + LabelOrder.name(p, 3) + " never seen");
        }
        for (TaskScore s : m.scores()) {
            assertTrue(s.windowAuc() > 0.55, s.task() + " AUC " + s.windowAuc());
        }
    }

    @Test
    void sameSeedAndInputGiveTheSameBits() {
        ModelConfig cfg = small();
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 2_560, 6);
        CrossDistilModel a = new CrossDistilModel(cfg);
        CrossDistilModel b = new CrossDistilModel(cfg);
        assertArrayEquals(a.toBytes(), b.toBytes());
        train(a, new QuadrupletSampler(2, 1000, 2), events, null);
        train(b, new QuadrupletSampler(2, 1000, 2), events, null);
        assertArrayEquals(a.toBytes(), b.toBytes());
        // and another seed gives another model
        assertFalse(java.util.Arrays.equals(a.toBytes(), new CrossDistilModel(cfg.with("seed", "43")).toBytes()));
    }

    @Test
    void stateRoundTripsExactlyAndTrainingContinuesIdentically() {
        ModelConfig cfg = small("optimizer", "adam");
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 2_560, 7);
        CrossDistilModel a = new CrossDistilModel(cfg);
        QuadrupletSampler sa = new QuadrupletSampler(2, 1000, 2);
        train(a, sa, events.subList(0, 1280), null);
        CrossDistilModel b = CrossDistilModel.fromBytes(a.toBytes());
        QuadrupletSampler sb = QuadrupletSampler.fromBytes(sa.toBytes());
        assertArrayEquals(a.toBytes(), b.toBytes());
        assertEquals(a.steps(), b.steps());
        train(a, sa, events.subList(1280, 2560), null);
        train(b, sb, events.subList(1280, 2560), null);
        assertArrayEquals(a.toBytes(), b.toBytes(), "restored model must continue bit for bit");
        double[][] pa = a.predict(events.subList(0, 10));
        double[][] pb = b.predict(events.subList(0, 10));
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(pa[i], pb[i], 0.0);
        }
    }

    @Test
    void everyOptimizerSteps() {
        for (String opt : List.of("adam", "adagrad", "sgd")) {
            ModelConfig cfg = small("optimizer", opt, "learning-rate", "0.01");
            List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 1_280, 8);
            CrossDistilModel m = new CrossDistilModel(cfg);
            byte[] before = m.toBytes();
            train(m, new QuadrupletSampler(2, 1000, 2), events, null);
            assertFalse(java.util.Arrays.equals(before, m.toBytes()), opt + " changed nothing");
            assertTrue(m.allFinite(), opt);
        }
    }

    @Test
    void aNonFiniteStepIsSkippedAndChangesNothing() {
        ModelConfig cfg = small();
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.1}, 256, 9);
        CrossDistilModel m = new CrossDistilModel(cfg.with("dense-features", "x"));
        events.forEach(e -> e.dense = new float[] {Float.NaN});
        Map<String, double[]> before = new java.util.LinkedHashMap<>();
        m.tensors().forEach((k, v) -> before.put(k, v.dup().ravel().toDoubleVector()));
        StepResult r = m.step(events.subList(0, 128), Samples.none(2));
        assertTrue(r.skipped());
        assertEquals(1, m.skippedSteps());
        assertEquals(0, m.steps());
        m.tensors().forEach((k, v) -> assertArrayEquals(before.get(k), v.dup().ravel().toDoubleVector(), 0.0, k));
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
        assertEquals(ModelConfig.defaults(), ModelConfig.fromMap(ModelConfig.defaults().toMap()));
    }
}

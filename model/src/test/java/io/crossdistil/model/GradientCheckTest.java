package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.sampling.Samples;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Finite-difference checks, in double precision, of the analytic gradients of L_Model and L_Cal
 * for every parameter group (embeddings, backbone, gates, each head, calibration) and every loss
 * term (student BCE and distillation, auxiliary and coarse ranking, vanilla and two-way terms).
 * The distillation targets are constants of a step (docs/algorithm.md), so the check holds them
 * fixed across its evaluations, exactly as the analytic gradient treats them.
 */
class GradientCheckTest {
    /** Central differences; below about 1e-6 ND4J's evaluation noise dominates the difference quotient. */
    private static final double EPS = 1e-5;
    /** Entries checked per tensor at most (evenly spread); small tensors are checked whole. */
    private static final int PER_TENSOR = 12;
    private static final double TOLERANCE = 1e-5;

    static ModelConfig tiny(String... overrides) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("tasks", "a,b");
        m.put("features", "user_id,item_id,author");
        m.put("dense-features", "x");
        // the values as they come: scaling is a constant of the pass, not differentiated (DenseScalingTest)
        m.put("dense-scaling", "none");
        m.put("embedding-dim", "3");
        m.put("hash-rows", "97");
        m.put("bottom-layers", "6,5");
        m.put("tower-layers", "4");
        m.put("experts", "2");
        m.put("expert-layers", "5");
        m.put("alpha", "0.4,0.6");
        m.put("beta1", "0.7");
        m.put("beta2", "0.3,0.5");
        m.put("tau", "2.0");
        m.put("margin", "0.3");
        m.put("teacher-weights", "0.8,1.2");
        m.put("student-weights", "1.1,0.9");
        m.put("quadruplets-per-step", "3");
        m.put("marginal-pairs-per-step", "3");
        m.put("batch-size", "8");
        m.put("seed", "7");
        m.put("dtype", "double");
        // a gate shuts distillation on a fresh model: the checks of the distillation terms need it open or off
        m.put("distillation-gate", "false");
        for (int i = 0; i < overrides.length; i += 2) {
            m.put(overrides[i], overrides[i + 1]);
        }
        return ModelConfig.fromMap(m);
    }

    /** Batch and samples in which every label permutation occurs, and the step's soft targets, held constant across evaluations. */
    record Step(List<Example> batch, Samples samples, SoftTargets targets) {}

    static Step stepData(ModelConfig cfg) {
        double[] rates = new double[cfg.numTasks()];
        java.util.Arrays.fill(rates, 0.4);
        List<Example> events = TestData.examples(cfg, rates, 400, 11);
        QuadrupletSampler sampler = TestData.filledSampler(cfg, events.subList(8, 400));
        Samples s = cfg.variant.ranksTeachers()
                ? sampler.draw(cfg.quadrupletsPerStep, cfg.marginalPairsPerStep) : Samples.none(cfg.numTasks());
        for (int count : s.tupleCounts()) {
            assertTrue(!cfg.variant.ranksTeachers() || count > 0, "every permutation must be present");
        }
        return new Step(new ArrayList<>(events.subList(0, 8)), s, new SoftTargets(cfg.numTasks()));
    }

    /** Checks every entry of every theta parameter whose name passes {@code which}, and the touched embedding rows. */
    static void checkModelGradients(ModelConfig cfg, Predicate<String> which, boolean embeddings) {
        checkModelGradients(new CrossDistilModel(cfg), stepData(cfg), which, embeddings);
    }

    static void checkModelGradients(CrossDistilModel model, Step d, Predicate<String> which, boolean embeddings) {
        ModelConfig cfg = model.config();
        model.modelLossForCheck(d.batch(), d.samples(), d.targets());
        Map<String, double[]> analytic = new LinkedHashMap<>();
        model.partsForCheck().theta().params().keySet().forEach(n -> analytic.put(n, model.partsForCheck().theta().grad(n).dup().ravel().toDoubleVector()));
        EmbeddingTable table = model.partsForCheck().embeddings();
        int[] rows = table.lastRows().clone();
        double[][] embGrad = table.lastGradient().dup().toDoubleMatrix();

        int checked = 0;
        for (Map.Entry<String, double[]> e : analytic.entrySet()) {
            if (!which.test(e.getKey())) {
                continue;
            }
            INDArray p = model.partsForCheck().theta().param(e.getKey());
            for (int i : spread(e.getValue().length, PER_TENSOR)) {
                double numeric = numeric(model, d, p, i);
                assertClose(e.getValue()[i], numeric, e.getKey() + "[" + i + "] (" + cfg.variant.key() + ")");
                checked++;
            }
        }
        if (embeddings) {
            for (int u : spread(rows.length, PER_TENSOR)) {
                for (int j = 0; j < table.dim(); j++) {
                    int i = rows[u] * table.dim() + j;
                    double numeric = numeric(model, d, () -> table.get(i), v -> table.set(i, v));
                    assertClose(embGrad[u][j], numeric, "embedding row " + rows[u] + " col " + j);
                    checked++;
                }
            }
        }
        assertTrue(checked > 50, "checked only " + checked + " gradient entries");
    }

    private static int[] spread(int n, int most) {
        int count = Math.min(n, most);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = (int) ((long) i * n / count);
        }
        return out;
    }

    private static double numeric(CrossDistilModel model, Step d, INDArray p, long i) {
        return numeric(model, d, () -> p.getDouble(i), v -> p.putScalar(i, v));
    }

    /** Central difference of the model loss in one parameter, read and written through {@code get}/{@code set}. */
    private static double numeric(CrossDistilModel model, Step d, java.util.function.DoubleSupplier get,
            java.util.function.DoubleConsumer set) {
        double v = get.getAsDouble();
        set.accept(v + EPS);
        double plus = model.modelLossForCheck(d.batch(), d.samples(), d.targets());
        set.accept(v - EPS);
        double minus = model.modelLossForCheck(d.batch(), d.samples(), d.targets());
        set.accept(v);
        return (plus - minus) / (2 * EPS);
    }

    static void assertClose(double analytic, double numeric, String what) {
        double diff = Math.abs(analytic - numeric);
        double rel = diff / Math.max(1e-7, Math.abs(analytic) + Math.abs(numeric));
        assertTrue(diff < 1e-9 || rel < TOLERANCE,
                what + ": analytic " + analytic + " vs numeric " + numeric + " (relative error " + rel + ")");
    }

    @ParameterizedTest(name = "{0}, routing {1}, {2}, tasks {3}")
    @CsvSource({
        "crossdistil, shared, shared-bottom, 'a,b'",
        "crossdistil, separate, shared-bottom, 'a,b'",
        "crossdistil, shared, mmoe, 'a,b'",
        "crossdistil, separate, mmoe, 'a,b'",
        "no-aux-rank, shared, shared-bottom, 'a,b'",
        "no-calibration, shared, shared-bottom, 'a,b'",
        "no-correction, shared, shared-bottom, 'a,b'",
        "vanilla-kd, shared, shared-bottom, 'a,b'",
        "mtl, shared, shared-bottom, 'a,b'",
        "mtl, shared, mmoe, 'a,b'",
        "two-way-kd, shared, shared-bottom, 'a,b'",
        "crossdistil, shared, shared-bottom, 'a,b,c'",
    })
    void everyParameterMatchesFiniteDifferences(String variant, String routing, String backbone, String tasks) {
        ModelConfig cfg = tiny("variant", variant, "teacher-routing", routing, "backbone", backbone, "tasks", tasks,
                "alpha", "0.5", "teacher-weights", "0.9", "student-weights", "1.1", "beta2", "0.4");
        checkModelGradients(cfg, name -> true, true);
    }

    @Test
    void deeperFusedTowersMatchFiniteDifferences() {
        // two hidden layers per tower: the fused towers' middle layer is block-diagonal with a ReLU after it
        ModelConfig cfg = tiny("tower-layers", "4,3", "teacher-routing", "shared");
        checkModelGradients(cfg, name -> true, true);
    }

    @Test
    void stoppedTeacherGradientsLeaveTheSharedLayersAlone() {
        // With routing "stop" the teachers' losses must not reach the bottom or the embeddings: their
        // gradients there equal those of the same model without teacher losses.
        ModelConfig withTeachers = tiny("teacher-routing", "stop");
        ModelConfig withoutTeacherLoss = tiny("teacher-routing", "stop", "teacher-weights", "0");
        Map<String, double[]> a = bottomGradients(withTeachers);
        Map<String, double[]> b = bottomGradients(withoutTeacherLoss);
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(b.get(k), a.get(k), 1e-12, k);
        }
        // and the towers, whose gradients are real ones, still match finite differences
        checkModelGradients(withTeachers, n -> n.startsWith("student.") || n.startsWith("teacher."), false);
        checkModelGradients(withoutTeacherLoss, n -> true, true);
    }

    @Test
    void withTheGateTheTwinsAloneTrainTheSharedLayersAndEveryTowerMatchesFiniteDifferences() {
        // A gate that opens on its first step (adapt over one event): the students then distil with
        // their whole alpha, and their gradients must stop at their towers. The shared layers learn
        // from the label-only twins, which are the baseline's students: after the same step their
        // gradients equal those of mtl with the same seed. (A small step: AdaGrad's first step moves
        // every weight by the whole rate, which can leave a ReLU input at its kink.)
        for (String backbone : List.of("shared-bottom", "mmoe")) {
            ModelConfig gated = tiny("distillation-gate", "true", "gate-adapt-events", "1", "teacher-routing", "stop", "backbone", backbone,
                    "learning-rate", "0.001");
            ModelConfig baseline = tiny("variant", "mtl", "backbone", backbone, "learning-rate", "0.001");
            CrossDistilModel model = new CrossDistilModel(gated);
            CrossDistilModel mtl = new CrossDistilModel(baseline);
            Step d = stepData(gated);
            model.step(d.batch(), d.samples());
            mtl.step(d.batch(), Samples.none(2));
            assertEquals(1.0, model.gate().share(0), 0, "the gate is open");
            Map<String, double[]> a = sharedGradients(model, d);
            Map<String, double[]> b = sharedGradients(mtl, new Step(d.batch(), Samples.none(2), new SoftTargets(2)));
            assertEquals(b.keySet(), a.keySet());
            for (String k : a.keySet()) {
                assertArrayEquals(b.get(k), a.get(k), 1e-12, backbone + ": " + k);
            }
            checkModelGradients(model, d, n -> n.startsWith("student.") || n.startsWith("teacher."), false);
            checkStore(model, d, model.partsForCheck().twins());
        }
    }

    @Test
    void frozenTeachersJoinTheTargetAndTheGradientsStillMatch() {
        // yesterday's model: the same shape, trained a step, served from its students (no margin: on
        // models this young it would correct both teachers' targets to the same +-m)
        ModelConfig cfg = tiny("margin", "0", "teacher-routing", "shared");
        CrossDistilModel yesterday = new CrossDistilModel(cfg);
        Step d = stepData(cfg);
        yesterday.step(d.batch(), d.samples());
        StudentModel frozen = StudentModel.of(cfg, yesterday.tensors());
        CrossDistilModel today = new CrossDistilModel(cfg, List.of(frozen));
        CrossDistilModel alone = new CrossDistilModel(cfg);
        double with = today.modelLossForCheck(d.batch(), d.samples(), new SoftTargets(2));
        double without = alone.modelLossForCheck(d.batch(), d.samples(), new SoftTargets(2));
        assertTrue(Math.abs(with - without) > 1e-6, "the frozen teacher changes the distillation target: " + with + " " + without);
        checkModelGradients(today, d, name -> true, true);
    }

    /** Checks every entry of a store's parameters (its gradients written by the model loss) against finite differences. */
    private static void checkStore(CrossDistilModel model, Step d, ParameterStore store) {
        model.modelLossForCheck(d.batch(), d.samples(), d.targets());
        // every analytic gradient first: each numeric evaluation overwrites them
        Map<String, double[]> analytic = new LinkedHashMap<>();
        store.params().keySet().forEach(n -> analytic.put(n, store.grad(n).dup().ravel().toDoubleVector()));
        int checked = 0;
        for (Map.Entry<String, double[]> e : analytic.entrySet()) {
            for (int i : spread(e.getValue().length, PER_TENSOR)) {
                assertClose(e.getValue()[i], numeric(model, d, store.param(e.getKey()), i), e.getKey() + "[" + i + "]");
                checked++;
            }
        }
        assertTrue(checked > 10, "checked only " + checked);
    }

    private static Map<String, double[]> bottomGradients(ModelConfig cfg) {
        CrossDistilModel m = new CrossDistilModel(cfg);
        Step d = stepData(cfg);
        m.modelLossForCheck(d.batch(), d.samples(), d.targets());
        Map<String, double[]> out = new LinkedHashMap<>();
        m.partsForCheck().theta().params().keySet().stream().filter(n -> n.startsWith("bottom."))
                .forEach(n -> out.put(n, m.partsForCheck().theta().grad(n).dup().ravel().toDoubleVector()));
        out.put("embedding", m.partsForCheck().embeddings().lastGradient().dup().ravel().toDoubleVector());
        return out;
    }

    /** The gradients of the shared layers (bottom or experts and the students' MMoE gates) and of the embedding rows. */
    private static Map<String, double[]> sharedGradients(CrossDistilModel m, Step d) {
        m.modelLossForCheck(d.batch(), d.samples(), d.targets());
        Map<String, double[]> out = new LinkedHashMap<>();
        m.partsForCheck().theta().params().keySet().stream()
                .filter(n -> n.startsWith("bottom.") || n.startsWith("expert.") || n.startsWith("gate.student."))
                .forEach(n -> out.put(n, m.partsForCheck().theta().grad(n).dup().ravel().toDoubleVector()));
        out.put("embedding", m.partsForCheck().embeddings().lastGradient().dup().ravel().toDoubleVector());
        return out;
    }

    @Test
    void calibrationGradientsMatchFiniteDifferences() {
        CrossDistilModel model = new CrossDistilModel(tiny());
        List<Example> batch = stepData(model.config()).batch();
        checkPlatt(model.partsForCheck().omega(), "calibration", () -> model.calibrationLossForCheck(batch));
    }

    @Test
    void outputCalibrationGradientsMatchFiniteDifferences() {
        CrossDistilModel model = new CrossDistilModel(tiny("output-calibration", "true"));
        List<Example> batch = stepData(model.config()).batch();
        checkPlatt(model.partsForCheck().output(), "output", () -> model.outputCalibrationLossForCheck(batch));
    }

    /**
     * Checks the gradients a Platt scaling {@code name.P}, {@code name.Q} gets from {@code loss}
     * (which writes them), away from its initial (1, 0) so that the check is not at a special point.
     */
    private static void checkPlatt(ParameterStore store, String name, java.util.function.DoubleSupplier loss) {
        store.param(name + ".P").assign(org.nd4j.linalg.factory.Nd4j.createFromArray(new double[][] {{0.7, 1.3}}));
        store.param(name + ".Q").assign(org.nd4j.linalg.factory.Nd4j.createFromArray(new double[][] {{-0.2, 0.4}}));
        loss.getAsDouble();
        for (String param : List.of(name + ".P", name + ".Q")) {
            double[] analytic = store.grad(param).dup().ravel().toDoubleVector();
            INDArray p = store.param(param);
            for (int i = 0; i < analytic.length; i++) {
                double v = p.getDouble(i);
                p.putScalar(i, v + EPS);
                double plus = loss.getAsDouble();
                p.putScalar(i, v - EPS);
                double minus = loss.getAsDouble();
                p.putScalar(i, v);
                assertClose(analytic[i], (plus - minus) / (2 * EPS), param + "[" + i + "]");
            }
        }
    }
}

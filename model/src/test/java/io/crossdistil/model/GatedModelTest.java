package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.sampling.Samples;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The distillation gate inside the model: its label-only twins are the baseline's students, and its state is kept. */
class GatedModelTest {
    private static ModelConfig gated(String... overrides) {
        String[] all = new String[overrides.length + 4];
        all[0] = "distillation-gate";
        all[1] = "true";
        all[2] = "teacher-routing";
        all[3] = "stop";
        System.arraycopy(overrides, 0, all, 4, overrides.length);
        return GradientCheckTest.tiny(all);
    }

    /** Trains {@code model} on the events in batches of the configured size, drawing samples as the trainer does. */
    static void train(CrossDistilModel model, List<Example> events) {
        ModelConfig cfg = model.config();
        QuadrupletSampler sampler = new QuadrupletSampler(cfg.numTasks(), cfg.features.size(), cfg.denseFeatures.size(), 1000, 5);
        for (int from = 0; from + cfg.batchSize <= events.size(); from += cfg.batchSize) {
            List<Example> batch = events.subList(from, from + cfg.batchSize);
            Samples s = cfg.variant.ranksTeachers() ? sampler.draw(cfg.quadrupletsPerStep, cfg.marginalPairsPerStep) : Samples.none(cfg.numTasks());
            model.step(batch, s);
            sampler.offerAll(batch);
        }
    }

    @Test
    void aStudentThatDoesNotDistilPredictsWhatTheBaselinePredicts() {
        // alpha 0: the student learns what its twin learns, from the same values, and the shared
        // layers learn from the twins as the baseline's learn from its students
        List<Example> events = TestData.examples(gated(), new double[] {0.4, 0.2}, 8 * 40, 21);
        CrossDistilModel crossdistil = new CrossDistilModel(gated("alpha", "0"));
        CrossDistilModel mtl = new CrossDistilModel(gated("variant", "mtl"));
        train(crossdistil, events);
        train(mtl, events);
        double[][] a = crossdistil.predict(events.subList(0, 50));
        double[][] b = mtl.predict(events.subList(0, 50));
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(b[i], a[i], 1e-12, "event " + i);
        }
        // and a student that distils does not
        CrossDistilModel distilling = new CrossDistilModel(gated("gate-adapt-events", "1"));
        train(distilling, events);
        assertTrue(Math.abs(distilling.predict(events.subList(0, 1))[0][0] - b[0][0]) > 1e-6);
    }

    @Test
    void aStudentWhoseLimitFallsToZeroBecomesTheBaselinesStudentAgain() {
        List<Example> events = TestData.examples(gated(), new double[] {0.4, 0.2}, 8 * 40, 21);
        CrossDistilModel mtl = new CrossDistilModel(gated("variant", "mtl"));
        CrossDistilModel distilling = new CrossDistilModel(gated("gate-adapt-events", "1"));
        CrossDistilModel kept = new CrossDistilModel(gated("gate-adapt-events", "1", "gate-reset-students", "false"));
        train(mtl, events);
        train(distilling, events);
        train(kept, events);
        assertTrue(maxTowerDifference(kept, mtl) > 1e-6, "distillation moved the students");

        distilling.gate().setLimits(new double[] {0, 0});
        distilling.resetShutStudents();
        kept.gate().setLimits(new double[] {0, 0});
        kept.resetShutStudents();
        // the shared layers learn from the twins alone, so a student set to its twin is mtl's student
        assertEquals(0, maxTowerDifference(distilling, mtl), 1e-12);
        assertTrue(maxTowerDifference(kept, mtl) > 1e-6, "without the reset the student keeps what distillation moved");
    }

    /** The largest difference between two models' student towers (the tensors the twins mirror). */
    private static double maxTowerDifference(CrossDistilModel a, CrossDistilModel b) {
        double worst = 0;
        for (String twin : a.partsForCheck().twins().params().keySet()) {
            String student = "student." + twin.substring("twin.".length());
            INDArray x = a.tensors().get(student);
            INDArray y = b.tensors().get(student);
            worst = Math.max(worst, x.sub(y).amaxNumber().doubleValue());
        }
        return worst;
    }

    @Test
    void aStateFromBeforeTheGateReadsWithTheTwinsStartingAsTheStudents() throws Exception {
        CrossDistilModel before = new CrossDistilModel(gated("distillation-gate", "false"));
        train(before, TestData.examples(before.config(), new double[] {0.4, 0.2}, 8 * 10, 4));
        // format 2: the configuration without the gate's options, the rest as it is
        byte[] old = TestData.asFormat(before.toBytes(), 2,
                key -> key.startsWith("gate-") || key.equals("distillation-gate") || key.equals("one-sided-distillation")
                        || key.equals("teacher-snapshots") || key.equals("dense-scaling"));

        CrossDistilModel back = CrossDistilModel.fromBytes(old);
        assertTrue(back.config().distillationGate, "an old state takes today's default");
        assertEquals(0.0, back.gate().share(0), 0, "without evidence");
        for (Map.Entry<String, INDArray> e : back.partsForCheck().twins().params().entrySet()) {
            String student = "student." + e.getKey().substring("twin.".length());
            assertEquals(before.tensors().get(student), e.getValue(), e.getKey());
        }
        for (Map.Entry<String, INDArray> e : before.tensors().entrySet()) {
            assertEquals(e.getValue(), back.tensors().get(e.getKey()), e.getKey());
        }
    }
}

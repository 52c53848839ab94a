package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.snapshot.SnapshotCodec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tower exchange of Deep Mutual Learning across Task Towers (feature mining, global knowledge):
 * gradients by finite differences with the stopped inputs held constant, as the stop-gradients
 * make them (so a gradient that leaks through a stopped path fails the check), no task's loss
 * reaching another task's tower, serving bit-identical to the trainer, and the gate's twins still
 * the baseline's students.
 */
class TowerExchangeTest {

    @ParameterizedTest(name = "{0}, {1}, {2}, dropout {3}")
    @CsvSource({
        "mtl, ctfm, shared-bottom, 0",
        "mtl, gkd, shared-bottom, 0",
        "mtl, ctfm+gkd, shared-bottom, 0",
        "mtl, ctfm+gkd, mmoe, 0",
        "crossdistil, ctfm+gkd, shared-bottom, 0",
        "crossdistil, gkd, mmoe, 0",
        "mtl, ctfm+gkd, shared-bottom, 0.5",
    })
    void everyParameterMatchesFiniteDifferencesWithTheStoppedInputsHeld(String variant, String exchange, String backbone, String dropout) {
        // routing shared: the teachers' losses reach the shared layers too, so every gradient is a full one
        ModelConfig cfg = GradientCheckTest.tiny("variant", variant, "tower-exchange", exchange, "backbone", backbone,
                "tower-exchange-dropout", dropout, "teacher-routing", "shared", "tower-layers", "4,6", "learning-rate", "0.001");
        CrossDistilModel model = new CrossDistilModel(cfg);
        moveOffTheStart(model);
        model.holdStoppedInputsForCheck(true);
        GradientCheckTest.Step d = GradientCheckTest.stepData(cfg);
        GradientCheckTest.checkModelGradients(model, d, name -> true, true);
        model.holdStoppedInputsForCheck(false);
        // a module whose units are all dead passes any check: each one must carry a gradient
        model.modelLossForCheck(d.batch(), d.samples(), d.targets());
        for (String name : model.partsForCheck().theta().params().keySet()) {
            if (name.endsWith(".Q.W") || name.endsWith(".V.W") || name.endsWith(".v") || name.endsWith(".U.W")) {
                assertTrue(model.partsForCheck().theta().grad(name).norm2Number().doubleValue() > 0, name + " has a gradient");
            }
        }
    }

    @Test
    void withoutHoldingTheStoppedInputsTheSharedLayersDisagree() {
        // the check above has teeth: the loss's full derivative differs from the stop-gradients' one
        // in the shared layers (a stopped path carries some), so a leak there would be seen
        ModelConfig cfg = GradientCheckTest.tiny("variant", "mtl", "tower-exchange", "ctfm+gkd", "tower-layers", "4,6", "learning-rate", "0.001");
        CrossDistilModel model = new CrossDistilModel(cfg);
        moveOffTheStart(model);
        GradientCheckTest.Step d = GradientCheckTest.stepData(cfg);
        assertThrows(AssertionError.class, () -> GradientCheckTest.checkModelGradients(model, d, n -> n.startsWith("bottom."), true));
    }

    @Test
    void noTaskLossReachesAnotherTasksTower() {
        // MMoE: each tower reads a mixture of its own. With task b's loss weighted 0, task a's loss
        // must leave tower b, its gate and its global-knowledge module untouched: mined keys and
        // values and the global knowledge read the towers with the gradient stopped.
        ModelConfig cfg = GradientCheckTest.tiny("variant", "mtl", "tower-exchange", "ctfm+gkd", "backbone", "mmoe",
                "student-weights", "1,0", "tower-layers", "4,6");
        CrossDistilModel model = new CrossDistilModel(cfg);
        GradientCheckTest.Step d = GradientCheckTest.stepData(cfg);
        model.modelLossForCheck(d.batch(), d.samples(), d.targets());
        int zero = 0;
        for (String name : model.partsForCheck().theta().params().keySet()) {
            double norm = model.partsForCheck().theta().grad(name).norm2Number().doubleValue();
            boolean towerB = name.startsWith("student.b.") || name.startsWith("gate.student.b.") || name.startsWith("student.gkd.b.");
            if (towerB) {
                assertEquals(0.0, norm, 0.0, name);
                zero++;
            } else if (name.startsWith("student.a.") || name.startsWith("student.ctfm.Q") || name.startsWith("student.gkd.a.")) {
                assertTrue(norm > 0, name + " learns from task a");
            }
        }
        assertTrue(zero >= 9, "tower b's parameters: " + zero);
    }

    @ParameterizedTest
    @CsvSource({"ctfm+gkd, shared-bottom, 0", "ctfm, mmoe, 0.5", "gkd, shared-bottom, 0.5"})
    void servingFromASnapshotPredictsWhatTheTrainerPredicts(String exchange, String backbone, String dropout) {
        // snapshots of the last step's parameters, to compare with the trainer's own predictions
        ModelConfig cfg = GradientCheckTest.tiny("dtype", "float", "tower-exchange", exchange, "backbone", backbone,
                "tower-exchange-dropout", dropout, "snapshot-average-events", "0");
        CrossDistilModel model = new CrossDistilModel(cfg);
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.2}, 8 * 30 + 40, 3);
        train(model, events.subList(0, 8 * 30));
        StudentModel served = SnapshotCodec.toStudentModel(SnapshotCodec.decode(SnapshotCodec.encode(
                SnapshotCodec.build(1, 0, 240, 0, model, List.of()))));
        List<Example> fresh = events.subList(8 * 30, events.size());
        double[][] expected = model.predict(fresh);
        double[][] actual = served.predict(fresh);
        for (int i = 0; i < fresh.size(); i++) {
            assertArrayEquals(expected[i], actual[i], 0.0, "event " + i);
        }
        assertTrue(model.tensors().keySet().stream().anyMatch(n -> n.startsWith("student.ctfm.") || n.startsWith("student.gkd.")));
    }

    @Test
    void withTheGateAStudentThatDoesNotDistilPredictsWhatTheBaselineWithTheExchangePredicts() {
        // the twins exchange as the students do, with the same dropout masks: alpha 0 is mtl with the exchange
        String[] common = {"distillation-gate", "true", "teacher-routing", "stop", "tower-exchange", "ctfm+gkd",
                "tower-exchange-dropout", "0.3"};
        ModelConfig gated = GradientCheckTest.tiny(concat(common, "alpha", "0"));
        ModelConfig baseline = GradientCheckTest.tiny(concat(common, "variant", "mtl"));
        List<Example> events = TestData.examples(gated, new double[] {0.4, 0.2}, 8 * 30, 21);
        CrossDistilModel crossdistil = new CrossDistilModel(gated);
        CrossDistilModel mtl = new CrossDistilModel(baseline);
        train(crossdistil, events);
        train(mtl, events);
        double[][] a = crossdistil.predict(events.subList(0, 40));
        double[][] b = mtl.predict(events.subList(0, 40));
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(b[i], a[i], 1e-12, "event " + i);
        }
    }

    @Test
    void dropoutFollowsTheStepSoARestoredModelContinuesBitForBit() {
        ModelConfig cfg = GradientCheckTest.tiny("dtype", "float", "tower-exchange", "ctfm+gkd", "tower-exchange-dropout", "0.5");
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.2}, 8 * 40, 9);
        CrossDistilModel a = new CrossDistilModel(cfg);
        train(a, events.subList(0, 8 * 20));
        CrossDistilModel b = CrossDistilModel.fromBytes(a.toBytes());
        train(a, events.subList(8 * 20, 8 * 40));
        train(b, events.subList(8 * 20, 8 * 40));
        assertArrayEquals(a.toBytes(), b.toBytes());
        // and the masks do change the model: without dropout it trains to other values
        CrossDistilModel plain = new CrossDistilModel(cfg.with("tower-exchange-dropout", "0"));
        train(plain, events);
        assertTrue(Math.abs(plain.predict(events.subList(0, 1))[0][0] - a.predict(events.subList(0, 1))[0][0]) > 1e-6);
    }

    @Test
    void theExchangeLeavesEveryOtherInitialValueAsItIs() {
        Map<String, INDArray> plain = new CrossDistilModel(GradientCheckTest.tiny()).tensors();
        Map<String, INDArray> exchanging = new CrossDistilModel(GradientCheckTest.tiny("tower-exchange", "ctfm+gkd")).tensors();
        for (Map.Entry<String, INDArray> e : plain.entrySet()) {
            assertEquals(e.getValue(), exchanging.get(e.getKey()), e.getKey());
        }
        assertTrue(exchanging.size() > plain.size());
    }

    @Test
    void aBadExchangeOrDropoutNamesTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradientCheckTest.tiny("tower-exchange", "ctfm+dml"));
        assertTrue(e.getMessage().contains("tower-exchange") && e.getMessage().contains("dml"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GradientCheckTest.tiny("tower-exchange-dropout", "1"));
        assertTrue(e.getMessage().contains("tower-exchange-dropout"), e.getMessage());
        assertEquals(new TowerExchange(true, true), TowerExchange.parse("gkd+ctfm"));
        assertEquals(Variant.TWO_WAY_KD, Variant.parse("mutual"), "the former name still reads");
    }

    /**
     * A few steps, so that the check is not at the initial values (zero biases, untouched task
     * embeddings); small ones (see the model's learning rate), so that no ReLU input lands on its kink.
     */
    private static void moveOffTheStart(CrossDistilModel model) {
        train(model, TestData.examples(model.config(), new double[] {0.4, 0.4}, 8 * 3, 17));
    }

    private static void train(CrossDistilModel model, List<Example> events) {
        GatedModelTest.train(model, events);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.objective.Losses;
import io.crossdistil.model.sampling.Samples;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The output calibration: what serving returns is sigmoid(P r + Q) of the student logit r, fitted online, in r's order. */
class OutputCalibrationTest {
    private static ModelConfig cfg(String outputCalibration) {
        return GradientCheckTest.tiny("output-calibration", outputCalibration);
    }

    @Test
    void servedProbabilitiesAreTheStudentLogitThroughPAndQ() {
        CrossDistilModel on = new CrossDistilModel(cfg("true"));
        on.tensors().get("output.P").assign(Nd4j.createFromArray(new double[][] {{0.5, 2.0}}));
        on.tensors().get("output.Q").assign(Nd4j.createFromArray(new double[][] {{0.3, -1.0}}));
        CrossDistilModel off = new CrossDistilModel(cfg("false"));
        off.loadTensors(on.tensors());
        List<Example> events = GradientCheckTest.stepData(on.config()).batch();
        double[][] served = on.predict(events);
        double[][] raw = off.predict(events);
        double[] p = {0.5, 2.0};
        double[] q = {0.3, -1.0};
        for (int i = 0; i < events.size(); i++) {
            for (int k = 0; k < 2; k++) {
                double r = Math.log(raw[i][k] / (1 - raw[i][k]));
                assertEquals(Losses.sigmoid(p[k] * r + q[k]), served[i][k], 1e-9, "event " + i + " task " + k);
            }
        }
        // the step serves the same, and reports the uncalibrated scores for the AUCs
        StepResult step = on.step(events, Samples.none(2));
        for (int i = 0; i < events.size(); i++) {
            assertArrayEquals(served[i], step.predictions()[i], 0.0);
            assertArrayEquals(raw[i], step.scores()[i], 1e-12);
        }
    }

    @Test
    void theScaleStaysPositiveSoThatServingKeepsTheLogitsOrder() {
        CrossDistilModel model = new CrossDistilModel(cfg("true"));
        model.tensors().get("output.P").assign(Nd4j.createFromArray(new double[][] {{-1.0, 0.0}}));
        List<Example> batch = GradientCheckTest.stepData(model.config()).batch();
        model.step(batch, Samples.none(2));
        double[] p = model.tensors().get("output.P").dup().ravel().toDoubleVector();
        assertTrue(p[0] >= Calibration.MIN_SCALE && p[1] >= Calibration.MIN_SCALE, java.util.Arrays.toString(p));
    }

    /** A checkpoint written before the output calibration (format 1, no such options) reads; the calibration starts at identity. */
    @Test
    void aModelStateOfThePreviousFormatReads() throws Exception {
        CrossDistilModel off = new CrossDistilModel(cfg("false"));
        off.step(GradientCheckTest.stepData(off.config()).batch(), Samples.none(2));
        // format 1: without the output calibration's options (and those that came later), the rest as it is
        byte[] old = TestData.asFormat(off.toBytes(), 1, key -> key.startsWith("output-calibration") || key.startsWith("gate-")
                || key.equals("distillation-gate") || key.equals("one-sided-distillation") || key.equals("teacher-snapshots") || key.equals("dense-scaling"));

        CrossDistilModel back = CrossDistilModel.fromBytes(old);
        assertTrue(back.config().outputCalibration, "an old state takes today's default");
        assertArrayEquals(new double[] {1, 1}, back.tensors().get("output.P").dup().ravel().toDoubleVector(), 0.0);
        assertArrayEquals(new double[] {0, 0}, back.tensors().get("output.Q").dup().ravel().toDoubleVector(), 0.0);
        for (Map.Entry<String, INDArray> e : off.tensors().entrySet()) {
            assertEquals(e.getValue(), back.tensors().get(e.getKey()), e.getKey());
        }
        assertEquals(off.steps(), back.steps());
    }
}

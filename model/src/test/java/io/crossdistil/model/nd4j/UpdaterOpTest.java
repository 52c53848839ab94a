package io.crossdistil.model.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.crossdistil.model.OptimizerKind;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/** The kept updater op computes exactly what ND4J's GradientUpdater computes, step after step. */
class UpdaterOpTest {

    static Stream<Arguments> updaters() {
        return Stream.of(DataType.FLOAT, DataType.DOUBLE).flatMap(dtype -> Stream.of(
                Arguments.of(new Adam(0.01), dtype),
                Arguments.of(new AdaGrad(0.05), dtype),
                Arguments.of(new Sgd(0.1), dtype),
                // a warm start's ramp (OptimizerKind): the rate of each iteration from ND4J's schedule
                Arguments.of(OptimizerKind.ADAM.updater(0.01, 3), dtype),
                Arguments.of(OptimizerKind.ADAGRAD.updater(0.05, 3), dtype)));
    }

    @ParameterizedTest
    @MethodSource("updaters")
    void matchesNd4jsGradientUpdaterBitForBitOverSeveralSteps(IUpdater config, DataType dtype) {
        int n = 37;
        int slots = (int) config.stateSize(1);
        INDArray view = slots == 0 ? null : Nd4j.zeros(dtype, 1, slots * n);
        GradientUpdater reference = config.instantiate(view, true);
        // both start from the state ND4J's updater initialises (AdaGrad: epsilon, not zero)
        INDArray[] state = new INDArray[slots];
        for (int s = 0; s < slots; s++) {
            state[s] = view.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(s * n, (s + 1) * n)).dup();
        }
        UpdaterOp op = new UpdaterOp(config);
        assertEquals(slots, op.stateSlots());
        Nd4j.getRandom().setSeed(11);
        for (int iteration = 0; iteration < 4; iteration++) {
            INDArray gradient = Nd4j.randn(dtype, 1, n);
            INDArray expected = gradient.dup();
            reference.applyUpdater(expected, iteration, 0);
            INDArray actual = gradient.dup();
            op.apply(actual, state, iteration);
            assertEquals(expected, actual, "update at iteration " + iteration);
            for (int s = 0; s < slots; s++) {
                assertEquals(view.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(s * n, (s + 1) * n)), state[s],
                        "state slot " + s + " at iteration " + iteration);
            }
        }
    }

    @Test
    void adamsFirstStepFromZeroMomentsIsKnown() {
        // m = (1 - b1) g, v = (1 - b2) g^2; ND4J's Adam corrects the bias in the step size and adds
        // epsilon to sqrt(v) uncorrected: lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps)
        INDArray gradient = Nd4j.create(new double[][] {{0.5, -2.0, 1e-3}}).castTo(DataType.DOUBLE);
        INDArray[] state = {Nd4j.zeros(DataType.DOUBLE, 1, 3), Nd4j.zeros(DataType.DOUBLE, 1, 3)};
        new UpdaterOp(new Adam(0.01)).apply(gradient, state, 0);
        double eps = new Adam().getEpsilon();
        double[] g = {0.5, -2.0, 1e-3};
        for (int i = 0; i < 3; i++) {
            double m = 0.1 * g[i];
            double v = 0.001 * g[i] * g[i];
            assertEquals(0.01 * Math.sqrt(0.001) / 0.1 * m / (Math.sqrt(v) + eps), gradient.getDouble(0, i), 1e-15);
            assertEquals(0.1 * g[i], state[0].getDouble(0, i), 1e-15, "m");
            assertEquals(0.001 * g[i] * g[i], state[1].getDouble(0, i), 1e-15, "v");
        }
    }

    /** Replicas merge their steps on the host (SingleStep): it must take each iteration's rate of a ramp as the op does. */
    @ParameterizedTest
    @MethodSource("ramped")
    void theHostsSingleStepTakesTheRateOfEachIterationAsTheOpDoes(OptimizerKind kind) {
        IUpdater config = kind.updater(0.05, 3);
        UpdaterOp op = new UpdaterOp(config);
        SingleStep host = op.singleStep();
        int n = 5;
        INDArray[] state = new INDArray[op.stateSlots()];
        double[][] hostState = new double[op.stateSlots()][];
        for (int s = 0; s < state.length; s++) {
            state[s] = Nd4j.zeros(DataType.DOUBLE, 1, n);
            hostState[s] = new double[n];
        }
        double[] values = new double[n];
        double[] opValues = new double[n];
        Nd4j.getRandom().setSeed(5);
        double[] rates = new double[4];
        for (int iteration = 0; iteration < 4; iteration++) {
            INDArray gradient = Nd4j.randn(DataType.DOUBLE, 1, n);
            double[] g = gradient.toDoubleVector();
            op.apply(gradient, state, iteration);
            host.step(values, hostState, g, iteration);
            for (int i = 0; i < n; i++) {
                opValues[i] -= gradient.getDouble(0, i);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(opValues[i], values[i], 1e-12, "value " + i + " at iteration " + iteration);
            }
            rates[iteration] = config.getLearningRate(iteration, 0);
        }
        // the ramp: a third, two thirds, then the full rate
        assertEquals(0.05 / 3, rates[0], 1e-15);
        assertEquals(0.1 / 3, rates[1], 1e-15);
        assertEquals(0.05, rates[2], 0);
        assertEquals(0.05, rates[3], 0);
    }

    static Stream<OptimizerKind> ramped() {
        return Stream.of(OptimizerKind.ADAGRAD, OptimizerKind.ADAM);
    }

    @Test
    void refusesAnOptimizerItHasNoOpFor() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new UpdaterOp(new AdaMax()));
        assertEquals("no updater op for AdaMax; use Adam, AdaGrad or Sgd", e.getMessage());
    }
}

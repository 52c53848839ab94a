package io.crossdistil.model;

import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.objective.Losses;
import io.crossdistil.model.state.SeededRandom;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;
import java.util.function.IntFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Platt scaling of one logit per task, z = P r + Q, trained on the batch's labels with
 * sum over tasks of mean CE(y, sigmoid(P r + Q)), the logits constant, by an optimizer of its own
 * (docs/algorithm.md, "Calibration"). The model keeps two: Omega on the teachers' logits (the
 * distillation target's scale), and the output calibration on the students' logits (the
 * probability serving returns).
 */
final class Calibration {
    /** The smallest P of an increasing calibration. */
    static final double MIN_SCALE = 1e-3;

    private final String scaleName;
    private final String shiftName;
    private final ParameterStore store;
    private final int numTasks;
    private final boolean increasing;

    /**
     * @param name the parameters' prefix: {@code name.P} and {@code name.Q}
     * @param increasing keep every P at least {@link #MIN_SCALE}, so that the calibrated scores are
     *     in the logits' order
     */
    Calibration(ModelConfig cfg, String name, double learningRate, boolean increasing, SeededRandom random) {
        numTasks = cfg.numTasks();
        this.increasing = increasing;
        scaleName = name + ".P";
        shiftName = name + ".Q";
        // Adam whatever the model's optimizer: two numbers per task that must keep tracking moving
        // logits (AdaGrad's ever smaller steps froze the served probabilities late in a stream)
        store = new ParameterStore(cfg.dtype, OptimizerKind.ADAM.updater(learningRate, cfg));
        store.add(scaleName, Double.NaN, 1, numTasks);
        store.add(shiftName, 0.0, 1, numTasks);
        store.build(random);
    }

    /** P of task k. */
    double scale(int k) {
        return store.param(scaleName).getDouble(k);
    }

    /** Q of task k. */
    double shift(int k) {
        return store.param(shiftName).getDouble(k);
    }

    /** P of every task. */
    double[] scales() {
        return store.param(scaleName).dup().ravel().toDoubleVector();
    }

    /** Q of every task. */
    double[] shifts() {
        return store.param(shiftName).dup().ravel().toDoubleVector();
    }

    /**
     * The loss on the first {@code batch} rows of each task's logits; its gradients are written to
     * the parameters' gradients.
     */
    double lossAndGradients(IntFunction<double[]> logits, double[][] labels, int batch) {
        INDArray pGrad = store.grad(scaleName);
        INDArray qGrad = store.grad(shiftName);
        double loss = 0;
        for (int k = 0; k < numTasks; k++) {
            double[] lg = Losses.plattLossAndGradient(logits.apply(k), labels[k], batch, scale(k), shift(k));
            loss += lg[0];
            pGrad.putScalar(0, k, lg[1]);
            qGrad.putScalar(0, k, lg[2]);
        }
        return loss;
    }

    void applyUpdate(int iteration) {
        store.applyUpdate(iteration);
        if (increasing) {
            INDArray scale = store.param(scaleName);
            for (int k = 0; k < numTasks; k++) {
                if (!(scale.getDouble(k) >= MIN_SCALE)) {
                    scale.putScalar(k, MIN_SCALE);
                }
            }
        }
    }

    /** The parameters by name: views (changing them changes the calibration). */
    Map<String, INDArray> params() {
        return store.params();
    }

    ParameterStore parameters() {
        return store;
    }

    boolean allFinite() {
        return store.allFinite();
    }

    void write(DataOutput out) throws IOException {
        store.write(out);
    }

    void read(DataInput in) throws IOException {
        store.read(in);
    }
}

package io.crossdistil.model;

import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.objective.Losses;
import io.crossdistil.model.state.SeededRandom;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Omega: Platt scaling of each teacher's logit, r~ = P r + Q, trained on the batch's labels with
 * L_Cal = sum over tasks of CE(y, sigmoid(P r + Q)), the teacher logits constant, by an optimizer
 * of its own (docs/algorithm.md, "Calibration").
 */
final class Calibration {
    private static final String SCALE = "calibration.P";
    private static final String SHIFT = "calibration.Q";

    private final ParameterStore omega;
    private final int numTasks;

    Calibration(ModelConfig cfg, SeededRandom random) {
        numTasks = cfg.numTasks();
        omega = new ParameterStore(cfg.dtype, cfg.optimizer.updater(cfg.calibrationLearningRate));
        omega.add(SCALE, Double.NaN, 1, numTasks);
        omega.add(SHIFT, 0.0, 1, numTasks);
        omega.build(random);
    }

    /** P of task k. */
    double scale(int k) {
        return omega.param(SCALE).getDouble(k);
    }

    /** Q of task k. */
    double shift(int k) {
        return omega.param(SHIFT).getDouble(k);
    }

    /** L_Cal on the batch rows; its gradients are written to the calibration parameters' gradients. */
    double lossAndGradients(ForwardPass p) {
        INDArray pGrad = omega.grad(SCALE);
        INDArray qGrad = omega.grad(SHIFT);
        double loss = 0;
        for (int k = 0; k < numTasks; k++) {
            double[] lg = Losses.plattLossAndGradient(p.teacherLogitsOnHost(k), p.labels[k], p.batch, scale(k), shift(k));
            loss += lg[0];
            pGrad.putScalar(0, k, lg[1]);
            qGrad.putScalar(0, k, lg[2]);
        }
        return loss;
    }

    void applyUpdate(int iteration) {
        omega.applyUpdate(iteration);
    }

    /** The parameters by name: views (changing them changes the calibration). */
    Map<String, INDArray> params() {
        return omega.params();
    }

    ParameterStore parameters() {
        return omega;
    }

    boolean allFinite() {
        return omega.allFinite();
    }

    void write(DataOutput out) throws IOException {
        omega.write(out);
    }

    void read(DataInput in) throws IOException {
        omega.read(in);
    }
}

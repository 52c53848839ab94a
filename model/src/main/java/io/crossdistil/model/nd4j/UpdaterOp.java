package io.crossdistil.model.nd4j;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * ND4J's updater op for an optimizer configuration ({@code adam_updater}, {@code ada_grad_updater},
 * {@code sgd_updater}: the ops ND4J's own {@code GradientUpdater}s run, with the same arguments),
 * through an op context kept between calls. A {@code GradientUpdater} builds the op object and a
 * native context on every call, and takes its state as views of one array, made again whenever
 * the state changes length: for the sparse embedding update, whose rows change every step, that
 * cost 110 microseconds a step, more than the update itself. Not to be used by two threads at once.
 */
public final class UpdaterOp {
    private final IUpdater config;
    private final PreparedOp op;
    private final int stateSlots;

    public UpdaterOp(IUpdater config) {
        this.config = config;
        String name;
        if (config instanceof Adam) {
            name = "adam_updater";
        } else if (config instanceof AdaGrad) {
            name = "ada_grad_updater";
        } else if (config instanceof Sgd) {
            name = "sgd_updater";
        } else {
            throw new IllegalArgumentException("no updater op for " + config.getClass().getSimpleName() + "; use Adam, AdaGrad or Sgd");
        }
        this.op = PreparedOp.owned(name);
        this.stateSlots = (int) config.stateSize(1);
    }

    /**
     * True when the state is a running sum (AdaGrad's squared gradients), which two trainers'
     * changes add up to; false for moving averages (Adam's moments), which they do not.
     */
    public boolean stateIsSum() {
        return config instanceof AdaGrad;
    }

    /** AdaGrad's step, for merging data-parallel replicas' steps (parallel.ReplicaSync); null for another optimizer. */
    public AdaGradStep adaGrad() {
        return config instanceof AdaGrad a ? new AdaGradStep(a.getLearningRate(0, 0), a.getEpsilon()) : null;
    }

    /**
     * One AdaGrad step of one value, as ND4J's {@code ada_grad_updater} takes it: the sum of squared
     * gradients grows by g^2, then the value moves by {@code -rate g / (sqrt(sum) + epsilon)}.
     */
    public record AdaGradStep(double rate, double epsilon) {
        /** The gradient of a single step that changed a value by {@code valueChange} and its sum by {@code sumChange}. */
        public double gradient(double valueChange, double sumChange) {
            // no branch on the sign: it is as often + as -, and a mispredicted branch costs more than the root
            double g = Math.copySign(Math.sqrt(Math.max(sumChange, 0)), -valueChange);
            return valueChange == 0 ? 0 : g;
        }

        /** The value after a step of gradient {@code g} from {@code value}, where {@code sumAfter} already counts g^2. */
        public double valueAfter(double value, double sumAfter, double g) {
            return value - rate * g / (Math.sqrt(sumAfter) + epsilon);
        }
    }

    /** Arrays of state per value (Adam 2, AdaGrad 1, SGD 0). */
    public int stateSlots() {
        return stateSlots;
    }

    /**
     * Turns {@code gradient} into the update in place and advances {@code state}: arrays of the
     * gradient's shape in the order of ND4J's state view (Adam: m, then v; AdaGrad: the sum of
     * squared gradients). {@code iteration} counts from 0.
     */
    public void apply(INDArray gradient, INDArray[] state, int iteration) {
        double rate = config.getLearningRate(iteration, 0);
        if (config instanceof Adam adam) {
            // the op's order: gradient, v, m
            INDArray[] arrays = {gradient, state[1], state[0]};
            op.exec(arrays, arrays, new long[] {iteration}, new double[] {rate, adam.getBeta1(), adam.getBeta2(), adam.getEpsilon()});
        } else if (config instanceof AdaGrad adaGrad) {
            INDArray[] arrays = {gradient, state[0]};
            op.exec(arrays, arrays, new long[0], new double[] {rate, adaGrad.getEpsilon()});
        } else {
            INDArray[] arrays = {gradient};
            op.exec(arrays, arrays, new long[0], new double[] {rate});
        }
    }
}

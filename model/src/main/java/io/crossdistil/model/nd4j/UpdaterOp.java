package io.crossdistil.model.nd4j;

import java.util.function.IntToDoubleFunction;
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

    /** The optimizer's step worked out on the host, for merging data-parallel replicas' steps exactly; null for SGD. */
    public SingleStep singleStep() {
        IntToDoubleFunction rate = iteration -> config.getLearningRate(iteration, 0); // as apply takes it
        if (config instanceof AdaGrad a) {
            return new SingleStep.AdaGrad(rate, a.getEpsilon());
        }
        if (config instanceof Adam a) {
            return new SingleStep.Adam(rate, a.getBeta1(), a.getBeta2(), a.getEpsilon());
        }
        return null;
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

package io.crossdistil.model;

import io.crossdistil.model.nd4j.MatMul;
import io.crossdistil.model.nd4j.Rows;
import io.crossdistil.model.nn.Mlp;
import io.crossdistil.model.nn.ParameterStore;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * MMoE's gates (Ma et al., 2018): per tower, a softmax over the experts computed from the tower's
 * input rows, and the mixture of the experts' outputs it weighs; forward and backward.
 */
final class ExpertGates {
    private final ParameterStore theta;
    private final List<Mlp> experts;
    private final DataType dtype;

    ExpertGates(ParameterStore theta, List<Mlp> experts, DataType dtype) {
        this.theta = theta;
        this.experts = experts;
        this.dtype = dtype;
    }

    /** Registers the gate of tower {@code head}: gate.head.W and gate.head.b. */
    static void register(ParameterStore theta, String head, int inputSize, int experts) {
        theta.add("gate." + head + ".W", Math.sqrt(1.0 / inputSize), inputSize, experts);
        theta.add("gate." + head + ".b", 0.0, 1, experts);
    }

    /** The gate-weighted sum of the expert outputs for tower {@code tower}, first {@code rows} rows; keeps the gate in the pass. */
    INDArray mixture(ForwardPass p, int tower, String head, int rows) {
        INDArray x = Rows.first(p.x0, rows);
        INDArray gate = Transforms.softmax(MatMul.of(x, false, theta.param("gate." + head + ".W"), false).addiRowVector(theta.param("gate." + head + ".b")), false);
        p.gates[tower] = gate;
        INDArray out = null;
        for (int e = 0; e < experts.size(); e++) {
            INDArray term = Rows.first(p.expertActs.get(e).output(), rows).mulColumnVector(gate.getColumn(e, true));
            out = out == null ? term : out.addi(term);
        }
        return out;
    }

    /** Backward through one tower's gate and mixture; accumulates the experts' and the input's gradients. */
    void backward(ForwardPass p, int tower, String head, INDArray dMix, int rows, INDArray[] dExpert, INDArray dx0) {
        INDArray gate = p.gates[tower];
        INDArray dGate = Nd4j.create(dtype, rows, experts.size());
        for (int e = 0; e < experts.size(); e++) {
            INDArray out = Rows.first(p.expertActs.get(e).output(), rows);
            Rows.first(dExpert[e], rows).addi(dMix.mulColumnVector(gate.getColumn(e, true)));
            dGate.putColumn(e, dMix.mul(out).sum(true, 1));
        }
        // softmax backward: dz = g * (dg - sum(dg * g))
        INDArray dz = gate.mul(dGate.subColumnVector(dGate.mul(gate).sum(true, 1)));
        INDArray x = Rows.first(p.x0, rows);
        MatMul.into(x, true, dz, false, theta.grad("gate." + head + ".W"));
        dz.sum(theta.grad("gate." + head + ".b"), 0);
        Rows.first(dx0, rows).addi(MatMul.of(dz, false, theta.param("gate." + head + ".W"), true));
    }
}

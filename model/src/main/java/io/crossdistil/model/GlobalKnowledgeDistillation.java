package io.crossdistil.model;

import io.crossdistil.model.nd4j.MatMul;
import io.crossdistil.model.nd4j.Rows;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.state.SeededRandom;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Global knowledge distillation (GKD), Deep Mutual Learning across Task Towers' module at the
 * towers' top. With h_t tower t's last hidden layer (H values) and g = sg([h_1 ... h_T]) all of
 * them, the gradient stopped (sg):
 * <pre>
 *   i_t = dropout(ReLU(g U_t + u_t))          what the other towers know, for tower t
 *   w_t = sigmoid([h_t, i_t] A_t + a_t)       how much of it tower t takes, per unit
 *   r_t += (w_t * i_t) v_t                    added to tower t's logit (v_t without bias)
 * </pre>
 * A task's loss reaches its own tower's h_t (through the gate w_t), never another tower's.
 */
final class GlobalKnowledgeDistillation {
    private final ParameterStore store;
    private final String prefix;
    private final List<String> taskNames;
    private final int tasks;
    private final int hidden;
    private final double dropout;
    private final DataType dtype;
    /** For gradient checks: while held, g is the one of the first pass after holding. */
    private boolean hold;
    private INDArray held;

    /** What the backward pass needs of one forward pass. */
    static final class Pass {
        INDArray global;
        INDArray[] hidden;
        /** Per task: i_t (after dropout), its mask (or null), w_t and [h_t, i_t]. */
        INDArray[] info;
        INDArray[] masks;
        INDArray[] gate;
        INDArray[] gateInput;
        /** Per task, the term added to its logit: [rows, 1]. */
        INDArray[] terms;
    }

    /**
     * Registers per task t, under {@code prefix.t}: {@code .U.W} [tasks * hidden, hidden],
     * {@code .U.b}, {@code .A.W} [2 * hidden, hidden], {@code .A.b} and {@code .v} [hidden, 1].
     */
    GlobalKnowledgeDistillation(ParameterStore store, String prefix, List<String> taskNames, int hidden, double dropout) {
        this.store = store;
        this.prefix = prefix;
        this.taskNames = List.copyOf(taskNames);
        this.tasks = taskNames.size();
        this.hidden = hidden;
        this.dropout = dropout;
        this.dtype = store.dtype();
        for (String task : taskNames) {
            store.add(name(task, "U.W"), Math.sqrt(2.0 / (tasks * hidden)), (long) tasks * hidden, hidden);
            store.add(name(task, "U.b"), 0.0, 1, hidden);
            store.add(name(task, "A.W"), Math.sqrt(1.0 / (2 * hidden)), 2L * hidden, hidden);
            store.add(name(task, "A.b"), 0.0, 1, hidden);
            store.add(name(task, "v"), Math.sqrt(1.0 / hidden), hidden, 1);
        }
    }

    private String name(String task, String parameter) {
        return prefix + "." + task + "." + parameter;
    }

    private INDArray param(int t, String parameter) {
        return store.param(name(taskNames.get(t), parameter));
    }

    private INDArray grad(int t, String parameter) {
        return store.grad(name(taskNames.get(t), parameter));
    }

    /**
     * The terms for the towers' logits from their last hidden layers {@code h} (one per task, same
     * rows); a training pass passes the step's dropout generator, a prediction pass null.
     */
    Pass forward(INDArray[] h, SeededRandom dropoutRandom) {
        int rows = (int) h[0].rows();
        Pass p = new Pass();
        p.hidden = h;
        p.global = Nd4j.hstack(h);
        if (hold) {
            held = held == null ? p.global : held;
            p.global = held;
        }
        p.info = new INDArray[tasks];
        p.masks = new INDArray[tasks];
        p.gate = new INDArray[tasks];
        p.gateInput = new INDArray[tasks];
        p.terms = new INDArray[tasks];
        for (int t = 0; t < tasks; t++) {
            INDArray info = Transforms.relu(MatMul.of(p.global, false, param(t, "U.W"), false).addiRowVector(param(t, "U.b")), false);
            p.masks[t] = DropoutMask.draw(dropoutRandom, dropout, rows, hidden, dtype);
            p.info[t] = p.masks[t] == null ? info : info.muli(p.masks[t]);
            p.gateInput[t] = Nd4j.hstack(h[t], p.info[t]);
            p.gate[t] = Transforms.sigmoid(MatMul.of(p.gateInput[t], false, param(t, "A.W"), false).addiRowVector(param(t, "A.b")), false);
            p.terms[t] = MatMul.of(p.gate[t].mul(p.info[t]), false, param(t, "v"), false);
        }
        return p;
    }

    /**
     * Writes task t's parameter gradients from {@code dTerm}, the loss gradient at its logit
     * ([rows, 1]), and returns the gradient at its tower's last hidden layer h_t.
     */
    INDArray backward(Pass p, int t, INDArray dTerm) {
        INDArray info = p.info[t];
        INDArray gate = p.gate[t];
        MatMul.into(gate.mul(info), true, dTerm, false, grad(t, "v"));
        INDArray dProduct = MatMul.of(dTerm, false, param(t, "v"), true);
        // sigmoid backward: w (1 - w)
        INDArray dzGate = dProduct.mul(info).muli(gate.mul(gate.rsub(1.0)));
        MatMul.into(p.gateInput[t], true, dzGate, false, grad(t, "A.W"));
        grad(t, "A.b").assign(dzGate.sum(true, 0));
        INDArray dGateInput = MatMul.of(dzGate, false, param(t, "A.W"), true);
        INDArray dInfo = dProduct.mul(gate).addi(dGateInput.get(NDArrayIndex.all(), NDArrayIndex.interval(hidden, 2L * hidden)));
        if (p.masks[t] != null) {
            dInfo.muli(p.masks[t]);
        }
        // through the ReLU (an output is positive exactly where its input is, mask or not: the mask is positive where it keeps)
        dInfo.muli(Transforms.sign(info, true));
        MatMul.into(p.global, true, dInfo, false, grad(t, "U.W"));
        grad(t, "U.b").assign(dInfo.sum(true, 0));
        // g is stopped: nothing flows back through it
        return dGateInput.get(NDArrayIndex.all(), NDArrayIndex.interval(0, hidden)).dup('c');
    }

    /**
     * For gradient checks by finite differences: from the next pass on, g is that pass's, a
     * constant, as the stop-gradient says it is (false: every pass its own).
     */
    void holdStoppedInput(boolean on) {
        hold = on;
        held = null;
    }

    /** Adds task t's term to column {@code column} of a group's logits. */
    static void addTerm(Pass p, int t, INDArray logits, int column) {
        logits.getColumn(column, true).addi(Rows.first(p.terms[t], (int) logits.rows()));
    }
}

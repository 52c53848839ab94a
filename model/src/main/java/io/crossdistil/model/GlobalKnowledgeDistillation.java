package io.crossdistil.model;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nd4j.MatMul;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.state.SeededRandom;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

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
 *
 * <p>The products are ND4J's; the element-wise work is done on the host, where each of these small
 * arrays takes a few microseconds against ND4J's fixed cost of tens of microseconds per op.
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

    /** What the backward pass needs of one forward pass; host arrays are row-major [rows][hidden]. */
    static final class Pass {
        int rows;
        INDArray global;
        /** Per task: [h_t, i_t] (i_t after dropout) as an ND4J matrix, i_t, its mask (or null) and w_t. */
        INDArray[] gateInput;
        double[][] info;
        double[][] masks;
        double[][] gate;
        /** Per task, the term added to its logit, one per row. */
        double[][] terms;
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

    private String name(int t, String parameter) {
        return name(taskNames.get(t), parameter);
    }

    private String name(String task, String parameter) {
        return prefix + "." + task + "." + parameter;
    }

    private double[] hostParam(int t, String parameter) {
        return HostArrays.values(store.param(name(t, parameter)));
    }

    /**
     * The terms for the towers' logits from their last hidden layers {@code h} (row-major host
     * arrays, one per task, {@code rows} rows each); a training pass passes the step's dropout
     * generator, a prediction pass null.
     */
    Pass forward(double[][] h, int rows, SeededRandom dropoutRandom) {
        Pass p = new Pass();
        p.rows = rows;
        double[] g = new double[rows * tasks * hidden];
        for (int t = 0; t < tasks; t++) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(h[t], i * hidden, g, (i * tasks + t) * hidden, hidden);
            }
        }
        p.global = HostArrays.matrix(g, rows, (long) tasks * hidden, dtype);
        if (hold) {
            held = held == null ? p.global : held;
            p.global = held;
        }
        p.gateInput = new INDArray[tasks];
        p.info = new double[tasks][];
        p.masks = new double[tasks][];
        p.gate = new double[tasks][];
        p.terms = new double[tasks][];
        for (int t = 0; t < tasks; t++) {
            double[] info = HostArrays.values(MatMul.of(p.global, false, store.param(name(t, "U.W")), false));
            double[] u = hostParam(t, "U.b");
            INDArray mask = DropoutMask.draw(dropoutRandom, dropout, rows, hidden, dtype);
            p.masks[t] = mask == null ? null : HostArrays.values(mask);
            double[] gateInput = new double[rows * 2 * hidden];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < hidden; j++) {
                    int r = i * hidden + j;
                    info[r] = Math.max(0, info[r] + u[j]) * (p.masks[t] == null ? 1 : p.masks[t][r]);
                    gateInput[i * 2 * hidden + j] = h[t][r];
                    gateInput[i * 2 * hidden + hidden + j] = info[r];
                }
            }
            p.info[t] = info;
            p.gateInput[t] = HostArrays.matrix(gateInput, rows, 2L * hidden, dtype);
            double[] w = HostArrays.values(MatMul.of(p.gateInput[t], false, store.param(name(t, "A.W")), false));
            double[] a = hostParam(t, "A.b");
            double[] v = hostParam(t, "v");
            double[] terms = new double[rows];
            for (int i = 0; i < rows; i++) {
                double term = 0;
                for (int j = 0; j < hidden; j++) {
                    int r = i * hidden + j;
                    w[r] = 1 / (1 + Math.exp(-(w[r] + a[j])));
                    term += w[r] * info[r] * v[j];
                }
                terms[i] = term;
            }
            p.gate[t] = w;
            p.terms[t] = terms;
        }
        return p;
    }

    /**
     * Writes task t's parameter gradients from {@code dTerm}, the loss gradient at its logit (one
     * per row), and returns the gradient at its tower's last hidden layer h_t (row-major).
     */
    double[] backward(Pass p, int t, double[] dTerm) {
        int rows = p.rows;
        double[] info = p.info[t];
        double[] w = p.gate[t];
        double[] v = hostParam(t, "v");
        double[] dv = new double[hidden];
        double[] dz = new double[rows * hidden];
        double[] da = new double[hidden];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < hidden; j++) {
                int r = i * hidden + j;
                dv[j] += w[r] * info[r] * dTerm[i];
                // through w_t's sigmoid: w (1 - w)
                dz[r] = dTerm[i] * v[j] * info[r] * w[r] * (1 - w[r]);
                da[j] += dz[r];
            }
        }
        store.grad(name(t, "v")).assign(HostArrays.matrix(dv, hidden, 1, dtype));
        store.grad(name(t, "A.b")).assign(HostArrays.matrix(da, 1, hidden, dtype));
        INDArray dzArray = HostArrays.matrix(dz, rows, hidden, dtype);
        MatMul.into(p.gateInput[t], true, dzArray, false, store.grad(name(t, "A.W")));
        double[] dGateInput = HostArrays.values(MatMul.of(dzArray, false, store.param(name(t, "A.W")), true));
        double[] dh = new double[rows * hidden];
        double[] dInfo = new double[rows * hidden];
        double[] du = new double[hidden];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < hidden; j++) {
                int r = i * hidden + j;
                dh[r] = dGateInput[i * 2 * hidden + j];
                // i_t is positive exactly where its ReLU passed and its mask kept (then scaled it)
                double mask = p.masks[t] == null ? 1 : p.masks[t][r];
                double d = info[r] > 0 ? (dTerm[i] * v[j] * w[r] + dGateInput[i * 2 * hidden + hidden + j]) * mask : 0;
                dInfo[r] = d;
                du[j] += d;
            }
        }
        store.grad(name(t, "U.b")).assign(HostArrays.matrix(du, 1, hidden, dtype));
        // g is stopped: nothing flows back through it
        MatMul.into(p.global, true, HostArrays.matrix(dInfo, rows, hidden, dtype), false, store.grad(name(t, "U.W")));
        return dh;
    }

    /**
     * For gradient checks by finite differences: from the next pass on, g is that pass's, a
     * constant, as the stop-gradient says it is (false: every pass its own).
     */
    void holdStoppedInput(boolean on) {
        hold = on;
        held = null;
    }
}

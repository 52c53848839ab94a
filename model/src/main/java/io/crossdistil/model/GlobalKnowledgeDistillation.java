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
 * <p>All tasks at once: each task keeps its own parameters (their names, initial values and places
 * in snapshots), stored fused as {@code Mlp.towers} stores towers: the U_t side by side, the A_t
 * and v_t on block diagonals, so that each product is one for every task. The products are
 * ND4J's; the element-wise work is done on the host, where each of these small arrays takes a
 * few microseconds against ND4J's fixed cost of tens of microseconds per call.
 */
final class GlobalKnowledgeDistillation {
    private final ParameterStore store;
    private final String prefix;
    private final int tasks;
    private final int hidden;
    private final double dropout;
    private final DataType dtype;
    /** For gradient checks: while held, g is the one of the first pass after holding. */
    private boolean hold;
    private INDArray held;

    /** What the backward pass needs of one forward pass; host arrays are row-major, task t's columns block t. */
    static final class Pass {
        int rows;
        INDArray global;
        /** [h_1, i_1, h_2, i_2 ...] (i_t after dropout) as an ND4J matrix. */
        INDArray gateInput;
        /** [rows][tasks * hidden]: i (after dropout), its mask (or null) and w. */
        double[] info;
        double[] mask;
        double[] gate;
        /** Per task, the term added to its logit, one per row. */
        double[][] terms;
    }

    /**
     * Registers per task t, under {@code prefix.t}: {@code .U.W} [tasks * hidden, hidden],
     * {@code .U.b}, {@code .A.W} [2 * hidden, hidden], {@code .A.b} and {@code .v} [hidden, 1];
     * fused under {@code prefix.U.W} and so on.
     */
    GlobalKnowledgeDistillation(ParameterStore store, String prefix, List<String> taskNames, int hidden, double dropout) {
        this.store = store;
        this.prefix = prefix;
        this.tasks = taskNames.size();
        this.hidden = hidden;
        this.dropout = dropout;
        this.dtype = store.dtype();
        for (String task : taskNames) {
            store.add(prefix + "." + task + ".U.W", Math.sqrt(2.0 / (tasks * hidden)), (long) tasks * hidden, hidden);
            store.add(prefix + "." + task + ".U.b", 0.0, 1, hidden);
            store.add(prefix + "." + task + ".A.W", Math.sqrt(1.0 / (2 * hidden)), 2L * hidden, hidden);
            store.add(prefix + "." + task + ".A.b", 0.0, 1, hidden);
            store.add(prefix + "." + task + ".v", Math.sqrt(1.0 / hidden), hidden, 1);
        }
        for (String p : List.of("U.W", "U.b", "A.b")) {
            store.fuseSideBySide(prefix + "." + p, taskNames.stream().map(t -> prefix + "." + t + "." + p).toList());
        }
        for (String p : List.of("A.W", "v")) {
            store.fuseBlockDiagonal(prefix + "." + p, taskNames.stream().map(t -> prefix + "." + t + "." + p).toList());
        }
    }

    private INDArray param(String fused) {
        return store.param(prefix + "." + fused);
    }

    private INDArray grad(String fused) {
        return store.grad(prefix + "." + fused);
    }

    /**
     * The terms for the towers' logits from their last hidden layers {@code h} (row-major host
     * arrays, one per task, {@code rows} rows each); a training pass passes the step's dropout
     * generator, a prediction pass null.
     */
    Pass forward(double[][] h, int rows, SeededRandom dropoutRandom) {
        int width = tasks * hidden;
        Pass p = new Pass();
        p.rows = rows;
        p.global = HostArrays.matrix(ColumnBlocks.join(h, rows), rows, width, dtype);
        if (hold) {
            held = held == null ? p.global : held;
            p.global = held;
        }
        double[] info = HostArrays.values(MatMul.of(p.global, false, param("U.W"), false));
        double[] u = HostArrays.values(param("U.b"));
        p.mask = DropoutMask.draw(dropoutRandom, dropout, rows, width, dtype);
        double[] gateInput = new double[rows * 2 * width];
        for (int i = 0; i < rows; i++) {
            for (int t = 0, c = 0; t < tasks; t++) {
                for (int j = 0; j < hidden; j++, c++) {
                    int r = i * width + c;
                    info[r] = Math.max(0, info[r] + u[c]) * (p.mask == null ? 1 : p.mask[r]);
                    gateInput[i * 2 * width + 2 * t * hidden + j] = h[t][i * hidden + j];
                    gateInput[i * 2 * width + (2 * t + 1) * hidden + j] = info[r];
                }
            }
        }
        p.info = info;
        p.gateInput = HostArrays.matrix(gateInput, rows, 2L * width, dtype);
        double[] w = HostArrays.values(MatMul.of(p.gateInput, false, param("A.W"), false));
        double[] a = HostArrays.values(param("A.b"));
        double[] v = HostArrays.values(param("v"));
        p.terms = new double[tasks][rows];
        for (int i = 0; i < rows; i++) {
            for (int t = 0, c = 0; t < tasks; t++) {
                for (int j = 0; j < hidden; j++, c++) {
                    int r = i * width + c;
                    w[r] = 1 / (1 + Math.exp(-(w[r] + a[c])));
                    // v on its block diagonal: v_t[j] at row c, column t
                    p.terms[t][i] += w[r] * info[r] * v[c * tasks + t];
                }
            }
        }
        p.gate = w;
        return p;
    }

    /**
     * Writes the parameter gradients from {@code dTerm}, the loss gradients at the towers' logits
     * (per task, one per row), and returns the gradients at their last hidden layers h_t (per task,
     * row-major).
     */
    double[][] backward(Pass p, double[][] dTerm) {
        int rows = p.rows;
        int width = tasks * hidden;
        double[] info = p.info;
        double[] w = p.gate;
        double[] v = HostArrays.values(param("v"));
        double[] dv = new double[width * tasks];
        double[] dz = new double[rows * width];
        double[] da = new double[width];
        for (int i = 0; i < rows; i++) {
            for (int t = 0, c = 0; t < tasks; t++) {
                double d = dTerm[t][i];
                for (int j = 0; j < hidden; j++, c++) {
                    int r = i * width + c;
                    dv[c * tasks + t] += w[r] * info[r] * d;
                    // through w's sigmoid: w (1 - w)
                    dz[r] = d * v[c * tasks + t] * info[r] * w[r] * (1 - w[r]);
                    da[c] += dz[r];
                }
            }
        }
        grad("v").assign(HostArrays.matrix(dv, width, tasks, dtype));
        grad("A.b").assign(HostArrays.matrix(da, 1, width, dtype));
        INDArray dzArray = HostArrays.matrix(dz, rows, width, dtype);
        // the whole product: the store keeps the block diagonal's other entries at zero
        MatMul.into(p.gateInput, true, dzArray, false, grad("A.W"));
        double[] dGateInput = HostArrays.values(MatMul.of(dzArray, false, param("A.W"), true));
        double[][] dh = new double[tasks][rows * hidden];
        double[] dInfo = new double[rows * width];
        double[] du = new double[width];
        for (int i = 0; i < rows; i++) {
            for (int t = 0, c = 0; t < tasks; t++) {
                for (int j = 0; j < hidden; j++, c++) {
                    int r = i * width + c;
                    dh[t][i * hidden + j] = dGateInput[i * 2 * width + 2 * t * hidden + j];
                    // i is positive exactly where its ReLU passed and its mask kept (then scaled it)
                    double mask = p.mask == null ? 1 : p.mask[r];
                    double d = info[r] > 0 ? (dTerm[t][i] * v[c * tasks + t] * w[r] + dGateInput[i * 2 * width + (2 * t + 1) * hidden + j]) * mask : 0;
                    dInfo[r] = d;
                    du[c] += d;
                }
            }
        }
        grad("U.b").assign(HostArrays.matrix(du, 1, width, dtype));
        // g is stopped: nothing flows back through it
        MatMul.into(p.global, true, HostArrays.matrix(dInfo, rows, width, dtype), false, grad("U.W"));
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

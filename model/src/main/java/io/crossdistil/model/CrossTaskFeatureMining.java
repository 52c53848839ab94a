package io.crossdistil.model;

import io.crossdistil.model.nd4j.MatMul;
import io.crossdistil.model.nd4j.Rows;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.state.SeededRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Cross-task feature mining (CTFM), Deep Mutual Learning across Task Towers' module at the towers'
 * entry. With x_t tower t's input (d values) and e_t a learned task embedding:
 * <pre>
 *   q_t = ReLU((x_t + e_t) Wq + bq)          from the tower's own input, gradient flowing
 *   k_u = ReLU(sg(x_u + e_u) Wk + bk)        keys and values from every tower's input,
 *   v_u = ReLU(sg(x_u + e_u) Wv + bv)        the gradient stopped (sg)
 *   a_t = softmax_u(q_t . k_u / sqrt(d))
 *   y_t = x_t + dropout(sum_u a_tu v_u)      what tower t reads
 * </pre>
 * Wq, Wk, Wv are shared by the towers. Because keys and values are stopped, one task's loss moves
 * only its own tower's input (through q_t and the residual), never another's.
 */
final class CrossTaskFeatureMining {
    private final ParameterStore store;
    private final String prefix;
    private final int tasks;
    private final int dim;
    private final boolean taskEmbedding;
    private final double dropout;
    private final DataType dtype;
    /** For gradient checks: while held, keys and values read the stopped input of the first pass after holding. */
    private boolean hold;
    private INDArray held;

    /** What the backward pass needs of one forward pass. */
    static final class Pass {
        final int rows;
        /** The inputs with their task embeddings, stacked task by task: [tasks * rows, dim]. */
        INDArray stacked;
        /** What the keys and values read: the stacked inputs, as a constant (stopped). */
        INDArray stopped;
        INDArray q;
        INDArray k;
        INDArray v;
        /** Per task t, a_t: [rows, tasks]. */
        INDArray[] attention;
        /** Per task, the dropout mask of the mined features, or null. */
        INDArray[] masks;
        /** Per task, y_t. */
        INDArray[] outputs;

        Pass(int rows) {
            this.rows = rows;
        }
    }

    /**
     * Registers the parameters under {@code prefix}: {@code .task} (one row per task),
     * {@code .Q.W}, {@code .Q.b}, {@code .K.W}, {@code .K.b}, {@code .V.W}, {@code .V.b}.
     */
    CrossTaskFeatureMining(ParameterStore store, String prefix, int tasks, int dim, boolean taskEmbedding, double dropout) {
        this.store = store;
        this.prefix = prefix;
        this.tasks = tasks;
        this.dim = dim;
        this.taskEmbedding = taskEmbedding;
        this.dropout = dropout;
        this.dtype = store.dtype();
        if (taskEmbedding) {
            store.add(prefix + ".task", 0.01, tasks, dim);
        }
        for (String m : new String[] {"Q", "K", "V"}) {
            store.add(prefix + "." + m + ".W", Math.sqrt(2.0 / dim), dim, dim);
            store.add(prefix + "." + m + ".b", 0.0, 1, dim);
        }
    }

    /**
     * The towers' new inputs from their inputs {@code x} (one per task, same rows); a training
     * pass passes the step's dropout generator, a prediction pass null.
     */
    Pass forward(INDArray[] x, SeededRandom dropoutRandom) {
        int rows = (int) x[0].rows();
        Pass p = new Pass(rows);
        p.stacked = Nd4j.create(dtype, (long) tasks * rows, dim);
        for (int t = 0; t < tasks; t++) {
            INDArray block = Rows.block(p.stacked, t * rows, rows).assign(x[t]);
            if (taskEmbedding) {
                block.addiRowVector(store.param(prefix + ".task").getRow(t, true));
            }
        }
        p.stopped = p.stacked;
        if (hold) {
            held = held == null ? p.stacked.dup() : held;
            p.stopped = held;
        }
        p.q = dense("Q", p.stacked);
        p.k = dense("K", p.stopped);
        p.v = dense("V", p.stopped);
        double scale = 1 / Math.sqrt(dim);
        p.attention = new INDArray[tasks];
        p.masks = new INDArray[tasks];
        p.outputs = new INDArray[tasks];
        for (int t = 0; t < tasks; t++) {
            INDArray qt = Rows.block(p.q, t * rows, rows);
            INDArray scores = Nd4j.create(dtype, rows, tasks);
            for (int u = 0; u < tasks; u++) {
                scores.putColumn(u, qt.mul(Rows.block(p.k, u * rows, rows)).sum(true, 1).muli(scale));
            }
            p.attention[t] = Transforms.softmax(scores, false);
            INDArray mined = Nd4j.create(dtype, rows, dim);
            for (int u = 0; u < tasks; u++) {
                mined.addi(Rows.block(p.v, u * rows, rows).mulColumnVector(p.attention[t].getColumn(u, true)));
            }
            p.masks[t] = DropoutMask.draw(dropoutRandom, dropout, rows, dim, dtype);
            if (p.masks[t] != null) {
                mined.muli(p.masks[t]);
            }
            p.outputs[t] = mined.addi(x[t]);
        }
        return p;
    }

    /**
     * For gradient checks by finite differences: from the next pass on, keys and values read that
     * pass's input as a constant, as the stop-gradient says they do (false: every pass its own).
     */
    void holdStoppedInput(boolean on) {
        hold = on;
        held = null;
    }

    private INDArray dense(String m, INDArray in) {
        INDArray z = MatMul.of(in, false, store.param(prefix + "." + m + ".W"), false).addiRowVector(store.param(prefix + "." + m + ".b"));
        return Transforms.relu(z, false);
    }

    /**
     * Writes the parameters' gradients from the gradients {@code dOut} at the outputs y_t and
     * returns the gradients at the inputs x_t (null when {@code inputGradient} is false).
     */
    INDArray[] backward(Pass p, INDArray[] dOut, boolean inputGradient) {
        int rows = p.rows;
        double scale = 1 / Math.sqrt(dim);
        INDArray dq = Nd4j.zeros(dtype, (long) tasks * rows, dim);
        INDArray dk = Nd4j.zeros(dtype, (long) tasks * rows, dim);
        INDArray dv = Nd4j.zeros(dtype, (long) tasks * rows, dim);
        for (int t = 0; t < tasks; t++) {
            INDArray dMined = p.masks[t] == null ? dOut[t] : dOut[t].mul(p.masks[t]);
            INDArray a = p.attention[t];
            INDArray da = Nd4j.create(dtype, rows, tasks);
            for (int u = 0; u < tasks; u++) {
                da.putColumn(u, dMined.mul(Rows.block(p.v, u * rows, rows)).sum(true, 1));
                Rows.block(dv, u * rows, rows).addi(dMined.mulColumnVector(a.getColumn(u, true)));
            }
            // softmax backward: ds = a * (da - sum(da * a)), times the scale of the scores
            INDArray ds = a.mul(da.subColumnVector(da.mul(a).sum(true, 1))).muli(scale);
            INDArray qt = Rows.block(p.q, t * rows, rows);
            INDArray dqt = Rows.block(dq, t * rows, rows);
            for (int u = 0; u < tasks; u++) {
                INDArray weight = ds.getColumn(u, true);
                dqt.addi(Rows.block(p.k, u * rows, rows).mulColumnVector(weight));
                Rows.block(dk, u * rows, rows).addi(qt.mulColumnVector(weight));
            }
        }
        // through the ReLUs (an output is positive exactly where its input is) to the weights;
        // keys and values read a stopped input, so only the queries pass a gradient down
        INDArray dStacked = null;
        for (String m : new String[] {"Q", "K", "V"}) {
            INDArray out = m.equals("Q") ? p.q : m.equals("K") ? p.k : p.v;
            INDArray dz = (m.equals("Q") ? dq : m.equals("K") ? dk : dv).muli(Transforms.sign(out, true));
            MatMul.into(m.equals("Q") ? p.stacked : p.stopped, true, dz, false, store.grad(prefix + "." + m + ".W"));
            store.grad(prefix + "." + m + ".b").assign(dz.sum(true, 0));
            if (m.equals("Q")) {
                dStacked = MatMul.of(dz, false, store.param(prefix + ".Q.W"), true);
            }
        }
        if (taskEmbedding) {
            INDArray dTask = store.grad(prefix + ".task");
            for (int t = 0; t < tasks; t++) {
                dTask.putRow(t, Rows.block(dStacked, t * rows, rows).sum(true, 0));
            }
        }
        if (!inputGradient) {
            return null;
        }
        INDArray[] dx = new INDArray[tasks];
        for (int t = 0; t < tasks; t++) {
            dx[t] = Rows.block(dStacked, t * rows, rows).add(dOut[t]);
        }
        return dx;
    }
}

package io.crossdistil.model;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nd4j.MatMul;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.state.SeededRandom;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

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
 *
 * <p>The products are ND4J's; the attention and the element-wise work run on the host (see
 * {@link GlobalKnowledgeDistillation}).
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
        /** Queries, keys and values on the host, stacked as the inputs (row t * rows + i is task t's event i). */
        double[] q;
        double[] k;
        double[] v;
        /** a_tu of event i at [(t * rows + i) * tasks + u]. */
        double[] attention;
        /** The dropout mask of the mined features on the host, stacked as the inputs, or null. */
        double[] mask;
        /** Per task, y_t. */
        INDArray[] outputs;

        Pass(int rows) {
            this.rows = rows;
        }
    }

    /**
     * Registers the parameters under {@code prefix}: {@code .task} (one row per task),
     * {@code .Q.W}, {@code .Q.b}, {@code .K.W}, {@code .K.b}, {@code .V.W}, {@code .V.b}; the three
     * weights and the three biases fused side by side ({@code .QKV.W}, {@code .QKV.b}), so that
     * queries, keys and values are one product.
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
        store.fuseSideBySide(prefix + ".QKV.W", List.of(prefix + ".Q.W", prefix + ".K.W", prefix + ".V.W"));
        store.fuseSideBySide(prefix + ".QKV.b", List.of(prefix + ".Q.b", prefix + ".K.b", prefix + ".V.b"));
    }

    /**
     * The towers' new inputs from their inputs {@code x} (one per task, same rows); a training
     * pass passes the step's dropout generator, a prediction pass null.
     */
    Pass forward(INDArray[] x, SeededRandom dropoutRandom) {
        int rows = (int) x[0].rows();
        Pass p = new Pass(rows);
        double[][] inputs = new double[tasks][];
        double[] stacked = new double[tasks * rows * dim];
        double[] embedding = taskEmbedding ? HostArrays.values(store.param(prefix + ".task")) : null;
        for (int t = 0; t < tasks; t++) {
            inputs[t] = t > 0 && x[t] == x[t - 1] ? inputs[t - 1] : HostArrays.values(x[t]);
            for (int i = 0, r = 0; i < rows; i++) {
                for (int j = 0; j < dim; j++, r++) {
                    stacked[t * rows * dim + r] = inputs[t][r] + (embedding == null ? 0 : embedding[t * dim + j]);
                }
            }
        }
        p.stacked = HostArrays.matrix(stacked, (long) tasks * rows, dim, dtype);
        p.stopped = p.stacked;
        if (hold) {
            held = held == null ? p.stacked.dup() : held;
            p.stopped = held;
        }
        // one product gives queries, keys and values (two while a check holds the keys' input)
        double[] qkv = dense(p.stacked);
        double[] kv = p.stopped == p.stacked ? qkv : dense(p.stopped);
        p.q = ColumnBlocks.take(qkv, tasks * rows, 3, 0);
        p.k = ColumnBlocks.take(kv, tasks * rows, 3, 1);
        p.v = ColumnBlocks.take(kv, tasks * rows, 3, 2);
        p.mask = DropoutMask.draw(dropoutRandom, dropout, (long) tasks * rows, dim, dtype);
        // the attention over T towers is T^2 dot products of d values per event: on the host, in one
        // pass, rather than as dozens of small ND4J ops on column views
        double scale = 1 / Math.sqrt(dim);
        p.attention = new double[tasks * rows * tasks];
        double[] mined = new double[tasks * rows * dim];
        for (int t = 0; t < tasks; t++) {
            for (int i = 0; i < rows; i++) {
                int qt = (t * rows + i) * dim;
                int at = (t * rows + i) * tasks;
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u < tasks; u++) {
                    int ku = (u * rows + i) * dim;
                    double dot = 0;
                    for (int j = 0; j < dim; j++) {
                        dot += p.q[qt + j] * p.k[ku + j];
                    }
                    p.attention[at + u] = dot * scale;
                    max = Math.max(max, dot * scale);
                }
                double sum = 0;
                for (int u = 0; u < tasks; u++) {
                    p.attention[at + u] = Math.exp(p.attention[at + u] - max);
                    sum += p.attention[at + u];
                }
                for (int u = 0; u < tasks; u++) {
                    double a = p.attention[at + u] /= sum;
                    int vu = (u * rows + i) * dim;
                    for (int j = 0; j < dim; j++) {
                        mined[qt + j] += a * p.v[vu + j];
                    }
                }
                if (p.mask != null) {
                    for (int j = 0; j < dim; j++) {
                        mined[qt + j] *= p.mask[qt + j];
                    }
                }
            }
        }
        p.outputs = new INDArray[tasks];
        for (int t = 0; t < tasks; t++) {
            double[] y = new double[rows * dim];
            for (int r = 0; r < y.length; r++) {
                y[r] = inputs[t][r] + mined[t * rows * dim + r];
            }
            p.outputs[t] = HostArrays.matrix(y, rows, dim, dtype);
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

    /** ReLU(in [Wq Wk Wv] + [bq bk bv]) on the host, row-major, 3 * dim values a row. */
    private double[] dense(INDArray in) {
        double[] z = HostArrays.values(MatMul.of(in, false, store.param(prefix + ".QKV.W"), false));
        double[] b = HostArrays.values(store.param(prefix + ".QKV.b"));
        for (int r = 0; r < z.length; r += 3 * dim) {
            for (int j = 0; j < 3 * dim; j++) {
                z[r + j] = Math.max(0, z[r + j] + b[j]);
            }
        }
        return z;
    }

    /**
     * Writes the parameters' gradients from the gradients {@code dOut} at the outputs y_t and
     * returns the gradients at the inputs x_t (null when {@code inputGradient} is false).
     */
    INDArray[] backward(Pass p, INDArray[] dOut, boolean inputGradient) {
        int rows = p.rows;
        double scale = 1 / Math.sqrt(dim);
        double[] dq = new double[tasks * rows * dim];
        double[] dk = new double[dq.length];
        double[] dv = new double[dq.length];
        double[] dMined = new double[dim];
        double[] da = new double[tasks];
        double[][] dy = new double[tasks][];
        for (int t = 0; t < tasks; t++) {
            dy[t] = HostArrays.values(dOut[t]);
            for (int i = 0; i < rows; i++) {
                int qt = (t * rows + i) * dim;
                int at = (t * rows + i) * tasks;
                for (int j = 0; j < dim; j++) {
                    dMined[j] = p.mask == null ? dy[t][i * dim + j] : dy[t][i * dim + j] * p.mask[qt + j];
                }
                double weighted = 0;
                for (int u = 0; u < tasks; u++) {
                    int vu = (u * rows + i) * dim;
                    double a = p.attention[at + u];
                    double dot = 0;
                    for (int j = 0; j < dim; j++) {
                        dot += dMined[j] * p.v[vu + j];
                        dv[vu + j] += a * dMined[j];
                    }
                    da[u] = dot;
                    weighted += a * dot;
                }
                // softmax backward: ds_u = a_u (da_u - sum_w a_w da_w), times the scores' scale
                for (int u = 0; u < tasks; u++) {
                    double ds = p.attention[at + u] * (da[u] - weighted) * scale;
                    int ku = (u * rows + i) * dim;
                    for (int j = 0; j < dim; j++) {
                        dq[qt + j] += ds * p.k[ku + j];
                        dk[ku + j] += ds * p.q[qt + j];
                    }
                }
            }
        }
        // through the ReLUs (an output is positive exactly where its input is), then [dq dk dv] side
        // by side, as the fused product made them, for the fused weights' and bias's gradients
        int n = tasks * rows;
        double[][] outs = {p.q, p.k, p.v};
        double[][] ds = {dq, dk, dv};
        double[] bias = new double[3 * dim];
        for (int k = 0; k < 3; k++) {
            for (int r = 0; r < n * dim; r += dim) {
                for (int j = 0; j < dim; j++) {
                    ds[k][r + j] = outs[k][r + j] > 0 ? ds[k][r + j] : 0;
                    bias[k * dim + j] += ds[k][r + j];
                }
            }
        }
        INDArray dzArray = HostArrays.matrix(ColumnBlocks.join(ds, n), n, 3L * dim, dtype);
        INDArray dW = store.grad(prefix + ".QKV.W");
        if (p.stopped == p.stacked) {
            MatMul.into(p.stacked, true, dzArray, false, dW);
        } else {
            // held keys' input: the queries' columns from the input, the keys' and values' from the held one
            INDArray fromStacked = MatMul.of(p.stacked, true, dzArray, false);
            INDArray fromStopped = MatMul.of(p.stopped, true, dzArray, false);
            for (int k = 0; k < 3; k++) {
                INDArray source = k == 0 ? fromStacked : fromStopped;
                dW.get(NDArrayIndex.all(), NDArrayIndex.interval(k * dim, (k + 1) * dim))
                        .assign(source.get(NDArrayIndex.all(), NDArrayIndex.interval(k * dim, (k + 1) * dim)));
            }
        }
        store.grad(prefix + ".QKV.b").assign(HostArrays.matrix(bias, 1, 3L * dim, dtype));
        // keys and values read a stopped input: only the queries pass a gradient down
        double[] dx = HostArrays.values(MatMul.of(HostArrays.matrix(dq, n, dim, dtype), false, store.param(prefix + ".Q.W"), true));
        if (taskEmbedding) {
            double[] dTask = new double[tasks * dim];
            for (int t = 0, r = 0; t < tasks; t++) {
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < dim; j++, r++) {
                        dTask[t * dim + j] += dx[r];
                    }
                }
            }
            store.grad(prefix + ".task").assign(HostArrays.matrix(dTask, tasks, dim, dtype));
        }
        if (!inputGradient) {
            return null;
        }
        INDArray[] dIn = new INDArray[tasks];
        for (int t = 0; t < tasks; t++) {
            double[] d = new double[rows * dim];
            for (int r = 0; r < d.length; r++) {
                d[r] = dx[t * rows * dim + r] + dy[t][r];
            }
            dIn[t] = HostArrays.matrix(d, rows, dim, dtype);
        }
        return dIn;
    }
}

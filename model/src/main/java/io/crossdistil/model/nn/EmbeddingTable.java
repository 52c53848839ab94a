package io.crossdistil.model.nn;

import io.crossdistil.model.sampling.SeededRandom;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * One embedding table shared by all fields, updated sparsely: a step touches only the rows its
 * events used ("lazy" optimizer semantics: the moments of an unseen row do not decay).
 *
 * <p>Per step: the gradient rows of duplicate indices are summed on the host in one pass over one
 * bulk copy (ND4J's scatter_add races on duplicates unless locked, and locked it costs
 * milliseconds); then the touched rows and their optimizer moments are gathered, ND4J's own
 * updater runs on them, and the changes are scatter-added back with unique indices.
 */
public final class EmbeddingTable {
    private final int rows;
    private final int dim;
    private final DataType dtype;
    private final IUpdater updaterConfig;
    private final INDArray table;
    /** Optimizer state, one table per state slot (Adam: m and v; AdaGrad: one; SGD: none). */
    private final List<INDArray> state = new ArrayList<>();

    /** The last computed gradient, for gradient checks: unique rows and their summed gradients. */
    private int[] lastRows;
    private INDArray lastGrad;

    public EmbeddingTable(int rows, int dim, DataType dtype, IUpdater updaterConfig, SeededRandom random, double initStd) {
        this.rows = rows;
        this.dim = dim;
        this.dtype = dtype;
        this.updaterConfig = updaterConfig;
        double[] init = new double[rows * dim];
        for (int i = 0; i < init.length; i++) {
            init[i] = initStd * random.nextGaussian();
        }
        this.table = Nd4j.create(init, new long[] {rows, dim}, dtype);
        int slots = (int) updaterConfig.stateSize(1);
        for (int s = 0; s < slots; s++) {
            state.add(Nd4j.zeros(dtype, rows, dim));
        }
    }

    /** The embedding rows of {@code indices}, as an [indices.length, dim] matrix. */
    public INDArray lookup(int[] indices) {
        INDArray out = Nd4j.create(dtype, indices.length, dim);
        Nd4j.exec(DynamicCustomOp.builder("gather").addInputs(table, Nd4j.createFromArray(indices))
                .addIntegerArguments(0).addOutputs(out).build());
        return out;
    }

    /**
     * Sums the gradient rows {@code grad} (one per entry of {@code indices}) per distinct row and
     * keeps them for {@link #applyUpdate}. Returns false when a value is not finite.
     */
    public boolean accumulate(int[] indices, INDArray grad) {
        double[] g = grad.ravel().toDoubleVector();
        RowIndex index = new RowIndex(indices.length);
        int[] slot = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            slot[i] = index.slotOf(indices[i]);
        }
        int unique = index.size();
        double[] sum = new double[unique * dim];
        boolean finite = true;
        for (int i = 0; i < indices.length; i++) {
            int base = slot[i] * dim;
            int src = i * dim;
            for (int j = 0; j < dim; j++) {
                double v = g[src + j];
                finite &= Double.isFinite(v);
                sum[base + j] += v;
            }
        }
        lastRows = index.keys();
        lastGrad = Nd4j.create(sum, new long[] {unique, dim}, dtype);
        return finite;
    }

    /** One optimizer step on the rows of the last {@link #accumulate}; {@code iteration} counts from 0. */
    public void applyUpdate(int iteration) {
        if (lastRows == null || lastRows.length == 0) {
            return;
        }
        int unique = lastRows.length;
        INDArray idx = Nd4j.createFromArray(lastRows);
        INDArray update = lastGrad.dup();
        List<INDArray> before = new ArrayList<>();
        INDArray view = null;
        if (!state.isEmpty()) {
            INDArray[] parts = new INDArray[state.size()];
            for (int s = 0; s < state.size(); s++) {
                before.add(gather(state.get(s), idx, unique));
                parts[s] = before.get(s).reshape(1, (long) unique * dim);
            }
            view = Nd4j.hstack(parts);
        }
        updaterConfig.instantiate(view, false).applyUpdater(update, iteration, 0);
        scatterAdd(table, idx, update.negi());
        for (int s = 0; s < state.size(); s++) {
            long from = (long) s * unique * dim;
            INDArray after = view.get(NDArrayIndex.point(0), NDArrayIndex.interval(from, from + (long) unique * dim)).reshape(unique, dim);
            scatterAdd(state.get(s), idx, after.sub(before.get(s)));
        }
    }

    private INDArray gather(INDArray source, INDArray idx, int n) {
        INDArray out = Nd4j.create(dtype, n, dim);
        Nd4j.exec(DynamicCustomOp.builder("gather").addInputs(source, idx).addIntegerArguments(0).addOutputs(out).build());
        return out;
    }

    /** In place; the indices are unique, so the parallel kernel cannot race. */
    private static void scatterAdd(INDArray target, INDArray idx, INDArray updates) {
        Nd4j.exec(DynamicCustomOp.builder("scatter_add").addInputs(target, idx, updates).addOutputs(target).build());
    }

    public int[] lastRows() {
        return lastRows;
    }

    public INDArray lastGradient() {
        return lastGrad;
    }

    public INDArray table() {
        return table;
    }

    public int dim() {
        return dim;
    }

    public int rows() {
        return rows;
    }

    public boolean allFinite() {
        return Double.isFinite(table.norm2Number().doubleValue());
    }

    public void write(DataOutput out) throws IOException {
        ArrayCodec.write(out, table);
        for (INDArray s : state) {
            ArrayCodec.write(out, s);
        }
    }

    public void read(DataInput in) throws IOException {
        table.assign(ArrayCodec.read(in, dtype, table.shape()));
        for (INDArray s : state) {
            s.assign(ArrayCodec.read(in, dtype, s.shape()));
        }
    }

    /** Open-addressing map from row index to its slot among the distinct rows of one step. */
    private static final class RowIndex {
        private final int[] keys;
        private final int[] slots;
        private final int[] order;
        private int size;

        RowIndex(int expected) {
            int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
            keys = new int[cap];
            slots = new int[cap];
            java.util.Arrays.fill(slots, -1);
            order = new int[expected];
        }

        int slotOf(int key) {
            int mask = keys.length - 1;
            int h = (key * 0x9E3779B1) & mask;
            while (slots[h] >= 0) {
                if (keys[h] == key) {
                    return slots[h];
                }
                h = (h + 1) & mask;
            }
            keys[h] = key;
            slots[h] = size;
            order[size] = key;
            return size++;
        }

        int size() {
            return size;
        }

        int[] keys() {
            return java.util.Arrays.copyOf(order, size);
        }
    }
}

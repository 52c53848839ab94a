package io.crossdistil.model.nn;

import io.crossdistil.model.sampling.SeededRandom;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * One embedding table shared by all fields, updated sparsely: a step touches only the rows its
 * events used ("lazy" optimizer semantics: the moments of an unseen row do not decay).
 *
 * <p>The table and its optimizer moments live in host arrays; a step copies the rows it reads
 * into ND4J and the rows it changes back, a few thousand rows of {@code dim} values each way.
 * ND4J's scatter ops cost about 0.9 microseconds per row (1.8 ms for 2,000 rows, whatever the
 * table's size) and a step scatters three times, which made them a quarter of a step; host
 * copies are a few tens of microseconds and work the same on every ND4J backend. Values are
 * held as doubles but rounded to the model's data type on every write, so a float model
 * computes exactly in float.
 *
 * <p>Per step: the gradient rows of duplicate indices are summed on the host, then the touched
 * rows' optimizer moments are gathered, ND4J's own updater turns gradients into updates, the
 * updates are subtracted from the rows on the host, and the moments are written back.
 */
public final class EmbeddingTable {
    private final int rows;
    private final int dim;
    private final DataType dtype;
    private final IUpdater updaterConfig;
    private final double[] table;
    /** Optimizer state, one table per state slot (Adam: m and v; AdaGrad: one; SGD: none). */
    private final List<double[]> state = new ArrayList<>();

    /** The last computed gradient, for gradient checks: unique rows and their summed gradients. */
    private int[] lastRows;
    private double[] lastGrad;
    /** applyUpdate's working array, kept between steps: gradient rows, then the moments' rows. */
    private double[] packed = new double[0];
    /** lookup's working array, kept between steps. */
    private double[] looked = new double[0];

    public EmbeddingTable(int rows, int dim, DataType dtype, IUpdater updaterConfig, SeededRandom random, double initStd) {
        this.rows = rows;
        this.dim = dim;
        this.dtype = dtype;
        this.updaterConfig = updaterConfig;
        this.table = new double[rows * dim];
        for (int i = 0; i < table.length; i++) {
            table[i] = rounded(initStd * random.nextGaussian());
        }
        int slots = (int) updaterConfig.stateSize(1);
        for (int s = 0; s < slots; s++) {
            state.add(new double[rows * dim]);
        }
    }

    private double rounded(double v) {
        return dtype == DataType.FLOAT ? (float) v : v;
    }

    /** The embedding rows of {@code indices}, as an [indices.length, dim] matrix. */
    public INDArray lookup(int[] indices) {
        int n = indices.length * dim;
        if (looked.length < n) {
            looked = new double[n + n / 4];
        }
        gather(table, indices, looked, 0);
        return HostArrays.matrix(looked, indices.length, dim, dtype);
    }

    /**
     * Sums the gradient rows {@code grad} (one per entry of {@code indices}, {@code dim} values
     * each, in C order whatever its shape) per distinct row and keeps them for
     * {@link #applyUpdate}. Returns false when a value is not finite.
     */
    public boolean accumulate(int[] indices, INDArray grad) {
        double[] g = HostArrays.values(grad);
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
        lastGrad = sum;
        return finite;
    }

    /** One optimizer step on the rows of the last {@link #accumulate}; {@code iteration} counts from 0. */
    public void applyUpdate(int iteration) {
        if (lastRows == null || lastRows.length == 0) {
            return;
        }
        // one array, one copy each way: the gradient rows, then the updater's state slots one after
        // another (as ND4J's updaters lay them out); the updater turns the gradient into the update in place
        int n = lastRows.length * dim;
        int length = (1 + state.size()) * n;
        if (packed.length < length) {
            packed = new double[length + length / 4];
        }
        System.arraycopy(lastGrad, 0, packed, 0, n);
        for (int s = 0; s < state.size(); s++) {
            gather(state.get(s), lastRows, packed, (1 + s) * n);
        }
        INDArray all = HostArrays.matrix(packed, 1, length, dtype);
        INDArray update = all.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(0, n));
        INDArray moments = state.isEmpty() ? null : all.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(n, length));
        updaterConfig.instantiate(moments, false).applyUpdater(update, iteration, 0);
        double[] result = HostArrays.values(all, packed);
        for (int i = 0; i < lastRows.length; i++) {
            int row = lastRows[i] * dim;
            for (int j = 0; j < dim; j++) {
                table[row + j] = rounded(table[row + j] - result[i * dim + j]);
            }
        }
        for (int s = 0; s < state.size(); s++) {
            scatter(state.get(s), result, (1 + s) * n);
        }
    }

    /** Copies the rows {@code indices} of {@code source} into {@code out} from {@code at} on. */
    private void gather(double[] source, int[] indices, double[] out, int at) {
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(source, indices[i] * dim, out, at + i * dim, dim);
        }
    }

    /** Writes the rows of the last update from {@code values}, starting at {@code from}. */
    private void scatter(double[] target, double[] values, int from) {
        for (int i = 0; i < lastRows.length; i++) {
            System.arraycopy(values, from + i * dim, target, lastRows[i] * dim, dim);
        }
    }

    public int[] lastRows() {
        return lastRows;
    }

    /** The summed gradient rows of the last {@link #accumulate}, one per entry of {@link #lastRows}, as a new matrix. */
    public INDArray lastGradient() {
        return HostArrays.matrix(lastGrad, lastRows.length, dim, dtype);
    }

    /** A copy of the table as a [rows, dim] matrix. */
    public INDArray table() {
        return HostArrays.matrix(table, rows, dim, dtype);
    }

    /** Overwrites the table (not the optimizer moments) with {@code values}, a [rows, dim] matrix. */
    public void assign(INDArray values) {
        double[] v = HostArrays.values(values);
        for (int i = 0; i < table.length; i++) {
            table[i] = rounded(v[i]);
        }
    }

    /** One value of the table, row-major; for gradient checks. */
    public double get(int index) {
        return table[index];
    }

    /** Sets one value of the table, row-major; for gradient checks. */
    public void set(int index, double value) {
        table[index] = rounded(value);
    }

    public int dim() {
        return dim;
    }

    public int rows() {
        return rows;
    }

    public boolean allFinite() {
        for (double v : table) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    public void write(DataOutput out) throws IOException {
        ArrayCodec.write(out, table, dtype);
        for (double[] s : state) {
            ArrayCodec.write(out, s, dtype);
        }
    }

    public void read(DataInput in) throws IOException {
        ArrayCodec.read(in, dtype, table);
        for (double[] s : state) {
            ArrayCodec.read(in, dtype, s);
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

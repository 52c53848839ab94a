package io.crossdistil.model.nn;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nd4j.SingleStep;
import io.crossdistil.model.nd4j.UpdaterOp;
import io.crossdistil.model.state.SeededRandom;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * One embedding table shared by all fields, updated sparsely: a step touches only the rows its
 * events used ("lazy" optimizer semantics: the moments of an unseen row do not decay).
 *
 * <p>The table and its optimizer moments live on the host ({@link HostRows}, in the model's data
 * type); a step copies the rows it reads into ND4J and the rows it changes back, a few thousand
 * rows of {@code dim} values each way. ND4J's scatter ops cost about 0.9 microseconds per row
 * (1.8 ms for 2,000 rows, whatever the table's size) and a step scatters three times, which made
 * them a quarter of a step; host copies are a few tens of microseconds and work the same on every
 * ND4J backend.
 *
 * <p>Per step: the gradient rows of duplicate indices are summed on the host, then the touched
 * rows' optimizer moments are gathered, ND4J's updater op turns gradients into updates, the
 * updates are subtracted from the rows on the host, and the moments are written back.
 */
public final class EmbeddingTable {
    private final int rows;
    private final int dim;
    private final DataType dtype;
    private final UpdaterOp updater;
    private final HostRows table;
    /** Optimizer state, one table per state slot (Adam: m and v; AdaGrad: one; SGD: none). */
    private final HostRows[] state;

    /** The last computed gradient, for gradient checks: unique rows and their summed gradients. */
    private int[] lastRows;
    private double[] lastGrad;
    /** accumulate's working state, kept between steps: the gradient's values, each entry's distinct row, the distinct rows. */
    private double[] gradValues = new double[0];
    private int[] slotOf = new int[0];
    private final RowIndex index = new RowIndex();
    private java.util.function.ObjIntConsumer<int[]> beforeUpdate;

    public EmbeddingTable(int rows, int dim, DataType dtype, IUpdater updaterConfig, SeededRandom random, double initStd) {
        this(rows, dim, dtype, new UpdaterOp(updaterConfig));
        for (int i = 0; i < rows * dim; i++) {
            table.set(i, initStd * random.nextGaussian());
        }
    }

    private EmbeddingTable(int rows, int dim, DataType dtype, UpdaterOp updater) {
        this.rows = rows;
        this.dim = dim;
        this.dtype = dtype;
        this.updater = updater;
        // a row's values and its moments side by side: the update reads and writes all of them
        HostRows[] tables = HostRows.interleaved(dtype, rows, dim, 1 + (updater == null ? 0 : updater.stateSlots()));
        this.table = tables[0];
        state = Arrays.copyOfRange(tables, 1, tables.length);
    }

    /**
     * A table that only looks rows up: {@code values} (rows x dim) in {@code dtype}, without
     * optimizer state; {@link #applyUpdate} is not for it.
     */
    public static EmbeddingTable frozen(INDArray values, DataType dtype) {
        EmbeddingTable t = new EmbeddingTable((int) values.rows(), (int) values.columns(), dtype, null);
        t.assign(values);
        return t;
    }

    /** The embedding rows of {@code indices}, one after another, written to {@code out} (a whole C-order array of indices.length x dim values, any shape); returns it. */
    public INDArray lookup(int[] indices, INDArray out) {
        return table.gather(indices, indices.length, out);
    }

    /**
     * As {@link #lookup(int[], INDArray)} with a 1 after every {@code group} rows: for events of
     * {@code group} fields, each event's rows and a ones column ({@code out} being events x
     * (group * dim + 1)), so that a first layer's x W + b is one product.
     */
    public INDArray lookup(int[] indices, int group, INDArray out) {
        return table.gather(indices, indices.length, group, out);
    }

    /**
     * Sums the gradient rows {@code grad} (one per entry of {@code indices}, {@code dim} values
     * each, in C order whatever its shape) per distinct row and keeps them for
     * {@link #applyUpdate}. Returns false when a value is not finite.
     */
    public boolean accumulate(int[] indices, INDArray grad) {
        return accumulate(indices, 0, grad);
    }

    /**
     * As {@link #accumulate(int[], INDArray)} for a gradient laid out as {@link #lookup(int[], int,
     * INDArray)}'s rows: after every {@code group} rows one value (the ones column's), ignored.
     */
    public boolean accumulate(int[] indices, int group, INDArray grad) {
        int n = indices.length;
        int length = n * dim + (group > 0 ? n / group : 0);
        if (gradValues.length < length) {
            gradValues = new double[length];
        }
        if (slotOf.length < n) {
            slotOf = new int[n];
        }
        double[] g = HostArrays.values(grad, gradValues);
        index.reset(n);
        int[] slot = slotOf;
        for (int i = 0; i < n; i++) {
            slot[i] = index.slotOf(indices[i]);
        }
        int unique = index.size();
        double[] sum = new double[unique * dim];
        boolean finite = true;
        for (int i = 0; i < n; i++) {
            int base = slot[i] * dim;
            int src = i * dim + (group > 0 ? i / group : 0);
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
        // the gradient and each state slot's touched rows as arrays of their own; ND4J's updater op
        // turns the gradient into the update and advances the state, in place
        int n = lastRows.length;
        if (beforeUpdate != null) {
            beforeUpdate.accept(lastRows, n);
        }
        INDArray update = HostArrays.matrix(lastGrad, n, dim, dtype);
        INDArray[] moments = new INDArray[state.length];
        for (int s = 0; s < state.length; s++) {
            moments[s] = state[s].gather(lastRows, n);
        }
        updater.apply(update, moments, iteration);
        table.subtract(lastRows, n, update);
        for (int s = 0; s < state.length; s++) {
            state[s].scatter(lastRows, n, moments[s]);
        }
    }

    /**
     * Calls {@code listener} with the rows (and how many) of each update before the update changes
     * them; null for none. Not state: whoever listens registers again after a restore.
     */
    public void beforeEachUpdate(java.util.function.ObjIntConsumer<int[]> listener) {
        this.beforeUpdate = listener;
    }

    /** True when the rows' optimizer state is a running sum (see UpdaterOp#stateIsSum). */
    public boolean stateIsSum() {
        return updater != null && updater.stateIsSum();
    }

    /** The optimizer's step worked out on the host (a row's state follows its values in {@link #readRow}); null for SGD. */
    public SingleStep singleStep() {
        return updater == null ? null : updater.singleStep();
    }

    /** Values per row that {@link #readRow} and {@link #writeRow} move: the row, then each optimizer state slot's row. */
    public int valuesPerRow() {
        return dim * (1 + state.length);
    }

    /** Row {@code row}'s values and optimizer state into {@code out} from {@code at} ({@link #valuesPerRow} of them). */
    public void readRow(int row, double[] out, int at) {
        for (int t = 0; t <= state.length; t++) {
            HostRows h = t == 0 ? table : state[t - 1];
            for (int j = 0; j < dim; j++) {
                out[at++] = h.get(row * dim + j);
            }
        }
    }

    /** Row {@code row}'s values alone (no optimizer state) into {@code out} from {@code at}. */
    public void readValues(int row, double[] out, int at) {
        for (int j = 0; j < dim; j++) {
            out[at + j] = table.get(row * dim + j);
        }
    }

    /** The reverse of {@link #readRow}: row {@code row}'s values and optimizer state from {@code in} (rounded to the data type). */
    public void writeRow(int row, double[] in, int at) {
        for (int t = 0; t <= state.length; t++) {
            HostRows h = t == 0 ? table : state[t - 1];
            for (int j = 0; j < dim; j++) {
                h.set(row * dim + j, in[at++]);
            }
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
        return table.all();
    }

    /** The table's values, row after row, as floats into {@code out} (a snapshot's bytes, without a copy of the table in between). */
    public void putFloats(java.nio.FloatBuffer out) {
        table.putFloats(out);
    }

    /** Overwrites the table (not the optimizer moments) with {@code values}, a [rows, dim] matrix. */
    public void assign(INDArray values) {
        table.assign(values);
    }

    /** One value of the table, row-major; for gradient checks. */
    public double get(int index) {
        return table.get(index);
    }

    /** Sets one value of the table, row-major; for gradient checks. */
    public void set(int index, double value) {
        table.set(index, value);
    }

    public int dim() {
        return dim;
    }

    public int rows() {
        return rows;
    }

    public boolean allFinite() {
        return table.allFinite();
    }

    public void write(DataOutput out) throws IOException {
        table.write(out);
        for (HostRows s : state) {
            s.write(out);
        }
    }

    public void read(DataInput in) throws IOException {
        table.read(in);
        for (HostRows s : state) {
            s.read(in);
        }
    }

    /**
     * Open-addressing map from row index to its slot among the distinct rows of one step, kept
     * between steps: a stamp per bucket marks this step's entries, so a reset clears nothing.
     */
    private static final class RowIndex {
        private int[] keys = new int[0];
        private int[] slots = new int[0];
        private int[] stamps = new int[0];
        private int[] order = new int[0];
        private int stamp;
        private int size;

        /** Empties the map for up to {@code expected} keys. */
        void reset(int expected) {
            int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
            if (keys.length < cap) {
                keys = new int[cap];
                slots = new int[cap];
                stamps = new int[cap];
                stamp = 0;
            }
            if (order.length < expected) {
                order = new int[expected];
            }
            if (++stamp == Integer.MAX_VALUE) {
                Arrays.fill(stamps, 0);
                stamp = 1;
            }
            size = 0;
        }

        int slotOf(int key) {
            int mask = keys.length - 1;
            int h = (key * 0x9E3779B1) & mask;
            while (stamps[h] == stamp) {
                if (keys[h] == key) {
                    return slots[h];
                }
                h = (h + 1) & mask;
            }
            stamps[h] = stamp;
            keys[h] = key;
            slots[h] = size;
            order[size] = key;
            return size++;
        }

        int size() {
            return size;
        }

        int[] keys() {
            return Arrays.copyOf(order, size);
        }
    }
}

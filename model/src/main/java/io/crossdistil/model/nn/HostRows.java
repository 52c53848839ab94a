package io.crossdistil.model.nn;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.state.ArrayCodec;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A host table of {@code rows x dim} values held in the model's data type (a float model keeps
 * floats: half the memory a random row read walks, and rows go to and from ND4J arrays by bulk
 * copies, without a conversion pass), moved to and from ND4J arrays row by row. Written and read
 * as {@link ArrayCodec} writes a double array of that data type: the same bytes whatever holds them.
 *
 * <p>Tables read and written at the same rows can share their memory row by row
 * ({@link #interleaved}): row r of every one of them lies in one run of memory, so a step that
 * touches a row of each (an embedding row, then its optimizer moments) misses the cache once
 * rather than once per table.
 */
abstract sealed class HostRows {
    final int rows;
    final int dim;
    /** Where row r starts: {@code r * stride + offset}. */
    final int stride;
    final int offset;

    private HostRows(int rows, int dim, int stride, int offset) {
        this.rows = rows;
        this.dim = dim;
        this.stride = stride;
        this.offset = offset;
    }

    static HostRows of(DataType dtype, int rows, int dim) {
        return interleaved(dtype, rows, dim, 1)[0];
    }

    /** {@code tables} tables of {@code rows x dim} values, row r of each next to row r of the others. */
    static HostRows[] interleaved(DataType dtype, int rows, int dim, int tables) {
        int stride = dim * tables;
        int length = Math.multiplyExact(rows, stride);
        HostRows[] out = new HostRows[tables];
        if (dtype == DataType.FLOAT) {
            float[] values = new float[length];
            for (int t = 0; t < tables; t++) {
                out[t] = new Floats(values, rows, dim, stride, t * dim);
            }
        } else if (dtype == DataType.DOUBLE) {
            double[] values = new double[length];
            for (int t = 0; t < tables; t++) {
                out[t] = new Doubles(values, rows, dim, stride, t * dim);
            }
        } else {
            throw new IllegalArgumentException("host rows hold float or double values, not " + dtype);
        }
        return out;
    }

    /** Where value {@code i} (row-major in this table) lies in the shared memory. */
    final int at(int i) {
        return i / dim * stride + offset + i % dim;
    }

    /** Value {@code i}, row-major. */
    abstract double get(int i);

    /** Sets value {@code i}, row-major (rounded to the data type). */
    abstract void set(int i, double value);

    abstract DataType dtype();

    /** Rows {@code indices[0..count)} as a new C-order {@code count x dim} array of the data type (workspace memory inside one). */
    final INDArray gather(int[] indices, int count) {
        return gather(indices, count, Nd4j.createUninitialized(dtype(), new long[] {count, dim}, 'c'));
    }

    /** Rows {@code indices[0..count)} one after another, written to {@code out}: a whole C-order array of the data type and that length, any shape. */
    final INDArray gather(int[] indices, int count, INDArray out) {
        return gather(indices, count, 0, out);
    }

    /**
     * Rows {@code indices[0..count)} one after another, and after every {@code group} of them
     * (when {@code group} is positive) a 1: written to {@code out}, a whole C-order array of the
     * data type and that length, any shape (one event's rows and a ones column, event after event).
     */
    final INDArray gather(int[] indices, int count, int group, INDArray out) {
        long length = (long) count * dim + (group > 0 ? count / group : 0);
        if ((group > 0 && count % group != 0) || out.length() != length || out.dataType() != dtype()) {
            throw new IllegalArgumentException(count + " rows of " + dim + " " + dtype() + " values" + (group > 0 ? ", a 1 after every " + group + "," : "")
                    + " do not fill a " + out.dataType() + " array of " + out.length());
        }
        Nd4j.getAffinityManager().ensureLocation(out, AffinityManager.Location.HOST);
        copyRows(indices, count, group, out, true);
        Nd4j.getAffinityManager().tagLocation(out, AffinityManager.Location.HOST);
        return out;
    }

    /** Row {@code indices[i]} := row i of {@code values}, a whole C-order array of the data type. */
    final void scatter(int[] indices, int count, INDArray values) {
        Nd4j.getAffinityManager().ensureLocation(values, AffinityManager.Location.HOST);
        copyRows(indices, count, 0, values, false);
    }

    /** Row {@code indices[i]} -= row i of {@code values}, a whole C-order array of the data type. */
    final void subtract(int[] indices, int count, INDArray values) {
        Nd4j.getAffinityManager().ensureLocation(values, AffinityManager.Location.HOST);
        subtractRows(indices, count, values);
    }

    /**
     * Rows {@code indices[0..count)} into rows 0..count of {@code array} ({@code intoArray}, with a 1
     * after every {@code group} rows when it is positive), or back ({@code group} 0).
     */
    abstract void copyRows(int[] indices, int count, int group, INDArray array, boolean intoArray);

    abstract void subtractRows(int[] indices, int count, INDArray values);

    abstract boolean allFinite();

    /** Every row's values in order, as floats (doubles rounded), put into {@code out}: no intermediate array. */
    abstract void putFloats(FloatBuffer out);

    abstract void write(DataOutput out) throws IOException;

    abstract void read(DataInput in) throws IOException;

    /** The whole table as a new {@code rows x dim} array. */
    final INDArray all() {
        int[] every = new int[rows];
        for (int i = 0; i < rows; i++) {
            every[i] = i;
        }
        return gather(every, rows);
    }

    /** Overwrites the whole table with {@code values}, a {@code rows x dim} array of any data type. */
    final void assign(INDArray values) {
        double[] v = HostArrays.values(values);
        for (int i = 0; i < v.length; i++) {
            set(i, v[i]);
        }
    }

    private static final class Floats extends HostRows {
        private final float[] values;
        /**
         * The rows moved by one call, kept between calls: one bulk copy to or from the ND4J buffer
         * (a buffer call per row costs more than the row). One per thread: serving gathers on several at once.
         */
        private final ThreadLocal<float[]> moved = ThreadLocal.withInitial(() -> new float[0]);

        Floats(float[] values, int rows, int dim, int stride, int offset) {
            super(rows, dim, stride, offset);
            this.values = values;
        }

        @Override
        double get(int i) {
            return values[at(i)];
        }

        @Override
        void set(int i, double value) {
            values[at(i)] = (float) value;
        }

        @Override
        DataType dtype() {
            return DataType.FLOAT;
        }

        private float[] moved(int n) {
            float[] m = moved.get();
            if (m.length < n) {
                m = new float[n + n / 4];
                moved.set(m);
            }
            return m;
        }

        @Override
        void copyRows(int[] indices, int count, int group, INDArray array, boolean intoArray) {
            int n = count * dim + (group > 0 ? count / group : 0);
            float[] m = moved(n);
            FloatBuffer b = array.data().asNioFloat();
            if (intoArray) {
                int at = 0;
                for (int i = 0; i < count; i++) {
                    System.arraycopy(values, indices[i] * stride + offset, m, at, dim);
                    at += dim;
                    if (group > 0 && (i + 1) % group == 0) {
                        m[at++] = 1f;
                    }
                }
                b.put(m, 0, n);
            } else {
                b.get(m, 0, n);
                for (int i = 0; i < count; i++) {
                    System.arraycopy(m, i * dim, values, indices[i] * stride + offset, dim);
                }
            }
        }

        @Override
        void subtractRows(int[] indices, int count, INDArray update) {
            float[] m = moved(count * dim);
            update.data().asNioFloat().get(m, 0, count * dim);
            for (int i = 0; i < count; i++) {
                int row = indices[i] * stride + offset;
                for (int j = 0; j < dim; j++) {
                    values[row + j] -= m[i * dim + j];
                }
            }
        }

        @Override
        boolean allFinite() {
            for (int r = 0; r < rows; r++) {
                for (int j = r * stride + offset; j < r * stride + offset + dim; j++) {
                    if (!Float.isFinite(values[j])) {
                        return false;
                    }
                }
            }
            return true;
        }

        @Override
        void putFloats(FloatBuffer out) {
            for (int r = 0; r < rows; r++) {
                out.put(values, r * stride + offset, dim);
            }
        }

        @Override
        void write(DataOutput out) throws IOException {
            float[] own = new float[rows * dim];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(values, r * stride + offset, own, r * dim, dim);
            }
            ArrayCodec.write(out, own);
        }

        @Override
        void read(DataInput in) throws IOException {
            float[] own = new float[rows * dim];
            ArrayCodec.read(in, own);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(own, r * dim, values, r * stride + offset, dim);
            }
        }
    }

    private static final class Doubles extends HostRows {
        private final double[] values;
        private final ThreadLocal<double[]> moved = ThreadLocal.withInitial(() -> new double[0]);

        Doubles(double[] values, int rows, int dim, int stride, int offset) {
            super(rows, dim, stride, offset);
            this.values = values;
        }

        @Override
        double get(int i) {
            return values[at(i)];
        }

        @Override
        void set(int i, double value) {
            values[at(i)] = value;
        }

        @Override
        DataType dtype() {
            return DataType.DOUBLE;
        }

        private double[] moved(int n) {
            double[] m = moved.get();
            if (m.length < n) {
                m = new double[n + n / 4];
                moved.set(m);
            }
            return m;
        }

        @Override
        void copyRows(int[] indices, int count, int group, INDArray array, boolean intoArray) {
            int n = count * dim + (group > 0 ? count / group : 0);
            double[] m = moved(n);
            DoubleBuffer b = array.data().asNioDouble();
            if (intoArray) {
                int at = 0;
                for (int i = 0; i < count; i++) {
                    System.arraycopy(values, indices[i] * stride + offset, m, at, dim);
                    at += dim;
                    if (group > 0 && (i + 1) % group == 0) {
                        m[at++] = 1.0;
                    }
                }
                b.put(m, 0, n);
            } else {
                b.get(m, 0, n);
                for (int i = 0; i < count; i++) {
                    System.arraycopy(m, i * dim, values, indices[i] * stride + offset, dim);
                }
            }
        }

        @Override
        void subtractRows(int[] indices, int count, INDArray update) {
            double[] m = moved(count * dim);
            update.data().asNioDouble().get(m, 0, count * dim);
            for (int i = 0; i < count; i++) {
                int row = indices[i] * stride + offset;
                for (int j = 0; j < dim; j++) {
                    values[row + j] -= m[i * dim + j];
                }
            }
        }

        @Override
        boolean allFinite() {
            for (int r = 0; r < rows; r++) {
                for (int j = r * stride + offset; j < r * stride + offset + dim; j++) {
                    if (!Double.isFinite(values[j])) {
                        return false;
                    }
                }
            }
            return true;
        }

        @Override
        void putFloats(FloatBuffer out) {
            for (int r = 0; r < rows; r++) {
                for (int j = r * stride + offset; j < r * stride + offset + dim; j++) {
                    out.put((float) values[j]);
                }
            }
        }

        @Override
        void write(DataOutput out) throws IOException {
            double[] own = new double[rows * dim];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(values, r * stride + offset, own, r * dim, dim);
            }
            ArrayCodec.write(out, own, DataType.DOUBLE);
        }

        @Override
        void read(DataInput in) throws IOException {
            double[] own = new double[rows * dim];
            ArrayCodec.read(in, DataType.DOUBLE, own);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(own, r * dim, values, r * stride + offset, dim);
            }
        }
    }
}

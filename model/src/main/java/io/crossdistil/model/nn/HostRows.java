package io.crossdistil.model.nn;

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
 */
abstract sealed class HostRows {
    final int rows;
    final int dim;

    private HostRows(int rows, int dim) {
        this.rows = rows;
        this.dim = dim;
    }

    static HostRows of(DataType dtype, int rows, int dim) {
        if (dtype == DataType.FLOAT) {
            return new Floats(rows, dim);
        }
        if (dtype == DataType.DOUBLE) {
            return new Doubles(rows, dim);
        }
        throw new IllegalArgumentException("host rows hold float or double values, not " + dtype);
    }

    /** Value {@code i}, row-major. */
    abstract double get(int i);

    /** Sets value {@code i}, row-major (rounded to the data type). */
    abstract void set(int i, double value);

    abstract DataType dtype();

    /** Rows {@code indices[0..count)} as a new C-order {@code count x dim} array of the data type (workspace memory inside one). */
    final INDArray gather(int[] indices, int count) {
        INDArray out = Nd4j.createUninitialized(dtype(), new long[] {count, dim}, 'c');
        Nd4j.getAffinityManager().ensureLocation(out, AffinityManager.Location.HOST);
        copyRows(indices, count, out, true);
        Nd4j.getAffinityManager().tagLocation(out, AffinityManager.Location.HOST);
        return out;
    }

    /** Row {@code indices[i]} := row i of {@code values}, a whole C-order array of the data type. */
    final void scatter(int[] indices, int count, INDArray values) {
        Nd4j.getAffinityManager().ensureLocation(values, AffinityManager.Location.HOST);
        copyRows(indices, count, values, false);
    }

    /** Row {@code indices[i]} -= row i of {@code values}, a whole C-order array of the data type. */
    final void subtract(int[] indices, int count, INDArray values) {
        Nd4j.getAffinityManager().ensureLocation(values, AffinityManager.Location.HOST);
        subtractRows(indices, count, values);
    }

    /** Rows {@code indices[0..count)} into rows 0..count of {@code array} ({@code intoArray}), or back. */
    abstract void copyRows(int[] indices, int count, INDArray array, boolean intoArray);

    abstract void subtractRows(int[] indices, int count, INDArray values);

    abstract boolean allFinite();

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
        /** The rows moved by one call, kept between calls: one bulk copy to or from the ND4J buffer (a buffer call per row costs more than the row). */
        private float[] moved = new float[0];

        Floats(int rows, int dim) {
            super(rows, dim);
            values = new float[Math.multiplyExact(rows, dim)];
        }

        @Override
        double get(int i) {
            return values[i];
        }

        @Override
        void set(int i, double value) {
            values[i] = (float) value;
        }

        @Override
        DataType dtype() {
            return DataType.FLOAT;
        }

        private float[] moved(int n) {
            if (moved.length < n) {
                moved = new float[n + n / 4];
            }
            return moved;
        }

        @Override
        void copyRows(int[] indices, int count, INDArray array, boolean intoArray) {
            int n = count * dim;
            float[] m = moved(n);
            FloatBuffer b = array.data().asNioFloat();
            if (intoArray) {
                for (int i = 0; i < count; i++) {
                    System.arraycopy(values, indices[i] * dim, m, i * dim, dim);
                }
                b.put(m, 0, n);
            } else {
                b.get(m, 0, n);
                for (int i = 0; i < count; i++) {
                    System.arraycopy(m, i * dim, values, indices[i] * dim, dim);
                }
            }
        }

        @Override
        void subtractRows(int[] indices, int count, INDArray update) {
            float[] m = moved(count * dim);
            update.data().asNioFloat().get(m, 0, count * dim);
            for (int i = 0; i < count; i++) {
                int row = indices[i] * dim;
                for (int j = 0; j < dim; j++) {
                    values[row + j] -= m[i * dim + j];
                }
            }
        }

        @Override
        boolean allFinite() {
            for (float v : values) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        void write(DataOutput out) throws IOException {
            ArrayCodec.write(out, values);
        }

        @Override
        void read(DataInput in) throws IOException {
            ArrayCodec.read(in, values);
        }
    }

    private static final class Doubles extends HostRows {
        private final double[] values;
        private double[] moved = new double[0];

        Doubles(int rows, int dim) {
            super(rows, dim);
            values = new double[Math.multiplyExact(rows, dim)];
        }

        @Override
        double get(int i) {
            return values[i];
        }

        @Override
        void set(int i, double value) {
            values[i] = value;
        }

        @Override
        DataType dtype() {
            return DataType.DOUBLE;
        }

        private double[] moved(int n) {
            if (moved.length < n) {
                moved = new double[n + n / 4];
            }
            return moved;
        }

        @Override
        void copyRows(int[] indices, int count, INDArray array, boolean intoArray) {
            int n = count * dim;
            double[] m = moved(n);
            DoubleBuffer b = array.data().asNioDouble();
            if (intoArray) {
                for (int i = 0; i < count; i++) {
                    System.arraycopy(values, indices[i] * dim, m, i * dim, dim);
                }
                b.put(m, 0, n);
            } else {
                b.get(m, 0, n);
                for (int i = 0; i < count; i++) {
                    System.arraycopy(m, i * dim, values, indices[i] * dim, dim);
                }
            }
        }

        @Override
        void subtractRows(int[] indices, int count, INDArray update) {
            double[] m = moved(count * dim);
            update.data().asNioDouble().get(m, 0, count * dim);
            for (int i = 0; i < count; i++) {
                int row = indices[i] * dim;
                for (int j = 0; j < dim; j++) {
                    values[row + j] -= m[i * dim + j];
                }
            }
        }

        @Override
        boolean allFinite() {
            for (double v : values) {
                if (!Double.isFinite(v)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        void write(DataOutput out) throws IOException {
            ArrayCodec.write(out, values, DataType.DOUBLE);
        }

        @Override
        void read(DataInput in) throws IOException {
            ArrayCodec.read(in, DataType.DOUBLE, values);
        }
    }
}

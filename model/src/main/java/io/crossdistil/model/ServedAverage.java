package io.crossdistil.model;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.nn.ParameterStore;
import io.crossdistil.model.state.ArrayCodec;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What snapshots serve: the parameters averaged over the recent stream (Polyak averaging), an
 * exponential moving average that weighs the past by {@code exp(-n / horizon)} after a step of n
 * events. It starts at 0 and is divided by the weight its steps hold, {@code 1 - exp(-events /
 * horizon)}, as Adam corrects its moments, so that the initial random parameters weigh nothing.
 * One step's parameters jump: on census-income the rare task's mean served probability on unseen
 * events moves by a sixth from step to step, which progressive metrics average away and a snapshot
 * keeps (docs/results/census-income-snapshot-calibration/). Training and the progressive metrics
 * use the live parameters; only snapshots read these.
 *
 * <p>Dense parameters (the network's and both calibrations', as snapshots carry them) are averaged
 * after every step, two BLAS calls per store. The embedding table is averaged lazily and exactly:
 * a row changes only when a step updates it, so its average is caught up, with the value it has
 * held since, just before it changes, and on the fly when a snapshot is written. Averages are held
 * rounded to the model's data type, so that a restored state continues bit for bit.
 */
final class ServedAverage {
    private final double horizon;
    private final List<ParameterStore> stores;
    /** Per store, its parameters' average, laid out as its flat parameter vector. */
    private final List<INDArray> averages = new ArrayList<>();
    private final EmbeddingTable table;
    private final int dim;
    /** Row r's average from {@code r * dim}, as it stood when {@code since[r]} events had been averaged in. */
    private final double[] rows;
    private final long[] since;
    private final boolean floats;
    private final double[] row;
    private long averaged;
    /** {@link #averaged} when the average (re)started. */
    private long started;

    /** @param horizon events over which the past's weight falls to 1/e */
    ServedAverage(double horizon, List<ParameterStore> stores, EmbeddingTable table, DataType dtype) {
        this.horizon = horizon;
        this.stores = List.copyOf(stores);
        for (ParameterStore s : stores) {
            averages.add(s.stateVectors().get(0).dup());
        }
        this.table = table;
        this.dim = table.dim();
        this.rows = new double[table.rows() * dim];
        this.since = new long[table.rows()];
        this.floats = dtype == DataType.FLOAT;
        this.row = new double[dim];
        restart();
        table.beforeEachUpdate(this::beforeRowsChange); // one trainer's steps; replicas' merges call beforeRowChanges instead
    }

    /** Starts the average afresh: until the next step snapshots carry the current parameters (a new model, a state from before averaging, loaded parameters). */
    void restart() {
        for (INDArray a : averages) {
            a.assign(0);
        }
        Arrays.fill(rows, 0);
        Arrays.fill(since, averaged);
        started = averaged;
    }

    /** Rows about to change, with the values they hold now (the table calls this before each update of one trainer). */
    void beforeRowsChange(int[] changing, int n) {
        for (int i = 0; i < n; i++) {
            table.readValues(changing[i], row, 0);
            beforeRowChanges(changing[i], row, 0);
        }
    }

    /** Row {@code r} is about to change; it has held {@code values} (from {@code at}, its values only) since it last changed. */
    void beforeRowChanges(int r, double[] values, int at) {
        double past = Math.exp(-(averaged - since[r]) / horizon);
        int base = r * dim;
        for (int j = 0; j < dim; j++) {
            rows[base + j] = round(past * rows[base + j] + (1 - past) * values[at + j]);
        }
        since[r] = averaged;
    }

    /** After a step, or a merge of replicas' steps, of {@code events} events: the dense averages take in the parameters now. */
    void afterEvents(long events) {
        averaged += events;
        double past = Math.exp(-events / horizon);
        for (int i = 0; i < stores.size(); i++) {
            // a = past a + (1 - past) p, without a temporary array
            INDArray a = averages.get(i).muli(past);
            Nd4j.getBlasWrapper().level1().axpy(a.length(), 1 - past, stores.get(i).stateVectors().get(0), a);
        }
    }

    /**
     * Tensor {@code name} as snapshots carry it, averaged, as floats in C order (see
     * NamedTensors#putFloats); false when the average has taken in no step since it started, or
     * averages no tensor of that name (the dense inputs' statistics): the caller then writes the
     * current values.
     */
    boolean putFloats(String name, FloatBuffer out) {
        if (averaged == started) {
            return false;
        }
        double weight = 1 - Math.exp(-(averaged - started) / horizon);
        if (name.equals(CrossDistilModel.EMBEDDING)) {
            for (int r = 0; r < since.length; r++) {
                double past = Math.exp(-(averaged - since[r]) / horizon);
                table.readValues(r, row, 0);
                for (int j = 0; j < dim; j++) {
                    out.put((float) ((past * rows[r * dim + j] + (1 - past) * row[j]) / weight));
                }
            }
            return true;
        }
        for (int i = 0; i < stores.size(); i++) {
            INDArray p = stores.get(i).paramsOf(averages.get(i)).get(name);
            if (p != null) {
                HostArrays.putFloats(p.div(weight), out);
                return true;
            }
        }
        return false;
    }

    private double round(double v) {
        return floats ? (float) v : v;
    }

    void write(DataOutput out) throws IOException {
        out.writeLong(averaged);
        out.writeLong(started);
        for (INDArray a : averages) {
            ArrayCodec.write(out, HostArrays.values(a), a.dataType());
        }
        ArrayCodec.write(out, rows, floats ? DataType.FLOAT : DataType.DOUBLE);
        for (long s : since) {
            out.writeLong(s);
        }
    }

    void read(DataInput in) throws IOException {
        averaged = in.readLong();
        started = in.readLong();
        for (INDArray a : averages) {
            double[] v = new double[(int) a.length()];
            ArrayCodec.read(in, a.dataType(), v);
            HostArrays.put(v, a);
        }
        ArrayCodec.read(in, floats ? DataType.FLOAT : DataType.DOUBLE, rows);
        for (int r = 0; r < since.length; r++) {
            since[r] = in.readLong();
        }
    }

    /** The stores whose parameters snapshots carry, in their order (see NamedTensors). */
    static List<ParameterStore> served(ParameterStore theta, Calibration calibration, Calibration output) {
        List<ParameterStore> stores = new ArrayList<>(List.of(theta, calibration.parameters()));
        if (output != null) {
            stores.add(output.parameters());
        }
        return stores;
    }
}

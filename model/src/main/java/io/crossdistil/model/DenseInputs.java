package io.crossdistil.model;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.state.ArrayCodec;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The network's dense inputs, standardised ({@link DenseScaling}) with running statistics of the
 * events trained on, so that raw values (a price, a duration, capital gains of 99,999) reach the
 * first layer at unit scale. The statistics are running sums (event count; per field the sum and
 * the sum of squares of its value, after the mode's transform; per field the events that lacked
 * it) in one vector of doubles: the model's state and its snapshots carry it, and replicas merge
 * it as they merge a running sum, by adding their changes (parallel.ReplicaSync). A step is scored
 * and learned with the statistics of the events before it; its own events are added after it
 * ({@link #add}), so N replicas in rounds of one step scale exactly as one trainer does.
 *
 * <p>A field an event lacks ({@link Example#MISSING}) reads as the field's mean (0 after scaling)
 * and adds nothing to its statistics; unscaled, as 0.
 */
final class DenseInputs {
    /** The snapshot tensor that carries the statistics. */
    static final String TENSOR = "dense-scaling.sums";
    /** A field whose variance is below this share of its squared mean reads as constant (0): a snapshot's float sums cannot resolve less. */
    private static final double RELATIVE_VARIANCE_FLOOR = 1e-5;

    private final DenseScaling mode;
    private final int fields;
    /** [count, sum per field, sum of squares per field, events lacking the field per field]; null when the mode is NONE or there are no dense fields. */
    private final INDArray sums;

    DenseInputs(ModelConfig cfg) {
        mode = cfg.denseScaling;
        fields = cfg.denseFeatures.size();
        // double whatever the model's type: float sums stop counting at 2^24 events and drift apart past 2^32
        sums = mode == DenseScaling.NONE || fields == 0 ? null : Nd4j.zeros(DataType.DOUBLE, 1 + 3L * fields);
    }

    /** The statistics vector (state, snapshots, replicas' merge), or null when nothing is scaled. */
    INDArray sums() {
        return sums;
    }

    /** Takes a snapshot's statistics (its tensors by name); nothing when nothing is scaled. */
    void load(Map<String, INDArray> tensors) {
        if (sums != null) {
            INDArray stored = tensors.get(TENSOR);
            if (stored != null && stored.length() == 1 + 2L * fields) {
                HostArrays.put(withoutMissing(HostArrays.values(stored)), sums);
            } else {
                sums.assign(MultiTaskNetwork.required(tensors, TENSOR, sums.shape()));
            }
        }
    }

    /** Statistics stored before missing values were counted (every event had every field, or read it as 0). */
    private double[] withoutMissing(double[] stored) {
        return Arrays.copyOf(stored, 1 + 3 * fields);
    }

    /**
     * The dense input rows of a pass: the batch's events, then the samples', {@code fields}
     * values each, scaled; null without dense fields.
     */
    double[] inputs(List<Example> batch, Samples samples) {
        if (fields == 0) {
            return null;
        }
        int sampled = samples.rowCount();
        double[] out = new double[(batch.size() + sampled) * fields];
        for (int i = 0; i < batch.size(); i++) {
            float[] dense = batch.get(i).dense;
            for (int j = 0; j < fields; j++) {
                out[i * fields + j] = dense[j];
            }
        }
        float[] sampledDense = samples.dense();
        for (int j = 0; j < sampled * fields; j++) {
            out[batch.size() * fields + j] = sampledDense[j];
        }
        scale(out);
        return out;
    }

    /**
     * Standardises rows of raw values in place with the statistics so far; a field not yet seen to
     * vary, and a missing value, read as 0. Unscaled, a missing value reads 0.
     */
    private void scale(double[] rows) {
        if (sums == null) {
            for (int i = 0; i < rows.length; i++) {
                rows[i] = Double.isNaN(rows[i]) ? 0 : rows[i];
            }
            return;
        }
        double[][] moments = moments(roundedSums());
        double[] mean = moments[0];
        double[] inverseSd = new double[fields];
        for (int j = 0; j < fields; j++) {
            inverseSd[j] = moments[1][j] > 0 ? 1 / moments[1][j] : 0;
        }
        for (int i = 0; i < rows.length; i++) {
            int j = i % fields;
            rows[i] = Double.isNaN(rows[i]) ? 0 : (transform(rows[i]) - mean[j]) * inverseSd[j];
        }
    }

    /** The statistics rounded to float, as a snapshot carries them: serving then scales exactly as training did. */
    private double[] roundedSums() {
        double[] s = HostArrays.values(sums);
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) s[i];
        }
        return s;
    }

    /** Per field the mean and the standard deviation (0: not seen to vary) of statistics {@code s}. */
    private double[][] moments(double[] s) {
        double[] mean = new double[fields];
        double[] sd = new double[fields];
        for (int j = 0; j < fields; j++) {
            double n = s[0] - s[1 + 2 * fields + j];
            if (n > 0) {
                mean[j] = s[1 + j] / n;
                double variance = s[1 + fields + j] / n - mean[j] * mean[j];
                sd[j] = variance > RELATIVE_VARIANCE_FLOOR * mean[j] * mean[j] && variance > 0 ? Math.sqrt(variance) : 0;
            }
        }
        return new double[][] {mean, sd};
    }

    /** What the statistics say of each field, in configuration order; empty when nothing is scaled. */
    List<DenseStatistics> describe(List<String> names) {
        if (sums == null) {
            return List.of();
        }
        double[] s = roundedSums();
        double[][] moments = moments(s);
        List<DenseStatistics> out = new ArrayList<>();
        for (int j = 0; j < fields; j++) {
            long missing = (long) s[1 + 2 * fields + j];
            out.add(new DenseStatistics(names.get(j), moments[0][j], moments[1][j], (long) s[0] - missing, missing));
        }
        return out;
    }

    /** Adds a learned batch's events to the statistics. */
    void add(List<Example> batch) {
        if (sums == null || batch.isEmpty()) {
            return;
        }
        double[] s = HostArrays.values(sums);
        s[0] += batch.size();
        for (Example e : batch) {
            for (int j = 0; j < fields; j++) {
                if (Float.isNaN(e.dense[j])) {
                    s[1 + 2 * fields + j]++;
                } else {
                    double t = transform(e.dense[j]);
                    s[1 + j] += t;
                    s[1 + fields + j] += t * t;
                }
            }
        }
        HostArrays.put(s, sums);
    }

    /** The statistics, exactly; nothing when nothing is scaled. */
    void write(DataOutput out) throws IOException {
        if (sums != null) {
            ArrayCodec.write(out, HostArrays.values(sums), sums.dataType());
        }
    }

    /** Statistics written by {@link #write} of a model of the same configuration (or before missing values were counted). */
    void read(DataInput in) throws IOException {
        if (sums != null) {
            double[] stored = ArrayCodec.read(in, sums.dataType());
            if (stored.length == 1 + 2 * fields) {
                stored = withoutMissing(stored);
            } else if (stored.length != sums.length()) {
                throw new IOException(stored.length + " dense statistics where the model keeps " + sums.length()
                        + "; the state was written by another model shape");
            }
            HostArrays.put(stored, sums);
        }
    }

    private double transform(double x) {
        return mode == DenseScaling.LOG ? Math.signum(x) * Math.log1p(Math.abs(x)) : x;
    }
}

package io.crossdistil.model;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.nn.ParameterStore;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model's parameters by the names snapshots carry them under: the embedding table, the
 * network's dense parameters, then the calibrations', then the dense inputs' statistics. Read,
 * shaped, copied out as floats (as snapshots carry them: the served average when there is one),
 * and loaded back (CrossDistilModel's tensor methods).
 */
final class NamedTensors {
    private final EmbeddingTable embeddings;
    private final ParameterStore theta;
    private final Calibration calibration;
    /** Null without the output calibration. */
    private final Calibration output;
    /** Null when snapshots carry the last step's parameters. */
    private final ServedAverage average;
    private final DenseInputs denseInputs;

    NamedTensors(EmbeddingTable embeddings, ParameterStore theta, Calibration calibration, Calibration output, ServedAverage average,
            DenseInputs denseInputs) {
        this.embeddings = embeddings;
        this.theta = theta;
        this.calibration = calibration;
        this.output = output;
        this.average = average;
        this.denseInputs = denseInputs;
    }

    /**
     * Every parameter by name: views of the dense parameters (changing them changes the model) and
     * a copy of the embedding table (change it through {@link #load}).
     */
    Map<String, INDArray> all() {
        Map<String, INDArray> all = new LinkedHashMap<>();
        all.put(CrossDistilModel.EMBEDDING, embeddings.table());
        all.putAll(denseTensors());
        return all;
    }

    /** Views of every dense tensor that snapshots carry (the network's parameters, the calibrations', the dense inputs' statistics), by name. */
    private Map<String, INDArray> denseTensors() {
        Map<String, INDArray> dense = new LinkedHashMap<>(theta.params());
        dense.putAll(calibration.params());
        if (output != null) {
            dense.putAll(output.params());
        }
        if (denseInputs.sums() != null) {
            dense.put(DenseInputs.TENSOR, denseInputs.sums());
        }
        return dense;
    }

    /** The shape of every tensor of {@link #all()}, in the same order, without copying a value. */
    Map<String, long[]> shapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(CrossDistilModel.EMBEDDING, new long[] {embeddings.rows(), embeddings.dim()});
        denseTensors().forEach((name, p) -> shapes.put(name, p.shape()));
        return shapes;
    }

    /**
     * Tensor {@code name}'s values in C order as floats into {@code out}, as snapshots carry them:
     * the served average's, or what {@link #all()} holds, without the 4 MB copy of the embedding
     * table it makes (a snapshot's build on the trainer's thread).
     */
    void putFloats(String name, FloatBuffer out) {
        if (average != null && average.putFloats(name, out)) {
            return;
        }
        if (name.equals(CrossDistilModel.EMBEDDING)) {
            embeddings.putFloats(out);
            return;
        }
        INDArray p = denseTensors().get(name);
        if (p == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        HostArrays.putFloats(p, out);
    }

    /** Overwrites parameters from named tensors (for example a snapshot's); shapes must match. */
    void load(Map<String, INDArray> values) {
        for (String name : loadAvailable(values)) {
            if (!name.startsWith(CrossDistilModel.OUTPUT + ".")) { // a snapshot from before the output calibration: it stays at identity
                throw new IllegalArgumentException("tensor " + name + " is missing");
            }
        }
    }

    /**
     * Overwrites every parameter that {@code values} holds, and returns the names of those it does
     * not hold, which keep their values; a tensor of another shape is refused.
     */
    List<String> loadAvailable(Map<String, INDArray> values) {
        List<String> absent = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : all().entrySet()) {
            INDArray v = values.get(e.getKey());
            if (v == null) {
                absent.add(e.getKey());
            } else if (e.getKey().equals(DenseInputs.TENSOR)) {
                denseInputs.load(values); // also statistics stored before missing values were counted
            } else if (!Arrays.equals(v.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " has shape " + Arrays.toString(v.shape())
                        + ", the model expects " + Arrays.toString(e.getValue().shape()));
            } else if (e.getKey().equals(CrossDistilModel.EMBEDDING)) {
                embeddings.assign(v);
            } else {
                e.getValue().assign(v);
            }
        }
        if (average != null) {
            average.restart();
        }
        return absent;
    }
}

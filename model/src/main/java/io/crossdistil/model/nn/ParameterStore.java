package io.crossdistil.model.nn;

import io.crossdistil.model.sampling.SeededRandom;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Dense parameters kept in one flat vector, with a named matrix view per parameter and a gradient
 * vector of the same layout. One ND4J updater call then updates every dense parameter at once
 * (each ND4J call costs microseconds, so per-parameter updates would dominate small steps).
 *
 * <p>Use: {@link #add} every parameter, then {@link #build}; after that the views are fixed.
 */
public final class ParameterStore {
    private record Slot(long offset, long[] shape, double initStd) {}

    private final DataType dtype;
    private final IUpdater updaterConfig;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private final Map<String, INDArray> paramViews = new LinkedHashMap<>();
    private final Map<String, INDArray> gradViews = new LinkedHashMap<>();
    private long size;
    private INDArray params;
    private INDArray grads;
    private INDArray updaterState;
    private GradientUpdater updater;

    public ParameterStore(DataType dtype, IUpdater updaterConfig) {
        this.dtype = dtype;
        this.updaterConfig = updaterConfig;
    }

    /** Registers a parameter initialised from N(0, initStd^2) (initStd 0: zeros, NaN: ones). */
    public void add(String name, double initStd, long... shape) {
        if (params != null) {
            throw new IllegalStateException("parameter store already built");
        }
        if (slots.containsKey(name)) {
            throw new IllegalArgumentException("duplicate parameter " + name);
        }
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        slots.put(name, new Slot(size, shape.clone(), initStd));
        size += n;
    }

    /** Allocates and initialises every parameter from the generator, in registration order. */
    public void build(SeededRandom random) {
        double[] init = new double[(int) size];
        for (Slot s : slots.values()) {
            long n = length(s.shape);
            for (int i = 0; i < n; i++) {
                init[(int) (s.offset + i)] = Double.isNaN(s.initStd) ? 1.0 : s.initStd * random.nextGaussian();
            }
        }
        params = Nd4j.create(init, new long[] {1, size}, dtype);
        grads = Nd4j.zeros(dtype, 1, size);
        long stateSize = updaterConfig.stateSize(size);
        updaterState = stateSize == 0 ? null : Nd4j.zeros(dtype, 1, stateSize);
        updater = updaterConfig.instantiate(updaterState, true);
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            paramViews.put(e.getKey(), view(params, e.getValue()));
            gradViews.put(e.getKey(), view(grads, e.getValue()));
        }
    }

    private static long length(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    private static INDArray view(INDArray flat, Slot s) {
        INDArray v = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(s.offset, s.offset + length(s.shape)))
                .reshape('c', s.shape);
        if (!v.isView()) {
            throw new IllegalStateException("ND4J returned a copy, not a view, for a parameter slice");
        }
        return v;
    }

    public INDArray param(String name) {
        INDArray v = paramViews.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return v;
    }

    public INDArray grad(String name) {
        return gradViews.get(name);
    }

    public Map<String, INDArray> params() {
        return paramViews;
    }

    public void zeroGrad() {
        grads.assign(0);
    }

    /** The gradients' 2-norm: one reduction that is not finite if any gradient is not. */
    public double gradNorm() {
        return grads.norm2Number().doubleValue();
    }

    /** One optimizer step with the gradients now held; {@code iteration} counts from 0. */
    public void applyUpdate(int iteration) {
        updater.applyUpdater(grads, iteration, 0);
        params.subi(grads);
    }

    public DataType dtype() {
        return dtype;
    }

    public long size() {
        return size;
    }

    /** True when every parameter is finite. */
    public boolean allFinite() {
        return Double.isFinite(params.norm2Number().doubleValue());
    }

    public void write(DataOutput out) throws IOException {
        ArrayCodec.write(out, params);
        out.writeBoolean(updaterState != null);
        if (updaterState != null) {
            ArrayCodec.write(out, updaterState);
        }
    }

    public void read(DataInput in) throws IOException {
        params.assign(ArrayCodec.read(in, dtype, params.shape()));
        if (in.readBoolean()) {
            updaterState.assign(ArrayCodec.read(in, dtype, updaterState.shape()));
        }
    }
}

package io.crossdistil.model.nn;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nd4j.PreparedOp;
import io.crossdistil.model.nd4j.SingleStep;
import io.crossdistil.model.nd4j.UpdaterOp;
import io.crossdistil.model.state.ArrayCodec;
import io.crossdistil.model.state.SeededRandom;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Dense parameters kept in one flat vector, with a named matrix view per parameter and a gradient
 * vector of the same layout. One ND4J updater call then updates every dense parameter at once
 * (each ND4J call costs microseconds, so per-parameter updates would dominate small steps).
 *
 * <p>Parameters of parallel towers can be stored fused, so that one matrix product computes all
 * towers: {@link #fuseSideBySide} places same-shaped matrices next to each other (the first
 * layers of towers reading the same input), {@link #fuseBlockDiagonal} on the diagonal of a larger
 * matrix whose other entries stay zero (their gradients are discarded before every update). The
 * fused matrix is reached under its block name; every parameter keeps its own name and view, and
 * initialisation and the serialized form follow the parameters' registration order whatever is
 * fused, so fusing changes neither the initial values nor the state format.
 *
 * <p>Use: {@link #add} every parameter, fuse, then {@link #build}; after that the views are fixed.
 */
public final class ParameterStore {
    private record Slot(long[] shape, double initStd) {}

    /** Same-shaped matrices stored as one: side by side, or along the diagonal of a zero matrix. */
    private record Block(List<String> members, boolean diagonal) {}

    private final DataType dtype;
    private final IUpdater updaterConfig;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private final Map<String, Block> blocks = new LinkedHashMap<>();
    private final Map<String, String> blockOf = new HashMap<>();
    private final Map<String, INDArray> paramViews = new LinkedHashMap<>();
    private final Map<String, INDArray> gradViews = new LinkedHashMap<>();
    private final Map<String, INDArray> blockParams = new HashMap<>();
    private final Map<String, INDArray> blockGrads = new HashMap<>();
    /** Registration-order position -> flat position; identity unless something is fused. */
    private int[] flatIndex;
    /** Where each unfused parameter and each fused block starts in the flat vector. */
    private final Map<String, Long> flatOffsets = new HashMap<>();
    /**
     * Positions in the flat gradient of the zeros around fused diagonal blocks: their gradient is
     * set to 0 before every update, so that they stay 0 and the towers stay apart.
     */
    private int[] structuralZeros = new int[0];
    private long size;
    private INDArray params;
    private INDArray grads;
    private UpdaterOp updater;
    /** params -= update, with a context of its own: the same arrays every step (see PreparedOp). */
    private final PreparedOp subtract = PreparedOp.site("subtract", new long[0], new double[0]);
    /**
     * The updater's state per slot (Adam: m, v), each laid out like the parameters and a whole
     * C-order array: on views of one state array (F-ordered, where the gradient is C-ordered)
     * ND4J's updater ops took a slower path, twice the time.
     */
    private INDArray[] updaterSlots;

    public ParameterStore(DataType dtype, IUpdater updaterConfig) {
        this.dtype = dtype;
        this.updaterConfig = updaterConfig;
    }

    /** Registers a parameter initialised from N(0, initStd^2) (initStd 0: zeros, NaN: ones). */
    public void add(String name, double initStd, long... shape) {
        checkOpen();
        if (slots.containsKey(name) || blocks.containsKey(name)) {
            throw new IllegalArgumentException("duplicate parameter " + name);
        }
        slots.put(name, new Slot(shape.clone(), initStd));
        size += length(shape);
    }

    /** Stores the same-shaped matrices {@code members} side by side as one matrix named {@code block}. */
    public void fuseSideBySide(String block, List<String> members) {
        fuse(block, members, false);
    }

    /**
     * Stores the same-shaped matrices {@code members} on the diagonal of one matrix named
     * {@code block}; its other entries are zero and stay zero.
     */
    public void fuseBlockDiagonal(String block, List<String> members) {
        fuse(block, members, true);
    }

    private void fuse(String block, List<String> members, boolean diagonal) {
        checkOpen();
        if (slots.containsKey(block) || blocks.containsKey(block)) {
            throw new IllegalArgumentException("duplicate parameter " + block);
        }
        long[] shape = null;
        for (String m : members) {
            Slot s = slots.get(m);
            if (s == null || blockOf.containsKey(m) || s.shape.length != 2) {
                throw new IllegalArgumentException("cannot fuse " + m + " into " + block);
            }
            if (shape != null && !Arrays.equals(shape, s.shape)) {
                throw new IllegalArgumentException("fused parameters need one shape: " + members);
            }
            shape = s.shape;
        }
        blocks.put(block, new Block(List.copyOf(members), diagonal));
        members.forEach(m -> blockOf.put(m, block));
    }

    private void checkOpen() {
        if (params != null) {
            throw new IllegalStateException("parameter store already built");
        }
    }

    /** Allocates and initialises every parameter from the generator, in registration order, with gradients and optimizer state. */
    public void build(SeededRandom random) {
        build(name -> random);
    }

    /**
     * As {@link #build(SeededRandom)}, each parameter drawn from the generator {@code randomFor}
     * gives for its name (so that one group's values do not depend on whether another exists).
     */
    public void build(java.util.function.Function<String, SeededRandom> randomFor) {
        layOut(true);
        double[] init = new double[(int) size];
        int i = 0;
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            Slot s = e.getValue();
            SeededRandom random = randomFor.apply(e.getKey());
            long n = length(s.shape);
            for (int j = 0; j < n; j++) {
                init[i++] = Double.isNaN(s.initStd) ? 1.0 : s.initStd * random.nextGaussian();
            }
        }
        long flatSize = params.length();
        params.assign(HostArrays.matrix(toFlat(init), 1, flatSize, dtype));
        long stateSize = updaterConfig.stateSize(flatSize);
        INDArray initialState = stateSize == 0 ? null : Nd4j.zeros(dtype, 1, stateSize);
        // ND4J's updater initialises its state (AdaGrad's starts at epsilon); the op then runs it
        updaterConfig.instantiate(initialState, true);
        updater = new UpdaterOp(updaterConfig);
        updaterSlots = new INDArray[updater.stateSlots()];
        for (int slot = 0; slot < updaterSlots.length; slot++) {
            updaterSlots[slot] = initialState.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(slot * flatSize, (slot + 1) * flatSize)).dup('c');
        }
    }

    /**
     * Allocates every parameter at zero, without gradients, optimizer state or random draws: for
     * a network that only predicts, whose values are then assigned (for example a snapshot's).
     */
    public void buildFrozen() {
        layOut(false);
    }

    /** The flat layout, the parameter views and, for training, the gradient views. */
    private void layOut(boolean withGradients) {
        checkOpen();
        // flat layout: parameters in registration order, a fused block where its first member would be
        Map<String, Long> offsets = new HashMap<>();
        long flatSize = 0;
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            String block = blockOf.get(e.getKey());
            if (block == null) {
                offsets.put(e.getKey(), flatSize);
                flatSize += length(e.getValue().shape);
            } else if (!offsets.containsKey(block)) {
                offsets.put(block, flatSize);
                flatSize += length(blockShape(block));
            }
        }
        flatOffsets.putAll(offsets);
        params = Nd4j.zeros(dtype, 1, flatSize);
        for (String block : blocks.keySet()) {
            blockParams.put(block, view(params, offsets.get(block), blockShape(block)));
        }
        paramViews.putAll(views(params, offsets));
        if (withGradients) {
            grads = Nd4j.zeros(dtype, 1, flatSize);
            for (String block : blocks.keySet()) {
                blockGrads.put(block, view(grads, offsets.get(block), blockShape(block)));
            }
            gradViews.putAll(views(grads, offsets));
        }

        // where each registration-order value lives in the flat vector: mark every view with its positions
        double[] counting = new double[(int) flatSize];
        for (int p = 0; p < counting.length; p++) {
            counting[p] = p;
        }
        flatIndex = new int[(int) size];
        int next = 0;
        for (INDArray v : views(HostArrays.matrix(counting, 1, flatSize, DataType.DOUBLE), offsets).values()) {
            for (double position : HostArrays.values(v)) {
                flatIndex[next++] = (int) position;
            }
        }
        if (flatSize > size) {
            boolean[] held = new boolean[(int) flatSize];
            for (int i : flatIndex) {
                held[i] = true;
            }
            structuralZeros = java.util.stream.IntStream.range(0, held.length).filter(p -> !held[p]).toArray();
        }
    }

    /** Every parameter's view of {@code flat} (its own slot, or its block of a fused matrix), in registration order. */
    private Map<String, INDArray> views(INDArray flat, Map<String, Long> offsets) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            String block = blockOf.get(e.getKey());
            out.put(e.getKey(), block == null ? view(flat, offsets.get(e.getKey()), e.getValue().shape)
                    : memberView(view(flat, offsets.get(block), blockShape(block)), block, e.getKey()));
        }
        return out;
    }

    private long[] blockShape(String block) {
        Block b = blocks.get(block);
        long[] member = slots.get(b.members.get(0)).shape;
        int n = b.members.size();
        return b.diagonal ? new long[] {n * member[0], n * member[1]} : new long[] {member[0], n * member[1]};
    }

    /** Member {@code name}'s block of a fused matrix: a strided view. */
    private INDArray memberView(INDArray fused, String block, String name) {
        Block b = blocks.get(block);
        long[] shape = slots.get(name).shape;
        long g = b.members.indexOf(name);
        INDArrayIndex rows = b.diagonal ? NDArrayIndex.interval(g * shape[0], (g + 1) * shape[0]) : NDArrayIndex.all();
        return fused.get(rows, NDArrayIndex.interval(g * shape[1], (g + 1) * shape[1]));
    }

    private static long length(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    private static INDArray view(INDArray flat, long offset, long[] shape) {
        INDArray v = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(offset, offset + length(shape))).reshape('c', shape);
        if (!v.isView()) {
            throw new IllegalStateException("ND4J returned a copy, not a view, for a parameter slice");
        }
        return v;
    }

    /**
     * Registration-order values -> flat layout (zeros around fused diagonal blocks), segment by
     * segment: the parameters are one segment, an optimizer state one per slot.
     */
    private double[] toFlat(double[] ordered) {
        int flatSize = (int) params.length();
        double[] flat = new double[ordered.length / flatIndex.length * flatSize];
        for (int s = 0; s * flatIndex.length < ordered.length; s++) {
            for (int i = 0; i < flatIndex.length; i++) {
                flat[s * flatSize + flatIndex[i]] = ordered[s * flatIndex.length + i];
            }
        }
        return flat;
    }

    /** Flat layout -> registration-order values, segment by segment (see {@link #toFlat}). */
    private double[] toOrdered(double[] flat) {
        int flatSize = (int) params.length();
        double[] ordered = new double[flat.length / flatSize * flatIndex.length];
        for (int s = 0; s * flatSize < flat.length; s++) {
            for (int i = 0; i < flatIndex.length; i++) {
                ordered[s * flatIndex.length + i] = flat[s * flatSize + flatIndex[i]];
            }
        }
        return ordered;
    }

    /** Sets parameter {@code name} to {@code source}'s parameter {@code sourceName}: its values and its optimizer state. */
    public void copyFrom(ParameterStore source, String sourceName, String name) {
        param(name).assign(source.param(sourceName));
        for (int slot = 0; slot < updaterSlots.length; slot++) {
            views(updaterSlots[slot], flatOffsets).get(name).assign(source.views(source.updaterSlots[slot], source.flatOffsets).get(sourceName));
        }
    }

    /** A parameter's view, or a fused block's matrix. */
    public INDArray param(String name) {
        INDArray v = paramViews.containsKey(name) ? paramViews.get(name) : blockParams.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return v;
    }

    /**
     * Weights {@code w} (k x n) and their bias {@code b} (1 x n) as one (k + 1) x n view of the
     * parameters, the bias its last row: x W + b is then [x 1] times it, and the product of [x 1]
     * with a gradient gives both parameters' gradients at once ({@link #gradWithBias}). Null unless
     * the bias follows the weights in the flat layout, as it does for weights registered (or fused)
     * right before their bias.
     */
    public INDArray paramWithBias(String w, String b) {
        return withBias(params, w, b);
    }

    /** The gradient view laid out as {@link #paramWithBias}. */
    public INDArray gradWithBias(String w, String b) {
        return withBias(grads, w, b);
    }

    private INDArray withBias(INDArray flat, String w, String b) {
        long[] weights = param(w).shape();
        Long wAt = flatOffsets.get(w);
        Long bAt = flatOffsets.get(b);
        if (wAt == null || bAt == null || bAt != wAt + weights[0] * weights[1] || param(b).length() != weights[1]) {
            return null;
        }
        return view(flat, wAt, new long[] {weights[0] + 1, weights[1]});
    }

    /** A parameter's gradient view, or a fused block's gradient matrix. */
    public INDArray grad(String name) {
        return gradViews.containsKey(name) ? gradViews.get(name) : blockGrads.get(name);
    }

    /** Every parameter's view by name, in registration order (fused blocks not listed). */
    public Map<String, INDArray> params() {
        return paramViews;
    }

    /** As {@link #params()}, of another vector laid out as this store's parameters (the first of {@link #stateVectors()}). */
    public Map<String, INDArray> paramsOf(INDArray flat) {
        return views(flat, flatOffsets);
    }

    public void zeroGrad() {
        // the backend's memset of the whole gradient vector: assign(0) builds an op, 12-15 us against 1.3
        Nd4j.getMemoryManager().memset(grads);
    }

    /**
     * True when every gradient is finite: one bulk copy to the host and a scan (ND4J's norm2, the
     * earlier check, cost about 2% of a step).
     */
    public boolean gradientsFinite() {
        return HostArrays.allFinite(grads);
    }

    /** One optimizer step with the gradients now held; {@code iteration} counts from 0. */
    public void applyUpdate(int iteration) {
        // written into the host buffer: a multiply by a 0/1 mask was an ND4J call of ~13 us per fused block
        HostArrays.zeroAt(grads, structuralZeros);
        updater.apply(grads, updaterSlots, iteration);
        subtract.exec(params, params, grads);
    }

    public DataType dtype() {
        return dtype;
    }

    /**
     * The flat vectors that hold everything this store learns: the parameters, then each optimizer
     * state slot, in the flat layout (what replicas of a model exchange, see parallel.ReplicaSync).
     */
    public List<INDArray> stateVectors() {
        return learnedVectors();
    }

    /** The optimizer's step worked out on the host (its state follows the parameters in {@link #stateVectors()}), or null for SGD. */
    public SingleStep singleStep() {
        return updater.singleStep();
    }

    /** Per vector of {@link #stateVectors()}: true for a running sum (AdaGrad's state), false for parameters and moving averages. */
    public boolean[] sumVectors() {
        boolean[] out = new boolean[stateVectors().size()];
        for (int i = 1; i < out.length; i++) {
            out[i] = updater.stateIsSum();
        }
        return out;
    }

    private List<INDArray> learnedVectors() {
        List<INDArray> out = new java.util.ArrayList<>();
        out.add(params);
        if (updaterSlots != null) {
            out.addAll(Arrays.asList(updaterSlots));
        }
        return out;
    }

    /** Number of parameter values (not counting the zeros around fused diagonal blocks). */
    public long size() {
        return size;
    }

    /** True when every parameter is finite. */
    public boolean allFinite() {
        return HostArrays.allFinite(params);
    }

    /** Parameters and optimizer state, each in registration order: the same bytes whatever is fused. */
    public void write(DataOutput out) throws IOException {
        ArrayCodec.write(out, toOrdered(HostArrays.values(params)), dtype);
        out.writeBoolean(updaterSlots.length > 0);
        if (updaterSlots.length > 0) {
            // the slots one after another, as ND4J's updaters lay out their state
            int flatSize = (int) params.length();
            double[] state = new double[updaterSlots.length * flatSize];
            for (int slot = 0; slot < updaterSlots.length; slot++) {
                System.arraycopy(HostArrays.values(updaterSlots[slot]), 0, state, slot * flatSize, flatSize);
            }
            ArrayCodec.write(out, toOrdered(state), dtype);
        }
    }

    public void read(DataInput in) throws IOException {
        double[] ordered = new double[(int) size];
        ArrayCodec.read(in, dtype, ordered);
        params.assign(HostArrays.matrix(toFlat(ordered), 1, params.length(), dtype));
        if (in.readBoolean()) {
            double[] state = new double[updaterSlots.length * (int) size];
            ArrayCodec.read(in, dtype, state);
            double[] flat = toFlat(state);
            int flatSize = (int) params.length();
            for (int slot = 0; slot < updaterSlots.length; slot++) {
                double[] values = Arrays.copyOfRange(flat, slot * flatSize, (slot + 1) * flatSize);
                updaterSlots[slot].assign(HostArrays.matrix(values, 1, flatSize, dtype));
            }
        }
    }
}

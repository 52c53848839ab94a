package io.crossdistil.model.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A stack of dense layers, ReLU between them; the last layer is ReLU too unless it is a logit
 * layer. Parameters live in a {@link ParameterStore} under {@code prefix.l.W} and {@code prefix.l.b}
 * (see {@link #towers} for several towers computed as one).
 */
public final class Mlp {
    private static final ThreadLocal<PreparedOp> XW_PLUS_B = PreparedOp.custom("xw_plus_b", new long[0], new double[0]);
    private static final ThreadLocal<PreparedOp> RELU = PreparedOp.custom("relu", new long[0], new double[] {0.0});
    /** Per data type, 1 where the input is positive, else 0: ND4J's scalar step op, whose scalar has the arrays' type. */
    private static final Map<DataType, ThreadLocal<PreparedOp>> STEP = Map.of(DataType.FLOAT, step(DataType.FLOAT),
            DataType.DOUBLE, step(DataType.DOUBLE));

    private final ParameterStore store;
    private final String prefix;
    private final int[] sizes;
    private final boolean linearOutput;
    /** 1s for the bias gradients (see backward); grown to the largest row count seen. */
    private INDArray ones;
    private INDArray[] biasVectors;
    /**
     * A training pass's arrays, per layer l: its output (slot l), and for the backward pass the
     * gradient at its output (L + l), the gradient at its input (2L + l), and row views of its
     * output (3L + l) and input (4L + l); the view of the ones column is slot 5L.
     */
    private final KeptArrays kept;

    /** The inputs of every layer and the output of the last, kept for the backward pass. */
    public static final class Activations {
        final List<INDArray> inputs = new ArrayList<>();
        INDArray output;

        public INDArray output() {
            return output;
        }
    }

    public Mlp(ParameterStore store, String prefix, int inputSize, int[] sizes, boolean linearOutput) {
        this(store, prefix, sizes, linearOutput);
        register(store, prefix, inputSize, sizes, linearOutput);
    }

    private Mlp(ParameterStore store, String prefix, int[] sizes, boolean linearOutput) {
        this.store = store;
        this.prefix = prefix;
        this.sizes = sizes.clone();
        this.linearOutput = linearOutput;
        this.kept = new KeptArrays(5 * sizes.length + 1);
    }

    private static void register(ParameterStore store, String prefix, int inputSize, int[] sizes, boolean linearOutput) {
        int in = inputSize;
        for (int l = 0; l < sizes.length; l++) {
            boolean last = l == sizes.length - 1;
            // He initialisation for ReLU layers, LeCun for the linear logit layer
            double std = Math.sqrt((last && linearOutput ? 1.0 : 2.0) / in);
            store.add(name(prefix, l, "W"), std, in, sizes[l]);
            store.add(name(prefix, l, "b"), 0.0, 1, sizes[l]);
            in = sizes[l];
        }
    }

    /**
     * Parallel towers of the same sizes reading the same input, computed as one network: one
     * matrix product per layer for all of them instead of one per tower. Tower g keeps its own
     * parameters ({@code prefixes[g].l.W} and {@code .b}, initialised as its own {@code Mlp}'s
     * would be), stored fused under {@code block.l.W} and {@code block.l.b}: first-layer weights
     * side by side, later layers' weights on a block diagonal, biases side by side. Column block g
     * of every layer's output is tower g's. One prefix gives a plain {@code Mlp} under that prefix.
     */
    public static Mlp towers(ParameterStore store, String block, List<String> prefixes, int inputSize, int[] sizes, boolean linearOutput) {
        if (prefixes.size() == 1) {
            return new Mlp(store, prefixes.get(0), inputSize, sizes, linearOutput);
        }
        for (String p : prefixes) {
            register(store, p, inputSize, sizes, linearOutput);
        }
        int[] fused = new int[sizes.length];
        for (int l = 0; l < sizes.length; l++) {
            final int layer = l;
            List<String> weights = prefixes.stream().map(p -> name(p, layer, "W")).toList();
            if (l == 0) {
                store.fuseSideBySide(name(block, l, "W"), weights);
            } else {
                store.fuseBlockDiagonal(name(block, l, "W"), weights);
            }
            store.fuseSideBySide(name(block, l, "b"), prefixes.stream().map(p -> name(p, layer, "b")).toList());
            fused[l] = sizes[l] * prefixes.size();
        }
        return new Mlp(store, block, fused, linearOutput);
    }

    private static String name(String prefix, int layer, String kind) {
        return prefix + "." + layer + "." + kind;
    }

    private String w(int l) {
        return name(prefix, l, "W");
    }

    private String b(int l) {
        return name(prefix, l, "b");
    }

    public int outputSize() {
        return sizes[sizes.length - 1];
    }

    /**
     * The layers' outputs for input {@code x}. A {@code training} pass writes into this network's
     * kept arrays (valid until its next training pass; one thread); otherwise new arrays, so that
     * predictions may run on several threads at once.
     */
    public Activations forward(INDArray x, boolean training) {
        Activations a = new Activations();
        INDArray h = x;
        for (int l = 0; l < sizes.length; l++) {
            a.inputs.add(h);
            // x W + b as ND4J's one xw_plus_b op (a gemm and a broadcast add otherwise)
            INDArray bias = biasVector(l);
            INDArray z = training ? kept.matrix(l, h.dataType(), h.rows(), bias.length())
                    : Nd4j.createUninitialized(h.dataType(), h.rows(), bias.length());
            XW_PLUS_B.get().exec(z, h, store.param(w(l)), bias);
            boolean relu = !(l == sizes.length - 1 && linearOutput);
            h = relu ? RELU.get().exec(z, z) : z;
        }
        a.output = h;
        return a;
    }

    /**
     * Layer l's bias as a vector (the shape xw_plus_b takes): a view of the store's array, made
     * once (the store's arrays are made once too) and outside any workspace, as it outlives steps.
     */
    private INDArray biasVector(int l) {
        if (biasVectors == null) {
            INDArray[] views = new INDArray[sizes.length];
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                for (int i = 0; i < sizes.length; i++) {
                    INDArray bias = store.param(b(i));
                    views[i] = bias.reshape(bias.length());
                }
            }
            biasVectors = views;
        }
        return biasVectors[l];
    }

    /** A column of {@code rows} ones, kept for the next step. */
    private INDArray ones(int rows, DataType dtype) {
        if (ones == null || ones.rows() < rows) {
            // outside any workspace: the column outlives the step that first needs it
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                ones = Nd4j.ones(dtype, rows, 1);
            }
        }
        return kept.rows(5 * sizes.length, ones, 0, rows);
    }

    private static ThreadLocal<PreparedOp> step(DataType dtype) {
        // the arrays the op is made with are placeholders: each call's come from the context
        return PreparedOp.legacy(() -> {
            INDArray placeholder = Nd4j.scalar(dtype, 0);
            return new Step(placeholder, placeholder, 0.0);
        });
    }

    /**
     * d * (out > 0) for layer l, in its kept array: a ReLU's output is positive exactly where its
     * input is. As ND4J's step op and a multiply: its relu_bp applies a std::function per element
     * and measured three times slower on the step's shapes (83 against 35 microseconds on 768x32).
     */
    private INDArray reluBackward(int l, INDArray out, INDArray d) {
        INDArray masked = kept.matrix(sizes.length + l, d.dataType(), d.rows(), d.columns());
        STEP.get(d.dataType()).get().exec(masked, out);
        return PreparedOp.MULTIPLY.get().exec(masked, masked, d);
    }

    /**
     * Writes the parameter gradients for rows {@code from} to {@code from + rows - 1} of a training
     * forward pass (the loss gradient of every other row being zero) and returns the gradient of
     * its input for those rows (a kept array, valid until the next backward pass), or null when
     * {@code inputGradient} is false.
     *
     * @param dOut gradient of the loss with respect to the output, {@code rows} rows
     */
    public INDArray backward(Activations a, INDArray dOut, int from, int rows, boolean inputGradient) {
        INDArray d = dOut;
        for (int l = sizes.length - 1; l >= 0; l--) {
            boolean relu = !(l == sizes.length - 1 && linearOutput);
            INDArray out = l == sizes.length - 1 ? a.output : a.inputs.get(l + 1);
            if (relu) {
                d = reluBackward(l, kept.rows(3 * sizes.length + l, out, from, rows), d);
            }
            INDArray in = kept.rows(4 * sizes.length + l, a.inputs.get(l), from, rows);
            MatMul.into(in, true, d, false, store.grad(w(l)));
            // column sums as the product 1^T d: BLAS does it in 76 us on 768x128, ND4J's column reduction in 173
            MatMul.into(ones(rows, d.dataType()), true, d, false, store.grad(b(l)));
            if (l > 0 || inputGradient) {
                d = MatMul.into(d, false, store.param(w(l)), true, kept.matrix(2 * sizes.length + l, d.dataType(), rows, in.columns()));
            } else {
                d = null;
            }
        }
        return d;
    }
}

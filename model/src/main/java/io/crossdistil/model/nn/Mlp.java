package io.crossdistil.model.nn;

import io.crossdistil.model.nd4j.KeptArrays;
import io.crossdistil.model.nd4j.MatMul;
import io.crossdistil.model.nd4j.PreparedOp;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A stack of dense layers, ReLU between them; the last layer is ReLU too unless it is a logit
 * layer. Parameters live in a {@link ParameterStore} under {@code prefix.l.W} and {@code prefix.l.b}
 * (see {@link #towers} for several towers computed as one).
 */
public final class Mlp {
    /** A prediction pass's ops, shared by the networks of a thread. */
    private static final ThreadLocal<PreparedOp> XW_PLUS_B = PreparedOp.custom("xw_plus_b", new long[0], new double[0]);
    private static final ThreadLocal<PreparedOp> RELU = PreparedOp.custom("relu", new long[0], new double[] {0.0});

    /**
     * What a training pass's ops do. Each layer has one op of each, with a context of its own
     * ({@link PreparedOp#site}): handed the same kept arrays every step, a call only runs the op.
     */
    private enum Role { PRODUCT, XW_PLUS_B, RELU, STEP, MULTIPLY, WEIGHT_GRADIENT, BIAS_GRADIENT, INPUT_GRADIENT }

    private final ParameterStore store;
    private final String prefix;
    private final int[] sizes;
    private final boolean linearOutput;
    /** 1s for the bias gradients of a layer whose input has no ones column (see backward); grown to the largest row count seen. */
    private INDArray ones;
    /** Volatile: a scorer's threads may make it at once, and each must see a whole array. */
    private volatile INDArray[] biasVectors;
    /** Per layer, its weights with the bias as last row, of the parameters and of the gradients ({@link ParameterStore#paramWithBias}). */
    private INDArray[] paramsWithBias;
    private INDArray[] gradsWithBias;
    /** A training pass's arrays, in slots numbered {@code kind * layers + layer} for the kinds below, and the ones column after them. */
    private final KeptArrays kept;
    /** The training pass's ops, {@code [role * layers + layer]}, made on first use. */
    private final PreparedOp[] ops;
    /** A layer's output as stored (with a ones column after it, for a next layer's product, or without). */
    private static final int STORED = 0;
    /** The gradient at a ReLU layer's output times the ReLU's derivative, laid out as STORED. */
    private static final int MASKED = 1;
    /** The gradient at a layer's input, laid out as its input (with or without the ones column). */
    private static final int GRADIENT_AT_INPUT = 2;
    /** Row views of STORED and of the layer's input, for a backward pass over some rows. */
    private static final int STORED_ROWS = 3;
    private static final int INPUT_ROWS = 4;
    /** Column views without the ones column: of STORED (the output) and of MASKED. */
    private static final int OUTPUT = 5;
    private static final int MASKED_COLUMNS = 6;
    private static final int KINDS = 7;

    /**
     * The arrays of a forward pass that its backward pass needs. In a training pass a layer whose
     * output feeds a next layer stores it with a ones column after it ([h 1]): the next layer's
     * x W + b is then one product with its weights and bias stacked, and so are both of its
     * parameter gradients (the bias gradient 1^T d was a product of its own, of ND4J's most
     * expensive per call).
     */
    public static final class Activations {
        final List<INDArray> inputs = new ArrayList<>();
        /** Per layer, its input with a ones column after it, or null. */
        final List<INDArray> inputsWithOnes = new ArrayList<>();
        /** Per layer, its output as stored: with a ones column after it, or the output itself. */
        final List<INDArray> stored = new ArrayList<>();
        INDArray output;
        INDArray outputWithOnes;

        public INDArray output() {
            return output;
        }

        /** The last layer's input: the last hidden layer's output (the input itself for one layer). */
        public INDArray lastHidden() {
            return inputs.get(inputs.size() - 1);
        }

        /** The output with a ones column after it (the array {@link #output} is a view of), or null. */
        public INDArray outputWithOnes() {
            return outputWithOnes;
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
        this.kept = new KeptArrays(KINDS * sizes.length + 1);
        this.ops = new PreparedOp[Role.values().length * sizes.length];
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

    /** {@link #forward(INDArray, INDArray, boolean, boolean)} of an input without a ones column, the output kept without one. */
    public Activations forward(INDArray x, boolean training) {
        return forward(x, null, training, false);
    }

    /**
     * The layers' outputs for input {@code x}. A {@code training} pass writes into this network's
     * kept arrays (valid until its next training pass; one thread); otherwise new arrays, so that
     * predictions may run on several threads at once.
     *
     * @param xWithOnes {@code x} with a ones column after it ({@code x} being a view of its first
     *     columns), or null; with it, the first layer's product and gradients are single products,
     *     and {@link #backward}'s input gradient comes with the extra column too
     * @param outputWithOnes a training pass stores a ReLU output with a ones column after it
     *     ({@link Activations#outputWithOnes}) for a next network's input; the output's gradient
     *     must then come with the extra column too (its values there are ignored). Element-wise
     *     ND4J ops on a view without that column take a path 20 times slower, so a consumer that
     *     computes on the output element by element wants it without.
     */
    public Activations forward(INDArray x, INDArray xWithOnes, boolean training, boolean outputWithOnes) {
        Activations a = new Activations();
        INDArray h = x;
        INDArray hWithOnes = training ? xWithOnes : null;
        int layers = sizes.length;
        for (int l = 0; l < layers; l++) {
            a.inputs.add(h);
            a.inputsWithOnes.add(hWithOnes);
            boolean relu = !(l == layers - 1 && linearOutput);
            boolean withOnes = training && relu && (l < layers - 1 || outputWithOnes);
            INDArray stored;
            if (!training) {
                stored = Nd4j.createUninitialized(h.dataType(), h.rows(), sizes[l]);
            } else if (withOnes) {
                stored = kept.withOnesColumn(slot(STORED, l), h.dataType(), h.rows(), sizes[l]);
            } else {
                stored = kept.matrix(slot(STORED, l), h.dataType(), h.rows(), sizes[l]);
            }
            INDArray z = withOnes ? kept.columns(slot(OUTPUT, l), stored, sizes[l]) : stored;
            if (hWithOnes != null) {
                op(Role.PRODUCT, l).exec(z, hWithOnes, withBias(l, false));
            } else {
                // x W + b as ND4J's one xw_plus_b op (a gemm and a broadcast add otherwise)
                (training ? op(Role.XW_PLUS_B, l) : XW_PLUS_B.get()).exec(z, h, store.param(w(l)), biasVector(l));
            }
            if (relu) {
                // on the whole stored array, contiguous: the ones column stays 1
                (training ? op(Role.RELU, l) : RELU.get()).exec(stored, stored);
            }
            a.stored.add(stored);
            h = z;
            hWithOnes = withOnes ? stored : null;
        }
        a.output = h;
        a.outputWithOnes = hWithOnes;
        return a;
    }

    private int slot(int kind, int layer) {
        return kind * sizes.length + layer;
    }

    /**
     * Layer l's weights with its bias as last row, of the parameters or of the gradients: views
     * made once, outside any workspace, as they outlive steps.
     */
    private INDArray withBias(int l, boolean gradient) {
        if (paramsWithBias == null) {
            INDArray[] params = new INDArray[sizes.length];
            INDArray[] grads = new INDArray[sizes.length];
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                for (int i = 0; i < sizes.length; i++) {
                    params[i] = store.paramWithBias(w(i), b(i));
                    grads[i] = store.gradWithBias(w(i), b(i));
                    if (params[i] == null) {
                        throw new IllegalStateException(b(i) + " does not follow " + w(i) + " in the parameter store");
                    }
                }
            }
            paramsWithBias = params;
            gradsWithBias = grads;
        }
        return gradient ? gradsWithBias[l] : paramsWithBias[l];
    }

    /**
     * Layer l's bias as a vector (the shape xw_plus_b takes): a view of the store's array, made
     * once (the store's arrays are made once too) and outside any workspace, as it outlives steps.
     */
    private INDArray biasVector(int l) {
        INDArray[] made = biasVectors;
        if (made == null) {
            INDArray[] views = new INDArray[sizes.length];
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                for (int i = 0; i < sizes.length; i++) {
                    INDArray bias = store.param(b(i));
                    views[i] = bias.reshape(bias.length());
                }
            }
            biasVectors = views;
            made = views;
        }
        return made[l];
    }

    /** A column of {@code rows} ones, kept for the next step. */
    private INDArray ones(int rows, DataType dtype) {
        if (ones == null || ones.rows() < rows) {
            // outside any workspace: the column outlives the step that first needs it
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                ones = Nd4j.ones(dtype, rows, 1);
            }
        }
        return kept.rows(KINDS * sizes.length, ones, 0, rows);
    }

    /** Layer l's op of this role in the training pass. */
    private PreparedOp op(Role role, int l) {
        int i = role.ordinal() * sizes.length + l;
        if (ops[i] == null) {
            ops[i] = switch (role) {
                case PRODUCT -> MatMul.site(false, false);
                case XW_PLUS_B -> PreparedOp.site("xw_plus_b", new long[0], new double[0]);
                case RELU -> PreparedOp.site("relu", new long[0], new double[] {0.0});
                // 1 where the input is positive, else 0: ND4J's scalar step op, whose scalar has the
                // arrays' type; the arrays it is made with are placeholders, each call's come from the context
                case STEP -> PreparedOp.legacySite(() -> {
                    INDArray placeholder = Nd4j.scalar(store.dtype(), 0);
                    return new Step(placeholder, placeholder, 0.0);
                });
                case MULTIPLY -> PreparedOp.site("multiply", new long[0], new double[0]);
                case WEIGHT_GRADIENT, BIAS_GRADIENT -> MatMul.site(true, false);
                case INPUT_GRADIENT -> MatMul.site(false, true);
            };
        }
        return ops[i];
    }

    /**
     * d * (out > 0) for layer l, in its kept array, laid out as the stored output: a ReLU's output
     * is positive exactly where its input is. As ND4J's step op and a multiply: its relu_bp applies
     * a std::function per element and measured three times slower on the step's shapes (83 against
     * 35 microseconds on 768x32), and its compare-and-replace op, the one-op form, slower still
     * (90 against 30 on 768x32).
     */
    private INDArray reluBackward(int l, INDArray out, INDArray d) {
        if (d.columns() != out.columns()) {
            throw new IllegalArgumentException("the gradient at layer " + l + "'s output has " + d.columns()
                    + " columns; its output is stored with " + out.columns());
        }
        INDArray masked = kept.matrix(slot(MASKED, l), d.dataType(), d.rows(), d.columns());
        op(Role.STEP, l).exec(masked, out);
        return op(Role.MULTIPLY, l).exec(masked, masked, d);
    }

    /**
     * Writes the parameter gradients for rows {@code from} to {@code from + rows - 1} of a training
     * forward pass (the loss gradient of every other row being zero) and returns the gradient of
     * its input for those rows (a kept array, valid until the next backward pass; with a ones
     * column after it when the forward pass had one, whose values mean nothing), or null when
     * {@code inputGradient} is false.
     *
     * @param dOut gradient of the loss with respect to the output, {@code rows} rows, with a ones
     *     column's worth of ignored values after it when the output was kept with one
     */
    public INDArray backward(Activations a, INDArray dOut, int from, int rows, boolean inputGradient) {
        return backward(a, dOut, from, rows, inputGradient, null);
    }

    /**
     * As {@link #backward(Activations, INDArray, int, int, boolean)}, with {@code dLastHidden}
     * (or null) added to the gradient at the last layer's input: the gradient of a loss that also
     * reads the last hidden layer from outside the network ({@link Activations#lastHidden}).
     */
    public INDArray backward(Activations a, INDArray dOut, int from, int rows, boolean inputGradient, INDArray dLastHidden) {
        if (dLastHidden != null && sizes.length < 2) {
            throw new IllegalArgumentException("a network of one layer has no hidden layer");
        }
        INDArray d = dOut;
        for (int l = sizes.length - 1; l >= 0; l--) {
            if (l == sizes.length - 2 && dLastHidden != null) {
                // d may carry a ones column's worth of ignored values after the hidden units
                (d.columns() == dLastHidden.columns() ? d : d.get(NDArrayIndex.all(), NDArrayIndex.interval(0, dLastHidden.columns()))).addi(dLastHidden);
            }
            boolean relu = !(l == sizes.length - 1 && linearOutput);
            INDArray stored = a.stored.get(l);
            INDArray dz = d;
            if (relu) {
                INDArray masked = reluBackward(l, kept.rows(slot(STORED_ROWS, l), stored, from, rows), d);
                dz = kept.columns(slot(MASKED_COLUMNS, l), masked, sizes[l]);
            }
            INDArray inWithOnes = a.inputsWithOnes.get(l);
            boolean more = l > 0 || inputGradient;
            if (inWithOnes != null) {
                op(Role.WEIGHT_GRADIENT, l).exec(withBias(l, true), kept.rows(slot(INPUT_ROWS, l), inWithOnes, from, rows), dz);
                d = more ? op(Role.INPUT_GRADIENT, l).exec(kept.matrix(slot(GRADIENT_AT_INPUT, l), dz.dataType(), rows, inWithOnes.columns()),
                        dz, withBias(l, false)) : null;
            } else {
                INDArray in = kept.rows(slot(INPUT_ROWS, l), a.inputs.get(l), from, rows);
                op(Role.WEIGHT_GRADIENT, l).exec(store.grad(w(l)), in, dz);
                // column sums as the product 1^T d: BLAS does it in 76 us on 768x128, ND4J's column reduction in 173
                op(Role.BIAS_GRADIENT, l).exec(store.grad(b(l)), ones(rows, dz.dataType()), dz);
                d = more ? op(Role.INPUT_GRADIENT, l).exec(kept.matrix(slot(GRADIENT_AT_INPUT, l), dz.dataType(), rows, in.columns()),
                        dz, store.param(w(l))) : null;
            }
        }
        return d;
    }
}

package io.crossdistil.model.nd4j;

import java.util.Arrays;
import java.util.function.Supplier;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One ND4J op with fixed arguments, run through an op context that is made once and kept.
 * {@code Nd4j.exec(op)}, {@code Nd4j.gemm} and the INDArray methods make a native context for
 * every call, with native copies of the arguments (and, for a scalar op, a new scalar array), each
 * with a deallocator registration: 10 to 15 microseconds a call, more than the arithmetic of most
 * of a step's operations, and reference processing for the garbage collector. A call here only
 * points the kept context at its arrays, and only at those that are not the ones it was given
 * last: an op made for one call site of the training step ({@link #site}), which is handed the
 * same kept arrays every step, then only runs (pointing a context at an array is a native call
 * per array, with a buffer lookup: 5 to 7% of a step when every call did it). A context must not
 * be shared between threads, so every shared prepared op is made per thread ({@link #custom},
 * {@link #legacy}).
 */
public final class PreparedOp {
    private final CustomOp custom;
    private final Op legacy;
    private final OpContext context;
    /** The arrays and arguments the context holds now (the same objects: arrays never change shape or buffer). */
    private final INDArray[] inputs = new INDArray[8];
    private final INDArray[] outputs = new INDArray[8];
    private long[] integerArgs = new long[0];
    private double[] floatArgs = new double[0];

    private PreparedOp(CustomOp custom, Op legacy) {
        this.custom = custom;
        this.legacy = legacy;
        this.context = Nd4j.getExecutioner().buildContext();
    }

    /** ND4J's custom op {@code name} with fixed integer and floating-point arguments, one per thread. */
    public static ThreadLocal<PreparedOp> custom(String name, long[] integerArgs, double[] floatArgs) {
        return ThreadLocal.withInitial(() -> site(name, integerArgs, floatArgs));
    }

    /**
     * ND4J's custom op {@code name} with fixed integer and floating-point arguments, for one call
     * site of one thread: its owner's.
     */
    public static PreparedOp site(String name, long[] integerArgs, double[] floatArgs) {
        PreparedOp p = new PreparedOp(DynamicCustomOp.builder(name).build(), null);
        p.arguments(integerArgs, floatArgs);
        return p;
    }

    /**
     * ND4J's custom op {@code name} whose arguments change from call to call
     * ({@link #exec(INDArray[], INDArray[], long[], double[])}), kept by one owner; like every
     * prepared op it must not be used by two threads at once.
     */
    public static PreparedOp owned(String name) {
        return new PreparedOp(DynamicCustomOp.builder(name).build(), null);
    }

    /**
     * A legacy (scalar, transform, pairwise) op: {@code op} supplies its kind and scalar; the
     * arrays it was made with are not used. Made outside any workspace, as its scalar outlives steps.
     */
    public static ThreadLocal<PreparedOp> legacy(Supplier<Op> op) {
        return ThreadLocal.withInitial(() -> legacySite(op));
    }

    /** As {@link #legacy}, for one call site of one thread: its owner's. */
    public static PreparedOp legacySite(Supplier<Op> op) {
        try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return new PreparedOp(null, op.get());
        }
    }

    /** Points the context at these arguments unless it holds equal ones already (each setting makes a native copy). */
    private void arguments(long[] integerArgs, double[] floatArgs) {
        if (integerArgs.length > 0 && !Arrays.equals(integerArgs, this.integerArgs)) {
            context.setIArguments(integerArgs);
            this.integerArgs = integerArgs.clone();
        }
        if (floatArgs.length > 0 && !Arrays.equals(floatArgs, this.floatArgs)) {
            context.setTArguments(floatArgs);
            this.floatArgs = floatArgs.clone();
        }
    }

    private void input(int i, INDArray array) {
        if (inputs[i] != array) {
            context.setInputArray(i, array);
            inputs[i] = array;
        }
    }

    private void output(int i, INDArray array) {
        if (outputs[i] != array) {
            context.setOutputArray(i, array);
            outputs[i] = array;
        }
    }

    /** Runs the custom op with these arguments on {@code inputs}, writing {@code outputs}. */
    public void exec(INDArray[] outputs, INDArray[] inputs, long[] integerArgs, double[] floatArgs) {
        arguments(integerArgs, floatArgs);
        for (int i = 0; i < inputs.length; i++) {
            input(i, inputs[i]);
        }
        for (int i = 0; i < outputs.length; i++) {
            output(i, outputs[i]);
        }
        Nd4j.getExecutioner().exec(custom, context);
    }

    /** Runs the op on {@code inputs}, writing {@code output}; returns {@code output}. */
    public INDArray exec(INDArray output, INDArray... inputs) {
        for (int i = 0; i < inputs.length; i++) {
            input(i, inputs[i]);
        }
        output(0, output);
        if (custom != null) {
            Nd4j.getExecutioner().exec(custom, context);
        } else {
            Nd4j.getExecutioner().exec(legacy, context);
        }
        return output;
    }
}

package io.crossdistil.model.nn;

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
 * points the kept context at its arrays. A context must not be shared between threads, so every
 * prepared op is made per thread ({@link #custom}, {@link #legacy}).
 */
final class PreparedOp {
    /** Elementwise products and differences of same-shaped arrays; the output may be the first input. */
    static final ThreadLocal<PreparedOp> MULTIPLY = custom("multiply", new long[0], new double[0]);
    static final ThreadLocal<PreparedOp> SUBTRACT = custom("subtract", new long[0], new double[0]);

    private final CustomOp custom;
    private final Op legacy;
    private final OpContext context;

    private PreparedOp(CustomOp custom, Op legacy) {
        this.custom = custom;
        this.legacy = legacy;
        this.context = Nd4j.getExecutioner().buildContext();
    }

    /** ND4J's custom op {@code name} with fixed integer and floating-point arguments. */
    static ThreadLocal<PreparedOp> custom(String name, long[] integerArgs, double[] floatArgs) {
        return ThreadLocal.withInitial(() -> {
            PreparedOp p = new PreparedOp(DynamicCustomOp.builder(name).build(), null);
            if (integerArgs.length > 0) {
                p.context.setIArguments(integerArgs);
            }
            if (floatArgs.length > 0) {
                p.context.setTArguments(floatArgs);
            }
            return p;
        });
    }

    /**
     * ND4J's custom op {@code name} whose arguments change from call to call
     * ({@link #exec(INDArray[], INDArray[], long[], double[])}), kept by one owner; like every
     * prepared op it must not be used by two threads at once.
     */
    static PreparedOp owned(String name) {
        return new PreparedOp(DynamicCustomOp.builder(name).build(), null);
    }

    /**
     * A legacy (scalar, transform, pairwise) op: {@code op} supplies its kind and scalar; the
     * arrays it was made with are not used. Made outside any workspace, as its scalar outlives steps.
     */
    static ThreadLocal<PreparedOp> legacy(Supplier<Op> op) {
        return ThreadLocal.withInitial(() -> {
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                return new PreparedOp(null, op.get());
            }
        });
    }

    /** Runs the custom op with these arguments on {@code inputs}, writing {@code outputs}. */
    void exec(INDArray[] outputs, INDArray[] inputs, long[] integerArgs, double[] floatArgs) {
        if (integerArgs.length > 0) {
            context.setIArguments(integerArgs);
        }
        if (floatArgs.length > 0) {
            context.setTArguments(floatArgs);
        }
        for (int i = 0; i < inputs.length; i++) {
            context.setInputArray(i, inputs[i]);
        }
        for (int i = 0; i < outputs.length; i++) {
            context.setOutputArray(i, outputs[i]);
        }
        Nd4j.getExecutioner().exec(custom, context);
    }

    /** Runs the op on {@code inputs}, writing {@code output}; returns {@code output}. */
    INDArray exec(INDArray output, INDArray... inputs) {
        for (int i = 0; i < inputs.length; i++) {
            context.setInputArray(i, inputs[i]);
        }
        context.setOutputArray(0, output);
        if (custom != null) {
            Nd4j.getExecutioner().exec(custom, context);
        } else {
            Nd4j.getExecutioner().exec(legacy, context);
        }
        return output;
    }
}

package io.crossdistil.model.nd4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The arrays a training step makes every time, kept from one step to the next while their shapes
 * stay the same. Making an ND4J array or view costs 5 to 7 microseconds however small it is (a
 * native shape descriptor and buffer wrapper each time, in a workspace or not), and a step made
 * some fifty. Each array or view has a numbered slot; what it holds is valid until its slot is
 * asked for again (in the next step), and it lives outside any workspace. One thread at a time:
 * the training thread; passes that may run on several threads (predictions) make new arrays.
 */
public final class KeptArrays {
    private final INDArray[] arrays;
    /** For a view slot, the array it is a view of and its first row. */
    private final INDArray[] bases;
    private final long[] starts;

    public KeptArrays(int slots) {
        arrays = new INDArray[slots];
        bases = new INDArray[slots];
        starts = new long[slots];
    }

    /** A C-order {@code rows x cols} matrix of {@code dtype} in {@code slot}, holding whatever was written to it last. */
    public INDArray matrix(int slot, DataType dtype, long rows, long cols) {
        INDArray a = arrays[slot];
        if (a == null || a.dataType() != dtype || a.rows() != rows || a.columns() != cols) {
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                a = Nd4j.createUninitialized(dtype, new long[] {rows, cols}, 'c');
            }
            arrays[slot] = a;
            bases[slot] = null;
        }
        return a;
    }

    /**
     * A C-order {@code rows x (cols + 1)} matrix of {@code dtype} in {@code slot} whose last column
     * is 1, set when the matrix is made: callers write the first {@code cols} columns only (an
     * operation that keeps 1 as 1, such as a ReLU, may run on all of it).
     */
    public INDArray withOnesColumn(int slot, DataType dtype, long rows, long cols) {
        INDArray before = arrays[slot];
        INDArray a = matrix(slot, dtype, rows, cols + 1);
        if (a != before) {
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                a.getColumn(cols).assign(1);
            }
        }
        return a;
    }

    /** The first {@code count} columns of {@code of} (itself when that is all of them), the view kept in {@code slot}. */
    public INDArray columns(int slot, INDArray of, long count) {
        if (count == of.columns()) {
            return of;
        }
        INDArray v = arrays[slot];
        if (v == null || bases[slot] != of || v.columns() != count) {
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                v = of.get(NDArrayIndex.all(), NDArrayIndex.interval(0, count));
            }
            arrays[slot] = v;
            bases[slot] = of;
            starts[slot] = 0;
        }
        return v;
    }

    /** Rows {@code from} to {@code from + count - 1} of {@code of} (itself when that is all of them), the view kept in {@code slot}. */
    public INDArray rows(int slot, INDArray of, int from, int count) {
        if (from == 0 && count == of.rows()) {
            return of;
        }
        INDArray v = arrays[slot];
        if (v == null || bases[slot] != of || starts[slot] != from || v.rows() != count) {
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                v = Rows.block(of, from, count);
            }
            arrays[slot] = v;
            bases[slot] = of;
            starts[slot] = from;
        }
        return v;
    }
}

package io.crossdistil.model.nd4j;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Row views of a matrix (no copies): a step's stacked matrix is cut into blocks this way. */
public final class Rows {
    private Rows() {}

    /** The first {@code rows} rows (the matrix itself when that is all of them). */
    public static INDArray first(INDArray a, int rows) {
        return rows == a.rows() ? a : a.get(NDArrayIndex.interval(0, rows), NDArrayIndex.all());
    }

    /** Rows {@code start} to {@code start + count - 1}. */
    public static INDArray block(INDArray a, int start, int count) {
        return a.get(NDArrayIndex.interval(start, start + count), NDArrayIndex.all());
    }
}

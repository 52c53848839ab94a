package io.crossdistil.model;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nd4j.KeptArrays;
import io.crossdistil.model.nn.Mlp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The towers of {@code tasks} that read one input, computed as one network; output column i is
 * task {@code tasks[i]}'s logit.
 */
record HeadGroup(Mlp net, int[] tasks) {
    /**
     * The group's logit gradients for rows {@code from} to {@code from + rows - 1} as one matrix,
     * kept in {@code slot} of {@code kept}: column i is task {@code tasks[i]}'s.
     */
    INDArray logitGradients(double[][] perTask, int from, int rows, KeptArrays kept, int slot, DataType dtype) {
        double[] m = new double[rows * tasks.length];
        for (int c = 0; c < tasks.length; c++) {
            double[] d = perTask[tasks[c]];
            for (int i = 0; i < rows; i++) {
                m[i * tasks.length + c] = d[from + i];
            }
        }
        return HostArrays.put(m, kept.matrix(slot, dtype, rows, tasks.length));
    }

    /** The first of the first {@code rows} rows where a task of the group has a nonzero gradient ({@code rows - 1} if none has). */
    int firstNonZeroRow(double[][] perTask, int rows) {
        int first = rows - 1;
        for (int k : tasks) {
            double[] d = perTask[k];
            for (int i = 0; i < first; i++) {
                if (d[i] != 0) {
                    first = i;
                    break;
                }
            }
        }
        return first;
    }
}

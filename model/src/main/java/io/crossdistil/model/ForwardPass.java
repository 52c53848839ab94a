package io.crossdistil.model;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nn.Mlp;
import io.crossdistil.model.objective.Losses;
import io.crossdistil.model.objective.StackedRows;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Everything one forward pass of {@link MultiTaskNetwork} computed that the losses and the
 * backward pass need, and the losses' gradients with respect to each head's logits.
 */
final class ForwardPass {
    final StackedRows rows;
    final int batch;
    final int total;
    int[] indices;
    INDArray x0;
    /** x0 with a ones column after it (x0 a view of its first columns), or null. */
    INDArray x0WithOnes;
    /** Rows the shared backbone computed: all of them when teacher towers read it, else the batch. */
    int sharedRows;
    Mlp.Activations bottomActs;
    List<Mlp.Activations> expertActs;
    INDArray[] gates;
    Mlp.Activations teacherBottomActs;
    /** Per head group, in the order of the network's student and teacher groups. */
    final Mlp.Activations[] studentActs;
    final Mlp.Activations[] teacherActs;
    /** The label-only twins' (see DistillationGate), one per student group; empty outside training or without the gate. */
    final Mlp.Activations[] twinActs;
    /** What the students' and the twins' towers exchanged (see TowerSet); the twins' null without them. */
    TowerSet.ExchangePass studentExchange;
    TowerSet.ExchangePass twinExchange;
    /** [task][batch row] */
    double[][] labels;
    /** [task][batch row]: sigmoid of the student logits, once the student losses have worked them out. */
    final double[][] studentProbabilities;
    /** [task][row]: the loss gradient with respect to each head's logits. */
    final double[][] dStudent;
    final double[][] dTeacher;
    final double[][] dTwin;
    boolean embeddingGradientFinite = true;

    private final List<HeadGroup> studentGroups;
    private final List<HeadGroup> teacherGroups;
    private final List<HeadGroup> twinGroups;
    private final double[][] studentHost;
    private final double[][] teacherHost;
    private final double[][] twinHost;

    ForwardPass(StackedRows rows, int numTasks, List<HeadGroup> studentGroups, List<HeadGroup> teacherGroups,
            List<HeadGroup> twinGroups) {
        this.rows = rows;
        this.batch = rows.batch;
        this.total = rows.total;
        this.studentGroups = studentGroups;
        this.teacherGroups = teacherGroups;
        studentActs = new Mlp.Activations[studentGroups.size()];
        teacherActs = new Mlp.Activations[teacherGroups.size()];
        this.twinGroups = twinGroups;
        twinActs = new Mlp.Activations[twinGroups.size()];
        dTwin = new double[numTasks][];
        twinHost = new double[numTasks][];
        studentProbabilities = new double[numTasks][];
        dStudent = new double[numTasks][];
        dTeacher = new double[numTasks][];
        studentHost = new double[numTasks][];
        teacherHost = new double[numTasks][];
    }

    /** Task k's student logits on the host; each group's logits are copied out once per pass. */
    double[] studentLogitsOnHost(int k) {
        if (studentHost[k] == null) {
            copyLogits(studentGroups, studentActs, studentHost);
        }
        return studentHost[k];
    }

    /** Task k's teacher logits on the host, copied once per pass. */
    double[] teacherLogitsOnHost(int k) {
        if (teacherHost[k] == null) {
            copyLogits(teacherGroups, teacherActs, teacherHost);
        }
        return teacherHost[k];
    }

    /** Task k's label-only twin's logits on the host (batch rows), copied once per pass. */
    double[] twinLogitsOnHost(int k) {
        if (twinHost[k] == null) {
            copyLogits(twinGroups, twinActs, twinHost);
        }
        return twinHost[k];
    }

    private static void copyLogits(List<HeadGroup> groups, Mlp.Activations[] acts, double[][] host) {
        for (int g = 0; g < groups.size(); g++) {
            int[] tasks = groups.get(g).tasks();
            double[] values = HostArrays.values(acts[g].output());
            int rows = values.length / tasks.length;
            for (int c = 0; c < tasks.length; c++) {
                double[] column = new double[rows];
                for (int i = 0; i < rows; i++) {
                    column[i] = values[i * tasks.length + c];
                }
                host[tasks[c]] = column;
            }
        }
    }

    /** [row][task]: sigmoid(scale[task] r + shift[task]) of the student logits r: the calibrated probabilities. */
    double[][] predictions(double[] scale, double[] shift) {
        int numTasks = scale.length;
        double[][] out = new double[batch][numTasks];
        for (int k = 0; k < numTasks; k++) {
            double[] r = studentLogitsOnHost(k);
            for (int i = 0; i < batch; i++) {
                out[i][k] = Losses.sigmoid(scale[k] * r[i] + shift[k]);
            }
        }
        return out;
    }

    /** [row][task]: sigmoid of the student logits. */
    double[][] predictions() {
        int numTasks = studentProbabilities.length;
        double[][] out = new double[batch][numTasks];
        for (int k = 0; k < numTasks; k++) {
            double[] known = studentProbabilities[k];
            double[] r = known == null ? studentLogitsOnHost(k) : null;
            for (int i = 0; i < batch; i++) {
                out[i][k] = known != null ? known[i] : Losses.sigmoid(r[i]);
            }
        }
        return out;
    }
}

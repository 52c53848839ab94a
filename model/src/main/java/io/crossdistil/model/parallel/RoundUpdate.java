package io.crossdistil.model.parallel;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.objective.DistillationGate;
import io.crossdistil.model.state.ArrayCodec;
import io.crossdistil.model.state.StateBytes;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * What one replica sends its peers at the end of a round: the progressive scores of the events it
 * trained and the distillation gate's evidence on them (so that every replica's metrics and gate
 * cover the whole stream), the events it read for the next round (its share, see RoundShares), and
 * what it changed in the model since the round began: every learned dense vector (parameters and
 * optimizer state) and the embedding rows it updated with their optimizer state.
 *
 * <p>Changes are held already rounded to the model's data type, so a replica merging its own
 * update uses exactly the numbers its peers decode.
 *
 * @param round the round, from 0
 * @param replica the sender's index
 * @param inputEnded true when the sender's input has ended: it reads nothing more
 * @param events events the sender trained in this round
 * @param permutations the label permutation of each of them, in training order
 * @param trained the events themselves, in round 0 only: the events of later rounds are the ones
 *     the replicas read for them, which every replica has ({@code read} of the round before)
 * @param read the events the sender read from its input for the next round, in its input's order
 * @param ranking each trained event's per-task scores the AUCs are read from (see StepResult.scores)
 * @param predictions each trained event's per-task served probabilities
 * @param dense per learned vector, in the model's order: current value minus the round's start; in
 *     rounds of one step, for parameters AdaGrad or Adam moves, the step's gradient, and nothing for
 *     their state (see ReplicaSync)
 * @param rows the embedding rows the sender updated in this round, ascending
 * @param rowChanges per such row, {@code EmbeddingTable.valuesPerRow()} changes one after another; in
 *     rounds of one step with AdaGrad or Adam, its {@code dim} gradients
 * @param evidence the gate's evidence of each of the round's steps (none without a gate)
 */
public record RoundUpdate(long round, int replica, boolean inputEnded, long events, int[] permutations, List<Example> trained,
        List<Example> read, double[][] ranking, double[][] predictions, double[][] dense, int[] rows, double[] rowChanges,
        List<DistillationGate.Evidence> evidence) {
    private static final int FORMAT = 3;

    /** The update as bytes, changes as {@code dtype} values (they are held rounded to it already, so nothing is lost). */
    public byte[] encode(DataType dtype) {
        return StateBytes.write(FORMAT, out -> {
            out.writeLong(round);
            out.writeInt(replica);
            out.writeBoolean(inputEnded);
            out.writeLong(events);
            int tasks = permutations.length == 0 ? 0 : ranking[0].length;
            out.writeInt(permutations.length);
            out.writeInt(tasks);
            ArrayCodec.writeRaw(out, permutations, permutations.length);
            Example.writeAll(out, trained);
            Example.writeAll(out, read);
            ArrayCodec.write(out, flat(ranking, tasks), DataType.DOUBLE);
            ArrayCodec.write(out, flat(predictions, tasks), DataType.DOUBLE);
            out.writeInt(dense.length);
            for (double[] d : dense) {
                ArrayCodec.write(out, d, dtype);
            }
            out.writeInt(rows.length);
            ArrayCodec.writeRaw(out, rows, rows.length);
            ArrayCodec.write(out, rowChanges, dtype);
            out.writeInt(evidence.size());
            for (DistillationGate.Evidence e : evidence) {
                writeEvidence(out, e);
            }
        });
    }

    public static RoundUpdate decode(byte[] data, DataType dtype) {
        return StateBytes.read(data, FORMAT, "round update", in -> {
            long round = in.readLong();
            int replica = in.readInt();
            boolean inputEnded = in.readBoolean();
            long events = in.readLong();
            int n = in.readInt();
            int tasks = in.readInt();
            int[] permutations = new int[n];
            ArrayCodec.readRaw(in, permutations, n);
            List<Example> trained = Example.readAll(in);
            List<Example> read = Example.readAll(in);
            double[][] ranking = rows(ArrayCodec.read(in, DataType.DOUBLE), n, tasks);
            double[][] predictions = rows(ArrayCodec.read(in, DataType.DOUBLE), n, tasks);
            double[][] dense = new double[in.readInt()][];
            for (int v = 0; v < dense.length; v++) {
                dense[v] = ArrayCodec.read(in, dtype);
            }
            int[] rows = new int[in.readInt()];
            ArrayCodec.readRaw(in, rows, rows.length);
            double[] rowChanges = ArrayCodec.read(in, dtype);
            int steps = in.readInt();
            List<DistillationGate.Evidence> evidence = new ArrayList<>(steps);
            for (int s = 0; s < steps; s++) {
                evidence.add(readEvidence(in));
            }
            return new RoundUpdate(round, replica, inputEnded, events, permutations, trained, read, ranking, predictions, dense, rows,
                    rowChanges, evidence);
        });
    }

    /** Writes one step's evidence to the gate (also part of a replica's state). */
    static void writeEvidence(DataOutputStream out, DistillationGate.Evidence e) throws IOException {
        out.writeInt(e.rows());
        ArrayCodec.writeRaw(out, e.permutations(), e.rows());
        out.writeInt(e.teacherTargets().length);
        out.writeInt(e.studentLogits().length);
        for (double[][] teacher : e.teacherTargets()) {
            for (double[] task : teacher) {
                ArrayCodec.write(out, java.util.Arrays.copyOf(task, e.rows()), DataType.DOUBLE);
            }
        }
        for (double[][] scores : List.of(e.studentLogits(), e.twinLogits())) {
            for (double[] task : scores) {
                ArrayCodec.write(out, java.util.Arrays.copyOf(task, e.rows()), DataType.DOUBLE);
            }
        }
    }

    static DistillationGate.Evidence readEvidence(DataInputStream in) throws IOException {
        int rows = in.readInt();
        int[] permutations = new int[rows];
        ArrayCodec.readRaw(in, permutations, rows);
        double[][][] teachers = new double[in.readInt()][][];
        int tasks = in.readInt();
        for (int j = 0; j < teachers.length; j++) {
            teachers[j] = readTasks(in, tasks);
        }
        return new DistillationGate.Evidence(permutations, teachers, readTasks(in, tasks), readTasks(in, tasks), rows);
    }

    private static double[][] readTasks(DataInputStream in, int tasks) throws IOException {
        double[][] out = new double[tasks][];
        for (int k = 0; k < tasks; k++) {
            out[k] = ArrayCodec.read(in, DataType.DOUBLE);
        }
        return out;
    }

    private static double[] flat(double[][] m, int cols) {
        double[] out = new double[m.length * cols];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * cols, cols);
        }
        return out;
    }

    private static double[][] rows(double[] flat, int n, int cols) {
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
        }
        return out;
    }
}

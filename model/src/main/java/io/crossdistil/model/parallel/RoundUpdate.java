package io.crossdistil.model.parallel;

import io.crossdistil.model.state.ArrayCodec;
import io.crossdistil.model.state.StateBytes;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * What one replica sends its peers at the end of a round: how far it got, the progressive scores
 * of the round's events (so that every replica's metrics cover the whole stream), and what it
 * changed in the model since the round began: every learned dense vector (parameters and optimizer
 * state), and the embedding rows it updated with their optimizer state.
 *
 * <p>Changes are held already rounded to the model's data type, so a replica merging its own
 * update uses exactly the numbers its peers decode.
 *
 * @param round the round, from 0
 * @param replica the sender's index
 * @param last true when the sender's input ended in this round: it sends nothing after it
 * @param events events the sender trained in this round
 * @param lastEventTime the latest event time the sender has trained on
 * @param permutations the label permutation of each of the round's events, in training order
 * @param ranking each event's per-task scores the AUCs are read from (see StepResult.scores)
 * @param predictions each event's per-task served probabilities
 * @param dense per learned vector, in the model's order: current value minus the round's start
 * @param rows the embedding rows the sender updated in this round, ascending
 * @param rowChanges per such row, {@code EmbeddingTable.valuesPerRow()} changes one after another
 */
public record RoundUpdate(long round, int replica, boolean last, long events, long lastEventTime, int[] permutations,
        double[][] ranking, double[][] predictions, double[][] dense, int[] rows, double[] rowChanges) {
    private static final int FORMAT = 1;

    /** The update as bytes, changes as {@code dtype} values (they are held rounded to it already, so nothing is lost). */
    public byte[] encode(DataType dtype) {
        return StateBytes.write(FORMAT, out -> {
            out.writeLong(round);
            out.writeInt(replica);
            out.writeBoolean(last);
            out.writeLong(events);
            out.writeLong(lastEventTime);
            int tasks = permutations.length == 0 ? 0 : ranking[0].length;
            out.writeInt(permutations.length);
            out.writeInt(tasks);
            ArrayCodec.writeRaw(out, permutations, permutations.length);
            ArrayCodec.write(out, flat(ranking, tasks), DataType.DOUBLE);
            ArrayCodec.write(out, flat(predictions, tasks), DataType.DOUBLE);
            out.writeInt(dense.length);
            for (double[] d : dense) {
                ArrayCodec.write(out, d, dtype);
            }
            out.writeInt(rows.length);
            ArrayCodec.writeRaw(out, rows, rows.length);
            ArrayCodec.write(out, rowChanges, dtype);
        });
    }

    public static RoundUpdate decode(byte[] data, DataType dtype) {
        return StateBytes.read(data, FORMAT, "round update", in -> {
            long round = in.readLong();
            int replica = in.readInt();
            boolean last = in.readBoolean();
            long events = in.readLong();
            long lastEventTime = in.readLong();
            int n = in.readInt();
            int tasks = in.readInt();
            int[] permutations = new int[n];
            ArrayCodec.readRaw(in, permutations, n);
            double[][] ranking = rows(ArrayCodec.read(in, DataType.DOUBLE), n, tasks);
            double[][] predictions = rows(ArrayCodec.read(in, DataType.DOUBLE), n, tasks);
            double[][] dense = new double[in.readInt()][];
            for (int v = 0; v < dense.length; v++) {
                dense[v] = ArrayCodec.read(in, dtype);
            }
            int[] rows = new int[in.readInt()];
            ArrayCodec.readRaw(in, rows, rows.length);
            double[] rowChanges = ArrayCodec.read(in, dtype);
            return new RoundUpdate(round, replica, last, events, lastEventTime, permutations, ranking, predictions, dense, rows,
                    rowChanges);
        });
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

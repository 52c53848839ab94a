package io.crossdistil.model.parallel;

import io.crossdistil.model.CrossDistilModel;
import io.crossdistil.model.LearnedState;
import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.nd4j.SingleStep;
import io.crossdistil.model.nn.EmbeddingTable;
import io.crossdistil.model.state.ArrayCodec;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Keeps one replica of a model in step with its peers. At the start of a round it holds what the
 * model learned so far (its base, the same on every replica); at the end it says what this replica
 * changed since (a {@link RoundUpdate}'s changes) and merges every replica's changes into the base,
 * summed in replica order in double precision, then rounded to the model's data type. Every replica
 * adds the same numbers in the same order, so all leave the round bit-identical.
 *
 * <p>The rule (docs/scaling.md). In rounds of one step (the default), every replica took one step
 * from the same model on its share of the step's batch, so the mean of their gradients is what one
 * trainer would have computed on the whole batch: every value AdaGrad or Adam moves (dense and
 * embedding rows) takes exactly that trainer's step, one optimizer step from the base on the mean
 * gradient (replicas send their gradients, see {@link #changes}). SGD's values, and everything in
 * longer rounds: a value moves by the mean change of the replicas that changed it, a running sum
 * (AdaGrad's sums) by the sum of the changes, Adam's moments (moving averages) by the mean. After
 * the merge, students whose distillation limit is 0 (the same on every replica, see
 * ReplicaTrainer) are reset to their twins and the served average takes in the merged values
 * (CrossDistilModel#afterStep), on every replica alike.
 *
 * <p>Dense vectors (parameters and optimizer state) have a base copy each. The embedding table is
 * large and a round touches few rows, so a row's base is copied only when an update first touches
 * it in the round (the table calls back before each update).
 */
final class ReplicaSync {
    /** Per dense vector: true when replicas' changes add up (a running sum), false when they are averaged. */
    private final boolean[] summed;
    private final boolean rowStateSummed;
    /** Per dense vector: its optimizer's step when it holds parameters (their state vectors follow), else null (and for SGD). */
    private final SingleStep[] steps;
    private final SingleStep tableStep;
    /** True when a round is one step: values then merge exactly, as one optimizer step on the mean gradient. */
    private final boolean oneStepRounds;
    private final CrossDistilModel model;
    private final DataType dtype;
    private final List<INDArray> vectors;
    private final double[][] base;
    private final EmbeddingTable table;
    private final int width;
    /** Per table row: where its base lies in {@link #rowBase} (in rows), or -1 when untouched this round. */
    private final int[] slotOf;
    private int[] touched = new int[64];
    private double[] rowBase;
    private int touchedCount;

    ReplicaSync(CrossDistilModel model, boolean oneStepRounds) {
        this.oneStepRounds = oneStepRounds;
        this.model = model;
        model.endStepsAtMerge();
        dtype = model.config().dtype;
        LearnedState learned = model.learnedState();
        vectors = learned.vectors();
        summed = learned.sums();
        steps = new SingleStep[vectors.size()];
        for (int v = 0; v < steps.length; v++) {
            steps[v] = learned.singleStep(v);
        }
        base = new double[vectors.size()][];
        for (int v = 0; v < base.length; v++) {
            base[v] = HostArrays.values(vectors.get(v));
        }
        table = learned.table();
        width = table.valuesPerRow();
        rowStateSummed = table.stateIsSum();
        tableStep = table.singleStep();
        slotOf = new int[table.rows()];
        Arrays.fill(slotOf, -1);
        rowBase = new double[touched.length * width];
        table.beforeEachUpdate(this::beforeRowUpdate);
    }

    /** Copies the base of the rows an update is about to change for the first time this round. */
    private void beforeRowUpdate(int[] rows, int n) {
        for (int i = 0; i < n; i++) {
            int row = rows[i];
            if (slotOf[row] >= 0) {
                continue;
            }
            if (touchedCount == touched.length) {
                touched = Arrays.copyOf(touched, touchedCount * 2);
                rowBase = Arrays.copyOf(rowBase, touched.length * width);
            }
            slotOf[row] = touchedCount;
            touched[touchedCount] = row;
            table.readRow(row, rowBase, touchedCount * width);
            touchedCount++;
        }
    }

    /**
     * This replica's changes since the round began: per dense vector, then the touched rows
     * ascending. In rounds of one step, parameters are sent as the step's gradient (read back from
     * what the step changed, see SingleStep) and their optimizer state as nothing: that is all the
     * exact merge needs, and a half (AdaGrad) or a third (Adam) of the bytes.
     */
    Changes changes() {
        double[][] dense = new double[vectors.size()][];
        for (int v = 0; v < dense.length; v++) {
            double[] now = HostArrays.values(vectors.get(v));
            if (oneStepRounds && steps[v] != null) {
                int slots = steps[v].stateSlots();
                double[][] stateNow = new double[slots][];
                for (int j = 0; j < slots; j++) {
                    stateNow[j] = HostArrays.values(vectors.get(v + 1 + j));
                }
                double[] g = steps[v].gradient(base[v], now, Arrays.copyOfRange(base, v + 1, v + 1 + slots), stateNow);
                for (int i = 0; i < g.length; i++) {
                    g[i] = round(g[i]);
                }
                dense[v] = g;
                for (int j = 1; j <= slots; j++) {
                    dense[v + j] = new double[0];
                }
                v += slots;
                continue;
            }
            for (int i = 0; i < now.length; i++) {
                now[i] = round(now[i] - base[v][i]);
            }
            dense[v] = now;
        }
        int[] rows = Arrays.copyOf(touched, touchedCount);
        Arrays.sort(rows);
        int sent = sentPerRow();
        double[] changes = new double[rows.length * sent];
        double[] now = new double[width];
        double[] g = new double[table.dim()];
        for (int r = 0; r < rows.length; r++) {
            table.readRow(rows[r], now, 0);
            int at = slotOf[rows[r]] * width;
            if (rowGradients()) {
                tableStep.rowGradient(rowBase, at, now, 0, g.length, g);
            }
            for (int j = 0; j < sent; j++) {
                changes[r * sent + j] = round(rowGradients() ? g[j] : now[j] - rowBase[at + j]);
            }
        }
        return new Changes(dense, rows, changes);
    }

    /** True when a touched row is sent as its gradient (rounds of one step, AdaGrad or Adam), false when as its values' and state's changes. */
    private boolean rowGradients() {
        return oneStepRounds && tableStep != null;
    }

    private int sentPerRow() {
        return rowGradients() ? table.dim() : width;
    }

    record Changes(double[][] dense, int[] rows, double[] rowChanges) {}

    /**
     * Sets the model to the base plus every update's changes ({@code updates} in replica order)
     * and makes that the next round's base; {@code iteration} is the round's step for the
     * optimizers (the round, in rounds of one step: the same on every replica).
     */
    void merge(List<RoundUpdate> updates, long iteration) {
        boolean[] sentAsNothing = new boolean[vectors.size()];
        for (int v = 0; oneStepRounds && v < steps.length; v++) {
            for (int j = 1; steps[v] != null && j <= steps[v].stateSlots(); j++) {
                sentAsNothing[v + j] = true;
            }
        }
        for (RoundUpdate u : updates) {
            for (int v = 0; v < vectors.size(); v++) {
                int expected = sentAsNothing[v] ? 0 : base[v].length;
                if (u.dense()[v].length != expected) {
                    throw new IllegalArgumentException("replica " + u.replica() + " sent " + u.dense()[v].length + " changes for vector " + v
                            + ", not " + expected + ": a replica of another model shape or round length");
                }
            }
        }
        for (int v = 0; v < vectors.size(); v++) {
            if (oneStepRounds && steps[v] != null) {
                mergeStep(v, updates, iteration);
                v += steps[v].stateSlots(); // its state, merged with it
                continue;
            }
            double[] merged = base[v].clone();
            double scale = summed[v] ? 1.0 : 1.0 / updates.size();
            for (RoundUpdate u : updates) {
                double[] d = u.dense()[v];
                for (int i = 0; i < merged.length; i++) {
                    merged[i] += d[i] * scale;
                }
            }
            set(v, merged);
        }
        mergeRows(updates, iteration);
        // with the merged limits and values, the same on every replica; then what the model holds is the next round's base
        model.afterStep(updates.stream().mapToLong(RoundUpdate::events).sum());
        for (int v = 0; v < vectors.size(); v++) {
            HostArrays.values(vectors.get(v), base[v]);
        }
        for (int i = 0; i < touchedCount; i++) {
            slotOf[touched[i]] = -1;
        }
        touchedCount = 0;
    }

    /** Vector v's merged values (the next round's base is read back at the end of the merge, rounded to the model's data type). */
    private void set(int v, double[] merged) {
        HostArrays.put(merged, vectors.get(v));
    }

    /**
     * Parameters (vector v) and their optimizer state (the vectors after it), after a round of one
     * step: one step from the base with the mean of the replicas' gradients (sent as vector v).
     */
    private void mergeStep(int v, List<RoundUpdate> updates, long iteration) {
        SingleStep step = steps[v];
        double[] values = base[v].clone();
        double[][] state = new double[step.stateSlots()][];
        for (int j = 0; j < state.length; j++) {
            state[j] = base[v + 1 + j].clone();
        }
        double[] g = new double[values.length];
        for (RoundUpdate u : updates) {
            double[] gradient = u.dense()[v];
            for (int i = 0; i < g.length; i++) {
                g[i] += gradient[i];
            }
        }
        for (int i = 0; i < g.length; i++) {
            g[i] /= updates.size();
        }
        step.step(values, state, g, iteration);
        set(v, values);
        for (int j = 0; j < state.length; j++) {
            set(v + 1 + j, state[j]);
        }
    }

    /**
     * Every row any replica changed: from its base (this replica's copy, or the row itself when
     * untouched here), one step on the mean of the replicas' gradients in rounds of one step (a
     * replica that did not touch the row adds a gradient of 0, as the row's share of one trainer's
     * batch gradient), else the changes.
     */
    private void mergeRows(List<RoundUpdate> updates, long iteration) {
        int[] position = new int[updates.size()];
        double[] row = new double[width];
        int sent = sentPerRow();
        double[] sum = new double[sent];
        while (true) {
            int next = Integer.MAX_VALUE;
            for (int u = 0; u < updates.size(); u++) {
                int[] rows = updates.get(u).rows();
                if (position[u] < rows.length) {
                    next = Math.min(next, rows[position[u]]);
                }
            }
            if (next == Integer.MAX_VALUE) {
                return;
            }
            if (slotOf[next] >= 0) {
                System.arraycopy(rowBase, slotOf[next] * width, row, 0, width);
            } else {
                table.readRow(next, row, 0);
            }
            model.beforeRowMerged(next, row); // the row held its base since the round began
            Arrays.fill(sum, 0);
            int contributors = 0;
            for (int u = 0; u < updates.size(); u++) {
                RoundUpdate up = updates.get(u);
                if (position[u] < up.rows().length && up.rows()[position[u]] == next) {
                    int at = position[u] * sent;
                    for (int j = 0; j < sent; j++) {
                        sum[j] += up.rowChanges()[at + j];
                    }
                    position[u]++;
                    contributors++;
                }
            }
            int dim = table.dim();
            if (rowGradients()) {
                for (int j = 0; j < dim; j++) {
                    sum[j] /= updates.size();
                }
                tableStep.stepRow(row, 0, dim, sum, iteration);
            } else {
                for (int j = 0; j < width; j++) {
                    // the row's values first, then its optimizer state
                    row[j] += j >= dim && rowStateSummed ? sum[j] : sum[j] / contributors;
                }
            }
            table.writeRow(next, row, 0);
        }
    }

    private double round(double v) {
        return dtype == DataType.FLOAT ? (float) v : v;
    }

    /** The round's base: the dense copies (each in its vector's data type) and the touched rows' copies. */
    void write(DataOutputStream out) throws IOException {
        out.writeInt(base.length);
        for (int v = 0; v < base.length; v++) {
            ArrayCodec.write(out, base[v], vectors.get(v).dataType());
        }
        out.writeInt(touchedCount);
        ArrayCodec.writeRaw(out, touched, touchedCount);
        ArrayCodec.write(out, Arrays.copyOf(rowBase, touchedCount * width), dtype);
    }

    void read(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n != base.length) {
            throw new IOException("a replica state of " + n + " learned vectors where the model has " + base.length);
        }
        for (int v = 0; v < base.length; v++) {
            ArrayCodec.read(in, vectors.get(v).dataType(), base[v]);
        }
        touchedCount = in.readInt();
        touched = new int[Math.max(64, touchedCount)];
        ArrayCodec.readRaw(in, touched, touchedCount);
        double[] rows = ArrayCodec.read(in, dtype);
        rowBase = Arrays.copyOf(rows, touched.length * width);
        Arrays.fill(slotOf, -1);
        for (int i = 0; i < touchedCount; i++) {
            slotOf[touched[i]] = i;
        }
    }
}

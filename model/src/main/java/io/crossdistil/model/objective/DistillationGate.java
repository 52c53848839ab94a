package io.crossdistil.model.objective;

import io.crossdistil.model.metrics.RecentMetrics;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * Per task, the part of alpha in force: a student distils as far as distilling measurably adds to
 * what it would know from its labels, and no further than its ranking of its own task allows
 * (docs/algorithm.md, "The distillation gate").
 *
 * <p>The evidence is a counterfactual trained alongside: each student has a label-only twin, a
 * tower that reads what the student reads, starts from the student's initial values and learns
 * the student's loss without distillation. The twins, not the students, train the shared layers,
 * so a twin is exactly the multi-task baseline's student, and with the gate shut the student is
 * too. On every batch, before the step (progressive, as the metrics are), the student and its
 * twin are scored on the same events of the recent stream ({@link RecentMetrics}), the student
 * by its served (output-calibrated) logit. Per task k:
 *
 * <pre>
 *   gain_k  = MultiAUC(student) - MultiAUC(twin)         what distilling adds, fine-grained
 *   cost_k  = AUC(twin) - AUC(student)                    what it costs the task's own ranking
 *   loss_k  = LogLoss(student) / LogLoss(twin) - 1        and its served probabilities
 *   move_k  = min(c((t - cost_k) / t), c((gain_k + t) / t), c((l - loss_k) / l)),  c: clamp to [-1, 1]
 *   limit_k += rows / adapt * move_k (four times that when negative), kept in [0, 1]
 *   share_k  = ramp * limit_k
 * </pre>
 *
 * with t the AUC tolerance and l the relative log-loss tolerance. The limit starts at 0 (early,
 * poor teachers are not distilled from until the evidence allows), rises while distilling costs
 * less than the tolerances and does not lose fine-grained ranking, and falls while it costs more;
 * the ramp (a curriculum over the first events, optional) holds it back further.
 *
 * <p>Each teacher (the online one, and any frozen ones) is scored on the same events too, and
 * weighs in a student's target by its confidence on the recent stream,
 * max(0, AUC - 1/2) max(0, Multi-AUC - 1/2): a teacher that ranks no better than chance, coarse
 * or fine, adds nothing (the online teacher early in a stream).
 */
public final class DistillationGate {
    /** How much faster a limit falls than it rises. */
    static final double SHRINK = 4;
    private final int numTasks;
    private final double tolerance;
    private final double logLossTolerance;
    private final double adapt;
    /** The online teacher's evidence first, then each frozen teacher's. */
    private final RecentMetrics[] teachers;
    private final RecentMetrics student;
    private final RecentMetrics twin;
    private final double[] limit;
    private final double[] share;
    /** The last batch's evidence until taken (for data-parallel replicas); not state: a step takes it. */
    private Evidence lastObserved;
    private boolean movesAtMerge;

    /**
     * @param window events over which the evidence decays by 1/e
     * @param tolerance the AUC a task may lose to distillation (and the Multi-AUC it may miss), against its twin
     * @param logLossTolerance the part by which its served log-loss may exceed its twin's
     * @param adapt events over which a limit rises from 0 to 1 at the fastest
     * @param teachers the online teacher and the frozen ones
     * @param initialLimit where every limit starts: 0, or 1 for teachers trained before (frozen ones)
     */
    public DistillationGate(int numTasks, double window, double tolerance, double logLossTolerance, double adapt, int teachers,
            double initialLimit) {
        this(numTasks, tolerance, logLossTolerance, adapt, recent(teachers, numTasks, window), new RecentMetrics(numTasks, window),
                new RecentMetrics(numTasks, window), filled(numTasks, initialLimit), new double[numTasks]);
    }

    private static RecentMetrics[] recent(int n, int numTasks, double window) {
        RecentMetrics[] out = new RecentMetrics[n];
        for (int j = 0; j < n; j++) {
            out[j] = new RecentMetrics(numTasks, window);
        }
        return out;
    }

    private static double[] filled(int n, double v) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, v);
        return out;
    }

    private DistillationGate(int numTasks, double tolerance, double logLossTolerance, double adapt, RecentMetrics[] teachers,
            RecentMetrics student, RecentMetrics twin, double[] limit, double[] share) {
        this.numTasks = numTasks;
        this.logLossTolerance = logLossTolerance;
        this.tolerance = tolerance;
        this.adapt = adapt;
        this.teachers = teachers;
        this.student = student;
        this.twin = twin;
        this.limit = limit;
        this.share = share;
    }

    /**
     * Adds one batch's evidence, moves the limits by it (unless they move at merges, see
     * {@link #moveAtMerge}) and works out every task's share for the step on it: all scores are
     * [task][row], logits or any score of the same order, for the first {@code rows} rows.
     *
     * @param teacherTargets [teacher][task][row]: each teacher's target before the margin correction
     *     (which would read the label), the online teacher's first
     * @param studentLogits the students' served logits (after the output calibration)
     * @param ramp the curriculum's part in [0, 1]
     */
    public void observe(int[] permutations, double[][][] teacherTargets, double[][] studentLogits, double[][] twinLogits, int rows,
            double ramp) {
        lastObserved = new Evidence(permutations, teacherTargets, studentLogits, twinLogits, rows);
        if (!movesAtMerge) {
            recordAndMove(lastObserved);
        }
        for (int k = 0; k < numTasks; k++) {
            share[k] = ramp * limit[k];
        }
    }

    /**
     * Adds a batch's evidence and moves every task's limit by it. One trainer does this in
     * {@link #observe}; data-parallel replicas at each merge, with the whole step's batch of every
     * replica as one (parallel.ReplicaTrainer), so that all move their limits alike and as one
     * trainer would, a step later.
     */
    public void recordAndMove(Evidence e) {
        record(e);
        for (int k = 0; k < numTasks; k++) {
            double cost = twin.auc(k) - student.auc(k);
            double gain = student.multiAuc(k) - twin.multiAuc(k);
            double loss = student.logLoss(k) / twin.logLoss(k) - 1;
            double move = Math.min(Math.min(clampSigned((tolerance - cost) / tolerance), clampSigned((gain + tolerance) / tolerance)),
                    clampSigned((logLossTolerance - loss) / logLossTolerance));
            if (!Double.isNaN(move)) {
                // down SHRINK times as fast as up: a cost shows in the evidence only as the window fills
                limit[k] = clamp(limit[k] + e.rows() / adapt * (move < 0 ? SHRINK * move : move));
            }
        }
    }

    /** Leaves evidence and limits to {@link #recordAndMove} at each merge (data-parallel replicas; not state: the replica sets it). */
    public void moveAtMerge() {
        movesAtMerge = true;
    }

    private void record(Evidence e) {
        if (e.teacherTargets().length != teachers.length) {
            throw new IllegalArgumentException("evidence of " + e.teacherTargets().length + " teachers for a gate of " + teachers.length);
        }
        for (int j = 0; j < teachers.length; j++) {
            teachers[j].record(e.permutations(), e.teacherTargets()[j], e.rows());
        }
        student.record(e.permutations(), e.studentLogits(), e.rows());
        twin.record(e.permutations(), e.twinLogits(), e.rows());
    }

    /** The evidence observed since the last call, then forgotten; null when none (a skipped step). */
    public Evidence takeObserved() {
        Evidence e = lastObserved;
        lastObserved = null;
        return e;
    }

    /**
     * One batch's evidence as {@link #observe} takes it: scores [task][row] (teachers':
     * [teacher][task][row]) of the first {@code rows} rows.
     */
    public record Evidence(int[] permutations, double[][][] teacherTargets, double[][] studentLogits, double[][] twinLogits, int rows) {
        /** Several batches' evidence as one batch, their rows one after another. */
        public static Evidence concat(List<Evidence> parts) {
            int rows = parts.stream().mapToInt(Evidence::rows).sum();
            Evidence first = parts.get(0);
            int[] permutations = new int[rows];
            double[][][] teachers = new double[first.teacherTargets.length][first.studentLogits.length][rows];
            double[][] students = new double[first.studentLogits.length][rows];
            double[][] twins = new double[first.studentLogits.length][rows];
            int at = 0;
            for (Evidence e : parts) {
                System.arraycopy(e.permutations, 0, permutations, at, e.rows);
                for (int k = 0; k < students.length; k++) {
                    for (int j = 0; j < teachers.length; j++) {
                        System.arraycopy(e.teacherTargets[j][k], 0, teachers[j][k], at, e.rows);
                    }
                    System.arraycopy(e.studentLogits[k], 0, students[k], at, e.rows);
                    System.arraycopy(e.twinLogits[k], 0, twins[k], at, e.rows);
                }
                at += e.rows;
            }
            return new Evidence(permutations, teachers, students, twins, rows);
        }
    }

    private static double clampSigned(double v) {
        return Math.max(-1, Math.min(1, v));
    }

    private static double clamp(double v) {
        return Math.min(1, Math.max(0, v));
    }

    /** Task k's share of alpha for the current step, in [0, 1]. */
    public double share(int k) {
        return share[k];
    }

    /** Every task's limit, a copy. */
    public double[] limits() {
        return limit.clone();
    }

    /** Sets every task's limit, clamped to [0, 1] (tests use it to shut a gate); the shares follow from the next batch observed. */
    public void setLimits(double[] limits) {
        if (limits.length != numTasks) {
            throw new IllegalArgumentException(limits.length + " distillation limits for " + numTasks + " tasks");
        }
        for (int k = 0; k < numTasks; k++) {
            limit[k] = clamp(limits[k]);
        }
    }

    /** Task k's limit: the share the evidence allows, before the ramp. */
    public double limit(int k) {
        return limit[k];
    }

    /**
     * Each teacher's weight in task k's target, summing to 1: its confidence (see the class
     * comment) over the sum of all of theirs; equal weights while none is confident.
     */
    public double[] teacherWeights(int k) {
        double[] w = new double[teachers.length];
        double sum = 0;
        for (int j = 0; j < w.length; j++) {
            double c = Math.max(0, teachers[j].auc(k) - 0.5) * Math.max(0, teachers[j].multiAuc(k) - 0.5);
            w[j] = Double.isNaN(c) ? 0 : c;
            sum += w[j];
        }
        for (int j = 0; j < w.length; j++) {
            w[j] = sum > 0 ? w[j] / sum : 1.0 / w.length;
        }
        return w;
    }

    /** The online teacher's recent AUC of task k. */
    public double teacherAuc(int k) {
        return teachers[0].auc(k);
    }

    public double studentAuc(int k) {
        return student.auc(k);
    }

    public double twinAuc(int k) {
        return twin.auc(k);
    }

    public double twinMultiAuc(int k) {
        return twin.multiAuc(k);
    }

    public double studentLogLoss(int k) {
        return student.logLoss(k);
    }

    public double twinLogLoss(int k) {
        return twin.logLoss(k);
    }

    /** The online teacher's recent Multi-AUC of task k. */
    public double teacherMultiAuc(int k) {
        return teachers[0].multiAuc(k);
    }

    public double studentMultiAuc(int k) {
        return student.multiAuc(k);
    }

    public void write(DataOutputStream out) throws IOException {
        out.writeInt(teachers.length);
        for (RecentMetrics t : teachers) {
            t.write(out);
        }
        student.write(out);
        twin.write(out);
        for (int k = 0; k < numTasks; k++) {
            out.writeDouble(limit[k]);
            out.writeDouble(share[k]);
        }
    }

    /** Reads the evidence back into a gate of the given settings. */
    public static DistillationGate read(DataInputStream in, int numTasks, double tolerance, double logLossTolerance, double adapt)
            throws IOException {
        RecentMetrics[] teachers = new RecentMetrics[in.readInt()];
        for (int j = 0; j < teachers.length; j++) {
            teachers[j] = RecentMetrics.read(in);
        }
        RecentMetrics student = RecentMetrics.read(in);
        RecentMetrics twin = RecentMetrics.read(in);
        double[] limit = new double[numTasks];
        double[] share = new double[numTasks];
        for (int k = 0; k < numTasks; k++) {
            limit[k] = in.readDouble();
            share[k] = in.readDouble();
        }
        return new DistillationGate(numTasks, tolerance, logLossTolerance, adapt, teachers, student, twin, limit, share);
    }
}

package io.crossdistil.model;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.objective.DistillationGate;
import io.crossdistil.model.objective.DistillationTarget;
import io.crossdistil.model.objective.Losses;
import io.crossdistil.model.objective.StudentObjective;
import java.util.Arrays;
import java.util.List;

/**
 * What the students distil from, per batch: the online teachers' calibrated and corrected logits,
 * and the frozen teachers' (students of earlier snapshots) served probabilities, combined into
 * each student's soft target; and the evidence the distillation gate reads, scored on the same
 * batch (docs/algorithm.md, "The distillation gate", "Frozen teachers").
 */
final class TeacherEnsemble {
    private final ModelConfig cfg;
    private final Variant variant;
    private final Calibration calibration;
    /** The output calibration, or null: the students' served logits are a r + b of it. */
    private final Calibration output;
    private final List<StudentModel> frozenTeachers;

    TeacherEnsemble(ModelConfig cfg, Calibration calibration, Calibration output, List<StudentModel> frozenTeachers) {
        this.cfg = cfg;
        this.variant = cfg.variant;
        this.calibration = calibration;
        this.output = output;
        this.frozenTeachers = List.copyOf(frozenTeachers);
    }

    boolean hasFrozenTeachers() {
        return !frozenTeachers.isEmpty();
    }

    int size() {
        return 1 + frozenTeachers.size();
    }

    /** Every frozen teacher's served probabilities on the batch, [teacher][event][task]. */
    double[][][] frozenPredictions(List<Example> batch) {
        double[][][] out = new double[frozenTeachers.size()][][];
        for (int j = 0; j < out.length; j++) {
            out[j] = frozenTeachers.get(j).predict(batch);
        }
        return out;
    }

    /**
     * Task k's soft targets on the batch rows: its online teacher's, or with frozen teachers the
     * mean of every teacher's (each target error-corrected as the online one is), weighted by the
     * gate's confidence in each (equal weights without a gate).
     */
    double[] softTargets(ForwardPass p, int k, double[][][] frozen, double tau, DistillationGate gate) {
        double[] soft = StudentObjective.softTargets(onlineTarget(p, k, variant.corrects()), tau);
        if (frozen.length == 0) {
            return soft;
        }
        double[] weights = new double[1 + frozen.length];
        Arrays.fill(weights, 1.0 / weights.length);
        if (gate != null) {
            weights = gate.teacherWeights(k);
        }
        for (int i = 0; i < p.batch; i++) {
            soft[i] *= weights[0];
        }
        for (int j = 0; j < frozen.length; j++) {
            double[] logits = frozenLogits(frozen[j], k);
            double[] t = variant.corrects() ? Losses.errorCorrected(logits, p.labels[k], cfg.margin) : logits;
            double[] more = StudentObjective.softTargets(t, tau);
            for (int i = 0; i < p.batch; i++) {
                soft[i] += weights[1 + j] * more[i];
            }
        }
        return soft;
    }

    /**
     * The batch's evidence to the gate: every teacher's target before the correction (which
     * would read the labels), the students' served logits and their twins' logits. A broken pass
     * (its step is skipped) is no evidence.
     */
    void observe(DistillationGate gate, ForwardPass p, List<Example> batch, double[][][] frozen, double ramp) {
        int numTasks = cfg.numTasks();
        int[] permutations = new int[p.batch];
        for (int i = 0; i < p.batch; i++) {
            permutations[i] = batch.get(i).permutation;
        }
        double[][][] teacherTargets = new double[1 + frozen.length][numTasks][];
        double[][] studentLogits = new double[numTasks][];
        double[][] twinLogits = new double[numTasks][];
        for (int k = 0; k < numTasks; k++) {
            teacherTargets[0][k] = onlineTarget(p, k, false);
            for (int j = 0; j < frozen.length; j++) {
                teacherTargets[1 + j][k] = frozenLogits(frozen[j], k);
            }
            studentLogits[k] = servedLogits(p.studentLogitsOnHost(k), k);
            twinLogits[k] = p.twinLogitsOnHost(k);
            if (!allFinite(teacherTargets[0][k]) || !allFinite(studentLogits[k]) || !allFinite(twinLogits[k])) {
                return;
            }
        }
        gate.observe(permutations, teacherTargets, studentLogits, twinLogits, p.batch, ramp);
    }

    /** The online teacher's target of task k on the batch rows: calibrated, and corrected if asked. */
    private double[] onlineTarget(ForwardPass p, int k, boolean correct) {
        return DistillationTarget.of(p.teacherLogitsOnHost(k), p.labels[k], p.batch, variant.calibrates(), calibration.scale(k),
                calibration.shift(k), correct && variant.corrects(), cfg.margin);
    }

    /** a r + b of the output calibration, the logits whose sigmoid serving returns (r itself without it). */
    private double[] servedLogits(double[] r, int k) {
        if (output == null) {
            return r;
        }
        double[] out = new double[r.length];
        for (int i = 0; i < r.length; i++) {
            out[i] = output.scale(k) * r[i] + output.shift(k);
        }
        return out;
    }

    /** A frozen teacher's logits of task k, from its served probabilities [event][task]. */
    private static double[] frozenLogits(double[][] probabilities, int k) {
        double[] logits = new double[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            double q = Math.min(Math.max(probabilities[i][k], 1e-7), 1 - 1e-7);
            logits[i] = Math.log(q / (1 - q));
        }
        return logits;
    }

    private static boolean allFinite(double[] v) {
        for (double x : v) {
            if (!Double.isFinite(x)) {
                return false;
            }
        }
        return true;
    }
}

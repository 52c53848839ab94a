package io.crossdistil.model.objective;

/**
 * The teacher's logit as a student's distillation target (docs/algorithm.md, "Error
 * correction"): calibrated, r~ = P r + Q, then pulled to the side of the hard label by at least
 * the margin m, t = s max(s r~, m) with s = +1 for a positive and -1 for a negative. A constant
 * of the step: no gradient flows from it into the teacher or the calibration.
 */
public final class DistillationTarget {
    private DistillationTarget() {}

    /**
     * The target of the first {@code batch} rows.
     *
     * @param calibrate whether P and Q apply (otherwise P = 1, Q = 0)
     * @param correct whether the margin correction applies
     */
    public static double[] of(double[] teacherLogits, double[] labels, int batch, boolean calibrate, double scale, double shift,
            boolean correct, double margin) {
        double[] t = java.util.Arrays.copyOf(teacherLogits, batch);
        if (calibrate) {
            for (int i = 0; i < t.length; i++) {
                t[i] = scale * t[i] + shift;
            }
        }
        return correct ? Losses.errorCorrected(t, labels, margin) : t;
    }
}

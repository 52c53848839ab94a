package io.crossdistil.model;

import java.util.function.Supplier;

/**
 * The soft targets of one step's distillation terms, per task: what the students distil towards
 * and, in the {@code two-way-kd} variant, what the teachers distil towards. Each is a constant of the
 * step, worked out on first use. A gradient check holds one instance across its evaluations, so
 * that finite differences see the same constants the analytic gradient treats as constant.
 */
final class SoftTargets {
    private final double[][] students;
    private final double[][] teachers;

    SoftTargets(int numTasks) {
        students = new double[numTasks][];
        teachers = new double[numTasks][];
    }

    /** Task k's students' soft target, computed by {@code compute} the first time. */
    double[] forStudent(int k, Supplier<double[]> compute) {
        if (students[k] == null) {
            students[k] = compute.get();
        }
        return students[k];
    }

    /** Task k's teachers' soft target (the student's prediction), computed by {@code compute} the first time. */
    double[] forTeacher(int k, Supplier<double[]> compute) {
        if (teachers[k] == null) {
            teachers[k] = compute.get();
        }
        return teachers[k];
    }
}

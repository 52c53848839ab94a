package io.crossdistil.model;

import java.util.Locale;

/**
 * Where the teachers' gradients may flow. In one online pass, ranking losses on replayed
 * reservoir samples can hurt the shared layers before distillation brings anything
 * (docs/algorithm.md, "Teacher routing").
 */
public enum TeacherRouting {
    /** Teacher towers sit on the shared bottom and train it (as published). */
    SHARED,
    /** Teacher towers read the shared bottom, but their gradients stop there. */
    STOP,
    /** Teachers have their own bottom network on the shared embeddings (which they do train). */
    SEPARATE;

    public static TeacherRouting parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown teacher-routing '" + s + "'; use shared, stop or separate");
        }
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}

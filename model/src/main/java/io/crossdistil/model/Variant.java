package io.crossdistil.model;

import java.util.Locale;

/**
 * The variants of ALGORITHM.md section 6. Each is a configuration of the same trainer, so that
 * all of them can be compared on one stream.
 */
public enum Variant {
    /** Everything: auxiliary ranking, calibration, error correction, distillation. */
    CROSSDISTIL,
    /** beta1 = beta2 = 0: the teachers learn only the coarse ranking of their task. */
    NO_AUX_RANK,
    /** The distillation target uses the raw teacher logit (P = 1, Q = 0, Omega not trained). */
    NO_CALIBRATION,
    /** The distillation target is the calibrated logit without the margin correction. */
    NO_CORRECTION,
    /** Teachers are BCE-trained regression heads on the batch; plain distillation of their logits. */
    VANILLA_KD,
    /** No teachers, no distillation: the plain multi-task baseline. */
    MTL,
    /**
     * Deep mutual learning: as {@link #CROSSDISTIL}, and each teacher also distils from its task's
     * student (the student's logit as a constant target for the calibrated teacher logit), so that
     * the two towers of a task teach each other.
     */
    MUTUAL;

    public static Variant parse(String s) {
        for (Variant v : values()) {
            if (v.key().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown variant '" + s + "'; use one of " + keys());
    }

    public static String keys() {
        StringBuilder b = new StringBuilder();
        for (Variant v : values()) {
            b.append(b.length() == 0 ? "" : ", ").append(v.key());
        }
        return b.toString();
    }

    /** The name used in configuration and reports, for example {@code no-aux-rank}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Teacher towers exist. */
    public boolean hasTeachers() {
        return this != MTL;
    }

    /** Teachers learn from reservoir samples with ranking losses (so the sampler is used). */
    public boolean ranksTeachers() {
        return this != MTL && this != VANILLA_KD;
    }

    /** The auxiliary (fine-grained) ranking terms are active. */
    public boolean auxiliaryRanking() {
        return ranksTeachers() && this != NO_AUX_RANK;
    }

    /** Platt calibration Omega is trained and used in the distillation target. */
    public boolean calibrates() {
        return ranksTeachers() && this != NO_CALIBRATION;
    }

    /** The margin error correction is applied to the distillation target. */
    public boolean corrects() {
        return ranksTeachers() && this != NO_CORRECTION;
    }

    /** Students distil from their teachers. */
    public boolean distils() {
        return this != MTL;
    }
}

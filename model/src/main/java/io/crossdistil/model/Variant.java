package io.crossdistil.model;

import java.util.Locale;
import java.util.Map;

/**
 * The variants of the method (docs/algorithm.md, "Variants"). Each is a configuration of the
 * same trainer, so that all of them can be compared on one stream. A variant is a set of
 * capabilities; code asks for a capability, never for a variant by name.
 */
public enum Variant {
    /** Everything: auxiliary ranking, calibration, error correction, distillation. */
    CROSSDISTIL(Teachers.RANKING, true, true, true, false),
    /** beta1 = beta2 = 0: the teachers learn only the coarse ranking of their task. */
    NO_AUX_RANK(Teachers.RANKING, false, true, true, false),
    /** The distillation target uses the raw teacher logit (P = 1, Q = 0, Omega not trained). */
    NO_CALIBRATION(Teachers.RANKING, true, false, true, false),
    /** The distillation target is the calibrated logit without the margin correction. */
    NO_CORRECTION(Teachers.RANKING, true, true, false, false),
    /** Teachers are BCE-trained regression heads on the batch; plain distillation of their logits. */
    VANILLA_KD(Teachers.REGRESSION, false, false, false, false),
    /** No teachers, no distillation: the plain multi-task baseline. */
    MTL(Teachers.NONE, false, false, false, false),
    /**
     * As {@link #CROSSDISTIL}, and each teacher also distils from its task's student (the
     * student's logit as a constant target for the calibrated teacher logit), so that the two
     * towers of a task teach each other through a loss between their predictions. Named
     * {@code mutual} before; not Deep Mutual Learning across task towers, which exchanges hidden
     * representations between the towers (the model option {@code tower-exchange}).
     */
    TWO_WAY_KD(Teachers.RANKING, true, true, true, true);

    /** Earlier names still read (configurations and snapshots written before a rename). */
    private static final Map<String, Variant> FORMER_NAMES = Map.of("mutual", TWO_WAY_KD);

    /** How the teacher towers learn, if there are any. */
    private enum Teachers { NONE, RANKING, REGRESSION }

    private final Teachers teachers;
    private final boolean auxiliaryRanking;
    private final boolean calibrates;
    private final boolean corrects;
    private final boolean teachersDistilFromStudents;

    Variant(Teachers teachers, boolean auxiliaryRanking, boolean calibrates, boolean corrects, boolean teachersDistilFromStudents) {
        this.teachers = teachers;
        this.auxiliaryRanking = auxiliaryRanking;
        this.calibrates = calibrates;
        this.corrects = corrects;
        this.teachersDistilFromStudents = teachersDistilFromStudents;
    }

    public static Variant parse(String s) {
        String key = s.trim().toLowerCase(Locale.ROOT);
        for (Variant v : values()) {
            if (v.key().equals(key)) {
                return v;
            }
        }
        if (FORMER_NAMES.containsKey(key)) {
            return FORMER_NAMES.get(key);
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
        return teachers != Teachers.NONE;
    }

    /** Teachers learn from reservoir samples with ranking losses (so the sampler is used). */
    public boolean ranksTeachers() {
        return teachers == Teachers.RANKING;
    }

    /** Teachers learn their task's labels on the batch with binary cross-entropy, as regression heads. */
    public boolean teachersByRegression() {
        return teachers == Teachers.REGRESSION;
    }

    /** The auxiliary (fine-grained) ranking terms are active. */
    public boolean auxiliaryRanking() {
        return auxiliaryRanking;
    }

    /** Platt calibration Omega is trained and used in the distillation target. */
    public boolean calibrates() {
        return calibrates;
    }

    /** The margin error correction is applied to the distillation target. */
    public boolean corrects() {
        return corrects;
    }

    /** Students distil from their teachers. */
    public boolean distils() {
        return hasTeachers();
    }

    /** Each teacher also distils from its task's student (on the batch). */
    public boolean teachersDistilFromStudents() {
        return teachersDistilFromStudents;
    }

    /** A teacher loss reaches the batch's rows, not only the reservoir samples'. */
    public boolean teachersLearnOnBatch() {
        return teachersByRegression() || teachersDistilFromStudents;
    }
}

package io.crossdistil.model;

import java.util.Locale;

/** How dense values reach the network (see {@link DenseInputs}). */
public enum DenseScaling {
    /** As they come. */
    NONE,
    /** (x - mean) / sd, with running statistics of the events trained on. */
    STANDARD,
    /** sign(x) log(1 + |x|), then standardised: for heavy-tailed counts and amounts. */
    LOG;

    public static DenseScaling parse(String s) {
        for (DenseScaling m : values()) {
            if (m.key().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown dense scaling '" + s + "'; use log, standard or none");
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}

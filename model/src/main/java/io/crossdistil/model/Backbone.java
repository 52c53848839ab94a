package io.crossdistil.model;

import java.util.Locale;

/** The network between the embeddings and the task towers. */
public enum Backbone {
    /** One MLP shared by all towers. */
    SHARED_BOTTOM,
    /** Multi-gate mixture of experts: shared expert MLPs, a softmax gate per tower. */
    MMOE;

    public static Backbone parse(String s) {
        for (Backbone b : values()) {
            if (b.key().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown backbone '" + s + "'; use shared-bottom or mmoe");
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}

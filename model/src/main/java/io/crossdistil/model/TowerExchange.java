package io.crossdistil.model;

import java.io.Serializable;
import java.util.Locale;

/**
 * What the student towers exchange, from Deep Mutual Learning across Task Towers (Ren et al.,
 * ORSUM@RecSys 2023): hidden representations, not a loss between predictions. Either module, both
 * or neither; the loss stays the sum of the tasks' losses.
 *
 * @param mining cross-task feature mining ({@link CrossTaskFeatureMining}) at the towers' entry
 * @param global global knowledge distillation ({@link GlobalKnowledgeDistillation}) at their top
 */
public record TowerExchange(boolean mining, boolean global) implements Serializable {
    public static final TowerExchange NONE = new TowerExchange(false, false);

    /** none, ctfm, gkd or ctfm+gkd (either order). */
    public static TowerExchange parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.equals("none")) {
            return NONE;
        }
        boolean mining = false;
        boolean global = false;
        for (String part : v.split("\\+")) {
            switch (part.trim()) {
                case "ctfm" -> mining = true;
                case "gkd" -> global = true;
                default -> throw new IllegalArgumentException("unknown tower exchange '" + part.trim() + "'; use none, ctfm, gkd or ctfm+gkd");
            }
        }
        return new TowerExchange(mining, global);
    }

    public boolean any() {
        return mining || global;
    }

    public String key() {
        return !any() ? "none" : mining && global ? "ctfm+gkd" : mining ? "ctfm" : "gkd";
    }
}

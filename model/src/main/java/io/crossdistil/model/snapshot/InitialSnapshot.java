package io.crossdistil.model.snapshot;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.CrossDistilModel;
import io.crossdistil.model.ModelConfig;
import java.io.IOException;
import java.util.List;

/**
 * A warm start: a new model begins with the parameters of a snapshot of an earlier run of this
 * model (the {@code initial-snapshot} option), so that a job that lost its state, or starts anew
 * with other training options or another number of trainers, does not learn from random values
 * again. A snapshot carries every parameter (the served average of each) but no optimizer state:
 * that, the reservoirs and the gate's evidence start afresh.
 */
public final class InitialSnapshot {
    private InitialSnapshot() {}

    /**
     * Sets a new model's parameters from the snapshot its configuration names, if any; returns the
     * names of the parameters the snapshot lacks (for example the teachers of an {@code mtl}
     * snapshot), which keep their initial values.
     *
     * @throws IllegalArgumentException as {@link #check}
     */
    public static List<String> applyTo(CrossDistilModel model) {
        ModelSnapshot s = read(model.config());
        return s == null ? List.of() : model.warmStart(SnapshotCodec.tensors(s, model.config().dtype));
    }

    /**
     * Reads and checks the snapshot without building a model: what a job's configuration does
     * before anything starts.
     *
     * @throws IllegalArgumentException naming the path and what is wrong: unreadable, damaged, or
     *     another task list or model shape
     */
    public static void check(ModelConfig cfg) {
        read(cfg);
    }

    /** The version of the snapshot the configuration names (0 for none): a warm-started job's snapshots continue from it. */
    public static long version(ModelConfig cfg) {
        ModelSnapshot s = read(cfg);
        return s == null ? 0 : s.getVersion();
    }

    private static ModelSnapshot read(ModelConfig cfg) {
        if (cfg.initialSnapshot == null) {
            return null;
        }
        String what = "initial snapshot " + cfg.initialSnapshot;
        ModelSnapshot s;
        try {
            s = SnapshotFiles.read(cfg.initialSnapshot);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(what + " cannot be read: " + e.getMessage(), e);
        }
        FrozenTeachers.check(cfg, ModelConfig.forScoring(s.getConfig()), what, "a warm start");
        return s;
    }
}

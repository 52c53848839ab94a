package io.crossdistil.model.snapshot;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StudentModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Frozen teachers: the students of earlier snapshots of this model (yesterday's model teaching
 * today's), loaded from the paths the {@code teacher-snapshots} option names. A snapshot must
 * agree with the model on everything that decides what its inputs and outputs mean.
 */
public final class FrozenTeachers {
    /** The options a frozen teacher must share with the model it teaches. */
    static final List<String> SAME = List.of("tasks", "features", "dense-features", "hash-rows", "embedding-dim", "backbone",
            "bottom-layers", "experts", "expert-layers", "tower-layers");

    private FrozenTeachers() {}

    /**
     * The students of the snapshots, ready to predict.
     *
     * @throws IllegalArgumentException naming the path and what is wrong: unreadable, damaged, or
     *     another task list or model shape
     */
    public static List<StudentModel> load(ModelConfig cfg) {
        List<StudentModel> teachers = new ArrayList<>();
        for (ModelSnapshot s : read(cfg)) {
            teachers.add(SnapshotCodec.toStudentModel(s));
        }
        return teachers;
    }

    /**
     * Reads and checks every snapshot without building a model (no native arrays): what a job's
     * configuration does before anything starts.
     *
     * @throws IllegalArgumentException as {@link #load}
     */
    public static void check(ModelConfig cfg) {
        read(cfg);
    }

    private static List<ModelSnapshot> read(ModelConfig cfg) {
        List<ModelSnapshot> snapshots = new ArrayList<>();
        for (String path : cfg.teacherSnapshots) {
            ModelSnapshot s;
            try {
                s = SnapshotFiles.read(path);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("teacher snapshot " + path + " cannot be read: " + e.getMessage(), e);
            }
            check(cfg, ModelConfig.forScoring(s.getConfig()), "teacher snapshot " + path, "a frozen teacher");
            snapshots.add(s);
        }
        return snapshots;
    }

    /**
     * Refuses a snapshot ({@code what}, named in the message) whose configuration differs from the
     * model's in anything of {@link #SAME}; {@code use} is what the model would use it as.
     */
    static void check(ModelConfig model, ModelConfig stored, String what, String use) {
        for (String key : SAME) {
            String mine = model.toMap().get(key);
            String theirs = stored.toMap().get(key);
            if (!Objects.equals(mine, theirs)) {
                throw new IllegalArgumentException(what + " has " + key + " '" + theirs + "', this model '" + mine
                        + "': " + use + " needs the same " + String.join(", ", SAME));
            }
        }
    }
}

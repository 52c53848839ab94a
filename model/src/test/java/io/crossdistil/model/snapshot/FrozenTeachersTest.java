package io.crossdistil.model.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.CrossDistilModel;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StudentModel;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FrozenTeachersTest {
    @TempDir
    Path dir;

    static ModelConfig cfg(String... overrides) {
        Map<String, String> m = new java.util.LinkedHashMap<>(Map.of("tasks", "finish,like", "features",
                "user_id,item_id," + String.join(",", SyntheticStream.FIELDS), "hash-rows", "4096", "batch-size", "64",
                "bottom-layers", "16", "tower-layers", "8"));
        for (int i = 0; i < overrides.length; i += 2) {
            m.put(overrides[i], overrides[i + 1]);
        }
        return ModelConfig.fromMap(m);
    }

    static List<Example> events(ModelConfig cfg, int n) {
        SyntheticStream stream = new SyntheticStream(cfg.tasks, new double[] {0.4, 0.1}, 3, 300, 100, 3.0);
        return SyntheticExamples.take(cfg, stream, n);
    }

    private Path snapshotOf(ModelConfig cfg, String name) throws Exception {
        return snapshotOf(cfg, dir.resolve(name));
    }

    /** Trains a trainer on a short stream and writes its snapshot to {@code d} as the job does: a file and the latest pointer. */
    static Path snapshotOf(ModelConfig cfg, Path d) throws Exception {
        OnlineTrainer t = new OnlineTrainer(cfg, 1000);
        for (Example e : events(cfg, 64 * 20)) {
            t.learn(e);
        }
        Files.createDirectories(d);
        Files.write(d.resolve(SnapshotFiles.fileName(1)), SnapshotCodec.encode(t.snapshot(1, 0)));
        Files.writeString(d.resolve(SnapshotFiles.LATEST), SnapshotFiles.fileName(1), StandardCharsets.UTF_8);
        return d;
    }

    @Test
    void yesterdaysStudentsTeachTodaysModel() throws Exception {
        Path yesterday = snapshotOf(cfg(), "yesterday");
        ModelConfig today = cfg("teacher-snapshots", yesterday.toString());
        List<StudentModel> teachers = FrozenTeachers.load(today);
        assertEquals(1, teachers.size());
        // the teacher is yesterday's model as serving would run it
        List<Example> some = events(today, 10);
        StudentModel served = SnapshotCodec.toStudentModel(SnapshotFiles.read(yesterday));
        assertArrayEquals(served.predict(some)[3], teachers.get(0).predict(some)[3], 0);
        // and it changes what today's students learn from the first step: the gate starts open
        OnlineTrainer with = new OnlineTrainer(today, 1000);
        OnlineTrainer without = new OnlineTrainer(cfg(), 1000);
        assertEquals(1.0, with.model().gate().limit(0), 0);
        List<Example> batch = events(today, 64);
        double[] a = null;
        double[] b = null;
        for (Example e : batch) {
            var r1 = with.learn(e);
            var r2 = without.learn(e);
            if (r1 != null) {
                a = new double[] {r1.terms().get("student.finish.kd")};
                b = new double[] {r2.terms().getOrDefault("student.finish.kd", Double.NaN)};
            }
        }
        assertTrue(a[0] > 0, "the students distil from the frozen teacher at once: " + a[0]);
        assertTrue(Double.isNaN(b[0]) || b[0] != a[0]);
        // a restored trainer loads its frozen teachers again
        OnlineTrainer back = OnlineTrainer.fromBytes(with.toBytes());
        assertArrayEquals(with.toBytes(), back.toBytes());
    }

    @Test
    void aSnapshotOfAnotherShapeOrTaskListIsRefused() throws Exception {
        Path otherTowers = snapshotOf(cfg("tower-layers", "4"), "towers");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FrozenTeachers.load(cfg("teacher-snapshots", otherTowers.toString())));
        assertTrue(e.getMessage().contains("tower-layers '4', this model '8'"), e.getMessage());
        // the check a job's configuration makes, without building the teacher, refuses it alike
        e = assertThrows(IllegalArgumentException.class, () -> FrozenTeachers.check(cfg("teacher-snapshots", otherTowers.toString())));
        assertTrue(e.getMessage().contains("tower-layers '4', this model '8'"), e.getMessage());

        Path otherTasks = snapshotOf(cfg("tasks", "like,finish"), "tasks");
        e = assertThrows(IllegalArgumentException.class, () -> FrozenTeachers.load(cfg("teacher-snapshots", otherTasks.toString())));
        assertTrue(e.getMessage().contains("tasks 'like,finish', this model 'finish,like'"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> FrozenTeachers.load(cfg("teacher-snapshots", dir.resolve("nothing-here").toString())));
        assertTrue(e.getMessage().startsWith("teacher snapshot " + dir.resolve("nothing-here") + " cannot be read"), e.getMessage());
    }

    @Test
    void onlyAVariantThatDistilsTakesFrozenTeachers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cfg("variant", "mtl", "teacher-snapshots", "x"));
        assertTrue(e.getMessage().contains("needs a variant whose students distil"), e.getMessage());
    }
}

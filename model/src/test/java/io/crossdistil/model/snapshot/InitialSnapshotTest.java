package io.crossdistil.model.snapshot;

import static io.crossdistil.model.snapshot.FrozenTeachersTest.cfg;
import static io.crossdistil.model.snapshot.FrozenTeachersTest.events;
import static io.crossdistil.model.snapshot.FrozenTeachersTest.snapshotOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.CrossDistilModel;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StudentModel;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.training.OnlineTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A warm start: a new model begins with the parameters of an earlier run's snapshot. */
class InitialSnapshotTest {
    @TempDir
    Path dir;

    @Test
    void aNewModelStartsAsTheSnapshotPredictsAndARestoredOneDoesNotReadItAgain() throws Exception {
        Path yesterday = snapshotOf(cfg(), dir.resolve("yesterday"));
        // another training option is fine: only what decides the inputs, outputs and shape must agree
        ModelConfig today = cfg("initial-snapshot", yesterday.toString(), "learning-rate", "0.03");
        OnlineTrainer warm = new OnlineTrainer(today, 1000);
        List<Example> some = events(today, 10);

        // it predicts what serving predicted with yesterday's snapshot, before it has learned anything
        StudentModel served = SnapshotCodec.toStudentModel(SnapshotFiles.read(yesterday));
        double[][] expected = served.predict(some);
        double[][] predicted = warm.model().predict(some);
        for (int i = 0; i < some.size(); i++) {
            assertArrayEquals(expected[i], predicted[i], 1e-6);
        }
        assertEquals(0, warm.model().steps());
        assertFalse(java.util.Arrays.deepEquals(predicted, new OnlineTrainer(cfg(), 1000).model().predict(some)));

        // the label-only twins start as the students: a shut gate handing the students back to them changes nothing
        warm.model().resetShutStudents();
        double[][] afterReset = warm.model().predict(some);
        for (int i = 0; i < some.size(); i++) {
            assertArrayEquals(predicted[i], afterReset[i], 0);
        }

        // it learns on from there; a restored trainer continues its own state without the snapshot's file
        for (Example e : events(today, 64 * 3)) {
            warm.learn(e);
        }
        byte[] state = warm.toBytes();
        try (Stream<Path> files = Files.walk(yesterday)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertArrayEquals(state, OnlineTrainer.fromBytes(state).toBytes());
    }

    @Test
    void parametersTheSnapshotLacksKeepTheirInitialValues() throws Exception {
        Path mtl = snapshotOf(cfg("variant", "mtl"), dir.resolve("mtl"));
        ModelConfig cfg = cfg("initial-snapshot", mtl.toString());
        CrossDistilModel warm = new CrossDistilModel(cfg);
        List<String> fresh = InitialSnapshot.applyTo(warm);
        List<Example> some = events(cfg, 10);
        double[][] expected = SnapshotCodec.toStudentModel(SnapshotFiles.read(mtl)).predict(some);
        assertArrayEquals(expected[3], warm.predict(some)[3], 1e-6);
        assertEquals(8, fresh.size(), "an mtl snapshot has no teachers: " + fresh);
        assertTrue(fresh.stream().allMatch(n -> n.startsWith("teacher.")), fresh.toString());
        CrossDistilModel cold = new CrossDistilModel(cfg);
        for (String name : fresh) {
            assertEquals(cold.tensors().get(name), warm.tensors().get(name), name + " is as initialised");
        }
    }

    @Test
    void aSnapshotOfAnotherShapeOrAPathThatIsNoneIsRefused() throws Exception {
        Path otherTowers = snapshotOf(cfg("tower-layers", "4"), dir.resolve("towers"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new OnlineTrainer(cfg("initial-snapshot", otherTowers.toString()), 1000));
        assertTrue(e.getMessage().startsWith("initial snapshot " + otherTowers + " has tower-layers '4', this model '8': a warm start needs"
                + " the same tasks, features"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InitialSnapshot.check(cfg("initial-snapshot", otherTowers.toString())));
        assertTrue(e.getMessage().contains("tower-layers '4'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InitialSnapshot.check(cfg("initial-snapshot", dir.resolve("none").toString())));
        assertTrue(e.getMessage().startsWith("initial snapshot " + dir.resolve("none") + " cannot be read"), e.getMessage());
        // a location with a URI scheme needs a source that reads it (the job has one for Flink's file systems; this module none)
        e = assertThrows(IllegalArgumentException.class, () -> InitialSnapshot.check(cfg("initial-snapshot", "s3://bucket/snapshots")));
        assertEquals("initial snapshot s3://bucket/snapshots cannot be read: nothing here reads s3:// locations (the Flink job reads"
                + " every file system Flink has; elsewhere give a local path)", e.getMessage());
    }
}

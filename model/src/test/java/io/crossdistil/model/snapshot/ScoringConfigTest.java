package io.crossdistil.model.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.ModelOptions;
import io.crossdistil.model.StudentModel;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A snapshot lists its training options, and a reader that only scores ignores them: a newer
 * trainer's new training option does not stop an older serving fleet, a new option of what the
 * model computes does.
 */
class ScoringConfigTest {
    /** A value other than the default for every training option a test can set without files. */
    private static final Map<String, String> NOT_DEFAULT = Map.ofEntries(Map.entry("tower-exchange-dropout", "0.3"),
            Map.entry("alpha", "0.5"), Map.entry("beta1", "0.5"), Map.entry("beta2", "2"), Map.entry("tau", "2"),
            Map.entry("distillation-ramp-events", "1000"), Map.entry("initial-snapshot-ramp-events", "100"),
            Map.entry("one-sided-distillation", "true"), Map.entry("distillation-gate", "false"),
            Map.entry("gate-window-events", "500"), Map.entry("gate-tolerance", "0.001"), Map.entry("gate-reset-students", "false"),
            Map.entry("gate-log-loss-tolerance", "0.05"), Map.entry("gate-adapt-events", "1000"), Map.entry("margin", "0.5"),
            Map.entry("teacher-weights", "0.5"), Map.entry("student-weights", "2"), Map.entry("optimizer", "adam"),
            Map.entry("learning-rate", "0.01"), Map.entry("calibration-learning-rate", "0.02"),
            Map.entry("output-calibration-learning-rate", "0.05"), Map.entry("snapshot-average-events", "0"),
            Map.entry("batch-size", "64"), Map.entry("quadruplets-per-step", "16"), Map.entry("marginal-pairs-per-step", "16"),
            Map.entry("reservoir-capacity", "500"), Map.entry("seed", "7"));

    private static ModelConfig config() {
        Map<String, String> m = new HashMap<>(NOT_DEFAULT);
        // mined features and global knowledge, so that their training-only dropout has something to drop
        m.putAll(Map.of("hash-rows", "4096", "bottom-layers", "16", "tower-layers", "8", "tower-exchange", "ctfm+gkd",
                "dense-features", "user_engagement"));
        return ModelConfig.fromMap(m);
    }

    @Test
    void everyTrainingOptionIsSetHereAwayFromItsDefault() {
        Set<String> files = Set.of("teacher-snapshots", "initial-snapshot");
        for (String key : ModelOptions.trainingKeys()) {
            assertTrue(files.contains(key) || NOT_DEFAULT.containsKey(key), "give " + key + " a value in NOT_DEFAULT");
            assertNotEquals(ModelOptions.get(key).defaultValue(), NOT_DEFAULT.get(key), key);
        }
        assertTrue(ModelOptions.trainingKeys().containsAll(NOT_DEFAULT.keySet()));
    }

    /** The students read with every training option at its default predict what the trained ones predicted. */
    @Test
    void trainingOptionsDoNotChangeWhatTheStudentsCompute() {
        ModelConfig cfg = config();
        OnlineTrainer t = new OnlineTrainer(cfg, 1_000);
        List<Example> events = SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, new double[] {0.4, 0.2}, 5), 640);
        events.forEach(t::learn);
        ModelSnapshot s = SnapshotCodec.decode(SnapshotCodec.encode(t.snapshot(1, 0)));
        ModelConfig scoring = ModelConfig.forScoring(s.getConfig());
        for (String key : NOT_DEFAULT.keySet()) {
            assertEquals(ModelOptions.get(key).defaultValue(), scoring.toMap().get(key), key);
        }
        StudentModel asTrained = StudentModel.of(ModelConfig.fromStored(s.getConfig()), SnapshotCodec.tensors(s, cfg.dtype));
        StudentModel asServed = SnapshotCodec.toStudentModel(s);
        List<Example> batch = events.subList(0, 64);
        double[][] want = asTrained.predict(batch);
        double[][] got = asServed.predict(batch);
        for (int i = 0; i < want.length; i++) {
            assertArrayEquals(want[i], got[i], 0.0, "event " + i);
        }
        assertEquals(cfg, ModelConfig.fromStored(s.getConfig()), "the stored configuration is the trained one");
    }

    @Test
    void aNewerTrainersTrainingOptionIsIgnoredItsOtherOptionsAreNot() {
        Map<String, String> stored = new LinkedHashMap<>(ModelConfig.defaults().toStored());
        stored.put("a-newer-step-size-rule", "cosine");
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.forScoring(stored), "not listed: it may change the scores");
        stored.put(ModelConfig.TRAINING_OPTIONS, stored.get(ModelConfig.TRAINING_OPTIONS) + ",a-newer-step-size-rule");
        assertEquals(ModelConfig.defaults(), ModelConfig.forScoring(stored));

        stored.put("a-newer-kind-of-tower", "wide");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.forScoring(stored));
        assertTrue(e.getMessage().contains("'a-newer-kind-of-tower' is unknown to this version"), e.getMessage());
        assertTrue(e.getMessage().contains("upgrade"), e.getMessage());
    }

    @Test
    void aSnapshotWithoutTheListIsReadAsBefore() {
        Map<String, String> older = new LinkedHashMap<>(ModelConfig.defaults().with("learning-rate", "0.2").toMap());
        assertFalse(older.containsKey(ModelConfig.TRAINING_OPTIONS));
        assertEquals("0.2", ModelConfig.forScoring(older).toMap().get("learning-rate"));
        older.put("an-option-of-a-newer-trainer", "1");
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.forScoring(older));
    }
}

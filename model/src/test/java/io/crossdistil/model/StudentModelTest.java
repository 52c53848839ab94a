package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.training.OnlineTrainer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class StudentModelTest {

    /** Trains a little, then compares the students alone with the whole model on fresh events. */
    @ParameterizedTest
    @ValueSource(strings = {"", "backbone=mmoe", "teacher-routing=separate", "teacher-routing=shared,backbone=mmoe",
            "dense-features=x", "variant=mtl", "variant=vanilla-kd", "tasks=a,b,c"})
    void predictsWhatTheWholeModelPredictsWithoutTheTeachers(String overrides) {
        Map<String, String> m = new HashMap<>(Map.of("hash-rows", "2048", "batch-size", "32", "bottom-layers", "16,8",
                "tower-layers", "4", "expert-layers", "8", "experts", "3", "reservoir-capacity", "200"));
        for (String kv : overrides.isEmpty() ? new String[0] : overrides.split(",(?=[a-z-]+=)")) {
            String[] p = kv.split("=", 2);
            m.put(p[0], p[1]);
        }
        ModelConfig cfg = ModelConfig.fromMap(m);
        double[] rates = new double[cfg.numTasks()];
        java.util.Arrays.fill(rates, 0.3);
        List<Example> events = TestData.examples(cfg, rates, 700, 5);
        OnlineTrainer trainer = new OnlineTrainer(cfg, 100);
        events.subList(0, 640).forEach(trainer::learn);
        CrossDistilModel whole = trainer.model();

        // the students need neither the teachers' tensors nor the calibration's
        Map<String, INDArray> tensors = new HashMap<>(whole.tensors());
        boolean hadTeachers = tensors.keySet().removeIf(n -> n.startsWith("teacher") || n.startsWith("calibration")
                || n.startsWith("gate.teacher"));
        assertTrue(hadTeachers, "the model has calibration parameters at least");
        StudentModel students = StudentModel.of(cfg, tensors);

        List<Example> fresh = events.subList(640, 700);
        double[][] expected = whole.predict(fresh);
        double[][] actual = students.predict(fresh);
        for (int i = 0; i < fresh.size(); i++) {
            assertArrayEquals(expected[i], actual[i], 0.0, "event " + i);
        }
    }

    @org.junit.jupiter.api.Test
    void aMissingOrMisshapenStudentTensorIsNamed() {
        ModelConfig cfg = ModelConfig.fromMap(Map.of("hash-rows", "512", "bottom-layers", "8", "tower-layers", "4"));
        Map<String, INDArray> tensors = new HashMap<>(new CrossDistilModel(cfg).tensors());
        Map<String, INDArray> missing = new HashMap<>(tensors);
        missing.remove("bottom.0.W");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StudentModel.of(cfg, missing));
        assertTrue(e.getMessage().contains("bottom.0.W"), e.getMessage());
        Map<String, INDArray> wrong = new HashMap<>(tensors);
        wrong.put("embedding", tensors.get("embedding").get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 100),
                org.nd4j.linalg.indexing.NDArrayIndex.all()));
        e = assertThrows(IllegalArgumentException.class, () -> StudentModel.of(cfg, wrong));
        assertTrue(e.getMessage().contains("embedding") && e.getMessage().contains("shape"), e.getMessage());
    }
}

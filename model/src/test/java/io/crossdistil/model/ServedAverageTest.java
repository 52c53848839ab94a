package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.Tensor;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.training.OnlineTrainer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Snapshots carry the parameters averaged over the recent stream (ServedAverage), training does not use them. */
class ServedAverageTest {
    private static final double[] RATES = {0.3, 0.1};

    private static ModelConfig config(String averageEvents) {
        return ModelConfig.fromMap(Map.of("batch-size", "16", "hash-rows", "512", "bottom-layers", "16", "tower-layers", "8",
                "quadruplets-per-step", "8", "marginal-pairs-per-step", "8", "reservoir-capacity", "200", "dtype", "double",
                "snapshot-average-events", averageEvents));
    }

    /** Every tensor of the model, as it is now (live), flattened in C order. */
    private static Map<String, double[]> live(CrossDistilModel m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : m.tensors().entrySet()) {
            out.put(e.getKey(), HostArrays.values(e.getValue().dup('c')));
        }
        return out;
    }

    private static Map<String, double[]> carried(ModelSnapshot s) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Tensor t : s.getTensors()) {
            float[] v = SnapshotCodec.values(t);
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                d[i] = v[i];
            }
            out.put(t.getName(), d);
        }
        return out;
    }

    @Test
    void aSnapshotCarriesTheExponentialAverageOfTheParametersAfterEveryStep() {
        // 48 events: the past weighs exp(-16 / 48) after a step of 16; the average starts at 0 and
        // is divided by the weight of its steps; embedding rows are averaged lazily, so the eager
        // average worked out here checks that catching a row up is exact
        ModelConfig cfg = config("48");
        List<Example> events = TestData.examples(cfg, RATES, 16 * 30, 3);
        OnlineTrainer trainer = new OnlineTrainer(cfg, 1_000);
        // before any step a snapshot carries the initial parameters
        Map<String, double[]> initial = live(trainer.model());
        carried(trainer.snapshot(1, 0)).forEach((name, v) -> assertArrayEquals(initial.get(name), v, 1e-6, name));
        Map<String, double[]> average = new LinkedHashMap<>();
        initial.forEach((name, v) -> average.put(name, new double[v.length]));
        double past = Math.exp(-16.0 / 48);
        for (Example e : events) {
            if (trainer.learn(e) != null) {
                Map<String, double[]> now = live(trainer.model());
                average.forEach((name, a) -> {
                    double[] v = now.get(name);
                    for (int i = 0; i < a.length; i++) {
                        a[i] = past * a[i] + (1 - past) * v[i];
                    }
                });
            }
        }
        assertEquals(30, trainer.model().steps());
        double weight = 1 - Math.pow(past, 30);
        average.values().forEach(a -> {
            for (int i = 0; i < a.length; i++) {
                a[i] /= weight;
            }
        });
        Map<String, double[]> snapshot = carried(trainer.snapshot(1, 0));
        Map<String, double[]> last = live(trainer.model());
        double farthestFromLast = 0;
        for (Map.Entry<String, double[]> e : average.entrySet()) {
            double[] s = snapshot.get(e.getKey());
            for (int i = 0; i < s.length; i++) {
                // the snapshot's values are floats
                assertEquals(e.getValue()[i], s[i], 1e-6 * Math.max(1, Math.abs(s[i])), e.getKey() + "[" + i + "]");
                farthestFromLast = Math.max(farthestFromLast, Math.abs(s[i] - last.get(e.getKey())[i]));
            }
        }
        assertTrue(farthestFromLast > 1e-3, "the average is not the last step's parameters: " + farthestFromLast);
    }

    @Test
    void withoutAnAverageASnapshotCarriesTheLastStep() {
        ModelConfig cfg = config("0");
        OnlineTrainer trainer = new OnlineTrainer(cfg, 1_000);
        TestData.examples(cfg, RATES, 16 * 10, 3).forEach(trainer::learn);
        Map<String, double[]> snapshot = carried(trainer.snapshot(1, 0));
        live(trainer.model()).forEach((name, v) -> {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            double[] asFloats = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                asFloats[i] = f[i];
            }
            assertArrayEquals(asFloats, snapshot.get(name), 0.0, name);
        });
    }

    @Test
    void trainingAndItsScoresDoNotDependOnTheAverage() {
        List<Example> events = TestData.examples(config("0"), RATES, 16 * 20, 3);
        OnlineTrainer averaged = new OnlineTrainer(config("48"), 1_000);
        OnlineTrainer plain = new OnlineTrainer(config("0"), 1_000);
        for (Example e : events) {
            StepResult a = averaged.learn(e);
            StepResult b = plain.learn(e);
            if (a != null) {
                assertArrayEquals(b.predictions(), a.predictions(), "the served probabilities of a step");
            }
        }
        live(plain.model()).forEach((name, v) -> assertArrayEquals(v, live(averaged.model()).get(name), 0.0, name));
    }

    @Test
    void aRestoredModelContinuesTheAverageExactly() {
        ModelConfig cfg = config("48").with("variant", "mtl"); // no teachers: steps without samples
        List<Example> events = TestData.examples(cfg, RATES, 16 * 20, 3);
        CrossDistilModel first = new CrossDistilModel(cfg);
        CrossDistilModel other = new CrossDistilModel(cfg);
        for (int step = 0; step < 20; step++) {
            List<Example> batch = events.subList(step * 16, (step + 1) * 16);
            first.step(batch, io.crossdistil.model.sampling.Samples.none(cfg.numTasks()));
            other.step(batch, io.crossdistil.model.sampling.Samples.none(cfg.numTasks()));
            if (step == 9) {
                other = CrossDistilModel.fromBytes(other.toBytes()); // mid-stream, rows averaged up to different steps
            }
        }
        ModelSnapshot a = SnapshotCodec.build(1, 0, 0, 0, first, List.of());
        ModelSnapshot b = SnapshotCodec.build(1, 0, 0, 0, other, List.of());
        assertEquals(a.getTensors(), b.getTensors());
    }
}

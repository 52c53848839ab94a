package io.crossdistil.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.features.FeatureEncoder;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.state.ArrayCodec;
import io.crossdistil.model.training.OnlineTrainer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DenseScalingTest {

    private static ModelConfig cfg(String mode) {
        return ModelConfig.fromMap(Map.of("dense-features", "x,y", "dense-scaling", mode, "dtype", "double", "hash-rows", "512",
                "bottom-layers", "8", "tower-layers", "4", "batch-size", "32", "reservoir-capacity", "200"));
    }

    private static Example event(float x, float y) {
        return new Example("", 0L, new int[] {0, 0}, new float[] {x, y}, 0);
    }

    @Test
    void standardisesWithTheStatisticsOfTheEventsAddedBefore() {
        DenseInputs s = new DenseInputs(cfg("standard"));
        List<Example> probe = List.of(event(5, 7));
        assertArrayEquals(new double[] {0, 0}, s.inputs(probe, Samples.none(2)), 0.0, "nothing seen yet: every field reads 0");

        s.add(List.of(event(1, 10), event(2, 10), event(3, 10), event(4, 10)));
        // x: mean 2.5, variance 1.25; y never varied: it reads 0
        assertArrayEquals(new double[] {(5 - 2.5) / Math.sqrt(1.25), 0}, s.inputs(probe, Samples.none(2)), 1e-12);
        assertArrayEquals(new double[] {4, 10, 40, 30, 400, 0, 0}, s.sums().toDoubleVector(), 0.0,
                "count, sums, sums of squares, events lacking the field");
    }

    /** A field an event lacks reads as the field's mean and adds nothing to the field's statistics. */
    @Test
    void aMissingValueReadsAsTheMeanAndIsNotCounted() {
        float missing = Example.MISSING;
        DenseInputs s = new DenseInputs(cfg("standard"));
        s.add(List.of(event(1, missing), event(3, 10), event(missing, 20)));
        assertArrayEquals(new double[] {3, 4, 30, 10, 500, 1, 1}, s.sums().toDoubleVector(), 0.0);
        // x: 1 and 3 (mean 2, sd 1); y: 10 and 20 (mean 15, sd 5)
        assertArrayEquals(new double[] {0, 2, 1, 0}, s.inputs(List.of(event(missing, 25), event(3, missing)), Samples.none(2)), 1e-12);

        DenseInputs log = new DenseInputs(cfg("log"));
        log.add(List.of(event(missing, missing)));
        assertArrayEquals(new double[] {0, 0}, log.inputs(List.of(event(missing, 5)), Samples.none(2)), 0.0, "no value seen yet");
        DenseInputs none = new DenseInputs(cfg("none"));
        assertArrayEquals(new double[] {0, 7}, none.inputs(List.of(event(missing, 7)), Samples.none(2)), 0.0, "unscaled: 0");
    }

    /** Statistics stored before missing values were counted: every event had every field. */
    @Test
    void statisticsStoredWithoutMissingCountsReadAsNothingMissing() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ArrayCodec.write(new DataOutputStream(bytes), new double[] {4, 10, 40, 30, 400}, DataType.DOUBLE);
        DenseInputs s = new DenseInputs(cfg("standard"));
        s.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertArrayEquals(new double[] {4, 10, 40, 30, 400, 0, 0}, s.sums().toDoubleVector(), 0.0);

        DenseInputs snapshot = new DenseInputs(cfg("standard"));
        snapshot.load(Map.of(DenseInputs.TENSOR, Nd4j.createFromArray(4f, 10f, 40f, 30f, 400f)));
        assertArrayEquals(new double[] {4, 10, 40, 30, 400, 0, 0}, snapshot.sums().toDoubleVector(), 0.0);

        ByteArrayOutputStream other = new ByteArrayOutputStream();
        ArrayCodec.write(new DataOutputStream(other), new double[] {1, 2, 3}, DataType.DOUBLE);
        IOException e = assertThrows(IOException.class,
                () -> new DenseInputs(cfg("standard")).read(new DataInputStream(new ByteArrayInputStream(other.toByteArray()))));
        assertTrue(e.getMessage().contains("another model shape"), e.getMessage());
    }

    /** Through the whole model: events lacking a field train to finite parameters, and lacking it predicts as its mean. */
    @Test
    void aModelTrainsOnEventsLackingFieldsAndReadsThemAsTheMean() {
        ModelConfig cfg = cfg("standard");
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.2}, 640, 5);
        for (int i = 0; i < events.size(); i += 3) {
            events.get(i).dense[i % 2] = Example.MISSING;
        }
        OnlineTrainer trainer = new OnlineTrainer(cfg, 100);
        events.forEach(trainer::learn);
        CrossDistilModel m = trainer.model();
        assertTrue(m.allFinite(), "NaN reached the parameters");
        double[] sums = m.tensors().get(DenseInputs.TENSOR).toDoubleVector();
        assertEquals(640, sums[0], 0.0);
        assertEquals(107, sums[5], 0.0, "x missing in events 0, 6, 12, ...");
        assertEquals(107, sums[6], 0.0, "y missing in events 3, 9, 15, ...");
        float meanX = (float) (sums[1] / (sums[0] - sums[5]));
        Example lacking = new Example("", 0L, events.get(0).rows, new float[] {Example.MISSING, 1f}, 0);
        Example atMean = new Example("", 0L, events.get(0).rows, new float[] {meanX, 1f}, 0);
        double[][] p = m.predict(List.of(lacking, atMean));
        assertArrayEquals(p[1], p[0], 1e-6);
    }

    /** The encoder refuses values beyond its limit so that the statistics, as a snapshot's floats, stay finite. */
    @Test
    void valuesAtTheEncodersLimitKeepTheStatisticsFiniteAsFloats() {
        DenseInputs s = new DenseInputs(cfg("standard"));
        List<Example> batch = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            batch.add(event(i % 2 == 0 ? FeatureEncoder.DENSE_LIMIT : -FeatureEncoder.DENSE_LIMIT, i));
        }
        s.add(batch);
        for (DenseStatistics d : s.describe(List.of("x", "y"))) {
            assertTrue(Double.isFinite(d.mean()) && Double.isFinite(d.sd()) && d.sd() > 0, d.toString());
        }
        double[] in = s.inputs(List.of(event(FeatureEncoder.DENSE_LIMIT, 1)), Samples.none(2));
        assertEquals(1.0, in[0], 1e-3, "the limit is one sd above a mean of 0");
    }

    @Test
    void logScalingStandardisesSignedLogsAndNoneLeavesValuesAsTheyCome() {
        DenseInputs log = new DenseInputs(cfg("log"));
        log.add(List.of(event(0, -1), event((float) (Math.E - 1), 1)));
        // x: logs 0 and 1 (mean 0.5, sd 0.5); y: -log 2 and log 2 (mean 0, sd log 2)
        double[] in = log.inputs(List.of(event(0, 3)), Samples.none(2));
        assertEquals(-1.0, in[0], 1e-6);
        assertEquals(Math.log(4) / Math.log(2), in[1], 1e-6);

        DenseInputs none = new DenseInputs(cfg("none"));
        none.add(List.of(event(1, 2)));
        assertArrayEquals(new double[] {5, 7}, none.inputs(List.of(event(5, 7)), Samples.none(2)), 0.0);
        assertEquals(null, none.sums(), "nothing to carry");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cfg("minmax"));
        assertTrue(e.getMessage().contains("dense-scaling") && e.getMessage().contains("log, standard or none"), e.getMessage());
    }

    /** A dense input's unit (seconds or milliseconds) does not change what the model learns and predicts. */
    @Test
    void aModelLearnsTheSameWhateverTheUnitOfItsDenseInputs() {
        ModelConfig cfg = cfg("standard");
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.2}, 640, 3);
        List<Example> scaled = events.stream().map(e -> new Example(e.eventId, e.eventTime, e.rows,
                new float[] {e.dense[0] * 1000f, e.dense[1] * 1000f + 50f}, e.permutation)).toList();
        OnlineTrainer a = new OnlineTrainer(cfg, 100);
        OnlineTrainer b = new OnlineTrainer(cfg, 100);
        events.subList(0, 600).forEach(a::learn);
        scaled.subList(0, 600).forEach(b::learn);
        double[][] pa = a.model().predict(events.subList(600, 640));
        double[][] pb = b.model().predict(scaled.subList(600, 640));
        for (int i = 0; i < pa.length; i++) {
            assertArrayEquals(pa[i], pb[i], 1e-6, "event " + i);
        }
        // without scaling the same change of unit is another model
        OnlineTrainer raw = new OnlineTrainer(cfg.with("dense-scaling", "none"), 100);
        scaled.subList(0, 600).forEach(raw::learn);
        double[][] pr = raw.model().predict(scaled.subList(600, 640));
        double largest = 0;
        for (int i = 0; i < pa.length; i++) {
            largest = Math.max(largest, Math.abs(pa[i][0] - pr[i][0]));
        }
        assertTrue(largest > 0.01, "unscaled inputs in other units gave nearly the same model: " + largest);
    }

    /** The statistics travel with the model: its state, its snapshot's students, the events of its steps only. */
    @Test
    void theStatisticsAreTheTrainedEventsAndTravelWithStateAndSnapshot() {
        ModelConfig cfg = cfg("standard");
        List<Example> events = TestData.examples(cfg, new double[] {0.4, 0.2}, 300, 9);
        OnlineTrainer trainer = new OnlineTrainer(cfg, 100);
        events.subList(0, 256).forEach(trainer::learn);
        CrossDistilModel m = trainer.model();
        double[] sums = m.tensors().get(DenseInputs.TENSOR).toDoubleVector();
        assertEquals(256, sums[0], 0.0, "the 8 steps' events");
        double sumX = 0;
        for (Example e : events.subList(0, 256)) {
            sumX += e.dense[0];
        }
        assertEquals(sumX, sums[1], 1e-9);

        CrossDistilModel back = CrossDistilModel.fromBytes(m.toBytes());
        assertArrayEquals(sums, back.tensors().get(DenseInputs.TENSOR).toDoubleVector(), 0.0);
        Map<String, INDArray> tensors = new HashMap<>(m.tensors());
        StudentModel students = StudentModel.of(cfg, tensors);
        List<Example> fresh = events.subList(256, 300);
        double[][] expected = m.predict(fresh);
        double[][] actual = students.predict(fresh);
        for (int i = 0; i < fresh.size(); i++) {
            assertArrayEquals(expected[i], actual[i], 0.0, "event " + i);
        }
        tensors.remove(DenseInputs.TENSOR);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StudentModel.of(cfg, tensors));
        assertTrue(e.getMessage().contains(DenseInputs.TENSOR), e.getMessage());
    }

    /** A model stored before dense scaling trained on raw values: read back, it still takes them raw. */
    @Test
    void aStoredConfigurationFromBeforeDenseScalingKeepsValuesRaw() {
        Map<String, String> old = new HashMap<>(cfg("standard").toMap());
        old.remove("dense-scaling");
        assertEquals(DenseScaling.NONE, ModelConfig.fromStored(old).denseScaling);
        old.put("dense-features", "");
        assertEquals(DenseScaling.STANDARD, ModelConfig.fromStored(old).denseScaling, "without dense fields: today's default");
    }
}

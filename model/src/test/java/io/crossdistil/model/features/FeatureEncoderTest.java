package io.crossdistil.model.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which value each configured field hashes: trainer and serving encode events the same way through this. */
class FeatureEncoderTest {
    private static final ModelConfig CFG = ModelConfig.fromMap(Map.of("features", "user_id,item_id,device,author"));

    /** The row of a (field, value) by its definition: the hash of the UTF-8 bytes of field + U+0001 + value. */
    private static int defined(String field, String value) {
        byte[] bytes = (field + '\u0001' + value).getBytes(StandardCharsets.UTF_8);
        return Math.floorMod(FeatureHasher.murmur3x86_32(bytes, 0), CFG.hashRows);
    }

    @Test
    void anEventsOwnIdsStandForUserAndItemOverCategoricalValuesOfThoseNames() {
        Map<String, String> categorical = new HashMap<>(Map.of("device", "phone", "user_id", "not-this-one"));
        FeedbackEvent e = FeedbackEvent.newBuilder().setEventId("e").setEventTime(1L).setUserId("u7").setItemId("i9")
                .setCategorical(categorical).setDense(Map.of()).setLabels(Map.of()).build();
        int[] rows = new FeatureEncoder(CFG).encode(e, 0).rows;
        assertArrayEquals(new int[] {defined("user_id", "u7"), defined("item_id", "i9"), defined("device", "phone"),
                defined("author", FeatureHasher.MISSING)}, rows);
        // an event built in code without a user id: the field is missing, as a categorical field would be
        e.setUserId(null);
        assertEquals(defined("user_id", FeatureHasher.MISSING), new FeatureEncoder(CFG).encode(e, 0).rows[0]);
    }

    private static FeedbackEvent event(Map<String, Integer> labels, Map<String, Float> dense, int categoricals) {
        Map<String, String> categorical = new HashMap<>();
        for (int i = 0; i < categoricals; i++) {
            categorical.put(i == 0 ? "device" : "c" + i, "v" + i);
        }
        return FeedbackEvent.newBuilder().setEventId("e1").setEventTime(5L).setUserId("u1").setItemId("i1")
                .setCategorical(categorical).setDense(dense).setLabels(labels).build();
    }

    private static String refusal(FeatureEncoder encoder, FeedbackEvent e) {
        return assertThrows(InvalidEventException.class, () -> encoder.example(e)).getMessage();
    }

    @Test
    void anEventIsReadTheSameFromItsBytesAsDecodedAndRefusedForTheFirstReasonInOrder() throws Exception {
        ModelConfig cfg = ModelConfig.fromMap(Map.of("features", "user_id,item_id,device", "dense-features", "x",
                "tasks", "finish,like"));
        FeatureEncoder encoder = new FeatureEncoder(cfg, 3);
        FeedbackEvent good = event(Map.of("finish", 1, "like", 0), Map.of("x", 0.5f), 2);
        Example decoded = encoder.example(good);
        assertEquals(decoded, encoder.exampleInPlace(Wire.encode(good)));
        assertEquals(2, decoded.permutation);
        assertEquals(0.5f, decoded.dense[0]);

        // each reason, and which wins when several apply
        assertEquals("label for unknown task 'click' (this job trains [finish, like]; --other-labels ignore reads events that carry more tasks)",
                refusal(encoder, event(Map.of("click", 1), Map.of("x", Float.NaN), 9)));
        assertEquals("missing label for task 'like'", refusal(encoder, event(Map.of("finish", 1), Map.of("x", Float.NaN), 9)));
        assertEquals("label of task 'finish' is 2, not 0 or 1", refusal(encoder, event(Map.of("finish", 2, "like", 0), Map.of(), 9)));
        assertEquals("too many features: 4 > max-features 3",
                refusal(encoder, event(Map.of("finish", 0, "like", 0), Map.of("x", Float.NaN), 4)));
        assertEquals("dense feature 'y' is Infinity, not a finite number",
                refusal(encoder, event(Map.of("finish", 0, "like", 1), Map.of("y", Float.POSITIVE_INFINITY), 1)));
        assertEquals("dense feature 'x' is 1.0E20, beyond the limit of 1e13 either side (a sentinel for a missing value? leave the field out)",
                refusal(encoder, event(Map.of("finish", 0, "like", 1), Map.of("x", 1e20f), 1)));
        assertTrue(refusal(encoder, event(Map.of("finish", 0, "like", 1), Map.of("x", -Float.MAX_VALUE), 1)).contains("beyond the limit"));
        for (float atTheLimit : new float[] {FeatureEncoder.DENSE_LIMIT, -FeatureEncoder.DENSE_LIMIT, 1.7e12f}) {
            FeedbackEvent large = event(Map.of("finish", 0, "like", 1), Map.of("x", atTheLimit), 1);
            assertEquals(atTheLimit, encoder.example(large).dense[0], "a value within the limit is kept");
            assertEquals(atTheLimit, encoder.exampleInPlace(Wire.encode(large)).dense[0]);
        }
        // a refused event is never read in place: its reason comes from the decoded path
        assertNull(encoder.exampleInPlace(Wire.encode(event(Map.of("finish", 0, "like", 1), Map.of("x", 1e14f), 1))));
        assertNull(encoder.exampleInPlace(Wire.encode(event(Map.of("finish", 0, "like", 1), Map.of("x", Float.NaN), 1))));
        assertNull(encoder.exampleInPlace(Wire.encode(event(Map.of("finish", 0), Map.of(), 1))));
    }

    /** Told to pass over labels of other tasks, the encoder reads an event that carries more tasks as the same event without them. */
    @Test
    void labelsOfTasksTheModelDoesNotTrainArePassedOverWhenToldTo() throws Exception {
        ModelConfig cfg = ModelConfig.fromMap(Map.of("features", "user_id,item_id,device", "dense-features", "x", "tasks", "finish,like"));
        FeatureEncoder passing = new FeatureEncoder(cfg, 3, true);
        FeedbackEvent wider = event(Map.of("finish", 1, "share", 1, "like", 0, "comment", 7), Map.of("x", 0.5f), 2);
        Example expected = new FeatureEncoder(cfg, 3).example(event(Map.of("finish", 1, "like", 0), Map.of("x", 0.5f), 2));
        assertEquals(expected, passing.example(wider));
        assertEquals(expected, passing.exampleInPlace(Wire.encode(wider)));
        assertTrue(refusal(new FeatureEncoder(cfg, 3), wider).startsWith("label for unknown task '"));
        // what the job trains is still required, and checked
        assertEquals("missing label for task 'like'", refusal(passing, event(Map.of("finish", 1, "share", 0), Map.of(), 1)));
        assertEquals("label of task 'finish' is 2, not 0 or 1", refusal(passing, event(Map.of("finish", 2, "like", 0, "share", 0), Map.of(), 1)));
    }

    /** A dense field the event lacks is marked missing (the model reads it as the field's mean), on every way in. */
    @Test
    void aDenseFieldTheEventLacksIsMissingNotZero() throws Exception {
        ModelConfig cfg = ModelConfig.fromMap(Map.of("features", "user_id,item_id", "dense-features", "x,y", "tasks", "finish,like"));
        FeatureEncoder encoder = new FeatureEncoder(cfg);
        FeedbackEvent lacksX = event(Map.of("finish", 1, "like", 0), Map.of("y", 2f), 0);
        Example decoded = encoder.example(lacksX);
        assertTrue(Float.isNaN(decoded.dense[0]), "x: " + decoded.dense[0]);
        assertEquals(2f, decoded.dense[1]);
        assertEquals(decoded, encoder.exampleInPlace(Wire.encode(lacksX)));
        Example served = encoder.encode(Map.of(), Map.of("y", 2f));
        assertTrue(Float.isNaN(served.dense[0]) && served.dense[1] == 2f, Arrays.toString(served.dense));
        assertEquals(0f, encoder.example(event(Map.of("finish", 1, "like", 0), Map.of("x", 0f, "y", 2f), 0)).dense[0], "a 0 is a value");
    }
}

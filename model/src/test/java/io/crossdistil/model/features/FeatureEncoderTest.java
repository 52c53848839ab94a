package io.crossdistil.model.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.model.ModelConfig;
import java.nio.charset.StandardCharsets;
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
    }
}

package io.crossdistil.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.job.io.EventDecoder;
import io.crossdistil.job.io.InvalidEventException;
import io.crossdistil.model.Example;
import io.crossdistil.model.ModelConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventDecoderTest {
    private static final ModelConfig CFG = ModelConfig.fromMap(Map.of("features", "user_id,item_id,author,device",
            "dense-features", "watch,age"));

    private static byte[] event(String id, Map<String, String> categorical, Map<String, Float> dense, int finish, int like) {
        return Wire.encode(FeedbackEvent.newBuilder().setEventId(id).setUserId("u-" + id).setItemId("i-" + id)
                .setEventTime(1_700_000_000_000L).setCategorical(categorical).setDense(dense)
                .setLabels(Map.of("finish", finish, "like", like)).build());
    }

    /** The decoder refills one Avro record from event to event: nothing of an earlier event may reach a later one. */
    @Test
    void aDecoderThatDecodedOtherEventsGivesWhatAFreshOneGives() throws Exception {
        byte[] full = event("a", Map.of("author", "x", "device", "tv"), Map.of("watch", 0.5f, "age", 3f), 1, 1);
        byte[] sparse = event("b", Map.of(), Map.of(), 0, 1);
        byte[] other = event("c", Map.of("device", "phone"), Map.of("age", 7f), 1, 0);
        EventDecoder used = new EventDecoder(CFG, 1000, 1 << 20);
        Example first = used.decode(full);
        Example firstAgain = new EventDecoder(CFG, 1000, 1 << 20).decode(full);
        for (byte[] next : new byte[][] {sparse, other, full}) {
            assertEquals(new EventDecoder(CFG, 1000, 1 << 20).decode(next), used.decode(next));
        }
        // an Example handed out earlier is its own: later decodes change none of it
        assertEquals(firstAgain, first);
        assertArrayEquals(firstAgain.dense, first.dense);
    }

    @Test
    void aBadRecordBetweenGoodOnesChangesNothingForTheNext() throws Exception {
        EventDecoder used = new EventDecoder(CFG, 1000, 1 << 20);
        byte[] good = event("a", Map.of("author", "x"), Map.of("watch", 1f), 1, 0);
        used.decode(event("z", Map.of("author", "y", "device", "pc"), Map.of("age", 2f), 0, 0));
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
        assertThrows(InvalidEventException.class, () -> used.decode(truncated));
        assertEquals(new EventDecoder(CFG, 1000, 1 << 20).decode(good), used.decode(good));
    }
}

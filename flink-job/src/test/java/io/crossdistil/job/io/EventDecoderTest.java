package io.crossdistil.job.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.features.InvalidEventException;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
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

    /**
     * The event reader reads what Avro's message decoder reads, and for bytes that are not an intact
     * event throws what it throws: truncated records, a wrong marker, an unknown fingerprint, trailing bytes.
     */
    @Test
    void theEventReaderReadsAndRefusesWhatAvrosMessageDecoderDoes() throws Exception {
        byte[] full = event("a", Map.of("author", "x", "device", "tv"), Map.of("watch", 0.5f, "age", 3f), 1, 1);
        Wire.FeedbackEventReader reader = Wire.feedbackEventReader();
        FeedbackEvent reused = null;
        for (byte[] bytes : new byte[][] {full, event("b", Map.of(), Map.of(), 0, 1), full}) {
            reused = reader.read(bytes, reused);
            assertEquals(FeedbackEvent.getDecoder().decode(bytes), reused);
        }
        byte[] unknownSchema = full.clone();
        unknownSchema[5] ^= 0x55;
        byte[] badMarker = full.clone();
        badMarker[0] = 0x01; // 0x00 would be a Schema Registry serializer's framing
        byte[] longer = java.util.Arrays.copyOf(full, full.length + 4);
        for (byte[] bytes : new byte[][] {java.util.Arrays.copyOf(full, full.length - 3), java.util.Arrays.copyOf(full, 11),
                java.util.Arrays.copyOf(full, 5), unknownSchema, badMarker, longer, new byte[0]}) {
            assertEquals(thrownBy(() -> FeedbackEvent.getDecoder().decode(bytes)),
                    thrownBy(() -> Wire.feedbackEventReader().read(bytes, null)), "bytes of length " + bytes.length);
        }
        assertEquals(FeedbackEvent.getDecoder().decode(longer), reader.read(longer, null));
    }

    private interface Decode {
        Object run() throws Exception;
    }

    /** What a decode throws: its class, message and cause's class (a dead letter's reason is made of them). */
    private static String thrownBy(Decode d) {
        try {
            d.run();
            return "nothing";
        } catch (Throwable t) {
            return t.getClass().getName() + ": " + t.getMessage() + (t.getCause() == null ? "" : " (" + t.getCause().getClass().getName() + ")");
        }
    }

    /** The test resource of a producer's later version of the schema: a field added, one dropped, another order. */
    static final String VERSION_TWO = "writer-schemas/FeedbackEvent-v2.avsc";

    /** An event written with the schema {@code json} as a producer on that version writes it: its fields of ours, and a session id. */
    static byte[] eventOfVersion(String json, String id, Map<String, String> categorical, Map<String, Float> dense,
            Map<String, Integer> labels) throws java.io.IOException {
        Schema schema = new Schema.Parser().parse(json);
        GenericRecord r = new GenericData.Record(schema);
        r.put("event_id", id);
        r.put("session_id", "s-" + id);
        r.put("user_id", "u-" + id);
        r.put("item_id", "i-" + id);
        r.put("event_time", 1_700_000_000_000L);
        r.put("categorical", categorical);
        r.put("dense", dense);
        r.put("labels", labels);
        return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(r).array();
    }

    /** A single-object record's body framed as a Schema Registry serializer frames it: byte 0, the schema id (big-endian), the body. */
    static byte[] registryFramed(int id, byte[] singleObject) {
        byte[] framed = new byte[singleObject.length - 10 + 5];
        java.nio.ByteBuffer.wrap(framed).put((byte) 0).putInt(id).put(singleObject, 10, singleObject.length - 10);
        return framed;
    }

    static String resource(String name) throws java.io.IOException {
        try (java.io.InputStream in = EventDecoderTest.class.getClassLoader().getResourceAsStream(name)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    void anEventOfAnotherSchemaVersionIsADeadLetterUntilTheDecoderIsGivenIt() throws Exception {
        String json = resource(VERSION_TWO);
        Map<String, String> categorical = Map.of("author", "x", "device", "tv");
        Map<String, Float> dense = Map.of("watch", 0.5f, "age", 3f);
        byte[] bytes = eventOfVersion(json, "a", categorical, dense, Map.of("finish", 1, "like", 1));

        InvalidEventException refused = assertThrows(InvalidEventException.class, () -> new EventDecoder(CFG, 1000, 1 << 20).decode(bytes));
        assertTrue(refused.getMessage().startsWith("unknown writer schema: ") && refused.getMessage().endsWith("--writer-schemas)"),
                refused.getMessage());
        Example sameEventOfOurs = new EventDecoder(CFG, 1000, 1 << 20).decode(event("a", categorical, dense, 1, 1));
        EventDecoder given = new EventDecoder(CFG, new DecodeSettings(1000, 1 << 20, false, List.of(json)));
        assertEquals(sameEventOfOurs, given.decode(bytes));
        assertEquals(sameEventOfOurs, given.decode(event("a", categorical, dense, 1, 1)), "and the project's own events as before");
    }

    /** As a Confluent Schema Registry serializer frames a record: byte 0, the schema id, the Avro body. */
    @Test
    void anEventFramedByASchemaRegistrySerializerIsADeadLetterUntilTheDecoderIsGivenItsIdsSchema() throws Exception {
        String json = resource(VERSION_TWO);
        Map<String, String> categorical = Map.of("author", "x", "device", "tv");
        Map<String, Float> dense = Map.of("watch", 0.5f, "age", 3f);
        byte[] framed = registryFramed(17, eventOfVersion(json, "a", categorical, dense, Map.of("finish", 1, "like", 1)));

        InvalidEventException refused = assertThrows(InvalidEventException.class, () -> new EventDecoder(CFG, 1000, 1 << 20).decode(framed));
        assertEquals("framed by a Schema Registry serializer (byte 0, schema id 17), and the job was not given that id's schema"
                + " (--registry-schemas 17=FILE)", refused.getMessage());
        EventDecoder given = new EventDecoder(CFG, new DecodeSettings(1000, 1 << 20, false, List.of(), Map.of(17, json)));
        assertEquals(new EventDecoder(CFG, 1000, 1 << 20).decode(event("a", categorical, dense, 1, 1)), given.decode(framed));
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

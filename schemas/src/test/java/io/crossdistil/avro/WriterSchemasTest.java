package io.crossdistil.avro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.junit.jupiter.api.Test;

/** Events written with other versions of the event schema: read when the reader is given the version, refused otherwise. */
class WriterSchemasTest {
    private static final Schema OURS = FeedbackEvent.getClassSchema();

    /**
     * A producer's version of the schema: every field of ours but {@code without} (in reverse order,
     * which resolution does not mind), plus {@code added}.
     */
    static Schema version(String name, String without, List<Schema.Field> added) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : OURS.getFields()) {
            if (!f.name().equals(without)) {
                fields.add(0, new Schema.Field(f, f.schema()));
            }
        }
        fields.addAll(added);
        return Schema.createRecord(name, null, OURS.getNamespace(), false, fields);
    }

    /** Version 2 as a producer team might write it: a new field, and the optional teacher scores dropped. */
    static Schema versionTwo() {
        return version("FeedbackEvent", "teacher_scores", List.of(
                new Schema.Field("session_id", Schema.create(Schema.Type.STRING), "the app session", (Object) null)));
    }

    static byte[] writeVersionTwo(Schema v2) {
        GenericRecord r = new GenericData.Record(v2);
        r.put("event_id", "e1");
        r.put("user_id", "u1");
        r.put("item_id", "i1");
        r.put("event_time", 1_700_000_000_000L);
        r.put("categorical", Map.of("device", "tv"));
        r.put("dense", Map.of("watch", 0.5f));
        r.put("labels", Map.of("finish", 1, "like", 0));
        r.put("session_id", "s-42");
        try {
            return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v2).encode(r).array();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anEventOfAnotherVersionIsReadAsOursOnceTheReaderIsGivenIt() throws Exception {
        Schema v2 = WriterSchemas.parse(versionTwo().toString(), "v2.avsc");
        byte[] bytes = writeVersionTwo(v2);

        assertThrows(MissingSchemaException.class, () -> Wire.feedbackEventReader().read(bytes, null),
                "a reader that does not know the version cannot read the event");
        FeedbackEvent e = Wire.feedbackEventReader(List.of(v2)).read(bytes, null);
        assertEquals("e1", e.getEventId());
        assertEquals("u1", e.getUserId());
        assertEquals(1_700_000_000_000L, e.getEventTime());
        assertEquals(Map.of("device", "tv"), e.getCategorical());
        assertEquals(Map.of("watch", 0.5f), e.getDense());
        assertEquals(Map.of("finish", 1, "like", 0), e.getLabels());
        assertNull(e.getTeacherScores(), "a field the writer lacks takes its default");

        // the project's own events still take the reader's own path
        FeedbackEvent own = FeedbackEvent.newBuilder(e).setTeacherScores(Map.of("like", 0.25f)).build();
        assertEquals(own, Wire.feedbackEventReader(List.of(v2)).read(Wire.encode(own), null));
    }

    /** Framed as a Confluent Schema Registry serializer frames it: byte 0, the schema id (4 bytes, big-endian), the Avro body. */
    static byte[] registryFramed(int id, byte[] singleObject) {
        byte[] framed = new byte[5 + singleObject.length - 10];
        java.nio.ByteBuffer.wrap(framed).put(Wire.REGISTRY_MAGIC).putInt(id).put(singleObject, 10, singleObject.length - 10);
        return framed;
    }

    @Test
    void anEventFramedByASchemaRegistrySerializerIsReadWithItsIdsSchema() throws Exception {
        Schema v2 = WriterSchemas.parse(versionTwo().toString(), "v2.avsc");
        byte[] bytes = registryFramed(70_000, writeVersionTwo(v2));
        FeedbackEvent expected = Wire.feedbackEventReader(List.of(v2)).read(writeVersionTwo(v2), null);

        Wire.FeedbackEventReader reader = Wire.feedbackEventReader(List.of(), Map.of(70_000, v2, 3, OURS));
        assertEquals(expected, reader.read(bytes, null));
        FeedbackEvent own = FeedbackEvent.newBuilder(expected).setTeacherScores(Map.of("like", 0.25f)).build();
        assertEquals(own, reader.read(registryFramed(3, Wire.encode(own)), null), "our own schema under its id");
        assertEquals(own, reader.read(Wire.encode(own), null), "and single-object events as before");

        Wire.UnknownSchemaIdException unknown = assertThrows(Wire.UnknownSchemaIdException.class,
                () -> reader.read(registryFramed(70_001, writeVersionTwo(v2)), null));
        assertEquals(70_001, unknown.id());
        assertThrows(Wire.UnknownSchemaIdException.class, () -> Wire.feedbackEventReader().read(bytes, null),
                "a reader given no ids reads none");
        // the wrong schema for the id: Avro's resolution fails on the body rather than reading nonsense silently
        assertThrows(RuntimeException.class, () -> reader.read(registryFramed(3, writeVersionTwo(v2)), null));
    }

    @Test
    void aVersionWhoseEventsCannotBeReadIsRefusedSayingWhy() {
        // the labels as strings
        Schema stringLabels = version("FeedbackEvent", "labels", List.of(
                new Schema.Field("labels", Schema.createMap(Schema.create(Schema.Type.STRING)), null, (Object) null)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WriterSchemas.parse(stringLabels.toString(), "'labels.avsc'"));
        assertTrue(e.getMessage().startsWith("writer schema 'labels.avsc' (io.crossdistil.avro.FeedbackEvent): events written with it"
                + " cannot be read as io.crossdistil.avro.FeedbackEvent: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("the project's field 'labels' (/fields/6/type/values): type mismatch: "
                + "reader type: INT not compatible with writer type: STRING"), e.getMessage());

        // no event id, which the project's schema requires and has no default for
        e = assertThrows(IllegalArgumentException.class, () -> WriterSchemas.parse(version("FeedbackEvent", "event_id", List.of()).toString(), "v0"));
        assertTrue(e.getMessage().contains("the project's field 'event_id' (/fields/0): reader field missing default value"), e.getMessage());

        // another record's name
        e = assertThrows(IllegalArgumentException.class, () -> WriterSchemas.parse(version("Impression", "", List.of()).toString(), "v3"));
        assertTrue(e.getMessage().contains("(io.crossdistil.avro.Impression)"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> WriterSchemas.parse("{\"type\": \"recrd\"}", "'bad.avsc'"));
        assertTrue(e.getMessage().startsWith("writer schema 'bad.avsc' is not an Avro schema: "), e.getMessage());

        assertEquals(OURS, WriterSchemas.parse(OURS.toString(), "ours"), "the project's own schema is a writer schema too");
    }
}

package io.crossdistil.job.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.job.JobConfig;
import io.crossdistil.model.event.Example;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

/** The decode function as Flink ships it (serialized with the job) and runs it, with what the job's configuration says it accepts. */
class DecodeFunctionTest {
    @Test
    void aProducersLaterSchemaVersionWithMoreTasksTrainsWhenTheJobIsToldSo() throws Exception {
        String v2 = Path.of(DecodeFunctionTest.class.getResource("/" + EventDecoderTest.VERSION_TWO).toURI()).toString();
        JobConfig c = JobConfig.fromArgs(new String[] {"--bootstrap-servers", "127.0.0.1:9", "--writer-schemas", v2,
                "--registry-schemas", "17=" + v2, "--other-labels", "ignore"});
        DecodeFunction shipped = InstantiationUtil.clone(new DecodeFunction(c.modelOptions(), c.decodeSettings()));

        byte[] later = EventDecoderTest.eventOfVersion(EventDecoderTest.resource(EventDecoderTest.VERSION_TWO), "a", Map.of(), Map.of(),
                Map.of("finish", 1, "like", 0, "share", 1));
        byte[] ours = Wire.encode(FeedbackEvent.newBuilder().setEventId("b").setUserId("u").setItemId("i").setEventTime(0L)
                .setLabels(Map.of("finish", 0, "like", 1, "comment", 0)).build());
        byte[] framed = EventDecoderTest.registryFramed(17, later); // the same event from a Schema Registry serializer
        byte[] bad = Wire.encode(FeedbackEvent.newBuilder().setEventId("c").setUserId("u").setItemId("i").setEventTime(0L)
                .setLabels(Map.of("finish", 0)).build());
        try (OneInputStreamOperatorTestHarness<RawRecord, Example> h = ProcessFunctionTestHarnesses.forProcessFunction(shipped)) {
            for (byte[] record : List.of(later, ours, bad, framed)) {
                h.processElement(new RawRecord(record, "feedback", 0, 0), 0);
            }
            assertEquals(List.of(0b10, 0b01, 0b10), h.extractOutputValues().stream().map(e -> e.permutation).toList(),
                    "finish+ like- and finish- like+, the other tasks' labels passed over");
            assertEquals(h.extractOutputValues().get(0), h.extractOutputValues().get(2), "framed or not, the same event");
            List<DeadLetterRecord> dead = h.getSideOutput(DecodeFunction.DEAD_LETTERS).stream().map(r -> r.getValue()).toList();
            assertEquals(1, dead.size());
            assertTrue(dead.get(0).reason.contains("missing label for task 'like'"), dead.get(0).reason);
        }
    }
}

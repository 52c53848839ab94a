package io.crossdistil.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.job.io.ExampleSerializer;
import io.crossdistil.job.io.ExampleTypeInfo;
import io.crossdistil.model.event.Example;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** The job graph as built (nothing runs): operator identities and the decoded events' type. */
class CrossDistilPipelineTest {
    @Test
    void decodedEventsTravelWithTheirOwnSerializerAndEveryStatefulOperatorHasItsUid() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        CrossDistilPipeline.build(env, JobConfig.fromArgs(new String[] {"--bootstrap-servers", "127.0.0.1:9"}));
        Map<String, Transformation<?>> byUid = env.getTransformations().stream()
                .flatMap(t -> t.getTransitivePredecessors().stream())
                .filter(t -> t.getUid() != null)
                .collect(Collectors.toMap(Transformation::getUid, t -> t, (a, b) -> a));
        for (String uid : List.of(CrossDistilPipeline.SOURCE_UID, CrossDistilPipeline.DECODE_UID, CrossDistilPipeline.TRAINER_UID)) {
            assertTrue(byUid.containsKey(uid), "no operator with uid " + uid + " in " + byUid.keySet());
        }
        Transformation<?> decode = byUid.get(CrossDistilPipeline.DECODE_UID);
        assertEquals(ExampleTypeInfo.INSTANCE, decode.getOutputType());
        assertEquals(Example.class, decode.getOutputType().getTypeClass());
        assertTrue(decode.getOutputType().createSerializer(new SerializerConfigImpl()) instanceof ExampleSerializer,
                "the trainer's thread would deserialize events with Flink's reflective POJO serializer");
    }
}

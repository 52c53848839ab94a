package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.job.CrossDistilJob;
import io.crossdistil.job.io.SnapshotTopic;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.ModelConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job checks, on a real broker, that its snapshot topic can take a snapshot before it starts. */
class SnapshotTopicTest {
    @Test
    void aTopicThatCannotTakeASnapshotStopsTheJobAtStartAndAMissingOneIsCreated(@TempDir Path dir) throws Exception {
        ModelConfig cfg = ModelConfig.defaults(); // 131,072 x 8 floats: 4 MB of embeddings
        try (EmbeddedKafka kafka = EmbeddedKafka.start(); Admin admin = kafka.admin()) {
            // Kafka's default limit, as a topic made without thought for snapshots has it
            admin.createTopics(List.of(new NewTopic("small", 1, (short) 1).configs(Map.of("max.message.bytes", "1048588"))))
                    .all().get(60, TimeUnit.SECONDS);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SnapshotTopic.prepare(kafka.bootstrapServers(), new Properties(), "small", cfg));
            assertTrue(e.getMessage().startsWith("snapshot topic 'small' takes messages of at most 1048588 bytes (max.message.bytes), and a"
                    + " snapshot of this model takes more than 2097152"), e.getMessage());
            assertTrue(e.getMessage().contains("--alter --entity-type topics --entity-name small --add-config max.message.bytes="),
                    e.getMessage());
            // the job's entry point refuses it before it submits anything
            kafka.createTopic("feedback", 1, false);
            e = assertThrows(IllegalArgumentException.class, () -> CrossDistilJob.main(new String[] {"--bootstrap-servers",
                    kafka.bootstrapServers(), "--snapshot-topic", "small", "--checkpoint-dir", dir.toUri().toString()}));
            assertTrue(e.getMessage().startsWith("crossdistil: snapshot topic 'small' takes messages of at most"), e.getMessage());
            // a smaller model fits
            SnapshotTopic.prepare(kafka.bootstrapServers(), new Properties(), "small", ModelConfig.fromMap(Map.of("hash-rows", "16384")));

            // a missing topic is created as serving needs it
            SnapshotTopic.prepare(kafka.bootstrapServers(), new Properties(), "model-snapshots", cfg);
            ConfigResource created = new ConfigResource(ConfigResource.Type.TOPIC, "model-snapshots");
            Config c = admin.describeConfigs(List.of(created)).all().get(60, TimeUnit.SECONDS).get(created);
            assertEquals("compact", c.get("cleanup.policy").value());
            assertEquals(Integer.toString(256 * 1024 * 1024), c.get("max.message.bytes").value());
            SnapshotTopic.prepare(kafka.bootstrapServers(), new Properties(), "model-snapshots", cfg);
        }
    }

    /** A wrong --bootstrap-servers stops the job at start with a message about the address, not about the topic. */
    @Test
    void brokersThatDoNotAnswerStopTheJobSayingWhatToCheck(@TempDir Path dir) throws Exception {
        String nobody = "127.0.0.1:" + EmbeddedKafka.freePort();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CrossDistilJob.main(new String[] {
                "--bootstrap-servers", nobody, "--checkpoint-dir", dir.toUri().toString(),
                "--kafka.default.api.timeout.ms", "2000", "--kafka.request.timeout.ms", "1000"}));
        assertTrue(e.getMessage().startsWith("Kafka at " + nobody + " did not answer: check --bootstrap-servers"), e.getMessage());
    }
}

package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.job.CrossDistilJob;
import io.crossdistil.job.io.FeedbackTopics;
import io.crossdistil.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job checks, on a real broker, the topics it reads and writes before it starts. */
class FeedbackTopicsTest {
    @Test
    void aMissingEventsTopicStopsTheJobAndMissingOutputTopicsAreCreated(@TempDir Path dir) throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(); Admin admin = kafka.admin()) {
            // a misspelt topic: before, the job ran and its source failed over and over without a word on the console
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CrossDistilJob.main(new String[] {
                    "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "feedbak", "--checkpoint-dir", dir.toUri().toString()}));
            assertTrue(e.getMessage().startsWith("crossdistil: the events topic 'feedbak' does not exist at " + kafka.bootstrapServers()
                    + ": fix --topic, or create it"), e.getMessage());
            assertEquals(Set.of(), admin.listTopics().names().get(), "nothing created for a job that does not start");

            kafka.createTopic("feedback", 2, false);
            FeedbackTopics.prepare(kafka.bootstrapServers(), new Properties(), "feedback", "feedback-dlq", null);
            assertEquals(Set.of("feedback", "feedback-dlq"), admin.listTopics().names().get(), "no metrics topic asked for");
            FeedbackTopics.prepare(kafka.bootstrapServers(), new Properties(), "feedback", "feedback-dlq", "feedback-metrics");
            assertEquals(Set.of("feedback", "feedback-dlq", "feedback-metrics"), admin.listTopics().names().get());
            assertEquals(2, admin.describeTopics(Set.of("feedback")).allTopicNames().get().get("feedback").partitions().size(),
                    "the events topic is left as it is");

            // a dead-letter topic that cannot take a large bad record's dead letter would fail the job at that record
            admin.createTopics(List.of(new NewTopic("small-dlq", 1, (short) 1).configs(Map.of("max.message.bytes", "500000"))))
                    .all().get(60, TimeUnit.SECONDS);
            e = assertThrows(IllegalArgumentException.class,
                    () -> FeedbackTopics.prepare(kafka.bootstrapServers(), new Properties(), "feedback", "small-dlq", null));
            assertTrue(e.getMessage().startsWith("the dead-letter topic 'small-dlq' takes messages of at most 500000 bytes"),
                    e.getMessage());
        }
    }
}

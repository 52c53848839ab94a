package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.job.CrossDistilJob;
import io.crossdistil.job.io.FeedbackTopics;
import io.crossdistil.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
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
        }
    }
}

package io.crossdistil.job.io;

import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before the job starts, the topics it reads and writes besides the snapshot topic
 * ({@link SnapshotTopic}). A missing events topic (a misspelt --topic) is refused: the Kafka
 * source's enumerator fails on it and the job restarts for ever without reading a record. A
 * missing dead-letter or metrics topic is created with the brokers' defaults, as their
 * auto-creation would, so that a cluster without it (auto.create.topics.enable=false, usual in
 * production) does not fail the job at its first bad record or report; an existing dead-letter
 * topic must take the largest dead letter.
 */
public final class FeedbackTopics {
    private static final Logger LOG = LoggerFactory.getLogger(FeedbackTopics.class);

    /** The largest dead letter: its raw bytes and room for the reason and the source's name. */
    static final int DEAD_LETTER_BYTES = DeadLetterRecord.MAX_RAW_BYTES + 32 * 1024;

    private FeedbackTopics() {}

    /**
     * @param dlqTopic the dead-letter topic
     * @param metricsTopic the reports' topic, or null for none
     * @throws IllegalArgumentException for a missing events topic or a topic the job may not create, saying what to do
     */
    public static void prepare(String servers, Properties extra, String topic, String dlqTopic, String metricsTopic) {
        try (Admin admin = AdminCalls.open(servers, extra)) {
            try {
                AdminCalls.get(admin.describeTopics(List.of(topic)).allTopicNames(), servers);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    throw new IllegalArgumentException("the events topic '" + topic + "' does not exist at " + servers + ": fix --topic,"
                            + " or create it (kafka-topics.sh --bootstrap-server " + servers + " --create --topic " + topic
                            + " --partitions P)", e.getCause());
                }
                throw new IllegalStateException("could not read the events topic '" + topic + "'", e.getCause());
            }
            if (!createIfMissing(admin, servers, dlqTopic, "dlq-topic")) {
                checkDeadLetterLimit(admin, servers, dlqTopic);
            }
            if (metricsTopic != null) {
                createIfMissing(admin, servers, metricsTopic, "metrics-topic");
            }
        }
    }

    /** Creates the topic when it is missing; false when it was there. */
    private static boolean createIfMissing(Admin admin, String servers, String name, String option) {
        try {
            boolean created = AdminCalls.createIfMissing(admin, servers, new NewTopic(name, Optional.empty(), Optional.empty()));
            if (created) {
                LOG.info("Created the topic '{}' (--{}) with the brokers' defaults", name, option);
            }
            return created;
        } catch (ExecutionException e) {
            throw new IllegalArgumentException("the topic '" + name + "' (--" + option + ") does not exist at " + servers
                    + " and the job could not create it (" + e.getCause().getMessage() + "): create it, or name one that exists",
                    e.getCause());
        }
    }

    /** A dead letter carries up to {@link DeadLetterRecord#MAX_RAW_BYTES} of its record: a topic that cannot take that fails the job at the first large bad record, again after every restart. */
    private static void checkDeadLetterLimit(Admin admin, String servers, String name) {
        long limit;
        try {
            limit = AdminCalls.maxMessageBytes(AdminCalls.topicConfig(admin, servers, name));
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not read the settings of the dead-letter topic '" + name + "'", e.getCause());
        }
        if (limit < DEAD_LETTER_BYTES) {
            throw new IllegalArgumentException("the dead-letter topic '" + name + "' takes messages of at most " + limit
                    + " bytes (max.message.bytes), and a dead letter carries up to " + DeadLetterRecord.MAX_RAW_BYTES
                    + " bytes of its record: raise the limit to " + DEAD_LETTER_BYTES + " or more (Kafka's default, 1048588, is)");
        }
    }
}

package io.crossdistil.job.io;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before data-parallel trainers start, that every trainer will have input of its own, and
 * creates the exchange topic when it is missing (docs/scaling.md).
 */
public final class ExchangeTopics {
    private static final Logger LOG = LoggerFactory.getLogger(ExchangeTopics.class);
    /** Largest update a trainer may send; a broker's own message.max.bytes may be lower. */
    public static final int MAX_UPDATE_BYTES = 64 * 1024 * 1024;

    private ExchangeTopics() {}

    /**
     * @throws IllegalArgumentException when the feedback topic has fewer partitions than trainers
     *     (a trainer without a partition would never end a round, and every trainer waits for it)
     */
    public static void prepare(String servers, Properties extra, String topic, int trainers, String exchangeTopic) {
        try (Admin admin = AdminCalls.open(servers, extra)) {
            int partitions;
            try {
                partitions = AdminCalls.get(admin.describeTopics(List.of(topic)).allTopicNames(), servers).get(topic).partitions().size();
            } catch (ExecutionException e) {
                throw new IllegalArgumentException("--trainers " + trainers + " needs to know the partitions of topic '" + topic + "': "
                        + e.getCause().getMessage(), e);
            }
            if (partitions < trainers) {
                throw new IllegalArgumentException("topic '" + topic + "' has " + partitions + " partitions; --trainers " + trainers
                        + " needs at least " + trainers + " (each trainer reads partitions of its own; exactly " + trainers
                        + " for a bit-reproducible model)");
            }
            if (partitions != trainers) {
                LOG.warn("Topic '{}' has {} partitions for {} trainers: a trainer reading several partitions takes their records in arrival order, "
                        + "so the model is not bit-reproducible from run to run (every event is still trained exactly once)", topic, partitions, trainers);
            }
            try {
                if (AdminCalls.createIfMissing(admin, servers, new NewTopic(exchangeTopic, 1, (short) -1)
                        .configs(Map.of("max.message.bytes", Integer.toString(MAX_UPDATE_BYTES))))) {
                    LOG.info("Created the exchange topic '{}'", exchangeTopic);
                } else {
                    warnIfSmall(admin, servers, exchangeTopic);
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException("could not create the exchange topic '" + exchangeTopic + "'", e.getCause());
            }
        }
    }

    /** A topic made beforehand may have Kafka's default 1 MB limit, below what longer rounds' updates take. */
    private static void warnIfSmall(Admin admin, String servers, String exchangeTopic) {
        try {
            long limit = AdminCalls.maxMessageBytes(AdminCalls.topicConfig(admin, servers, exchangeTopic));
            if (limit < MAX_UPDATE_BYTES) {
                LOG.warn("The exchange topic '{}' takes messages of at most {} bytes (max.message.bytes): an update larger than that "
                        + "fails the trainers (about 0.13 to 0.3 MB a round of one step with the default model, up to 1.1 MB with longer "
                        + "rounds; each trainer's updateBytes gauge shows it); the job creates the topic with {} when it is missing",
                        exchangeTopic, limit, MAX_UPDATE_BYTES);
            }
        } catch (ExecutionException e) {
            LOG.warn("Could not read the settings of the exchange topic '{}': {}", exchangeTopic, e.getCause().toString());
        }
    }
}

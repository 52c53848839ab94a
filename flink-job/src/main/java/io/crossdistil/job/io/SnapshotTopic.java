package io.crossdistil.job.io;

import io.crossdistil.model.ModelConfig;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before the job starts, that the snapshot topic can take a snapshot, and creates it
 * (compacted, large messages) when it is missing. A topic with Kafka's default message limit
 * (1 MB) refuses every snapshot of the default model (about 4 MB): the sink's write fails, the job
 * restarts from its checkpoint, trains up to the snapshot again and fails again, for ever.
 */
public final class SnapshotTopic {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotTopic.class);
    /** max.message.bytes of a topic the job creates: what its snapshot producer may send (KafkaSinks). */
    static final int CREATED_MAX_MESSAGE_BYTES = KafkaSinks.MAX_REQUEST_BYTES;

    private SnapshotTopic() {}

    /**
     * Bytes a snapshot of {@code cfg} takes at least on the wire: half its embedding table's floats
     * (the table alone is most of a snapshot; half leaves room for any compression of random-looking
     * floats, so that a topic is never refused that could take the snapshot).
     */
    public static long leastSnapshotBytes(ModelConfig cfg) {
        return 2L * cfg.hashRows * cfg.embeddingDim;
    }

    /**
     * @throws IllegalArgumentException when the topic's max.message.bytes is below
     *     {@link #leastSnapshotBytes}, saying how to raise it
     */
    public static void prepare(String servers, Properties extra, String topic, ModelConfig cfg) {
        try (Admin admin = AdminCalls.open(servers, extra)) {
            Config config;
            try {
                config = AdminCalls.topicConfig(admin, servers, topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new IllegalStateException("could not read the settings of the snapshot topic '" + topic + "'", e.getCause());
                }
                create(admin, servers, topic);
                return;
            }
            long limit = AdminCalls.maxMessageBytes(config);
            long least = leastSnapshotBytes(cfg);
            if (limit < least) {
                throw new IllegalArgumentException("snapshot topic '" + topic + "' takes messages of at most " + limit
                        + " bytes (max.message.bytes), and a snapshot of this model takes more than " + least + " (its embedding table, "
                        + "hash-rows x embedding-dim floats, is most of it): raise the topic's limit, for example kafka-configs.sh"
                        + " --bootstrap-server " + servers + " --alter --entity-type topics --entity-name " + topic
                        + " --add-config max.message.bytes=" + CREATED_MAX_MESSAGE_BYTES + ", or run with --snapshot-topic none");
            }
            if (!config.get("cleanup.policy").value().contains("compact")) {
                LOG.warn("Snapshot topic '{}' is not compacted (cleanup.policy {}): it keeps every snapshot until its retention, and a"
                        + " serving replica reads them all at start; cleanup.policy=compact keeps the newest", topic,
                        config.get("cleanup.policy").value());
            }
        }
    }

    private static void create(Admin admin, String servers, String topic) {
        try {
            if (AdminCalls.createIfMissing(admin, servers, new NewTopic(topic, 1, (short) -1).configs(Map.of("cleanup.policy",
                    "compact", "max.message.bytes", Integer.toString(CREATED_MAX_MESSAGE_BYTES))))) {
                LOG.info("Created the snapshot topic '{}' (compacted, max.message.bytes {})", topic, CREATED_MAX_MESSAGE_BYTES);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not create the snapshot topic '" + topic + "'", e.getCause());
        }
    }
}

package io.crossdistil.job.io;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The job's Kafka sinks. At least once, a recovery may repeat records (see each for why that is
 * harmless); exactly once, each sink writes in Kafka transactions committed with the checkpoint.
 */
public final class KafkaSinks {
    /** Snapshots are keyed by this, so a compacted topic keeps the newest. */
    public static final byte[] SNAPSHOT_KEY = "model".getBytes(StandardCharsets.UTF_8);
    /** A snapshot of the default model is a few MB; Kafka's default request limit is 1 MB. */
    public static final int MAX_REQUEST_BYTES = 256 * 1024 * 1024;
    /**
     * Transactions left open by a crashed writer block read_committed readers until they time out
     * or the restarted job aborts them; Kafka's 60 s default is too close to slow checkpoints, and
     * brokers allow at most 15 minutes unless configured otherwise.
     */
    static final String TRANSACTION_TIMEOUT_MS = Long.toString(Duration.ofMinutes(15).toMillis());

    private KafkaSinks() {}

    /** Dead letters; at least once, a repeat carries the same source offset, which tells them apart. */
    public static KafkaSink<DeadLetterRecord> deadLetters(String servers, String topic, Properties extra,
            DeliveryGuarantee guarantee, String transactionalIdPrefix) {
        return sink(servers, extra, guarantee, transactionalIdPrefix, new DeadLetterSerializer(topic));
    }

    /** Snapshots; a repeated version has the same content, and readers keep the highest version. */
    public static KafkaSink<SnapshotMessage> snapshots(String servers, String topic, Properties extra,
            DeliveryGuarantee guarantee, String transactionalIdPrefix) {
        Properties p = new Properties();
        p.putAll(extra);
        p.putIfAbsent("max.request.size", Integer.toString(MAX_REQUEST_BYTES));
        p.putIfAbsent("compression.type", "lz4");
        return sink(servers, p, guarantee, transactionalIdPrefix, new SnapshotSerializer(topic));
    }

    /** Progress reports; a repeat carries the same event count. */
    public static KafkaSink<MetricsMessage> metrics(String servers, String topic, Properties extra,
            DeliveryGuarantee guarantee, String transactionalIdPrefix) {
        return sink(servers, extra, guarantee, transactionalIdPrefix, new MetricsSerializer(topic));
    }

    private static <T> KafkaSink<T> sink(String servers, Properties extra, DeliveryGuarantee guarantee,
            String transactionalIdPrefix, KafkaRecordSerializationSchema<T> serializer) {
        Properties p = new Properties();
        p.putAll(extra);
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            p.putIfAbsent("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
        }
        return KafkaSink.<T>builder().setBootstrapServers(servers).setKafkaProducerConfig(p)
                .setDeliveryGuarantee(guarantee).setTransactionalIdPrefix(transactionalIdPrefix)
                .setRecordSerializer(serializer).build();
    }

    private record DeadLetterSerializer(String topic) implements KafkaRecordSerializationSchema<DeadLetterRecord> {
        @Override
        public ProducerRecord<byte[], byte[]> serialize(DeadLetterRecord d, KafkaSinkContext ctx, Long timestamp) {
            return new ProducerRecord<>(topic, d.encode());
        }
    }

    private record SnapshotSerializer(String topic) implements KafkaRecordSerializationSchema<SnapshotMessage> {
        @Override
        public ProducerRecord<byte[], byte[]> serialize(SnapshotMessage s, KafkaSinkContext ctx, Long timestamp) {
            return new ProducerRecord<>(topic, SNAPSHOT_KEY, s.bytes);
        }
    }

    private record MetricsSerializer(String topic) implements KafkaRecordSerializationSchema<MetricsMessage> {
        @Override
        public ProducerRecord<byte[], byte[]> serialize(MetricsMessage m, KafkaSinkContext ctx, Long timestamp) {
            return new ProducerRecord<>(topic, m.bytes);
        }
    }
}

package io.crossdistil.job.io;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.producer.ProducerRecord;

/** The job's Kafka sinks. Each writes at least once; duplicates are harmless (see each). */
public final class KafkaSinks {
    /** Snapshots are keyed by this, so a compacted topic keeps the newest. */
    public static final byte[] SNAPSHOT_KEY = "model".getBytes(StandardCharsets.UTF_8);
    /** A snapshot of the default model is a few MB; Kafka's default request limit is 1 MB. */
    public static final int MAX_REQUEST_BYTES = 256 * 1024 * 1024;

    private KafkaSinks() {}

    /** Dead letters; a recovery may repeat some, each carries its source offset to tell them apart. */
    public static KafkaSink<DeadLetterRecord> deadLetters(String servers, String topic, Properties extra) {
        return KafkaSink.<DeadLetterRecord>builder().setBootstrapServers(servers).setKafkaProducerConfig(extra)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setRecordSerializer(new DeadLetterSerializer(topic)).build();
    }

    /** Snapshots; a repeated version has the same content, and readers keep the highest version. */
    public static KafkaSink<SnapshotMessage> snapshots(String servers, String topic, Properties extra) {
        Properties p = new Properties();
        p.putAll(extra);
        p.putIfAbsent("max.request.size", Integer.toString(MAX_REQUEST_BYTES));
        p.putIfAbsent("compression.type", "lz4");
        return KafkaSink.<SnapshotMessage>builder().setBootstrapServers(servers).setKafkaProducerConfig(p)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setRecordSerializer(new SnapshotSerializer(topic)).build();
    }

    public static KafkaSink<MetricsMessage> metrics(String servers, String topic, Properties extra) {
        return KafkaSink.<MetricsMessage>builder().setBootstrapServers(servers).setKafkaProducerConfig(extra)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setRecordSerializer(new MetricsSerializer(topic)).build();
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

package io.crossdistil.cli;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.Wire;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes feedback records to the events topic, spread over its partitions in turn, and records
 * that cannot become events (bad CSV rows) straight to the dead-letter topic with their reason.
 */
public final class FeedbackProducer implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final String dlqTopic;
    private final int partitions;
    private long sent;
    private long deadLetters;

    public FeedbackProducer(String bootstrapServers, String topic, String dlqTopic) {
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
                ProducerConfig.LINGER_MS_CONFIG, "5",
                ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024),
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.dlqTopic = dlqTopic;
        this.partitions = producer.partitionsFor(topic).size();
    }

    /** Sends a record to the partitions in turn, record i to partition i mod P: a replay lays out the same way every time. */
    public void send(byte[] value) {
        send((int) (sent % partitions), value);
    }

    /** Sends a record to one partition. */
    public void send(int partition, byte[] value) {
        producer.send(new ProducerRecord<>(topic, partition, null, value), (meta, e) -> {
            if (e != null) {
                throw new IllegalStateException("could not write to " + topic, e);
            }
        });
        sent++;
    }

    public void deadLetter(String raw, String reason, String source, long line) throws IOException {
        DeadLetter d = DeadLetter.newBuilder().setRaw(ByteBuffer.wrap(raw.getBytes(StandardCharsets.UTF_8)))
                .setReason(reason).setSourceTopic(source).setSourcePartition(-1).setSourceOffset(line)
                .setTime(System.currentTimeMillis()).build();
        producer.send(new ProducerRecord<>(dlqTopic, Wire.encode(d)));
        deadLetters++;
    }

    /** Records sent to the events topic. */
    public long sent() {
        return sent;
    }

    /** Rows sent straight to the dead-letter topic. */
    public long deadLetters() {
        return deadLetters;
    }

    /** Generated events; every {@code badEvery}-th record (if > 0) is a bad one of a rotating kind. */
    public void produceGenerated(List<String> tasks, Generator generator, long events, long badEvery, LongConsumer progress) {
        GeneratedRecords records = new GeneratedRecords(tasks, generator, badEvery);
        for (long i = 1; i <= events; i++) {
            send(records.next().bytes());
            if (i % 10_000 == 0) {
                progress.accept(i);
            }
        }
        producer.flush();
    }

    /** Every row of a CSV: events to the topic, rows that are not events to the dead-letter topic. */
    public void produceCsv(CsvEvents csv, String source, LongConsumer progress) throws IOException {
        long rows = 0;
        for (CsvEvents.Row row = csv.next(); row != null; row = csv.next()) {
            if (row.event() != null) {
                send(Wire.encode(row.event()));
            } else {
                deadLetter(row.raw(), row.error(), "csv:" + source, row.line());
            }
            if (++rows % 10_000 == 0) {
                progress.accept(rows);
            }
        }
        producer.flush();
    }

    @Override
    public void close() {
        producer.close();
    }
}

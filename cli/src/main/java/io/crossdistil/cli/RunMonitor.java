package io.crossdistil.cli;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.TrainingMetrics;
import io.crossdistil.avro.Wire;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows a run from the outside, as any Kafka client would: the trainer's progress reports on the
 * metrics topic and the dead letters on the dead-letter topic.
 */
public final class RunMonitor implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String metricsTopic;
    private final String dlqTopic;
    private final List<DeadLetter> deadLetters = new ArrayList<>();
    private TrainingMetrics latest;
    /** (report time in ms, events trained) of every report, in order. */
    private final List<long[]> progress = new ArrayList<>();

    public RunMonitor(String bootstrapServers, String metricsTopic, String dlqTopic) {
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.metricsTopic = metricsTopic;
        this.dlqTopic = dlqTopic;
        List<TopicPartition> parts = new ArrayList<>();
        for (String t : List.of(metricsTopic, dlqTopic)) {
            consumer.partitionsFor(t).forEach(p -> parts.add(new TopicPartition(t, p.partition())));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
    }

    public void poll(Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            try {
                if (r.topic().equals(metricsTopic)) {
                    latest = Wire.trainingMetrics(r.value());
                    progress.add(new long[] {latest.getTime(), latest.getEventsTrained()});
                } else if (r.topic().equals(dlqTopic)) {
                    deadLetters.add(Wire.deadLetter(r.value()));
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException("unreadable record on " + r.topic() + " at offset " + r.offset(), e);
            }
        }
    }

    /** Reads until every assigned partition is consumed up to its current end. */
    public void drain() {
        Map<TopicPartition, Long> end = new LinkedHashMap<>(consumer.endOffsets(consumer.assignment()));
        long deadline = System.currentTimeMillis() + 60_000;
        while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("could not read the metrics and dead-letter topics to their end");
            }
            poll(Duration.ofMillis(200));
        }
    }

    /**
     * Training throughput in steady state: events per second between the first report with at
     * least {@code fromEvents} trained and the last report, so that the job's start (deployment,
     * native libraries, JIT) does not count. NaN until two such reports exist.
     */
    public double eventsPerSecondAfter(long fromEvents) {
        return eventsPerSecondAfter(progress, fromEvents);
    }

    /** {@link #eventsPerSecondAfter(long)} over recorded reports (see {@link #progress()}). */
    public static double eventsPerSecondAfter(List<long[]> progress, long fromEvents) {
        if (progress.isEmpty()) {
            return Double.NaN;
        }
        long[] first = progress.stream().filter(p -> p[1] >= fromEvents).findFirst().orElse(null);
        return first == null ? Double.NaN : rate(first, progress.get(progress.size() - 1));
    }

    /** How many progress reports have been seen so far. */
    public int reports() {
        return progress.size();
    }

    /** Every progress report seen so far as {report time in ms, events trained}, oldest first. */
    public List<long[]> progress() {
        return List.copyOf(progress);
    }

    /** Events per second over the reports of the last {@code millis} milliseconds of report time; NaN before two. */
    public double recentEventsPerSecond(long millis) {
        if (progress.size() < 2) {
            return Double.NaN;
        }
        long[] last = progress.get(progress.size() - 1);
        long[] first = progress.stream().filter(p -> p != last && p[0] >= last[0] - millis).findFirst()
                .orElse(progress.get(progress.size() - 2));
        return rate(first, last);
    }

    private static double rate(long[] from, long[] to) {
        return to[0] <= from[0] ? Double.NaN : (to[1] - from[1]) * 1000.0 / (to[0] - from[0]);
    }

    public TrainingMetrics latest() {
        return latest;
    }

    public List<DeadLetter> deadLetters() {
        return deadLetters;
    }

    @Override
    public void close() {
        consumer.close();
    }
}

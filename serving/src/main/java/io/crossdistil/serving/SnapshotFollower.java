package io.crossdistil.serving;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.snapshot.SnapshotCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the snapshot topic from its beginning in a background thread and keeps a scorer for the
 * newest intact version: a record that fails its checksum is counted and skipped, and an older or
 * repeated version (a trainer recovering re-sends some) never replaces a newer one.
 */
public final class SnapshotFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotFollower.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final AtomicReference<Scorer> current = new AtomicReference<>();
    private final AtomicLong rejected = new AtomicLong();
    private volatile boolean running = true;

    public SnapshotFollower(String bootstrapServers, String topic, Map<String, Object> extraConsumerConfig) {
        Map<String, Object> config = new java.util.HashMap<>(extraConsumerConfig);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // a job writing exactly once commits snapshots with its checkpoints; never serve an aborted one
        config.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(256 * 1024 * 1024));
        consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        consumer.partitionsFor(topic).forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        thread = new Thread(this::run, "snapshot-follower-" + topic);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    accept(r);
                }
            }
        } catch (WakeupException stopping) {
            // close() woke the consumer
        } finally {
            consumer.close();
        }
    }

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        ModelSnapshot s;
        try {
            s = SnapshotCodec.decode(r.value());
        } catch (SnapshotCodec.CorruptSnapshotException e) {
            rejected.incrementAndGet();
            LOG.warn("Skipping the record at offset {} of {}: {}", r.offset(), r.topic(), e.getMessage());
            return;
        }
        Scorer now = current.get();
        if (now != null && s.getVersion() <= now.version()) {
            return;
        }
        try {
            current.set(Scorer.of(s));
        } catch (RuntimeException e) {
            // an intact snapshot this library cannot serve (an option of a newer trainer): keep
            // serving the version before, and keep following; an exception here ended the thread
            rejected.incrementAndGet();
            LOG.warn("Skipping snapshot version {} at offset {} of {}: {} (upgrade serving before the trainer)", s.getVersion(),
                    r.offset(), r.topic(), e.getMessage());
        }
    }

    /** The scorer of the newest intact version seen so far, if any. */
    public Optional<Scorer> current() {
        return Optional.ofNullable(current.get());
    }

    /** Waits until a version at least {@code version} is loaded. */
    public Optional<Scorer> awaitVersion(long version, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Scorer s = current.get();
            if (s != null && s.version() >= version) {
                return Optional.of(s);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return current();
    }

    /** Records skipped: not intact snapshots, or snapshots this library cannot serve (from a newer trainer). */
    public long rejected() {
        return rejected.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(10_000);
    }
}

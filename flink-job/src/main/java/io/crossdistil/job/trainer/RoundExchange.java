package io.crossdistil.job.trainer;

import io.crossdistil.job.io.ExchangeTopics;
import io.crossdistil.model.parallel.RoundUpdate;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainers' exchange: every trainer writes its round updates to one partition of a Kafka topic
 * and reads every trainer's back, in the partition's order (docs/scaling.md). An update is keyed by
 * (run, round, replica). The whole computation is deterministic, so an update written twice (by a
 * trainer that failed and was restored, or by an attempt that ran on after the checkpoint it is
 * restored from) holds the same bytes both times: the first one read counts and the others are
 * dropped, and Kafka transactions are not needed (nor possible: a trainer cannot wait for a
 * checkpoint to commit what its peers need before they reach that checkpoint).
 *
 * <p>Where to read from survives in the trainer's state ({@link #resumeOffset()}); a trainer that
 * starts afresh reads from the first record written after its run was submitted.
 *
 * <p>Each trainer also writes a marker for every checkpoint it takes (a key one byte longer). A
 * trainer waiting for a round stops waiting when a peer has taken a checkpoint it has not: that
 * checkpoint's barrier lies ahead in its own input, and the peer may be stopped at it (a
 * stop-with-savepoint stops the sources at the barrier), waiting for this trainer's barrier. After
 * a restore, the markers of checkpoints a failed attempt took after the one restored do the same
 * until the trainer takes a newer one: its input then waits in its state a while, nothing more.
 */
final class RoundExchange implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RoundExchange.class);
    /** Records older than the submission by more than this are skipped at a fresh start (clocks of client and brokers differ). */
    private static final long CLOCK_SLACK_MS = Duration.ofMinutes(1).toMillis();
    /** A wait for a round longer than this is logged, with the trainers it waits for, and again after as long. */
    private static final long WAIT_REPORT_NANOS = Duration.ofMinutes(1).toNanos();

    private record Read(RoundUpdate update, long offset) {}

    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final long runId;
    private final DataType dtype;
    /** Updates read but not yet merged: round -> replica -> update. */
    private final TreeMap<Long, Map<Integer, Read>> unmerged = new TreeMap<>();
    /** The newest checkpoint any trainer of the run has written a marker for. */
    private long newestCheckpoint;
    private long waitNanos;
    private long bytesSent;
    private long bytesRead;

    /**
     * @param resumeOffset where a restored trainer reads on, or -1 for a fresh start of the run
     * @param submittedMillis when the run was submitted (where a fresh start reads from)
     */
    RoundExchange(String servers, String topic, Map<String, String> extra, long runId, long resumeOffset, long submittedMillis,
            DataType dtype) {
        this.runId = runId;
        this.dtype = dtype;
        Properties p = new Properties();
        p.putAll(extra);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
        p.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(io.crossdistil.job.io.KafkaSinks.MAX_REQUEST_BYTES));
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "0");
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        Properties c = new Properties();
        c.putAll(extra);
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(io.crossdistil.job.io.KafkaSinks.MAX_REQUEST_BYTES));
        c.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
        // a position retention deleted moves to the oldest record kept, never to the end: see below
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        partition = new TopicPartition(topic, 0);
        consumer.assign(List.of(partition));
        if (resumeOffset >= 0) {
            // Restored from a checkpoint older than the topic's retention: what was written after it is
            // gone. The peers restored from the same checkpoint send their updates of the rounds ahead
            // again (the computation is deterministic), after the oldest record kept; the end would
            // skip those already sent and wait for them for ever. Only a peer that had finished the
            // next round before its own checkpoint barrier does not send it again.
            long oldest = consumer.beginningOffsets(List.of(partition)).get(partition);
            if (resumeOffset < oldest) {
                LOG.warn("The exchange topic {} no longer holds offset {}, where this trainer resumes: its retention is shorter than the "
                        + "age of the checkpoint restored. Reading from the oldest record kept, {}: the peers send their updates again, "
                        + "but one a peer sent before the checkpoint is lost, and if this trainer needs it, it waits for ever (round gauge "
                        + "stuck): restore a newer checkpoint, and keep retention.ms of {} above the age of any checkpoint you restore",
                        topic, resumeOffset, oldest, topic);
            }
            consumer.seek(partition, Math.max(resumeOffset, oldest));
        } else {
            // the end first: a record written after this lookup lies at or after it, one written before is found by its time
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            OffsetAndTimestamp since = consumer.offsetsForTimes(Map.of(partition, submittedMillis - CLOCK_SLACK_MS)).get(partition);
            consumer.seek(partition, since == null ? end : Math.min(since.offset(), end));
        }
    }

    /** Writes an update and waits until the brokers have it. */
    void publish(long round, int replica, byte[] update) throws InterruptedException {
        try {
            producer.send(new ProducerRecord<>(partition.topic(), partition.partition(), key(round, replica), update)).get();
            bytesSent += update.length;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RecordTooLargeException) {
                // the job makes the topic with room for any update; a topic made beforehand may have Kafka's default 1 MB
                throw new IllegalStateException("the update of round " + round + " of trainer " + replica + " is " + update.length
                        + " bytes, more than the exchange topic " + partition.topic() + " takes (max.message.bytes): raise it, e.g."
                        + " kafka-configs.sh --alter --entity-type topics --entity-name " + partition.topic() + " --add-config"
                        + " max.message.bytes=" + ExchangeTopics.MAX_UPDATE_BYTES + " (the job creates the topic so when it is missing)",
                        e.getCause());
            }
            throw new IllegalStateException("could not write round " + round + " of trainer " + replica + " to " + partition.topic(), e.getCause());
        }
    }

    /** Writes the marker of checkpoint {@code id}, taken by trainer {@code replica}, and waits until the brokers have it. */
    void publishCheckpoint(long id, int replica) throws InterruptedException {
        byte[] key = ByteBuffer.allocate(21).putLong(runId).putLong(id).putInt(replica).put((byte) 1).array();
        try {
            producer.send(new ProducerRecord<>(partition.topic(), partition.partition(), key, new byte[0])).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not write trainer " + replica + "'s checkpoint " + id + " to " + partition.topic(),
                    e.getCause());
        }
    }

    /**
     * Blocks until the round's update of every one of {@code replicas} is read and returns them in
     * that order, or returns null as soon as the round is incomplete and a trainer has taken a
     * checkpoint newer than {@code checkpointTaken}, this trainer's newest (see the class comment).
     */
    List<RoundUpdate> await(long round, List<Integer> replicas, long checkpointTaken) {
        long start = System.nanoTime();
        long reported = start;
        unmerged.headMap(round).clear();
        boolean once = false;
        while (!has(round, replicas)) {
            if (newestCheckpoint > checkpointTaken) {
                if (once) {
                    waitNanos += System.nanoTime() - start;
                    return null;
                }
                once = true; // one look at what has come, then leave
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("interrupted while waiting for round " + round);
            }
            if (System.nanoTime() - reported > WAIT_REPORT_NANOS) {
                reported = System.nanoTime();
                LOG.warn("Waiting {} s for round {} of trainers {}: a trainer whose partitions carry no events holds every trainer "
                        + "back (docs/scaling.md); one that is restarting catches up by itself", (reported - start) / 1_000_000_000L,
                        round, missing(round, replicas));
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(once ? Duration.ZERO : Duration.ofMillis(100))) {
                ByteBuffer k = ByteBuffer.wrap(r.key());
                if (r.key().length == 21 && k.getLong() == runId) {
                    newestCheckpoint = Math.max(newestCheckpoint, k.getLong());
                    continue;
                }
                if (r.key().length != 20 || k.getLong() != runId) {
                    continue; // another run's
                }
                long recordRound = k.getLong();
                int recordReplica = k.getInt();
                if (recordRound < round) {
                    continue;
                }
                Map<Integer, Read> byReplica = unmerged.computeIfAbsent(recordRound, x -> new HashMap<>());
                if (!byReplica.containsKey(recordReplica)) {
                    byReplica.put(recordReplica, new Read(RoundUpdate.decode(r.value(), dtype), r.offset()));
                    bytesRead += r.value().length;
                }
            }
        }
        List<RoundUpdate> out = new ArrayList<>();
        for (int j : replicas) {
            out.add(unmerged.get(round).get(j).update());
        }
        unmerged.remove(round);
        waitNanos += System.nanoTime() - start;
        return out;
    }

    private List<Integer> missing(long round, List<Integer> replicas) {
        Map<Integer, Read> got = unmerged.getOrDefault(round, Map.of());
        return replicas.stream().filter(j -> !got.containsKey(j)).toList();
    }

    private boolean has(long round, List<Integer> replicas) {
        return missing(round, replicas).isEmpty();
    }

    /** Where a trainer restored from this moment must read on: the first update read but not merged, else the next record. */
    long resumeOffset() {
        long at = consumer.position(partition);
        for (Map<Integer, Read> round : unmerged.values()) {
            for (Read r : round.values()) {
                at = Math.min(at, r.offset());
            }
        }
        return at;
    }

    private byte[] key(long round, int replica) {
        return ByteBuffer.allocate(20).putLong(runId).putLong(round).putInt(replica).array();
    }

    /** Time spent waiting for (and reading) peers' updates, nanoseconds, since this exchange opened. */
    long waitNanos() {
        return waitNanos;
    }

    long bytesSent() {
        return bytesSent;
    }

    long bytesRead() {
        return bytesRead;
    }

    @Override
    public void close() {
        try {
            producer.close(Duration.ofSeconds(5));
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }
}

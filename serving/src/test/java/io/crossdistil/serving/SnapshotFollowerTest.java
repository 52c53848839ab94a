package io.crossdistil.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.training.OnlineTrainer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** Serving follows the compacted snapshot topic of a real broker. */
class SnapshotFollowerTest {
    @Test
    void keepsTheNewestIntactVersion() throws Exception {
        ModelConfig cfg = ModelConfig.fromMap(Map.of("hash-rows", "1024", "bottom-layers", "16", "tower-layers", "4"));
        OnlineTrainer trainer = new OnlineTrainer(cfg, 100);
        byte[] v1 = SnapshotCodec.encode(trainer.snapshot(1, 1));
        byte[] v3 = SnapshotCodec.encode(trainer.snapshot(3, 3));
        byte[] v2 = SnapshotCodec.encode(trainer.snapshot(2, 2));
        byte[] corrupt = v1.clone();
        corrupt[corrupt.length - 7] ^= 0x55;
        // intact, but from a newer trainer with a model option this library does not know (not listed as a training option): it cannot be served
        ModelSnapshot newer = trainer.snapshot(4, 4);
        Map<String, String> options = new HashMap<>(newer.getConfig());
        options.put("an-option-of-a-newer-trainer", "1");
        newer.setConfig(options);
        newer.setChecksum(SnapshotCodec.checksum(newer));
        byte[] v4 = SnapshotCodec.encode(newer);
        // from a newer trainer too, whose new option it lists as a training option: served
        ModelSnapshot newerTraining = trainer.snapshot(5, 5);
        Map<String, String> listed = new HashMap<>(newerTraining.getConfig());
        listed.put("a-training-option-of-a-newer-trainer", "1");
        listed.put(ModelConfig.TRAINING_OPTIONS, listed.get(ModelConfig.TRAINING_OPTIONS) + ",a-training-option-of-a-newer-trainer");
        newerTraining.setConfig(listed);
        newerTraining.setChecksum(SnapshotCodec.checksum(newerTraining));
        byte[] v5 = SnapshotCodec.encode(newerTraining);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic("model-snapshots", 1, true);
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    kafka.bootstrapServers(), ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "67108864"), new ByteArraySerializer(), new ByteArraySerializer())) {
                for (byte[] b : new byte[][] {v1, corrupt, v3, v2, v4}) {
                    p.send(new ProducerRecord<>("model-snapshots", "model".getBytes(), b)).get();
                }
            }
            try (SnapshotFollower follower = new SnapshotFollower(kafka.bootstrapServers(), "model-snapshots", Map.of())) {
                Scorer s = follower.awaitVersion(3, Duration.ofSeconds(30)).orElseThrow();
                assertEquals(3, s.version());
                Thread.sleep(1_000); // the re-sent older version 2 arrives after 3 and must not replace it
                assertEquals(3, follower.current().orElseThrow().version());
                assertArrayEquals(Scorer.of(SnapshotCodec.decode(v3)).score(Map.of("user_id", "u1"), Map.of()),
                        s.score(Map.of("user_id", "u1"), Map.of()), 0.0);
                // the snapshot it cannot serve is skipped and counted, and it follows on to the next one
                try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(), ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "67108864"), new ByteArraySerializer(),
                        new ByteArraySerializer())) {
                    p.send(new ProducerRecord<>("model-snapshots", "model".getBytes(), v5)).get();
                }
                Scorer five = follower.awaitVersion(5, Duration.ofSeconds(30)).orElseThrow();
                assertEquals(5, five.version());
                assertArrayEquals(Scorer.of(SnapshotCodec.decode(v3)).score(Map.of("user_id", "u1"), Map.of()),
                        five.score(Map.of("user_id", "u1"), Map.of()), 0.0, "the same parameters, the same scores");
                assertEquals(2, follower.rejected(), "the corrupt record and the newer trainer's snapshot");
            }
        }
    }
}

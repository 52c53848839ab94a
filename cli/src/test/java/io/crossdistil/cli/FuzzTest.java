package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.state.SeededRandom;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 mutated and random records mixed with 10,000 good ones, through the real pipeline: the
 * job never fails, every record is either trained or a dead letter with a reason, and no good
 * record is rejected. (A mutation can still leave a valid event, for example a flipped bit in a
 * feature value: such a record is trained, which is right.)
 */
class FuzzTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).setConfiguration(ClusterJobs.quickRestarts()).build());

    /** A fuzzed version of a good record. */
    static byte[] mutate(byte[] good, SeededRandom r) {
        switch (r.nextInt(8)) {
            case 0: { // flip 1 to 8 bits
                byte[] b = good.clone();
                for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
            case 1: // truncate
                return Arrays.copyOf(good, r.nextInt(good.length));
            case 2: { // random bytes
                byte[] b = new byte[r.nextInt(2_000)];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) r.nextInt(256);
                }
                return b;
            }
            case 3: { // a valid header, then random body
                byte[] b = good.clone();
                for (int i = 10; i < b.length; i++) {
                    b[i] = (byte) r.nextInt(256);
                }
                return b;
            }
            case 4: { // a huge length where the first string's length is (Avro zig-zag varint of ~2^30)
                byte[] b = new byte[good.length + 4];
                System.arraycopy(good, 0, b, 0, 10);
                byte[] huge = {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07};
                System.arraycopy(huge, 0, b, 10, huge.length);
                System.arraycopy(good, 11, b, 15, good.length - 11);
                return b;
            }
            case 5: // larger than max-record-bytes
                return new byte[2 * 1024 * 1024];
            case 6: { // a slice of the body duplicated
                int cut = 10 + r.nextInt(good.length - 10);
                byte[] b = Arrays.copyOf(good, good.length + (good.length - cut));
                System.arraycopy(good, cut, b, good.length, good.length - cut);
                return b;
            }
            default: // empty
                return new byte[0];
        }
    }

    @Test
    void fuzzedRecordsAreDeadLettersAndTheJobNeverFails(@TempDir Path dir) throws Exception {
        int good = 10_000;
        int bad = 10_000;
        SeededRandom r = new SeededRandom(2026);
        Set<String> goodPayloads = new HashSet<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            ClusterJobs.createTopics(kafka);
            GeneratedRecords records = new GeneratedRecords(List.of("finish", "like"), new double[] {0.38, 0.1}, 7, 0);
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    kafka.bootstrapServers(), ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "16777216", ProducerConfig.LINGER_MS_CONFIG, "5"),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                int g = 0;
                int f = 0;
                while (g < good || f < bad) {
                    byte[] event = records.next().bytes();
                    if (f < bad && (g >= good || r.nextInt(2) == 0)) {
                        p.send(new ProducerRecord<>(LocalRunner.TOPIC, mutate(event, r)));
                        f++;
                    } else {
                        p.send(new ProducerRecord<>(LocalRunner.TOPIC, event));
                        goodPayloads.add(Base64.getEncoder().encodeToString(event));
                        g++;
                    }
                }
            }
            JobClient client = ClusterJobs.submit(kafka, dir, Map.of("snapshot-every-events", "5000"));
            try (RunMonitor monitor = new RunMonitor(kafka.bootstrapServers(), LocalRunner.METRICS_TOPIC, LocalRunner.DLQ_TOPIC)) {
                var result = client.getJobExecutionResult();
                while (!result.isDone()) {
                    monitor.poll(Duration.ofMillis(200));
                }
                result.get(1, TimeUnit.MINUTES); // raises if the job failed
                monitor.drain();
                long trained = monitor.latest().getEventsTrained();
                List<DeadLetter> dead = monitor.deadLetters();
                assertEquals(good + bad, trained + dead.size(), "every record is trained or a dead letter");
                assertTrue(trained >= good, "every good record trained: " + trained);
                assertTrue(dead.size() > bad * 0.8, "most fuzzed records are rejected: " + dead.size());
                for (DeadLetter d : dead) {
                    assertFalse(d.getReason().isBlank());
                    ByteBuffer raw = d.getRaw().duplicate();
                    byte[] bytes = new byte[raw.remaining()];
                    raw.get(bytes);
                    assertFalse(goodPayloads.contains(Base64.getEncoder().encodeToString(bytes)), "a good record was rejected: " + d.getReason());
                }
            }
        }
    }
}

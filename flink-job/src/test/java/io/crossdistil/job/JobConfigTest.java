package io.crossdistil.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.job.io.DecodeSettings;
import io.crossdistil.job.io.FlinkSnapshotSource;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.snapshot.FrozenTeachers;
import io.crossdistil.model.snapshot.InitialSnapshot;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import io.crossdistil.model.training.OnlineTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {
    private static String error(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> JobConfig.fromArgs(args)).getMessage();
    }

    @Test
    void aBadArgumentStopsTheJobWithWhatToFix() {
        assertTrue(error().contains("--bootstrap-servers is required"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--topc", "x").contains("unknown option --topc"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--state-backend", "memory").contains("hashmap or rocksdb"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--checkpoint-interval-ms", "soon").contains("whole number"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--snapshot-every-events", "-1").contains("must not be negative"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--nd4j-threads", "-2").contains("must not be negative"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--delivery-guarantee", "once").contains("at-least-once or exactly-once"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--other-labels", "skip").contains("refuse or ignore"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--alpha", "2").contains("'alpha'"));
        assertTrue(error("--bootstrap-servers").contains("needs a value"));
        assertTrue(error("bootstrap").contains("expected an option"));
        assertTrue(error("--bootstrap-servers", "a", "--bootstrap-servers", "b").contains("given twice"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--trainers", "0").contains("--trainers"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--trainers", "2", "--round-steps", "0").contains("--round-steps"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--trainers", "2", "--decode-parallelism", "3")
                .contains("leave --decode-parallelism out or set it to 2"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--trainers", "3").contains("set --batch-size to a multiple of --trainers"));
        // a frozen teacher that cannot be read stops the job before it starts
        assertTrue(error("--bootstrap-servers", "k:9092", "--teacher-snapshot", "no/such/snapshot")
                .contains("teacher snapshot no/such/snapshot cannot be read"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--initial-snapshot", "no/such/snapshot")
                .contains("initial snapshot no/such/snapshot cannot be read"));
    }

    /** Other versions of the event schema: read and checked on the client, for the decoders as text (DecodeFunctionTest). */
    @Test
    void writerSchemasAreReadAndCheckedAtStart() throws Exception {
        String v2 = resource("FeedbackEvent-v2.avsc");
        String stringLabels = resource("FeedbackEvent-string-labels.avsc");
        JobConfig c = JobConfig.fromArgs(new String[] {"--bootstrap-servers", "k:9092", "--writer-schemas", v2});
        assertEquals(List.of(Files.readString(Path.of(v2))), c.decodeSettings().writerSchemas());
        assertEquals(List.of(), JobConfig.fromArgs(new String[] {"--bootstrap-servers", "k:9092"}).decodeSettings().writerSchemas());

        assertTrue(error("--bootstrap-servers", "k:9092", "--writer-schemas", v2 + "," + stringLabels).startsWith("writer schema '"
                + stringLabels + "' (io.crossdistil.avro.FeedbackEvent): events written with it cannot be read as io.crossdistil.avro.FeedbackEvent: "
                + "the project's field 'labels'"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--writer-schemas", "no/such.avsc")
                .startsWith("option --writer-schemas: cannot read 'no/such.avsc': "));
    }

    @Test
    void schemaRegistryIdsAndTheirSchemasAreReadAndCheckedAtStart() throws Exception {
        String v2 = resource("FeedbackEvent-v2.avsc");
        JobConfig c = JobConfig.fromArgs(new String[] {"--bootstrap-servers", "k:9092", "--registry-schemas", "21=" + v2 + ", 7=" + v2});
        String json = Files.readString(Path.of(v2));
        assertEquals(Map.of(7, json, 21, json), c.decodeSettings().registrySchemas());
        assertEquals(Map.of(), JobConfig.fromArgs(new String[] {"--bootstrap-servers", "k:9092"}).decodeSettings().registrySchemas());

        for (String bad : new String[] {v2, "x=" + v2, "-1=" + v2, "7=" + v2 + ",7=" + v2}) {
            assertTrue(error("--bootstrap-servers", "k:9092", "--registry-schemas", bad).startsWith("option --registry-schemas: '"), bad);
        }
        assertTrue(error("--bootstrap-servers", "k:9092", "--registry-schemas", "7=no/such.avsc")
                .startsWith("option --registry-schemas: cannot read 'no/such.avsc': "));
        String stringLabels = resource("FeedbackEvent-string-labels.avsc");
        assertTrue(error("--bootstrap-servers", "k:9092", "--registry-schemas", "7=" + stringLabels).startsWith("writer schema '"
                + stringLabels + "' (io.crossdistil.avro.FeedbackEvent): events written with it cannot be read"));
    }

    private static String resource(String name) throws Exception {
        return Path.of(JobConfigTest.class.getResource("/writer-schemas/" + name).toURI()).toString();
    }

    /** A snapshot of an earlier run at a URI is read through Flink's file systems (here file://; s3:// alike on a cluster). */
    @Test
    void snapshotsOfEarlierRunsAreReadThroughFlinksFileSystems(@TempDir Path dir) throws Exception {
        ModelConfig cfg = ModelConfig.fromMap(Map.of("hash-rows", "512", "bottom-layers", "8", "tower-layers", "4"));
        Path snapshots = Files.createDirectories(dir.resolve("snapshots"));
        Files.write(snapshots.resolve(SnapshotFiles.fileName(7)), SnapshotCodec.encode(new OnlineTrainer(cfg, 100).snapshot(7, 0)));
        Files.writeString(snapshots.resolve(SnapshotFiles.LATEST), SnapshotFiles.fileName(7));
        String uri = snapshots.toUri().toString();
        assertTrue(uri.startsWith("file:/"), uri);
        assertTrue(new FlinkSnapshotSource().reads(uri));
        assertFalse(new FlinkSnapshotSource().reads(snapshots.toString()), "a plain path is the local file system's");

        JobConfig c = JobConfig.fromArgs(new String[] {"--bootstrap-servers", "k:9092", "--hash-rows", "512", "--bottom-layers", "8",
                "--tower-layers", "4", "--initial-snapshot", uri, "--teacher-snapshot", uri});
        assertEquals(7, InitialSnapshot.version(c.modelConfig()));
        assertEquals(1, FrozenTeachers.load(c.modelConfig()).size());
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertTrue(error("--bootstrap-servers", "k:9092", "--initial-snapshot", empty.toUri().toString())
                .contains("holds no 'latest' pointer"));
    }

    @Test
    void teacherSnapshotsMayBeRepeated() {
        assertEquals("a.avro,dir/b", JobConfig.parseArgs(new String[] {"--teacher-snapshot", "a.avro", "--teacher-snapshot=dir/b"})
                .get("teacher-snapshots"));
    }

    @Test
    void optionsAreReadWithDefaults() {
        JobConfig c = JobConfig.fromArgs(new String[] {"--bootstrap-servers=k:9092", "--variant", "mtl", "--snapshot-topic", "none",
                "--kafka.security.protocol", "SSL"});
        assertEquals("k:9092", c.bootstrapServers());
        assertEquals("feedback", c.topic());
        assertNull(c.snapshotTopic());
        assertEquals("mtl", c.modelConfig().variant.key());
        assertEquals("SSL", c.kafkaProperties().get("security.protocol"));
        assertEquals(1, c.trainers());
        assertEquals(new DecodeSettings(1000, 1 << 20, false, List.of()), c.decodeSettings(), "what decoding accepts by default");
        assertTrue(JobConfig.fromArgs(new String[] {"--bootstrap-servers=k:9092", "--other-labels", "ignore"}).decodeSettings().ignoreOtherLabels());
        assertEquals("feedback-exchange", c.exchangeTopic());
        assertEquals(5, JobConfig.fromArgs(new String[] {"--bootstrap-servers=k:9092", "--trainers", "4", "--round-steps", "5"}).roundSteps());
        assertTrue(JobConfig.help().contains("--teacher-routing"));
    }

    @Test
    void aConfigurationIsParsedOnceAndCannotBeChangedFromOutside() throws Exception {
        JobConfig c = JobConfig.fromArgs(new String[] {"--bootstrap-servers", "127.0.0.1:9092", "--tower-layers", "16,8",
                "--alpha", "0.1,0.3", "--snapshot-retain", "4"});
        int[] tower = c.modelConfig().towerLayers();
        tower[0] = 99;
        assertEquals(16, c.modelConfig().towerLayers()[0], "the model's layer sizes are a copy");
        assertEquals(0.3, c.modelConfig().alpha(1));
        assertThrows(UnsupportedOperationException.class, () -> c.modelOptions().put("alpha", "1"));

        // Flink ships the configuration to its tasks by Java serialization
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        JobConfig back;
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            back = (JobConfig) in.readObject();
        }
        assertEquals(c.modelConfig(), back.modelConfig());
        assertEquals(4, back.snapshotRetain());
        assertEquals(c.deliveryGuarantee(), back.deliveryGuarantee());
    }
}

package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline on real parts: an in-process KRaft broker, the job on a Flink MiniCluster,
 * generated events with bad records of every kind mixed in, snapshots to a directory.
 */
class LocalPipelineTest {

    static Map<String, String> smallModel() {
        Map<String, String> m = new HashMap<>();
        m.put("hash-rows", "4096");
        m.put("batch-size", "64");
        m.put("bottom-layers", "32");
        m.put("tower-layers", "8");
        m.put("quadruplets-per-step", "16");
        m.put("marginal-pairs-per-step", "16");
        m.put("reservoir-capacity", "2000");
        m.put("snapshot-every-events", "500");
        m.put("metrics-every-seconds", "1");
        m.put("checkpoint-interval-ms", "500");
        return m;
    }

    @Test
    void everyRecordIsTrainedOrDeadLetteredAndSnapshotsAppear(@TempDir Path dir) throws Exception {
        long events = 3_000;
        long badEvery = 100;
        double[] rates = {0.38, 0.1};
        LocalRunner.Options o = new LocalRunner.Options(events, null, List.of(), List.of(), null, dir.resolve("snapshots"),
                dir.resolve("summary.json"), 2, Generator.standard(5, rates), badEvery, smallModel());
        LocalRunner.Summary s = LocalRunner.run(o, new PrintStream(Files.newOutputStream(dir.resolve("run.log"))));

        // nothing lost, nothing twice
        assertEquals(events, s.eventsProduced());

        // every bad record is in the dead-letter topic, byte for byte, with a reason that says what is wrong
        // bad records by their bytes; some kinds (an empty record) repeat byte for byte, so keep a list per payload
        Map<String, List<BadRecords.Kind>> expected = new HashMap<>();
        GeneratedRecords records = new GeneratedRecords(List.of("finish", "like"), rates, 5, badEvery);
        for (int i = 0; i < events; i++) {
            GeneratedRecords.Record r = records.next();
            if (r.badKind() != null) {
                expected.computeIfAbsent(Base64.getEncoder().encodeToString(r.bytes()), k -> new ArrayList<>()).add(r.badKind());
            }
        }
        assertEquals(events / badEvery, expected.values().stream().mapToInt(List::size).sum());
        for (DeadLetter d : s.deadLetterRecords()) {
            ByteBuffer raw = d.getRaw().duplicate();
            byte[] bytes = new byte[raw.remaining()];
            raw.get(bytes);
            List<BadRecords.Kind> kinds = expected.get(Base64.getEncoder().encodeToString(bytes));
            assertNotNull(kinds, "a dead letter that was not produced as bad: " + d.getReason());
            BadRecords.Kind kind = kinds.remove(0);
            if (kinds.isEmpty()) {
                expected.remove(Base64.getEncoder().encodeToString(bytes));
            }
            assertTrue(d.getReason().contains(kind.reasonContains), kind + " has reason '" + d.getReason() + "'");
            assertEquals("feedback", d.getSourceTopic());
            assertTrue(d.getSourceOffset() >= 0);
        }
        assertTrue(expected.isEmpty(), "bad records missing from the dead-letter topic: " + expected.values());
        assertEquals(events, s.eventsTrained() + s.deadLetters(), LocalRunner.summaryLine(s));
        assertEquals(events / badEvery, s.deadLetters(), LocalRunner.summaryLine(s));

        // snapshots: several, each intact (checksum), versions and trained counts increasing, latest points at the last
        List<Path> files;
        try (Stream<Path> l = Files.list(s.snapshotDir())) {
            files = l.filter(p -> SnapshotFiles.isSnapshotFile(p.getFileName().toString())).sorted().toList();
        }
        assertTrue(files.size() >= 4, "expected a snapshot every 500 trained events, found " + files);
        assertEquals(files.size(), s.snapshotsWritten());
        long lastVersion = 0;
        long lastTrained = 0;
        ModelSnapshot last = null;
        for (Path f : files) {
            ModelSnapshot snap = SnapshotCodec.decode(Files.readAllBytes(f));
            assertTrue(snap.getVersion() > lastVersion);
            assertTrue(snap.getEventsTrained() > lastTrained);
            assertEquals(f.getFileName().toString(), SnapshotFiles.fileName(snap.getVersion()));
            lastVersion = snap.getVersion();
            lastTrained = snap.getEventsTrained();
            last = snap;
        }
        assertEquals(s.eventsTrained(), last.getEventsTrained(), "the last snapshot holds every trained event");
        assertEquals(SnapshotFiles.fileName(lastVersion),
                Files.readString(s.snapshotDir().resolve(SnapshotFiles.LATEST), StandardCharsets.UTF_8).trim());
        // the snapshot scores as the trainer would (a model rebuilt from it is finite and predicts)
        assertTrue(SnapshotCodec.toModel(last).allFinite());
        // no temporary file is left behind
        try (Stream<Path> l = Files.list(s.snapshotDir())) {
            assertFalse(l.anyMatch(p -> p.getFileName().toString().endsWith(".inprogress")));
        }

        // the summary JSON has what the contract names
        JsonNode json = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals(events, json.get("events_produced").asLong());
        assertEquals(s.eventsTrained(), json.get("events_trained").asLong());
        assertEquals(events / badEvery, json.get("dead_letters").asLong());
        assertEquals(files.size(), json.get("snapshots_written").asLong());
        for (String task : List.of("finish", "like")) {
            assertTrue(json.get("metrics").get(task).get("auc").isNumber(), task + " auc");
            assertTrue(json.get("metrics").get(task).get("multi_auc").isNumber(), task + " multi_auc");
        }
    }

    /** A new job started from an earlier run's snapshot (--initial-snapshot) begins where that run ended, and continues its versions. */
    @Test
    void aJobStartedFromAnEarlierRunsSnapshotBeginsWhereItEnded(@TempDir Path dir) throws Exception {
        double[] rates = {0.38, 0.1};
        LocalRunner.Summary cold = LocalRunner.run(new LocalRunner.Options(2_000, null, List.of(), List.of(), null, dir.resolve("cold"),
                null, 1, Generator.standard(5, rates), 0, smallModel()), new PrintStream(Files.newOutputStream(dir.resolve("cold.log"))));
        ModelSnapshot earlier = SnapshotFiles.read(cold.snapshotDir());
        Map<String, String> options = smallModel();
        options.put("initial-snapshot", cold.snapshotDir().toString());
        LocalRunner.Summary warm = LocalRunner.run(new LocalRunner.Options(2_000, null, List.of(), List.of(), null, dir.resolve("warm"),
                null, 1, Generator.standard(5, rates), 0, options), new PrintStream(Files.newOutputStream(dir.resolve("warm.log"))));

        assertEquals(2_000, warm.eventsTrained());
        long firstVersion;
        try (Stream<Path> l = Files.list(warm.snapshotDir())) {
            firstVersion = l.filter(p -> SnapshotFiles.isSnapshotFile(p.getFileName().toString()))
                    .mapToLong(p -> readVersion(p)).min().orElseThrow();
        }
        assertEquals(earlier.getVersion() + 1, firstVersion, "the warm-started job's snapshots continue the earlier run's versions");
        // the same generated events again: a model that has learned them ranks them well from the first one
        for (int k = 0; k < 2; k++) {
            double before = cold.metrics().getTasks().get(k).getAuc();
            double after = warm.metrics().getTasks().get(k).getAuc();
            assertTrue(after > before + 0.02, "task " + k + ": AUC since the start " + after + " warm, " + before + " cold");
        }
    }

    private static long readVersion(Path snapshotFile) {
        try {
            return SnapshotCodec.decode(Files.readAllBytes(snapshotFile)).getVersion();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aReplayedCsvEndsWhenConsumedAndItsBadRowsAreDeadLetters(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("events.csv");
        Producers.writeCsv(csv, List.of("click", "buy"), Generator.standard(3, new double[] {0.3, 0.05}), 1_200);
        List<String> lines = new ArrayList<>(Files.readAllLines(csv));
        lines.add(5, "1700000000000,u1,i1,a1,c1,d1,3,1,7");      // label 7
        lines.add(9, "1700000000000,u1,i1,a1,c1,d1");            // too few columns
        lines.add(12, "yesterday,u1,i1,a1,c1,d1,3,1,0");         // unreadable time
        Files.write(csv, lines);
        Map<String, String> options = smallModel();
        LocalRunner.Options o = new LocalRunner.Options(0, csv, List.of("click", "buy"), List.of(), "time", dir.resolve("snapshots"),
                null, 1, Generator.standard(1, new double[] {0.3, 0.05}), 0, options);
        LocalRunner.Summary s = LocalRunner.run(o, new PrintStream(Files.newOutputStream(dir.resolve("run.log"))));
        assertEquals(1_203, s.eventsProduced());
        assertEquals(1_200, s.eventsTrained());
        assertEquals(3, s.deadLetters());
        List<String> reasons = s.deadLetterRecords().stream().map(DeadLetter::getReason).toList();
        assertTrue(reasons.stream().anyMatch(r -> r.contains("label column 'buy' holds '7'")), reasons.toString());
        assertTrue(reasons.stream().anyMatch(r -> r.contains("6 columns, the header has 9")), reasons.toString());
        assertTrue(reasons.stream().anyMatch(r -> r.contains("time 'yesterday'")), reasons.toString());
        assertTrue(s.snapshotsWritten() >= 2);
        assertEquals(List.of("click", "buy"), s.metrics().getTasks().stream().map(t -> t.getTask()).toList());

        // the snapshot commands read what the run wrote: 'show' the latest, 'score' the same CSV with it
        java.io.ByteArrayOutputStream shown = new java.io.ByteArrayOutputStream();
        SnapshotCommands.run(new String[] {"show", s.snapshotDir().toString()}, new PrintStream(shown, true));
        assertTrue(shown.toString().contains("events trained   1,200"), shown.toString());
        assertTrue(shown.toString().contains("(verified)"), shown.toString());
        java.io.ByteArrayOutputStream scored = new java.io.ByteArrayOutputStream();
        Path predictions = dir.resolve("predictions.csv");
        io.crossdistil.avro.ModelSnapshot latest = io.crossdistil.model.snapshot.SnapshotFiles.read(s.snapshotDir());
        List<io.crossdistil.model.metrics.TaskScore> scores = SnapshotCommands.score(latest,
                new Args(new String[] {"--csv", csv.toString(), "--labels", "click,buy", "--time", "time", "--predictions", predictions.toString()}),
                new PrintStream(scored, true));
        assertTrue(scored.toString().contains("scored 1,200 rows"), scored.toString());
        assertTrue(scored.toString().contains("skipped 3 rows"), scored.toString());
        for (io.crossdistil.model.metrics.TaskScore t : scores) {
            assertTrue(t.auc() > 0 && t.auc() < 1 && t.events() == 1_200, t.toString());
        }
        // --predictions: a row per scored line (the bad rows' lines 6, 10 and 13 left out), serving's probabilities
        List<String> written = Files.readAllLines(predictions);
        assertEquals("line,click,buy", written.get(0));
        assertEquals(1_201, written.size());
        List<Long> writtenLines = written.stream().skip(1).map(l -> Long.parseLong(l.split(",")[0])).toList();
        assertEquals(List.of(2L, 3L, 4L, 5L, 7L, 8L, 9L, 11L, 12L, 14L), writtenLines.subList(0, 10));
        io.crossdistil.avro.FeedbackEvent first;
        try (CsvEvents rows = new CsvEvents(csv, List.of("click", "buy"), List.of(), List.of(), "time")) {
            first = rows.next().event();
        }
        double[] expected = io.crossdistil.serving.Scorer.of(latest).score(List.of(first))[0];
        String[] firstRow = written.get(1).split(",");
        for (int k = 0; k < 2; k++) {
            assertEquals(expected[k], Double.parseDouble(firstRow[k + 1]), 1e-6);
        }
    }
}

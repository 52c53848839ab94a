package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.features.FeatureEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A CSV's dense columns: read as numbers, left out of the categorical features, an empty cell or "NA" missing, a bad number refused with its reason. */
class CsvEventsTest {
    @Test
    void denseColumnsAreNumbersAndABadOneIsARefusedRow(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("events.csv");
        Files.writeString(csv, "a,price,click,buy\nx,1.5,1,0\ny,abc,0,1\nz,inf,0,0\nr,3.4e38,0,0\nw,-2e3,0,0\nv, ,1,1\nu,NaN,0,1\nt,NA,0,1\ns,?,1,0\n");
        assertEquals(List.of("price", "w2"), CsvEvents.denseColumns(Map.of("dense-features", " price, w2 ,")));
        try (CsvEvents rows = new CsvEvents(csv, List.of("click", "buy"), List.of(), List.of("price"), null)) {
            assertEquals(List.of("a"), rows.features(), "a dense column is not also a categorical one unless named");
            CsvEvents.Row first = rows.next();
            assertNull(first.error());
            assertEquals(Map.of("a", "x"), first.event().getCategorical());
            assertEquals(Map.of("price", 1.5f), first.event().getDense());
            assertTrue(rows.next().error().contains("dense column 'price' holds 'abc', not a finite number"));
            assertTrue(rows.next().error().contains("dense column 'price' holds 'inf', not a finite number"));
            assertTrue(rows.next().error().contains("dense column 'price' holds '3.4e38', beyond the limit of 1e13"));
            CsvEvents.Row last = rows.next();
            assertEquals(-2000f, last.event().getDense().get("price"));
            CsvEvents.Row empty = rows.next();
            assertNull(empty.error(), "an empty cell is a missing value, not a bad one");
            assertEquals(Map.of(), empty.event().getDense());
            for (String token : List.of("NaN", "NA", "?")) {
                CsvEvents.Row na = rows.next();
                assertNull(na.error(), token);
                assertEquals(Map.of(), na.event().getDense(), token + " is a missing value");
            }
            assertNull(rows.next());

            // what the job makes of it: the value in the example's dense inputs, or the mark of a missing one
            ModelConfig cfg = ModelConfig.fromMap(Map.of("tasks", "click,buy", "features", "a", "dense-features", "price"));
            assertEquals(1.5f, new FeatureEncoder(cfg).example(first.event()).dense[0]);
            assertTrue(Float.isNaN(new FeatureEncoder(cfg).example(empty.event()).dense[0]));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CsvEvents(csv, List.of("click", "buy"), List.of(), List.of("nope"), null));
        assertTrue(e.getMessage().contains("dense feature column 'nope' is not in the header"), e.getMessage());
        for (List<List<String>> featuresAndDense : List.of(List.of(List.of("a", "buy"), List.<String>of()), List.of(List.<String>of(), List.of("click")))) {
            IllegalArgumentException leak = assertThrows(IllegalArgumentException.class,
                    () -> new CsvEvents(csv, List.of("click", "buy"), featuresAndDense.get(0), featuresAndDense.get(1), null));
            assertTrue(leak.getMessage().contains("is a label"), leak.getMessage());
        }
    }

    /** `snapshot score` reads a CSV's columns as the snapshot's model read them: here a column that is a feature and a dense feature both. */
    @Test
    void snapshotScoreReadsTheColumnsAsTheSnapshotsFeatures(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("events.csv");
        StringBuilder rows = new StringBuilder("a,n,click,buy\n");
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < 800; i++) {
            int n = random.nextInt(20);
            rows.append("v").append(random.nextInt(5)).append(',').append(n).append(',')
                    .append(random.nextInt(20) < n ? 1 : 0).append(',').append(random.nextInt(10) == 0 ? 1 : 0).append('\n');
        }
        Files.writeString(csv, rows);
        ModelConfig cfg = ModelConfig.fromMap(Map.of("tasks", "click,buy", "features", "a,n", "dense-features", "n", "hash-rows", "256",
                "bottom-layers", "8", "tower-layers", "4", "batch-size", "32"));
        io.crossdistil.model.training.OnlineTrainer trainer = new io.crossdistil.model.training.OnlineTrainer(cfg, 100);
        FeatureEncoder encoder = new FeatureEncoder(cfg);
        try (CsvEvents events = new CsvEvents(csv, List.of("click", "buy"), List.of("a", "n"), List.of("n"), null)) {
            for (CsvEvents.Row row = events.next(); row != null; row = events.next()) {
                trainer.learn(encoder.example(row.event()));
            }
        }
        io.crossdistil.avro.ModelSnapshot snapshot = trainer.snapshot(1, 0);
        double asTrained = logLoss(snapshot, csv, "a,n");
        assertEquals(asTrained, logLoss(snapshot, csv, null), 0.0, "without --features: the snapshot's own");
        assertTrue(asTrained != logLoss(snapshot, csv, "a"), "n left out of the categorical features scores otherwise");
    }

    /** `snapshot show` reports what the model has seen of each dense field: its mean and how many trained events lacked it. */
    @Test
    void snapshotShowReportsEachDenseFieldsMeanAndMissingValues(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("events.csv");
        StringBuilder rows = new StringBuilder("a,n,click,buy\n");
        long sum = 0;
        for (int i = 0; i < 800; i++) {
            String n = i % 4 == 3 ? "" : Integer.toString(i % 7);
            sum += n.isEmpty() ? 0 : i % 7;
            rows.append("v").append(i % 5).append(',').append(n).append(',').append(i % 3 == 0 ? 1 : 0).append(',').append(i % 2).append('\n');
        }
        Files.writeString(csv, rows);
        ModelConfig cfg = ModelConfig.fromMap(Map.of("tasks", "click,buy", "features", "a", "dense-features", "n", "hash-rows", "256",
                "bottom-layers", "8", "tower-layers", "4", "batch-size", "32"));
        io.crossdistil.model.training.OnlineTrainer trainer = new io.crossdistil.model.training.OnlineTrainer(cfg, 100);
        FeatureEncoder encoder = new FeatureEncoder(cfg);
        try (CsvEvents events = new CsvEvents(csv, List.of("click", "buy"), List.of("a"), List.of("n"), null)) {
            for (CsvEvents.Row row = events.next(); row != null; row = events.next()) {
                trainer.learn(encoder.example(row.event()));
            }
        }
        java.io.ByteArrayOutputStream shown = new java.io.ByteArrayOutputStream();
        SnapshotCommands.show(trainer.snapshot(1, 0), new java.io.PrintStream(shown, true, java.nio.charset.StandardCharsets.UTF_8));
        String text = shown.toString(java.nio.charset.StandardCharsets.UTF_8);
        String expected = String.format(java.util.Locale.ROOT, "mean %.6g", sum / 600.0);
        assertTrue(text.contains(expected) && text.contains("missing 200 of 800 (25.0%)"), expected + " in:\n" + text);
    }

    private static double logLoss(io.crossdistil.avro.ModelSnapshot snapshot, Path csv, String features) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--csv", csv.toString(), "--labels", "click,buy"));
        if (features != null) {
            args.addAll(List.of("--features", features));
        }
        return SnapshotCommands.score(snapshot, new Args(args.toArray(new String[0])), new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
                .get(0).logLoss();
    }
}

package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.FeedbackEvent;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated stream's dense feature: carried only when asked for, one value per user, missing for about one user in five. */
class GeneratedDenseTest {
    private static final List<String> TASKS = List.of("finish", "like");
    private static final Generator PLAIN = Generator.standard(5, new double[] {0.38, 0.1});
    private static final List<String> DENSE = List.of("user_engagement");

    @Test
    void theDenseFeatureIsPerUserSometimesMissingAndChangesNothingElse(@TempDir Path dir) throws Exception {
        GeneratedRecords plain = new GeneratedRecords(TASKS, PLAIN, 0);
        GeneratedRecords dense = new GeneratedRecords(TASKS, PLAIN.withDense(DENSE), 0);
        Map<String, Float> perUser = new HashMap<>();
        int missing = 0;
        int n = 5_000;
        for (int i = 0; i < n; i++) {
            FeedbackEvent a = FeedbackEvent.getDecoder().decode(plain.next().bytes());
            FeedbackEvent b = FeedbackEvent.getDecoder().decode(dense.next().bytes());
            assertEquals(Map.of(), a.getDense(), "not asked for: not carried");
            Float v = b.getDense().get("user_engagement");
            b.setDense(Map.of());
            assertEquals(a, b, "event " + i + ": only the dense map differs");
            if (v == null) {
                missing++;
            } else {
                assertTrue(v > 0 && v < 100, "a percentage: " + v);
            }
            Float before = perUser.put(a.getUserId(), v == null ? Float.NaN : v);
            assertTrue(before == null || before.equals(v == null ? Float.NaN : v), "user " + a.getUserId() + ": " + before + " then " + v);
        }
        assertTrue(missing > n / 10 && missing < n * 3 / 10, missing + " of " + n + " events lack it");

        // the same stream as a CSV (generate --csv-out), read back: the empty cells are the missing values
        Path csv = dir.resolve("dense.csv");
        Producers.writeCsv(csv, TASKS, PLAIN.withDense(DENSE), 200);
        GeneratedRecords again = new GeneratedRecords(TASKS, PLAIN.withDense(DENSE), 0);
        try (CsvEvents rows = new CsvEvents(csv, TASKS, List.of(), DENSE, "time")) {
            for (CsvEvents.Row r = rows.next(); r != null; r = rows.next()) {
                assertNull(r.error());
                assertEquals(FeedbackEvent.getDecoder().decode(again.next().bytes()).getDense(), r.event().getDense(), "line " + r.line());
            }
        }

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PLAIN.withDense(List.of("watch_time")));
        assertTrue(e.getMessage().contains("[user_engagement], not 'watch_time'"), e.getMessage());
    }
}

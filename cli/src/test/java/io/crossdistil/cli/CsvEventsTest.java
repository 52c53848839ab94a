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

/** A CSV's dense columns: read as numbers, left out of the categorical features, a bad number refused with its reason. */
class CsvEventsTest {
    @Test
    void denseColumnsAreNumbersAndABadOneIsARefusedRow(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("events.csv");
        Files.writeString(csv, "a,price,click,buy\nx,1.5,1,0\ny,abc,0,1\nz,NaN,0,0\nw,-2e3,0,0\n");
        assertEquals(List.of("price", "w2"), CsvEvents.denseColumns(Map.of("dense-features", " price, w2 ,")));
        try (CsvEvents rows = new CsvEvents(csv, List.of("click", "buy"), List.of(), List.of("price"), null)) {
            assertEquals(List.of("a"), rows.features(), "a dense column is not also a categorical one unless named");
            CsvEvents.Row first = rows.next();
            assertNull(first.error());
            assertEquals(Map.of("a", "x"), first.event().getCategorical());
            assertEquals(Map.of("price", 1.5f), first.event().getDense());
            assertTrue(rows.next().error().contains("dense column 'price' holds 'abc', not a finite number"));
            assertTrue(rows.next().error().contains("dense column 'price' holds 'NaN', not a finite number"));
            CsvEvents.Row last = rows.next();
            assertEquals(-2000f, last.event().getDense().get("price"));

            // what the job makes of it: the value in the example's dense inputs
            ModelConfig cfg = ModelConfig.fromMap(Map.of("tasks", "click,buy", "features", "a", "dense-features", "price"));
            assertEquals(1.5f, new FeatureEncoder(cfg).example(first.event()).dense[0]);
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
}

package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.crossdistil.avro.FeedbackEvent;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExperimentRunnerTest {
    @Test
    void everyVariantSeesTheSameStreamAndTheReportsAreWritten(@TempDir Path dir) throws Exception {
        PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
        List<FeedbackEvent> events = ExperimentRunner.load(null, List.of(), List.of(), null, 3_000, Generator.standard(4, new double[] {0.4, 0.15}),
                List.of("finish", "like"), quiet);
        Map<String, String> model = Map.of("tasks", "finish,like", "features", "user_id,item_id,author,category",
                "hash-rows", "4096", "batch-size", "64", "bottom-layers", "32", "tower-layers", "8");
        List<ExperimentRunner.VariantResult> twice = ExperimentRunner.run(events, List.of("mtl", "crossdistil", "mtl"), model, 2, 10, quiet);
        // the same variant on the same stream gives the same numbers, whatever ran beside it
        assertEquals(twice.get(0).scores().get(0).auc(), twice.get(2).scores().get(0).auc(), 0.0);
        assertEquals(twice.get(0).curve().size(), 10);
        assertArrayEquals(twice.get(0).curve().get(9).auc(), twice.get(2).curve().get(9).auc(), 0.0);

        List<ExperimentRunner.VariantResult> results = twice.subList(0, 2);
        ExperimentRunner.write(dir, new ExperimentRunner.Setup("bin/crossdistil experiment ...", "generated", 3_000,
                List.of("finish", "like"), model), results);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        for (String v : List.of("mtl", "crossdistil")) {
            for (String t : List.of("finish", "like")) {
                assertTrue(json.get("variants").get(v).get(t).get("multi_auc").isNumber(), v + " " + t);
                assertTrue(json.get("variants").get(v).get(t).get("auc").isNumber(), v + " " + t);
                assertTrue(json.get("variants").get(v).get(t).get("logloss").isNumber(), v + " " + t);
            }
            assertTrue(json.get("variants").get(v).get("events_per_s").asDouble() > 0);
            // the reliability table counts every event once
            long counted = 0;
            for (JsonNode bucket : json.get("variants").get(v).get("reliability").get("like").get("buckets")) {
                counted += bucket.get("events").asLong();
                assertTrue(bucket.get("mean_predicted").asDouble() >= bucket.get("from").asDouble()
                        && bucket.get("mean_predicted").asDouble() <= bucket.get("to").asDouble(), bucket.toString());
            }
            assertEquals(3_000, counted, v);
        }
        String md = Files.readString(dir.resolve("results.md"));
        assertTrue(md.contains("| crossdistil |") && md.contains("| mtl |") && md.contains("Multi-AUC like"), md);
        assertTrue(md.contains("## Reliability of the served probabilities") && md.contains("expected calibration error"), md);
        for (String png : List.of("auc-finish.png", "auc-like.png", "multi-auc-finish.png", "multi-auc-like.png", "reliability-finish.png",
                "reliability-like.png")) {
            byte[] b = Files.readAllBytes(dir.resolve(png));
            assertTrue(b.length > 1_000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png + " is not a PNG");
        }
    }

    @Test
    void aVariantMayAddTowerExchangeModulesAndDmlIsTheBaselineWithBoth() {
        assertEquals(Map.of("variant", "mtl", "tower-exchange", "ctfm+gkd"), ExperimentRunner.variantOptions("dml"));
        assertEquals(Map.of("variant", "crossdistil", "tower-exchange", "ctfm"), ExperimentRunner.variantOptions("crossdistil+ctfm"));
        assertEquals(Map.of("variant", "two-way-kd"), ExperimentRunner.variantOptions("mutual"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ExperimentRunner.variantOptions("mtl+attention"));
        assertTrue(e.getMessage().contains("attention"), e.getMessage());
    }
}

package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.features.FeatureEncoder;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.training.OnlineTrainer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExperimentRunnerTest {
    private static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());
    /** A small model of the generated stream, quick to train. */
    private static final Map<String, String> SMALL_MODEL = Map.of("tasks", "finish,like", "features", "user_id,item_id,author,category",
            "hash-rows", "4096", "batch-size", "64", "bottom-layers", "32", "tower-layers", "8");

    /** 3,000 generated events of the standard generator with {@code seed}. */
    private static List<FeedbackEvent> generated(long seed) throws Exception {
        return ExperimentRunner.load(null, List.of(), List.of(), List.of(), null, 3_000, Generator.standard(seed, new double[] {0.4, 0.15}),
                List.of("finish", "like"), QUIET);
    }

    @Test
    void everyVariantSeesTheSameStreamAndTheReportsAreWritten(@TempDir Path dir) throws Exception {
        List<FeedbackEvent> events = generated(4);
        List<ExperimentRunner.VariantResult> twice = ExperimentRunner.run(events, List.of(), List.of("mtl", "crossdistil", "mtl"), SMALL_MODEL, 2, 10, QUIET);
        // the same variant on the same stream gives the same numbers, whatever ran beside it
        assertEquals(twice.get(0).scores().get(0).auc(), twice.get(2).scores().get(0).auc(), 0.0);
        assertEquals(twice.get(0).curve().size(), 10);
        assertArrayEquals(twice.get(0).curve().get(9).auc(), twice.get(2).curve().get(9).auc(), 0.0);

        List<ExperimentRunner.VariantResult> results = twice.subList(0, 2);
        ExperimentReport.write(dir, new ExperimentRunner.Setup("bin/crossdistil experiment ...", "generated", 3_000, 0,
                List.of("finish", "like"), SMALL_MODEL), results);
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

    @Test
    void aVariantMayRunOnSeveralTrainersAndTheyReportWhatTheyExchanged(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        assertEquals(new ExperimentRunner.Parallelism("crossdistil+gkd", 4, 2), ExperimentRunner.Parallelism.parse("crossdistil+gkd@4/2"));
        assertEquals(new ExperimentRunner.Parallelism("mtl", 2, io.crossdistil.model.parallel.ReplicaTrainer.DEFAULT_ROUND_STEPS),
                ExperimentRunner.Parallelism.parse("mtl@2"));
        assertEquals(Map.of("variant", "mtl"), ExperimentRunner.variantOptions("mtl@2/8"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ExperimentRunner.Parallelism.parse("mtl@0"));
        assertTrue(e.getMessage().contains("VARIANT@N/R"), e.getMessage());

        List<io.crossdistil.avro.FeedbackEvent> events = ExperimentRunner.load(null, List.of(), List.of(), List.of(), null, 3_000,
                Generator.standard(3, new double[] {0.38, 0.1}), List.of("finish", "like"), new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        Map<String, String> model = new java.util.HashMap<>(LocalPipelineTest.smallModel());
        model.keySet().removeIf(k -> !io.crossdistil.model.ModelConfig.isOption(k));
        model.put("features", "user_id,item_id," + String.join(",", io.crossdistil.model.synthetic.SyntheticStream.FIELDS));
        List<ExperimentRunner.VariantResult> results = ExperimentRunner.run(events, List.of(), List.of("mtl", "mtl@2/1"), model, 2, 5,
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        ExperimentRunner.Exchange x = results.get(1).exchange();
        assertEquals(null, results.get(0).exchange());
        assertEquals(2, x.trainers());
        // 3,000 events, 64 a batch shared by two trainers (32 each), merging every step: 47 rounds, the last with the partial batches
        assertEquals(47, x.rounds());
        assertTrue(x.bytesPerUpdate() > 1_000 && x.bytesPerEvent() > 0, x.toString());
        assertEquals(3_000, results.get(1).scores().get(0).events(), "the first trainer's metrics saw every event");
        ExperimentReport.write(dir, new ExperimentRunner.Setup("test", "generated", 3_000, 0, List.of("finish", "like"), model), results);
        assertTrue(Files.readString(dir.resolve("results.md")).contains("What the trainers exchanged"));
    }

    @Test
    void heldOutEventsAreScoredByEachVariantsFinalSnapshotAndNeverLearnedFrom(@TempDir Path dir) throws Exception {
        List<FeedbackEvent> events = generated(5);
        List<FeedbackEvent> trained = events.subList(0, 2_000);
        List<FeedbackEvent> heldOut = events.subList(2_000, 3_000);
        List<ExperimentRunner.VariantResult> results = ExperimentRunner.run(trained, heldOut, List.of("mtl", "crossdistil@2"), SMALL_MODEL, 2, 5, QUIET);

        // the known answer: a trainer of the first 2,000 events alone, its snapshot scoring the last 1,000 as serving does
        ModelConfig cfg = ModelConfig.fromMap(SMALL_MODEL).with("variant", "mtl");
        FeatureEncoder encoder = new FeatureEncoder(cfg);
        OnlineTrainer alone = new OnlineTrainer(cfg, 2_000);
        for (FeedbackEvent e : trained) {
            alone.learn(encoder.example(e));
        }
        alone.flush();
        List<TaskScore> expected = SnapshotEvaluation.of(alone.snapshot(1, 0), heldOut, cfg.tasks);
        for (int k = 0; k < 2; k++) {
            TaskScore got = results.get(0).heldOut().get(k);
            assertEquals(1_000, got.events());
            assertEquals(expected.get(k).auc(), got.auc(), 0.0);
            assertEquals(expected.get(k).logLoss(), got.logLoss(), 0.0);
            // and the progressive metrics covered the trained events only
            assertEquals(2_000, results.get(0).scores().get(k).events());
            assertEquals(1_000, results.get(1).heldOut().get(k).events(), "two trainers: trainer 0's snapshot, as the job writes it");
        }

        ExperimentReport.write(dir, new ExperimentRunner.Setup("test", "generated", 2_000, 1_000, List.of("finish", "like"), SMALL_MODEL), results);
        assertTrue(Files.readString(dir.resolve("results.md")).contains("Held out: the last 1,000 events"));
        JsonNode json = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        assertEquals(expected.get(1).auc(), json.get("variants").get("mtl").get("held_out").get("like").get("auc").asDouble(), 0.0);
    }
}

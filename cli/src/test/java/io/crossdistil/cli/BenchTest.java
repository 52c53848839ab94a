package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchTest {
    @Test
    void flopsPerStepCountTheProductsTheStepNeeds() {
        // 2 fields x dim 4 = 8 inputs -> bottom 10 -> towers 3 -> 1; batch 4; 2 tuples per permutation, 1 marginal pair per task:
        // 4 batch rows + 4 permutations x 2 + 2 tasks x 2 = 16 rows; a layer costs 2 x in x out per row and pass
        ModelConfig cfg = ModelConfig.fromMap(Map.of("features", "a,b", "embedding-dim", "4", "bottom-layers", "10",
                "tower-layers", "3", "batch-size", "4", "quadruplets-per-step", "2", "marginal-pairs-per-step", "1",
                "teacher-routing", "stop"));
        double bottom = 2.0 * 8 * 10;                      // 160 per row
        double towerFirst = 2.0 * 10 * 3;                  // 60 per row
        double towerLast = 2.0 * 3 * 1;                    // 6 per row
        double student = 3 * 4 * (towerFirst + towerLast); // forward, weight and input gradient, over the batch
        // stop: the bottom runs forward on all 16 rows but only the batch's gradient reaches it;
        // a teacher's first layer needs no input gradient, and its losses reach only the 12 sample rows
        double teacherStop = 16 * (towerFirst + towerLast) + 12 * (towerFirst + 2 * towerLast);
        assertEquals(16 * bottom + 2 * 4 * bottom + 2 * student + 2 * teacherStop, Bench.flopsPerStep(cfg), 1e-9);
        // without the auxiliary ranking only the 4 marginal rows; two-way distillation reaches the batch too
        double teacherMarginal = 16 * (towerFirst + towerLast) + 4 * (towerFirst + 2 * towerLast);
        assertEquals(16 * bottom + 2 * 4 * bottom + 2 * student + 2 * teacherMarginal,
                Bench.flopsPerStep(cfg.with("variant", "no-aux-rank")), 1e-9);
        double teacherAll = 16 * (towerFirst + towerLast) + 16 * (towerFirst + 2 * towerLast);
        assertEquals(16 * bottom + 2 * 4 * bottom + 2 * student + 2 * teacherAll,
                Bench.flopsPerStep(cfg.with("variant", "two-way-kd")), 1e-9);
        // shared: everything runs backward over all rows, three times the forward count
        double forward = 16 * bottom + 2 * 4 * (towerFirst + towerLast) + 2 * 16 * (towerFirst + towerLast);
        assertEquals(3 * forward, Bench.flopsPerStep(cfg.with("teacher-routing", "shared")), 1e-9);
        // separate: the shared bottom sees the batch only, the teachers' own bottom all rows
        double teacherShared = 3 * 16 * (towerFirst + towerLast);
        assertEquals(3 * 4 * bottom + 3 * 16 * bottom + 2 * student + 2 * teacherShared,
                Bench.flopsPerStep(cfg.with("teacher-routing", "separate")), 1e-9);
        // without teachers only the batch goes through
        assertEquals(3 * 4 * bottom + 2 * student, Bench.flopsPerStep(cfg.with("variant", "mtl")), 1e-9);
    }

    @Test
    void roundsSplitIntoPartsThatAddUp() {
        int sum = 0;
        for (int p = 0; p < 4; p++) {
            int size = Bench.part(24, p, 4);
            assertEquals(6, size);
            sum += size;
        }
        assertEquals(24, sum);
        // uneven: every round in exactly one part
        assertEquals(3, Bench.part(10, 0, 3));
        assertEquals(3, Bench.part(10, 1, 3));
        assertEquals(4, Bench.part(10, 2, 3));
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, Bench.median(new double[] {3, 1, 2}), 0.0);
        assertEquals(2.5, Bench.median(new double[] {4, 1, 3, 2}), 0.0);
    }

    @Test
    @SuppressWarnings("unchecked")
    void servingIsMeasuredPerCallAndPerEventForEachBatchSize() {
        List<String> features = new ArrayList<>(List.of("user_id", "item_id"));
        features.addAll(SyntheticStream.FIELDS);
        ModelConfig cfg = ModelConfig.fromMap(Map.of("features", String.join(",", features), "batch-size", "64"));
        OnlineTrainer t = new OnlineTrainer(cfg, 1_000);
        for (Example e : SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, new double[] {0.38, 0.04}, 2), 1_000)) {
            t.learn(e);
        }
        Map<String, Object> r = ServingCost.measure(SnapshotCodec.encode(t.snapshot(1, 0)), cfg, true, new PrintStream(OutputStream.nullOutputStream()));
        assertTrue((double) r.get("load_ms") > 0);
        for (int batch : new int[] {1, 16, 256}) {
            Map<String, Object> b = (Map<String, Object>) r.get("batch " + batch);
            assertTrue((double) b.get("events_per_s") > 0, b.toString());
            // events a second times seconds a call: the events in a call (no timing is asserted, only the report's arithmetic)
            assertEquals(batch, (double) b.get("events_per_s") * (double) b.get("us_per_call") / 1e6, 1e-6 * batch);
        }
        Map<String, Object> shared = (Map<String, Object>) r.get("batch 16, 2 threads");
        double oneThread = (double) ((Map<String, Object>) r.get("batch 16")).get("events_per_s");
        assertEquals((double) shared.get("events_per_s") / oneThread, (double) shared.get("of_one_thread"), 1e-9);
    }
}

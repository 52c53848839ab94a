package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crossdistil.model.ModelConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchTest {
    @Test
    void flopsPerStepAreCountedFromTheLayerSizes() {
        // 2 fields x dim 4 = 8 inputs -> bottom 10 -> towers 3 -> 1; batch 4; 2 tuples per permutation, 1 marginal pair per task
        ModelConfig cfg = ModelConfig.fromMap(Map.of("features", "a,b", "embedding-dim", "4", "bottom-layers", "10",
                "tower-layers", "3", "batch-size", "4", "quadruplets-per-step", "2", "marginal-pairs-per-step", "1",
                "teacher-routing", "stop"));
        // rows: 4 batch + 4 permutations x 2 + 2 tasks x 2 = 16; the bottom sees all 16 (teachers read it)
        double bottom = 2.0 * 16 * 8 * 10;            // 2,560
        double tower = 2.0 * 10 * 3 + 2.0 * 3;         // 66 per row
        double students = 2 * 4 * tower;               // 528
        double teachers = 2 * 16 * tower;              // 2,112
        assertEquals(3 * (bottom + students + teachers), Bench.flopsPerStep(cfg), 1e-9);
        // without teachers only the batch goes through
        ModelConfig mtl = cfg.with("variant", "mtl");
        assertEquals(3 * (2.0 * 4 * 8 * 10 + 2 * 4 * tower), Bench.flopsPerStep(mtl), 1e-9);
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, Bench.median(new double[] {3, 1, 2}), 0.0);
        assertEquals(2.5, Bench.median(new double[] {4, 1, 3, 2}), 0.0);
    }
}

package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the commands check before they start anything (no broker, no cluster here). */
class CommandChecksTest {
    private static LocalRunner.Options csvRun(Path csv, List<String> labels, Map<String, String> options) {
        return new LocalRunner.Options(0, csv, labels, List.of(), null, null, null, 1,
                Generator.demo(1, new double[] {0.38, 0.04}), 0, options);
    }

    private static LocalRunner.Options generatedRun(Generator g, Map<String, String> options) {
        return new LocalRunner.Options(1_000, null, List.of(), List.of(), null, null, null, 1, g, 0, options);
    }

    private static String refusal(LocalRunner.Options o) {
        return assertThrows(IllegalArgumentException.class, () -> LocalRunner.check(o)).getMessage();
    }

    @Test
    void aRunIsCheckedWholeBeforeItStarts(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("events.csv");
        Files.writeString(csv, "user_id,item_id,click,buy\nu1,i1,1,0\n");
        LocalRunner.check(csvRun(csv, List.of("click", "buy"), Map.of()));
        LocalRunner.check(generatedRun(Generator.demo(1, new double[] {0.38, 0.04}), Map.of("variant", "mtl")));

        assertTrue(refusal(csvRun(dir.resolve("missing.csv"), List.of("click", "buy"), Map.of())).contains("no such file"));
        assertTrue(refusal(csvRun(csv, List.of("click", "like"), Map.of())).contains("'like' is not in the header"));
        assertTrue(refusal(csvRun(csv, List.of("click", "buy"), Map.of("variant", "nope"))).contains("unknown variant 'nope'"));
        assertTrue(refusal(csvRun(csv, List.of("click", "buy"), Map.of("no-such-option", "1"))).contains("no-such-option"));
        assertTrue(refusal(generatedRun(Generator.demo(1, new double[] {0.3}), Map.of())).contains("one label rate per task"));
        assertTrue(refusal(generatedRun(Generator.demo(1, new double[] {0.38, 0.04}), Map.of("trainers", "0"))).contains("--trainers must be positive"));
        assertTrue(refusal(generatedRun(Generator.demo(1, new double[] {0.38, 0.04}), Map.of("trainers", "x"))).contains("--trainers must be a whole number"));

        Path gz = dir.resolve("plain.csv.gz");
        Files.writeString(gz, "user_id,click,buy\n");
        assertTrue(refusal(csvRun(gz, List.of("click", "buy"), Map.of())).contains("not gzip"));

        Path snapshots = dir.resolve("snapshots");
        Files.createDirectories(snapshots);
        Files.writeString(snapshots.resolve("snapshot-1.avro"), "x");
        LocalRunner.Options used = new LocalRunner.Options(1_000, null, List.of(), List.of(), null, snapshots, null, 1,
                Generator.demo(1, new double[] {0.38, 0.04}), 0, Map.of());
        assertTrue(refusal(used).contains("is not empty"));
    }

    @Test
    void flagsStandAloneOrTakeTrueOrFalse() {
        Args alone = new Args(new String[] {"--through-kafka", "--out", "dir"}, "through-kafka");
        assertTrue(alone.takeFlag("through-kafka"));
        assertEquals("dir", alone.take("out", null));
        assertFalse(new Args(new String[] {"--through-kafka", "false"}, "through-kafka").takeFlag("through-kafka"));
        assertTrue(new Args(new String[] {"--out", "dir", "--through-kafka"}, "through-kafka").takeFlag("through-kafka"));
        Args wrong = new Args(new String[] {"--through-kafka", "maybe"}, "through-kafka");
        assertThrows(IllegalArgumentException.class, () -> wrong.takeFlag("through-kafka"));
        // an option that is not a flag still needs its value
        assertThrows(IllegalArgumentException.class, () -> new Args(new String[] {"--out"}, "through-kafka"));
    }

    @Test
    void theModelSeedIsNotTheStreamSeed() {
        Args a = new Args(new String[] {"--seed", "7", "--model-seed", "99", "--variant", "mtl"});
        Generator g = Generator.from(a, Generator.demo(1, new double[] {0.38, 0.04}));
        Main.takeModelSeed(a);
        assertEquals(7, g.seed());
        assertEquals(Map.of("seed", "99", "variant", "mtl"), a.rest());
        Args streamOnly = new Args(new String[] {"--seed", "7"});
        Generator.from(streamOnly, Generator.demo(1, new double[] {0.38, 0.04}));
        Main.takeModelSeed(streamOnly);
        assertEquals(Map.of(), streamOnly.rest());
    }

    @Test
    void generatorOptionsAreChecked() {
        Generator defaults = Generator.standard(1, new double[] {0.38, 0.04});
        Generator g = Generator.from(new Args(new String[] {"--users", "50", "--signal", "2.5"}), defaults);
        assertEquals(50, g.users());
        assertEquals(5_000, g.items());
        assertEquals(2.5, g.signal());
        assertThrows(IllegalArgumentException.class, () -> Generator.from(new Args(new String[] {"--signal", "0"}), defaults));
        assertThrows(IllegalArgumentException.class, () -> Generator.from(new Args(new String[] {"--rates", "0.3,1.5"}), defaults));
        assertThrows(IllegalArgumentException.class, () -> Generator.from(new Args(new String[] {"--items", "0"}), defaults));
    }
}

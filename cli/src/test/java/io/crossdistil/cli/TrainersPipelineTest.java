package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two data-parallel trainers (docs/scaling.md) on the local pipeline: a real broker, the job on a
 * MiniCluster, two partitions, the trainers' updates through the exchange topic. Every record is
 * trained or dead-lettered once, snapshots are written once per version, and a second run over
 * the same records ends with the same model, bit for bit.
 */
class TrainersPipelineTest {
    private static final long EVENTS = 6_000;
    private static final long BAD_EVERY = 100;

    @Test
    void twoTrainersTrainEveryEventOnceAndEndWithTheSameModelEveryRun(@TempDir Path dir) throws Exception {
        LocalRunner.Summary first = run(dir.resolve("first"));
        assertEquals(EVENTS - EVENTS / BAD_EVERY, first.eventsTrained(), LocalRunner.summaryLine(first));
        assertEquals(EVENTS / BAD_EVERY, first.deadLetters(), LocalRunner.summaryLine(first));
        List<ModelSnapshot> snapshots = snapshots(first.snapshotDir());
        assertTrue(snapshots.size() >= 3, "snapshots: " + snapshots.size());
        for (int i = 1; i < snapshots.size(); i++) {
            // versions one after another: one trainer writes them, each once
            assertEquals(snapshots.get(i - 1).getVersion() + 1, snapshots.get(i).getVersion());
            assertTrue(snapshots.get(i).getEventsTrained() > snapshots.get(i - 1).getEventsTrained());
        }
        ModelSnapshot last = snapshots.get(snapshots.size() - 1);
        assertEquals(first.eventsTrained(), last.getEventsTrained(), "the last snapshot holds every trained event");
        assertTrue(SnapshotCodec.toModel(last).allFinite());

        LocalRunner.Summary second = run(dir.resolve("second"));
        List<ModelSnapshot> again = snapshots(second.snapshotDir());
        ModelSnapshot lastAgain = again.get(again.size() - 1);
        assertEquals(last.getEventsTrained(), lastAgain.getEventsTrained());
        assertEquals(last.getTensors(), lastAgain.getTensors(), "the same records, the same partitions: the same model");
        assertEquals(last.getMetrics(), lastAgain.getMetrics());
    }

    private static LocalRunner.Summary run(Path dir) throws Exception {
        Map<String, String> options = LocalPipelineTest.smallModel();
        options.put("trainers", "2");
        options.put("round-steps", "2");
        LocalRunner.Options o = new LocalRunner.Options(EVENTS, null, List.of(), List.of(), null, dir.resolve("snapshots"), null, 2,
                Generator.standard(5, new double[] {0.38, 0.1}), BAD_EVERY, options);
        return LocalRunner.run(o, new PrintStream(OutputStream.nullOutputStream()));
    }

    private static List<ModelSnapshot> snapshots(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> SnapshotFiles.isSnapshotFile(p.getFileName().toString())).sorted().map(p -> {
                try {
                    return SnapshotCodec.decode(Files.readAllBytes(p));
                } catch (Exception e) {
                    throw new IllegalStateException(p.toString(), e);
                }
            }).toList();
        }
    }
}

package io.crossdistil.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.snapshot.SnapshotFiles;
import io.crossdistil.model.synthetic.SyntheticEvent;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScorerTest {
    static final ModelConfig CFG = ModelConfig.fromMap(Map.of("hash-rows", "4096", "batch-size", "64", "bottom-layers", "32",
            "tower-layers", "8", "features", "user_id,item_id,author,category", "dense-features", "x",
            // the snapshot carries the last step's parameters, so that it can be compared with the trainer's own predictions
            "snapshot-average-events", "0"));

    @Test
    void servingScoresEqualTheTrainersPredictionsForTheSameSnapshot(@TempDir Path dir) throws Exception {
        OnlineTrainer trainer = new OnlineTrainer(CFG, 1000);
        SyntheticExamples.take(CFG, new SyntheticStream(CFG.tasks, new double[] {0.4, 0.1}, 3, 2_000, 500), 2_000).forEach(trainer::learn);
        byte[] bytes = SnapshotCodec.encode(trainer.snapshot(7, 1_700_000_000_000L));

        // fresh events, as FeedbackEvents (what serving receives) and as the trainer's examples
        List<FeedbackEvent> events = freshEvents(300);
        List<Example> examples = new ArrayList<>();
        io.crossdistil.model.features.FeatureEncoder encoder = new io.crossdistil.model.features.FeatureEncoder(CFG);
        events.forEach(e -> examples.add(encoder.encode(e, 0)));
        double[][] trainerSays = trainer.model().predict(examples);

        Files.write(dir.resolve("snapshot-7.avro"), bytes);
        Files.writeString(dir.resolve(io.crossdistil.model.snapshot.SnapshotFiles.LATEST), "snapshot-7.avro\n", StandardCharsets.UTF_8);
        Scorer fromDirectory = Scorer.of(SnapshotFiles.read(dir));
        Scorer fromFile = Scorer.of(SnapshotFiles.read(dir.resolve("snapshot-7.avro")));
        assertEquals(7, fromDirectory.version());
        double[][] served = fromDirectory.score(events);
        for (int i = 0; i < events.size(); i++) {
            assertArrayEquals(trainerSays[i], served[i], 0.0, "event " + i);
        }
        // alone an event goes through BLAS as a matrix-vector product, in a batch as a matrix product:
        // the float logits may differ in their last bit, no more
        assertArrayEquals(served[0], fromFile.score(List.of(events.get(0)))[0], 1e-6);
        // a plain feature map scores the same as the event it describes
        Map<String, String> features = new HashMap<>(events.get(5).getCategorical());
        features.put("user_id", events.get(5).getUserId());
        features.put("item_id", events.get(5).getItemId());
        assertArrayEquals(served[5], fromDirectory.score(features, events.get(5).getDense()), 1e-6);
    }

    /** Unlabelled events as serving receives them, with a dense value each. */
    private static List<FeedbackEvent> freshEvents(int n) {
        SyntheticStream fresh = new SyntheticStream(CFG.tasks, new double[] {0.4, 0.1}, 99, 2_000, 500);
        List<FeedbackEvent> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SyntheticEvent s = fresh.next();
            events.add(FeedbackEvent.newBuilder().setEventId(s.eventId()).setUserId(s.userId()).setItemId(s.itemId())
                    .setEventTime(s.eventTime()).setCategorical(new LinkedHashMap<>(s.categorical()))
                    .setDense(new HashMap<>(Map.of("x", (float) (0.01 * i)))).setLabels(new HashMap<>()).build());
        }
        return events;
    }

    /** One scorer serves several threads at once: each call's events are its own, whatever the students' architecture. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"shared-bottom", "mmoe", "ctfm+gkd"})
    void oneScorerScoresOnSeveralThreadsAtOnce(String architecture) throws Exception {
        ModelConfig cfg = architecture.equals("mmoe") ? CFG.with("backbone", "mmoe")
                : architecture.equals("ctfm+gkd") ? CFG.with("tower-exchange", "ctfm+gkd") : CFG;
        OnlineTrainer trainer = new OnlineTrainer(cfg, 1000);
        SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, new double[] {0.4, 0.1}, 3, 2_000, 500), 640).forEach(trainer::learn);
        Scorer scorer = Scorer.of(SnapshotCodec.decode(SnapshotCodec.encode(trainer.snapshot(1, 0))));
        List<FeedbackEvent> events = freshEvents(200);
        double[][] alone = new double[events.size()][];
        for (int i = 0; i < events.size(); i++) {
            alone[i] = scorer.score(List.of(events.get(i)))[0];
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Integer>> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                final int offset = t * 37;
                threads.add(pool.submit(() -> {
                    int wrong = 0;
                    for (int pass = 0; pass < 15; pass++) {
                        for (int j = 0; j < events.size(); j++) {
                            int i = (j + offset) % events.size();
                            wrong += java.util.Arrays.equals(alone[i], scorer.score(List.of(events.get(i)))[0]) ? 0 : 1;
                        }
                    }
                    return wrong;
                }));
            }
            for (java.util.concurrent.Future<Integer> f : threads) {
                assertEquals(0, f.get(), "calls that scored another call's event");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aDamagedSnapshotIsRefused(@TempDir Path dir) throws Exception {
        OnlineTrainer trainer = new OnlineTrainer(CFG, 1000);
        byte[] bytes = SnapshotCodec.encode(trainer.snapshot(1, 0));
        byte[] flipped = bytes.clone();
        flipped[flipped.length / 2] ^= 0x10;
        Files.write(dir.resolve("bad.avro"), flipped);
        assertThrows(SnapshotCodec.CorruptSnapshotException.class, () -> SnapshotFiles.read(dir.resolve("bad.avro")));
        Files.write(dir.resolve("short.avro"), java.util.Arrays.copyOf(bytes, bytes.length - 100));
        assertThrows(SnapshotCodec.CorruptSnapshotException.class, () -> SnapshotFiles.read(dir.resolve("short.avro")));
        ModelSnapshot ok = SnapshotFiles.read(writeTo(dir.resolve("ok.avro"), bytes));
        assertEquals(1, ok.getVersion());
    }

    private static Path writeTo(Path p, byte[] b) throws java.io.IOException {
        Files.write(p, b);
        return p;
    }
}

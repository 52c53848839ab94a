package io.crossdistil.model.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.Tensor;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class ReplicaTrainerTest {
    private static final double[] RATES = {0.3, 0.1};

    private static ModelConfig config(String dtype) {
        // dense features: their standardising statistics are a running sum the replicas merge too
        return ModelConfig.fromMap(Map.of("batch-size", "16", "hash-rows", "512", "bottom-layers", "16", "tower-layers", "8",
                "quadruplets-per-step", "8", "marginal-pairs-per-step", "8", "reservoir-capacity", "200", "dtype", dtype,
                "dense-features", "x,y"));
    }

    private static List<Example> stream(ModelConfig cfg, int n) {
        return SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, RATES, 5, 300, 100), n);
    }

    /** Everything a replica learned, flattened: the dense vectors, then the embedding table with its optimizer state. */
    private static double[] learned(ReplicaTrainer t) {
        return learned(t.trainer());
    }

    private static double[] learned(OnlineTrainer t) {
        List<Double> out = new ArrayList<>();
        for (INDArray v : t.model().learnedState().vectors()) {
            for (double x : HostArrays.values(v)) {
                out.add(x);
            }
        }
        var table = t.model().learnedState().table();
        double[] row = new double[table.valuesPerRow()];
        for (int r = 0; r < table.rows(); r++) {
            table.readRow(r, row, 0);
            for (double x : row) {
                out.add(x);
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void everyReplicaLeavesEveryRoundWithTheSameModel() {
        ModelConfig cfg = config("float").with("batch-size", "48");
        InMemoryReplicas group = new InMemoryReplicas(cfg, 1_000, 3, 2);
        List<Long> checked = new ArrayList<>();
        group.train(stream(cfg, 1_000), (updates, events) -> {
            double[] first = learned(group.replica(0));
            for (int j = 1; j < 3; j++) {
                assertArrayEquals(first, learned(group.replica(j)), "replica " + j + " after round " + updates.get(0).round());
            }
            checked.add(events);
        });
        // 1,000 events over 3 replicas, 16 a batch each, 2 steps a round: ~11 rounds, the last ones partial
        assertTrue(checked.size() >= 10, "rounds: " + checked.size());
        assertEquals(1_000, group.replica(0).mergedEvents());
        assertEquals(1_000, group.replica(2).mergedEvents());
        // every replica's metrics saw every event
        assertEquals(1_000, group.replica(1).trainer().scores().get(0).events());
        // and its gate the same evidence, every replica's batch of a step taken as one, and so the same limits
        var gate0 = group.replica(0).trainer().model().gate();
        for (int j = 1; j < 3; j++) {
            var gate = group.replica(j).trainer().model().gate();
            assertArrayEquals(gate0.limits(), gate.limits());
            for (int k = 0; k < cfg.numTasks(); k++) {
                assertEquals(gate0.studentAuc(k), gate.studentAuc(k), 0, "replica " + j + " task " + k);
                assertEquals(gate0.teacherMultiAuc(k), gate.teacherMultiAuc(k), 0, "replica " + j + " task " + k);
            }
        }
    }

    @Test
    void afterRoundsOfSeveralStepsAValueMovesByTheMeanChangeOfItsReplicasAndARunningSumByTheSum() {
        ModelConfig cfg = config("double");
        List<Example> events = stream(cfg, 64);
        ReplicaTrainer a = new ReplicaTrainer(cfg, 1_000, 0, 2, 2);
        ReplicaTrainer b = new ReplicaTrainer(cfg, 1_000, 1, 2, 2);
        List<double[]> start = dense(a);
        double[] startTable = table(a);
        // two steps of 8 events each: the round; then each reads its 16 events of the next round
        for (int i = 0; i < 16; i++) {
            a.learn(events.get(i));
            b.learn(events.get(16 + i));
        }
        for (int i = 32; i < 48; i++) {
            a.learn(events.get(i));
            b.learn(events.get(16 + i));
        }

        List<double[]> aDense = dense(a);
        List<double[]> bDense = dense(b);
        double[] aTable = table(a);
        double[] bTable = table(b);
        RoundUpdate ua = a.update();
        RoundUpdate ub = b.update();
        a.merge(List.of(ua, ub));
        b.merge(List.of(ua, ub));
        boolean[] state = a.trainer().model().learnedState().sums();
        List<double[]> merged = dense(a);
        for (int v = 0; v < merged.size(); v++) {
            for (int i = 0; i < merged.get(v).length; i++) {
                double da = aDense.get(v)[i] - start.get(v)[i];
                double db = bDense.get(v)[i] - start.get(v)[i];
                double expected = start.get(v)[i] + (state[v] ? da + db : (da + db) / 2);
                assertEquals(expected, merged.get(v)[i], 1e-12 * Math.max(1, Math.abs(expected)), "vector " + v + " value " + i);
            }
        }
        // embedding rows: values by the mean over the replicas that updated the row, state by the sum
        var t = a.trainer().model().learnedState().table();
        int width = t.valuesPerRow();
        java.util.Set<Integer> byA = new java.util.HashSet<>();
        java.util.Set<Integer> byB = new java.util.HashSet<>();
        for (int r : ua.rows()) {
            byA.add(r);
        }
        for (int r : ub.rows()) {
            byB.add(r);
        }
        double[] mergedTable = table(a);
        int shared = 0;
        for (int r = 0; r < t.rows(); r++) {
            int contributors = (byA.contains(r) ? 1 : 0) + (byB.contains(r) ? 1 : 0);
            shared += contributors == 2 ? 1 : 0;
            for (int j = 0; j < width; j++) {
                int i = r * width + j;
                double da = aTable[i] - startTable[i];
                double db = bTable[i] - startTable[i];
                double expected = startTable[i] + ((j >= t.dim() && t.stateIsSum()) || contributors == 0 ? da + db : (da + db) / contributors);
                assertEquals(expected, mergedTable[i], 1e-12 * Math.max(1, Math.abs(expected)), "row " + r + " value " + j);
            }
        }
        assertTrue(shared > 0 && byA.size() > shared, "rows both replicas updated: " + shared + " of " + byA.size());
        assertArrayEquals(a.trainer().model().gate().limits(), b.trainer().model().gate().limits());
        assertArrayEquals(learned(a), learned(b));
        assertEquals(32, a.mergedEvents());
    }

    @Test
    void eachReplicaStepsOnItsShareOfTheBatch() {
        ModelConfig cfg = config("float").with("distillation-ramp-events", "1000");
        ModelConfig share = ReplicaTrainer.replicaConfig(cfg, 4);
        assertEquals(4, share.batchSize);
        // every replica draws the whole step's samples and trains on its share of them (Samples.share)
        assertEquals(8, share.quadrupletsPerStep);
        assertEquals(8, share.marginalPairsPerStep);
        assertEquals(250, share.distillationRampEvents);
        assertEquals(cfg.toMap(), ReplicaTrainer.replicaConfig(cfg, 1).toMap());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReplicaTrainer.replicaConfig(cfg, 3));
        assertTrue(e.getMessage().contains("--batch-size"), e.getMessage());
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"adagrad", "adam"})
    void roundsOfOneStepTakeTheOptimizersStepOnTheMeanGradientAsOneTrainerWould(String optimizer) {
        // two replicas fed the same events compute the same gradients, so their mean is each one's:
        // they must end where one trainer on those events ends (the rule of rounds of several
        // steps would not: it adds both replicas' squared gradients to AdaGrad's sums); the output
        // calibration steps with Adam in both runs; without dense features, whose statistics would
        // count the events twice, once per replica
        ModelConfig cfg = config("double").with("variant", "mtl").with("optimizer", optimizer).with("dense-features", "");
        List<Example> events = stream(cfg, 200);
        ReplicaTrainer a = new ReplicaTrainer(cfg, 1_000, 0, 2, 1);
        ReplicaTrainer b = new ReplicaTrainer(cfg, 1_000, 1, 2, 1);
        OnlineTrainer one = new OnlineTrainer(ReplicaTrainer.replicaConfig(cfg, 2), 1_000);
        assertEquals(8, one.config().batchSize);
        int rounds = 0;
        for (Example e : events) {
            one.learn(e);
            boolean aOver = a.learn(e);
            b.learn(e);
            if (aOver) {
                mergeRound(a, b);
                rounds++;
            }
        }
        rounds += finish(a, b);
        assertEquals(25, rounds);
        assertLearnedAsOneTrainer(one, a);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"adagrad,false", "adam,false", "adagrad,true", "adam,true"})
    void replicasOnTheirOwnSharesOfEachStepEndWhereOneTrainerEnds(String optimizer, boolean warmStart, @TempDir Path dir) throws Exception {
        // each replica steps on its half of every batch of one trainer: the mean of their gradients
        // is that trainer's gradient, dense and per embedding row (a row one replica did not touch
        // has a gradient of 0 there), and one optimizer step on it is that trainer's step; after a
        // warm start too, whose step size ramps up over the first steps (here 10 of them)
        ModelConfig cfg = config("double").with("variant", "mtl").with("optimizer", optimizer);
        if (warmStart) {
            OnlineTrainer earlier = new OnlineTrainer(cfg, 1_000);
            stream(cfg.with("seed", "7"), 160).forEach(earlier::learn);
            Path snapshot = Files.write(dir.resolve("earlier.snapshot"), SnapshotCodec.encode(earlier.snapshot(1, 0)));
            cfg = cfg.with("initial-snapshot", snapshot.toString()).with("initial-snapshot-ramp-events", "160");
        }
        List<Example> events = stream(cfg, 400);
        ReplicaTrainer a = new ReplicaTrainer(cfg, 1_000, 0, 2, 1);
        ReplicaTrainer b = new ReplicaTrainer(cfg, 1_000, 1, 2, 1);
        OnlineTrainer one = new OnlineTrainer(cfg, 1_000);
        int half = cfg.batchSize / 2;
        // round 0: each trains half of one trainer's first batch; then the stream in order, each
        // replica reading its share of a round (they differ) in turn: a round's events are one
        // trainer's batch, and each replica trains one half of them
        for (int i = 0; i < cfg.batchSize; i++) {
            one.learn(events.get(i));
            (i < half ? a : b).learn(events.get(i));
        }
        int rounds = 0;
        for (int i = cfg.batchSize; i < events.size(); i++) {
            one.learn(events.get(i));
            (a.readyToSend() ? b : a).learn(events.get(i));
            if (a.readyToSend() && b.readyToSend()) {
                mergeRound(a, b);
                rounds++;
            }
        }
        rounds += finish(a, b);
        assertEquals(25, rounds);
        assertLearnedAsOneTrainer(one, a);
        // and the served average, which replicas take in at each merge, is one trainer's too
        List<Tensor> served = one.snapshot(1, 0).getTensors();
        List<Tensor> replicaServed = a.trainer().snapshot(1, 0).getTensors();
        for (int t = 0; t < served.size(); t++) {
            float[] x = SnapshotCodec.values(served.get(t));
            float[] y = SnapshotCodec.values(replicaServed.get(t));
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], y[i], 1e-6 * Math.max(1, Math.abs(x[i])), served.get(t).getName() + "[" + i + "]");
            }
        }
    }


    private static void mergeRound(ReplicaTrainer a, ReplicaTrainer b) {
        List<RoundUpdate> round = List.of(a.update(), b.update());
        a.merge(round);
        b.merge(round);
    }

    /** Both inputs end: the rounds until both replicas are done (each trains its part of what was read); returns how many. */
    private static int finish(ReplicaTrainer a, ReplicaTrainer b) {
        List<RoundUpdate> last = List.of(a.finish(), b.finish());
        a.merge(last);
        b.merge(last);
        int rounds = 1;
        for (; !a.done(); rounds++) {
            mergeRound(a, b);
        }
        assertTrue(b.done());
        return rounds;
    }

    /** Every learned value (parameters, optimizer state, embedding rows) of {@code replica} is {@code one}'s to 1e-9 (relative, or absolute near 0). */
    private static void assertLearnedAsOneTrainer(OnlineTrainer one, ReplicaTrainer replica) {
        double[] alone = learned(one);
        double[] merged = learned(replica);
        assertEquals(alone.length, merged.length);
        double worst = 0;
        for (int i = 0; i < alone.length; i++) {
            worst = Math.max(worst, Math.abs(alone[i] - merged[i]) / Math.max(1e-3, Math.abs(alone[i])));
        }
        assertTrue(worst < 1e-9, "largest relative difference from one trainer: " + worst);
    }

    private static List<double[]> dense(ReplicaTrainer t) {
        return t.trainer().model().learnedState().vectors().stream().map(HostArrays::values).toList();
    }

    private static double[] table(ReplicaTrainer t) {
        var table = t.trainer().model().learnedState().table();
        int width = table.valuesPerRow();
        double[] out = new double[table.rows() * width];
        for (int r = 0; r < table.rows(); r++) {
            table.readRow(r, out, r * width);
        }
        return out;
    }

    @Test
    void twoRunsAndARunRestoredMidRoundEndBitIdentical() {
        ModelConfig cfg = config("float");
        List<Example> events = stream(cfg, 600);
        ModelSnapshot once = twoReplicas(cfg, events, -1);
        assertSameTensors(once, twoReplicas(cfg, events, -1));
        // replica 1 written to bytes and read back while it reads, in round 0 while it trains its own
        // events, and in round 5 before it trained its part of the round (48 events a round: 24 read
        // by each replica, replica 0 first)
        assertSameTensors(once, twoReplicas(cfg, events, 24 + 24 + 12));
        assertSameTensors(once, twoReplicas(cfg, events, 24 + 12));
        assertSameTensors(once, twoReplicas(cfg, events, 5 * 48 + 24 + 1));
        assertEquals(600, once.getEventsTrained());
    }

    /** Two replicas, events alternating between them; replica 1 restored from its bytes after {@code restoreAt} events when >= 0. */
    private static ModelSnapshot twoReplicas(ModelConfig cfg, List<Example> events, int restoreAt) {
        ReplicaTrainer[] r = {new ReplicaTrainer(cfg, 1_000, 0, 2, 3), new ReplicaTrainer(cfg, 1_000, 1, 2, 3)};
        List<List<Example>> inputs = List.of(new ArrayList<>(), new ArrayList<>());
        for (int i = 0; i < events.size(); i++) {
            inputs.get(i % 2).add(events.get(i));
        }
        int[] next = new int[2];
        int fed = 0;
        while (!r[0].done()) {
            List<RoundUpdate> round = new ArrayList<>();
            for (int j = 0; j < 2; j++) {
                while (!r[j].readyToSend() && next[j] < inputs.get(j).size()) {
                    r[j].learn(inputs.get(j).get(next[j]++));
                    if (++fed == restoreAt) {
                        r[1] = ReplicaTrainer.fromBytes(r[1].toBytes(), 1, 2, 3);
                    }
                }
                round.add(r[j].readyToSend() ? r[j].update() : r[j].finish());
            }
            r[0].merge(round);
            r[1].merge(round);
        }
        assertTrue(r[1].done());
        return r[0].snapshot(1, 0);
    }

    private static void assertSameTensors(ModelSnapshot expected, ModelSnapshot actual) {
        assertEquals(expected.getEventsTrained(), actual.getEventsTrained());
        assertEquals(expected.getTensors().size(), actual.getTensors().size());
        for (int i = 0; i < expected.getTensors().size(); i++) {
            Tensor e = expected.getTensors().get(i);
            assertEquals(e.getValues(), actual.getTensors().get(i).getValues(), e.getName());
        }
        assertEquals(expected.getMetrics(), actual.getMetrics());
    }

    @Test
    void anUpdateTravelsAsBytesUnchanged() {
        ModelConfig cfg = config("float");
        ReplicaTrainer t = new ReplicaTrainer(cfg, 1_000, 1, 2, 1);
        List<Example> events = stream(cfg, 16);
        for (Example e : events) {
            t.learn(e);
        }
        RoundUpdate u = t.update();
        RoundUpdate back = RoundUpdate.decode(u.encode(cfg.dtype), cfg.dtype);
        assertEquals(u.round(), back.round());
        assertEquals(1, back.replica());
        assertEquals(8, back.events());
        assertArrayEquals(u.permutations(), back.permutations());
        // round 0: the events it trained (its own first), and the ones it read for the next round
        assertEquals(events.subList(0, 8), back.trained());
        assertEquals(events.subList(8, 16), back.read());
        for (int i = 0; i < 8; i++) {
            assertArrayEquals(u.trained().get(i).dense, back.trained().get(i).dense);
        }
        assertEquals(1, back.evidence().size());
        assertArrayEquals(u.evidence().get(0).studentLogits()[1], back.evidence().get(0).studentLogits()[1]);
        assertArrayEquals(u.evidence().get(0).teacherTargets()[0][0], back.evidence().get(0).teacherTargets()[0][0]);
        assertArrayEquals(u.rows(), back.rows());
        assertArrayEquals(u.rowChanges(), back.rowChanges());
        for (int v = 0; v < u.dense().length; v++) {
            assertArrayEquals(u.dense()[v], back.dense()[v]);
        }
        for (int i = 0; i < 8; i++) {
            assertArrayEquals(u.predictions()[i], back.predictions()[i]);
            assertArrayEquals(u.ranking()[i], back.ranking()[i]);
        }
        assertTrue(u.rows().length > 0);
    }

    @Test
    void aRoundIsMergedOnlyWithTheUpdatesItAwaitsAndAReplicaWhoseInputEndedTrainsItsPartOfThePeersReads() {
        ModelConfig cfg = config("float");
        ReplicaTrainer a = new ReplicaTrainer(cfg, 1_000, 0, 2, 1);
        ReplicaTrainer b = new ReplicaTrainer(cfg, 1_000, 1, 2, 1);
        List<Example> events = stream(cfg, 48);
        List<Example> toA = new ArrayList<>();
        List<Example> toB = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            (i % 2 == 0 ? toA : toB).add(events.get(i));
        }
        // round 0: each trains 8 of its own events and reads 8 for round 1
        for (int i = 0; i < 16; i++) {
            a.learn(toA.get(i));
            b.learn(toB.get(i));
        }
        assertThrows(IllegalStateException.class, () -> a.learn(events.get(0)), "a replica waits for the merge");
        RoundUpdate ua = a.update();
        RoundUpdate ub = b.update();
        assertThrows(IllegalArgumentException.class, () -> a.merge(List.of(ua)), "an update missing");
        assertThrows(IllegalArgumentException.class, () -> a.merge(List.of(ub, ua)), "not in replica order");
        assertThrows(IllegalArgumentException.class, () -> ReplicaTrainer.fromBytes(a.toBytes(), 1, 2, 1), "another replica's state");
        a.merge(List.of(ua, ub));
        b.merge(List.of(ua, ub));
        // round 1: a reads 8 more; b's input ends
        assertEquals(8, a.share());
        for (int i = 16; i < 24; i++) {
            a.learn(toA.get(i));
        }
        RoundUpdate last = b.finish();
        assertTrue(last.inputEnded());
        assertEquals(List.of(0, 1), a.awaited());
        List<RoundUpdate> round1 = List.of(a.update(), last);
        a.merge(round1);
        b.merge(round1);
        // round 2: b reads nothing more, and trains half of what a read; a is to read the whole next round
        assertEquals(List.of(0, 1), a.awaited());
        assertEquals(16, a.share());
        assertEquals(0, b.share());
        assertTrue(b.readyToSend(), "nothing to read: ready without input");
        List<RoundUpdate> round2 = List.of(a.finish(), b.update());
        assertEquals(4, round2.get(0).events());
        assertEquals(4, round2.get(1).events());
        a.merge(round2);
        b.merge(round2);
        assertTrue(a.done() && b.done());
        assertEquals(List.of(), a.awaited());
        assertEquals(40, a.mergedEvents());
        assertEquals(40, b.trainer().scores().get(0).events());
        assertArrayEquals(learned(a), learned(b));
    }

    @Test
    void aBusierInputIsReadFasterAndNoEventIsLost() {
        // 70% of a stream's events (10 ms apart) in replica 0's input, 30% in replica 1's
        ModelConfig cfg = config("float");
        List<Example> events = stream(cfg, 2_000);
        List<List<Example>> inputs = List.of(new ArrayList<>(), new ArrayList<>());
        for (int i = 0; i < events.size(); i++) {
            inputs.get(i % 10 < 7 ? 0 : 1).add(events.get(i));
        }
        InMemoryReplicas group = new InMemoryReplicas(cfg, 1_000, 2, 1);
        long[] widest = {0};
        List<Integer> readByZero = new ArrayList<>();
        group.trainInputs(inputs, (updates, handedOut) -> {
            if (!updates.get(0).inputEnded() && !updates.get(1).inputEnded()) {
                widest[0] = Math.max(widest[0], group.replica(0).eventTimeSpreadMillis());
                readByZero.add(updates.get(0).read().size());
            }
            assertArrayEquals(learned(group.replica(0)), learned(group.replica(1)));
        });
        // equal shares would read both at the pace of the quieter one: when its 600 events were read,
        // replica 0 would have read 600 of its 1,400, about 11 s of event time behind
        assertTrue(widest[0] < 1_000, "inputs apart in event time: " + widest[0] + " ms");
        double meanShare = readByZero.subList(10, readByZero.size()).stream().mapToInt(Integer::intValue).average().orElseThrow();
        assertEquals(0.7 * 16, meanShare, 1.0, "replica 0's share of each round's 16 events");
        assertEquals(2_000, group.replica(0).mergedEvents());
        assertEquals(2_000, group.replica(1).trainer().scores().get(0).events());
    }
}

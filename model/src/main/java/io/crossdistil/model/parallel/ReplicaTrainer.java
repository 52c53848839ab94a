package io.crossdistil.model.parallel;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StepResult;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.objective.DistillationGate;
import io.crossdistil.model.state.ArrayCodec;
import io.crossdistil.model.state.StateBytes;
import io.crossdistil.model.training.OnlineTrainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * One of N data-parallel replicas of the trainer (docs/scaling.md). Each replica trains a full copy
 * of the model; every {@code roundSteps} training steps it ends a round: it sends its
 * {@link RoundUpdate} and, once it has the round's update of every replica, merges them all
 * ({@link ReplicaSync}), so every replica leaves round r with the same model. Nothing here knows
 * how updates travel: the Flink operator sends them through Kafka, the experiments and tests hand
 * them over in memory.
 *
 * <p>Reading and training are apart. In round 0 each replica trains on the first events of its own
 * input. In every round it also reads its share of the next round's events ({@link RoundShares}: in
 * proportion to its partitions' traffic) and sends them with its update; the next round's events
 * are all replicas' reads one after another in replica order, and replica i trains the i-th of N
 * equal parts of them. So every replica trains as much in every round however unequal the
 * partitions' traffic, and the shares follow the traffic, so no partition falls behind for good.
 * With equal shares, the i-th part is replica i's own read, and replica i trains its own events.
 *
 * <p>What is kept per replica: the reservoirs and the sampler, the gate's evidence and the step
 * counts. What is merged ({@link ReplicaSync}): every parameter and its optimizer state. At each
 * merge every replica offers the round's events of all replicas to its reservoirs in the stream's
 * order, so all replicas' reservoirs and samplers stay alike and each trains on its share of the
 * same draw, the draw one trainer would make; it takes every replica's evidence of each step into
 * its gate as one batch and moves the gate's limits by it, as one trainer does before its step
 * (here a step later), so all replicas hold the same limits; and it takes its peers' scores into
 * its progressive metrics, so they cover the whole stream.
 *
 * <p>Use: {@link #learn} until it returns true, then send {@link #update()} and {@link #merge} the
 * round's updates; after a merge, while {@link #readyToSend} (a replica with nothing to read this
 * round), send and merge again. At the end of the input send {@link #finish()}, and then merge,
 * and send {@link #update()}, until {@link #done}.
 */
public final class ReplicaTrainer {
    private static final int FORMAT = 3;
    /**
     * Steps per round unless configured: a merge after every step came closest to one trainer on
     * census-income (docs/results/census-income-trainers; 4 steps send a quarter of the bytes and
     * lost 0.001 to 0.003 more AUC).
     */
    public static final int DEFAULT_ROUND_STEPS = 1;

    private final OnlineTrainer trainer;
    private final ReplicaSync sync;
    private final int replica;
    private final int replicas;
    private final int roundSteps;
    private final DataType dtype;
    private long round;
    private int stepsInRound;
    private long eventsInRound;
    /** Whether this replica's events of the current round are trained (in round 0 they come from its input as it reads). */
    private boolean trained;
    private boolean sent;
    private final RoundInput input;
    /** Events trained by all replicas in the merged rounds, and the latest event time among them. */
    private long mergedEvents;
    private long mergedLastEventTime;
    /** This round's own trained events, progressive scores and evidence to the distillation gate (a batch per step; none without a gate). */
    private final List<Example> roundExamples = new ArrayList<>();
    private final List<double[][]> roundRanking = new ArrayList<>();
    private final List<double[][]> roundPredictions = new ArrayList<>();
    private final List<DistillationGate.Evidence> roundEvidence = new ArrayList<>();

    /**
     * @param replica this replica's index, from 0
     * @param replicas how many replicas train together
     * @param roundSteps training steps per round
     */
    public ReplicaTrainer(ModelConfig cfg, int metricsWindow, int replica, int replicas, int roundSteps) {
        this(new OnlineTrainer(replicaConfig(cfg, replicas), metricsWindow), replica, replicas, roundSteps);
    }

    /**
     * What each of {@code replicas} trainers runs of the job's configuration: a step's batch and
     * the events of the distillation ramp and of a warm start's ramp shared among them, so that a
     * round of one step everywhere
     * covers {@code batch-size} events of the stream, as one trainer's step does (the drawn
     * samples are shared too, see OnlineTrainer#shareSamples).
     * Kept whole, N trainers would take N times fewer steps per event and learn the early stream
     * more slowly (census-income, N = 4: AUC 0.024 lower since the start; docs/scaling.md).
     *
     * @throws IllegalArgumentException when the batch size is not a multiple of {@code replicas}
     */
    public static ModelConfig replicaConfig(ModelConfig cfg, int replicas) {
        if (replicas == 1) {
            return cfg;
        }
        if (cfg.batchSize % replicas != 0) {
            throw new IllegalArgumentException("batch-size " + cfg.batchSize + " is shared among " + replicas
                    + " trainers and must be a multiple of it: set --batch-size to a multiple of --trainers");
        }
        return cfg.with("batch-size", Integer.toString(cfg.batchSize / replicas))
                .with("distillation-ramp-events", Long.toString(ceilDiv(cfg.distillationRampEvents, replicas)))
                .with("initial-snapshot-ramp-events", Long.toString(ceilDiv(cfg.initialSnapshotRampEvents, replicas)));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private ReplicaTrainer(OnlineTrainer trainer, int replica, int replicas, int roundSteps) {
        if (replicas < 1 || replica < 0 || replica >= replicas) {
            throw new IllegalArgumentException("replica " + replica + " of " + replicas);
        }
        if (roundSteps < 1) {
            throw new IllegalArgumentException("round steps must be at least 1, not " + roundSteps);
        }
        this.trainer = trainer;
        trainer.shareSamples(replica, replicas);
        if (trainer.model().gate() != null) {
            trainer.model().gate().moveAtMerge();
        }
        this.sync = new ReplicaSync(trainer.model(), roundSteps == 1);
        this.replica = replica;
        this.replicas = replicas;
        this.roundSteps = roundSteps;
        this.dtype = trainer.config().dtype;
        this.input = new RoundInput(replica, replicas, roundSteps * trainer.config().batchSize * replicas);
    }

    /**
     * Adds one event of this replica's input; true when the round is over: send {@link #update()}
     * and merge before the next event.
     */
    public boolean learn(Example e) {
        if (readyToSend()) {
            throw new IllegalStateException("round " + round + " is over: merge its updates before the next event");
        }
        if (trained) {
            input.add(e);
        } else {
            train(e); // round 0: this replica's own first events
            trained = stepsInRound >= roundSteps;
        }
        return readyToSend();
    }

    /**
     * Trains this replica's part of the round's events if it has not yet; true when the round's
     * update can be sent: its events trained, and its share of the next round's read (or its input
     * ended). A replica asked to read nothing in a round is ready without more input.
     */
    public boolean readyToSend() {
        if (sent || input.done()) {
            return false;
        }
        if (!trained && round > 0) {
            for (Example e : input.part()) {
                train(e);
            }
            flush();
            trained = true;
        }
        return trained && input.readEnough();
    }

    private void train(Example e) {
        eventsInRound++;
        StepResult r = trainer.learn(e);
        if (r != null) {
            afterStep(r);
        }
    }

    private void flush() {
        StepResult r = trainer.flush();
        if (r != null) {
            afterStep(r);
        }
    }

    private void afterStep(StepResult r) {
        stepsInRound++;
        roundExamples.addAll(trainer.lastStepEvents());
        DistillationGate gate = trainer.model().gate();
        DistillationGate.Evidence evidence = gate == null ? null : gate.takeObserved();
        if (evidence != null) {
            roundEvidence.add(evidence);
        }
        roundRanking.add(r.scores());
        roundPredictions.add(r.predictions());
    }

    /**
     * The end of this replica's input: trains what it has of the round's events and returns the
     * round's update, with what it read for the next round. It then goes on taking part in the
     * rounds (training its part of its peers' reads) until {@link #done}.
     */
    public RoundUpdate finish() {
        if (sent || input.done()) {
            throw new IllegalStateException("round " + round + " is sent: merge it before the end of the input");
        }
        if (!trained && round == 0) {
            flush();
            trained = true;
        }
        input.end();
        readyToSend();
        return update();
    }

    /** This round's update; the round must be over. */
    public RoundUpdate update() {
        if (!readyToSend()) {
            throw new IllegalStateException("round " + round + " is not over: " + stepsInRound + " of " + roundSteps + " steps, "
                    + input.reads().size() + " of " + input.share() + " events read for the next");
        }
        ReplicaSync.Changes c = sync.changes();
        double[][] ranking = roundRanking.stream().flatMap(Arrays::stream).toArray(double[][]::new);
        double[][] predictions = roundPredictions.stream().flatMap(Arrays::stream).toArray(double[][]::new);
        int[] permutations = roundExamples.stream().mapToInt(e -> e.permutation).toArray();
        sent = true;
        return new RoundUpdate(round, replica, input.ended(), eventsInRound, permutations, round == 0 ? List.copyOf(roundExamples) : List.of(),
                input.reads(), ranking, predictions, c.dense(), c.rows(), c.rowChanges(), List.copyOf(roundEvidence));
    }

    /** True from {@link #update()} to {@link #merge}: the round's update is out and its merge is due. */
    public boolean awaitingMerge() {
        return sent;
    }

    /** The replicas whose update of the current round this replica needs, itself included: all of them until {@link #done}. */
    public List<Integer> awaited() {
        List<Integer> out = new ArrayList<>();
        for (int j = 0; j < replicas && !input.done(); j++) {
            out.add(j);
        }
        return out;
    }

    /** True when every replica's input has ended and every event read is trained and merged. */
    public boolean done() {
        return input.done();
    }

    /**
     * Merges the current round: {@code updates} are the round's updates of every replica, in
     * replica order; then the next round begins.
     *
     * @throws IllegalArgumentException when they are not
     */
    public void merge(List<RoundUpdate> updates) {
        List<Integer> expected = awaited();
        List<Integer> got = updates.stream().map(RoundUpdate::replica).toList();
        if (!got.equals(expected)) {
            throw new IllegalArgumentException("round " + round + " needs the updates of replicas " + expected + ", got " + got);
        }
        for (RoundUpdate u : updates) {
            if (u.round() != round) {
                throw new IllegalArgumentException("replica " + u.replica() + " sent round " + u.round() + " for round " + round);
            }
        }
        if (!sent) {
            throw new IllegalStateException("round " + round + " is merged before this replica made its update");
        }
        moveGate(updates);
        sync.merge(updates, round);
        List<Example> trainedEvents = input.merge(round, updates);
        for (RoundUpdate u : updates) {
            if (u.replica() != replica) {
                trainer.recordScores(u.permutations(), u.ranking(), u.predictions());
            }
            mergedEvents += u.events();
        }
        for (Example e : trainedEvents) {
            mergedLastEventTime = Math.max(mergedLastEventTime, e.eventTime);
        }
        trainer.offer(trainedEvents);
        round++;
        stepsInRound = 0;
        eventsInRound = 0;
        trained = false;
        sent = false;
        roundExamples.clear();
        roundEvidence.clear();
        roundRanking.clear();
        roundPredictions.clear();
    }

    /** The gate's evidence of each of the round's steps, every replica's batch as one: every replica moves its limits alike. */
    private void moveGate(List<RoundUpdate> updates) {
        DistillationGate gate = trainer.model().gate();
        int steps = updates.stream().mapToInt(u -> u.evidence().size()).max().orElse(0);
        for (int s = 0; gate != null && s < steps; s++) {
            List<DistillationGate.Evidence> batch = new ArrayList<>();
            for (RoundUpdate u : updates) {
                if (s < u.evidence().size()) {
                    batch.add(u.evidence().get(s));
                }
            }
            gate.recordAndMove(DistillationGate.Evidence.concat(batch));
        }
    }

    /** How far apart the replicas' inputs are in event time (see RoundShares#spreadMillis). */
    public long eventTimeSpreadMillis() {
        return input.spreadMillis();
    }

    /** How many events this replica reads for the next round. */
    public int share() {
        return input.share();
    }

    /** A snapshot of the model as the last merge left it (every replica holds this model then), or null when a parameter is not finite. */
    public ModelSnapshot snapshot(long version, long now) {
        return trainer.snapshot(version, now, mergedEvents, mergedLastEventTime);
    }

    /** The progressive metrics: this replica's events as it trained them and its peers' as they were merged. */
    public List<TaskScore> scores() {
        return trainer.scores();
    }

    /** Events all replicas trained in the merged rounds. */
    public long mergedEvents() {
        return mergedEvents;
    }

    public long mergedLastEventTime() {
        return mergedLastEventTime;
    }

    /** The round in progress, from 0. */
    public long round() {
        return round;
    }

    public int replica() {
        return replica;
    }

    public int replicas() {
        return replicas;
    }

    public int roundSteps() {
        return roundSteps;
    }

    /** The replica's own trainer (its model, its own counts and timings). */
    public OnlineTrainer trainer() {
        return trainer;
    }

    public DataType dtype() {
        return dtype;
    }

    public byte[] toBytes() {
        return StateBytes.write(FORMAT, out -> {
            out.writeInt(replica);
            out.writeInt(replicas);
            out.writeInt(roundSteps);
            StateBytes.writeBlock(out, trainer.toBytes());
            sync.write(out);
            out.writeLong(round);
            out.writeInt(stepsInRound);
            out.writeLong(eventsInRound);
            out.writeBoolean(trained);
            input.write(out);
            out.writeBoolean(sent);
            out.writeLong(mergedEvents);
            out.writeLong(mergedLastEventTime);
            Example.writeAll(out, roundExamples);
            out.writeInt(roundEvidence.size());
            for (DistillationGate.Evidence e : roundEvidence) {
                RoundUpdate.writeEvidence(out, e);
            }
            out.writeInt(roundRanking.size());
            for (int s = 0; s < roundRanking.size(); s++) {
                out.writeInt(roundRanking.get(s).length);
                for (int i = 0; i < roundRanking.get(s).length; i++) {
                    ArrayCodec.write(out, roundRanking.get(s)[i], DataType.DOUBLE);
                    ArrayCodec.write(out, roundPredictions.get(s)[i], DataType.DOUBLE);
                }
            }
        });
    }

    /**
     * A replica as {@link #toBytes} wrote it.
     *
     * @throws IllegalArgumentException when it was replica {@code replica} of {@code replicas} with {@code roundSteps} steps a round no longer
     */
    public static ReplicaTrainer fromBytes(byte[] data, int replica, int replicas, int roundSteps) {
        return StateBytes.read(data, FORMAT, "replica state", in -> {
            int wasReplica = in.readInt();
            int wasReplicas = in.readInt();
            int wasRoundSteps = in.readInt();
            if (wasReplica != replica || wasReplicas != replicas || wasRoundSteps != roundSteps) {
                throw new IllegalArgumentException("the state is replica " + wasReplica + " of " + wasReplicas + " trainers with "
                        + wasRoundSteps + " steps a round, restored as replica " + replica + " of " + replicas + " with " + roundSteps
                        + "; restore with the trainers and round steps it was written with");
            }
            ReplicaTrainer t = new ReplicaTrainer(OnlineTrainer.fromBytes(StateBytes.readBlock(in)), replica, replicas, roundSteps);
            t.sync.read(in);
            t.round = in.readLong();
            t.stepsInRound = in.readInt();
            t.eventsInRound = in.readLong();
            t.trained = in.readBoolean();
            t.input.read(in);
            t.sent = in.readBoolean();
            t.mergedEvents = in.readLong();
            t.mergedLastEventTime = in.readLong();
            t.roundExamples.addAll(Example.readAll(in));
            int evidence = in.readInt();
            for (int i = 0; i < evidence; i++) {
                t.roundEvidence.add(RoundUpdate.readEvidence(in));
            }
            int steps = in.readInt();
            int tasks = t.trainer.config().numTasks();
            for (int s = 0; s < steps; s++) {
                int rows = in.readInt();
                double[][] ranking = new double[rows][tasks];
                double[][] predictions = new double[rows][tasks];
                for (int i = 0; i < rows; i++) {
                    ArrayCodec.read(in, DataType.DOUBLE, ranking[i]);
                    ArrayCodec.read(in, DataType.DOUBLE, predictions[i]);
                }
                t.roundRanking.add(ranking);
                t.roundPredictions.add(predictions);
            }
            return t;
        });
    }
}

package io.crossdistil.job.trainer;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.TrainingMetrics;
import io.crossdistil.avro.Wire;
import io.crossdistil.job.io.ExampleSerializer;
import io.crossdistil.job.io.MetricsMessage;
import io.crossdistil.job.io.SnapshotMessage;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StepResult;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.nd4j.Nd4jThreads;
import io.crossdistil.model.parallel.ReplicaTrainer;
import io.crossdistil.model.parallel.RoundUpdate;
import io.crossdistil.model.snapshot.InitialSnapshot;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.training.OnlineTrainer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * The trainer: a thin operator around one {@link OnlineTrainer}. It feeds events in, keeps the
 * trainer's whole state (model, optimizer, calibration, reservoirs, generator, metrics and the
 * partial batch) in checkpointed operator state, emits model snapshots (main output) and progress
 * reports ({@link #METRICS}), and publishes the metrics as Flink gauges and each step's wall time as
 * a histogram ({@code stepMicros}). It runs with parallelism 1.
 *
 * <p>With data-parallel trainers (settings with an exchange, docs/scaling.md) it runs with
 * parallelism N, each subtask around one {@link ReplicaTrainer}: at the end of each round it
 * writes its update to the exchange topic and blocks, holding back its input, until it has read
 * the round's update of every peer, then merges them. Only subtask 0 emits snapshots and reports,
 * and only right after a merge, when every replica holds the same model. It leaves a wait when a
 * peer has taken a checkpoint this trainer has not (RoundExchange): until it takes its own, its
 * input waits in state ({@code queued}), and it goes on when the round is complete.
 *
 * <p>The partial batch is state, not flushed at a checkpoint barrier, so the model does not depend
 * on when checkpoints happen. At the end of a bounded input the partial batch is trained and a
 * final snapshot and report are emitted.
 */
public final class TrainerOperator extends AbstractStreamOperator<SnapshotMessage>
        implements OneInputStreamOperator<Example, SnapshotMessage>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    /** A spread of event times between the trainers above this is logged, at most once in as long. */
    private static final long SPREAD_WARNING_MILLIS = 10 * 60 * 1000;
    /** How often a trainer that left a wait for a round (see the class comment) looks whether the round is complete. */
    private static final long LEFT_WAIT_POLL_MILLIS = 50;

    public static final OutputTag<MetricsMessage> METRICS = new OutputTag<>("trainer-metrics") {};

    private final TrainerSettings settings;

    // ---- state, all declared in initializeState ----
    private transient ListState<byte[]> trainerState;
    /** [snapshot version, events trained at the last snapshot, snapshots written] */
    private transient ListState<long[]> counterState;
    /** With N trainers: events received while the round's merge is due, in their order. */
    private transient ListState<Example> queuedState;
    private transient ArrayDeque<Example> queued;
    /** With N trainers: the newest checkpoint this trainer has taken (or was restored from). */
    private transient long checkpointTaken;

    private transient OnlineTrainer trainer;
    /** With data-parallel trainers: this subtask's replica (whose trainer is {@link #trainer}) and the exchange. */
    private transient ReplicaTrainer replica;
    private transient RoundExchange exchange;
    private transient long runId;
    private transient long resumeOffset;
    /** Wall time of each round's wait for the peers' updates and of its merge, microseconds. */
    private transient Histogram roundWaitMicros;
    private transient Histogram mergeMicros;
    private transient long lastUpdateBytes;
    /** With N trainers: how far apart their inputs were in event time at the last round (ReplicaTrainer#eventTimeSpreadMillis). */
    private transient long eventTimeSpreadMillis;
    private transient long lastSpreadWarningMillis;
    private transient long snapshotVersion;
    private transient long eventsAtLastSnapshot;
    private transient long snapshotsWritten;
    private transient long lastSnapshotMillis;
    private transient long eventsAtLastReport;
    private transient long lastMetricsMillis;
    /** Wall time of each training step, microseconds, over the last 1,000 steps (Flink metric stepMicros). */
    private transient Histogram stepMicros;
    private transient volatile List<TaskScore> latestScores;

    public TrainerOperator(TrainerSettings settings) {
        this.settings = settings;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        trainerState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("trainer", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        counterState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("counters", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        queuedState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("queued", ExampleSerializer.INSTANCE));
        queued = new ArrayDeque<>();
        queuedState.get().forEach(queued::add);
        checkpointTaken = context.getRestoredCheckpointId().orElse(0);

        // before the model's first array: ND4J's thread counts are process-wide (see Nd4jThreads)
        Nd4jThreads.limit(settings.nd4jThreads());
        LOG.info("ND4J threads per operation: {}", Nd4jThreads.describe());
        ModelConfig configured = ModelConfig.fromMap(settings.modelOptions());
        Iterator<byte[]> saved = trainerState.get().iterator();
        boolean restoring = context.isRestored() && saved.hasNext();
        if (settings.exchange() != null) {
            initializeReplica(restoring ? saved.next() : null, configured);
        } else if (restoring) {
            trainer = OnlineTrainer.fromBytes(saved.next());
            requireSameModel(trainer.config(), configured);
            Iterator<long[]> counters = counterState.get().iterator();
            if (counters.hasNext()) {
                long[] c = counters.next();
                snapshotVersion = c[0];
                eventsAtLastSnapshot = c[1];
                snapshotsWritten = c[2];
            }
        } else {
            trainer = new OnlineTrainer(configured, settings.metricsWindow());
        }
        if (configured.initialSnapshot != null && restoring) {
            LOG.info("Restored: the model continues its state; the initial snapshot {} is not read", configured.initialSnapshot);
        } else if (configured.initialSnapshot != null) {
            // versions continue the snapshot's: serving keeps the highest version, and the files do not collide
            snapshotVersion = InitialSnapshot.version(configured);
            LOG.info("A new model, starting from the parameters of the initial snapshot {} (version {}); snapshots continue from there",
                    configured.initialSnapshot, snapshotVersion);
        }
        latestScores = trainer.scores();
    }

    private void initializeReplica(byte[] saved, ModelConfig configured) throws Exception {
        TrainerSettings.Exchange x = settings.exchange();
        int index = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        if (getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks() != x.trainers()) {
            throw new IllegalStateException("the trainer runs with parallelism " + getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks()
                    + ", configured for " + x.trainers() + " trainers");
        }
        runId = x.runId();
        resumeOffset = -1;
        if (saved != null) {
            replica = ReplicaTrainer.fromBytes(saved, index, x.trainers(), x.roundSteps());
            requireSameModel(replica.trainer().config(), ReplicaTrainer.replicaConfig(configured, x.trainers()));
            Iterator<long[]> counters = counterState.get().iterator();
            long[] c = counters.next();
            snapshotVersion = c[0];
            eventsAtLastSnapshot = c[1];
            snapshotsWritten = c[2];
            runId = c[3];
            resumeOffset = c[4];
        } else {
            replica = new ReplicaTrainer(configured, settings.metricsWindow(), index, x.trainers(), x.roundSteps());
        }
        trainer = replica.trainer();
    }

    /** Restoring a model trained with other options would silently mix two models: refuse it. */
    private static void requireSameModel(ModelConfig restored, ModelConfig configured) {
        if (restored.equals(configured)) {
            return;
        }
        Map<String, String> differences = new TreeMap<>();
        configured.toMap().forEach((k, v) -> {
            String was = restored.toMap().get(k);
            if (!v.equals(was)) {
                differences.put(k, was + " -> " + v);
            }
        });
        throw new IllegalStateException("the restored state holds a model trained with other model options "
                + differences + "; start with the same options, or without the savepoint to train a new model");
    }

    @Override
    public void open() throws Exception {
        super.open();
        lastSnapshotMillis = getProcessingTimeService().getCurrentProcessingTime();
        lastMetricsMillis = 0;
        eventsAtLastReport = -1;
        MetricGroup g = getMetricGroup();
        g.gauge("eventsTrained", () -> trainer.eventsTrained());
        g.gauge("steps", () -> trainer.model().steps());
        g.gauge("skippedSteps", () -> trainer.model().skippedSteps());
        g.gauge("snapshotsWritten", () -> snapshotsWritten);
        g.gauge("pendingEvents", () -> trainer.pendingEvents());
        // how far the model is behind the stream: wall time since the newest event it has trained on (-1 before the first)
        g.gauge("eventTimeLagMillis", () -> trainer.lastEventTime() == 0 ? -1
                : getProcessingTimeService().getCurrentProcessingTime() - trainer.lastEventTime());
        stepMicros = g.histogram("stepMicros", new DescriptiveStatisticsHistogram(1_000));
        if (replica != null) {
            TrainerSettings.Exchange x = settings.exchange();
            exchange = new RoundExchange(x.bootstrapServers(), x.topic(), x.kafka(), runId, resumeOffset, x.submittedMillis(),
                    replica.dtype());
            roundWaitMicros = g.histogram("roundWaitMicros", new DescriptiveStatisticsHistogram(1_000));
            mergeMicros = g.histogram("mergeMicros", new DescriptiveStatisticsHistogram(1_000));
            g.gauge("round", () -> replica.round());
            g.gauge("updateBytes", () -> lastUpdateBytes);
            g.gauge("exchangeBytesSent", () -> exchange.bytesSent());
            g.gauge("exchangeBytesRead", () -> exchange.bytesRead());
            g.gauge("eventTimeSpreadMillis", () -> eventTimeSpreadMillis);
            g.gauge("queuedEvents", () -> queued.size());
        }
        List<String> tasks = trainer.config().tasks;
        for (int k = 0; k < tasks.size(); k++) {
            int task = k;
            MetricGroup t = g.addGroup("task", tasks.get(k));
            t.gauge("auc", () -> latestScores.get(task).auc());
            t.gauge("multiAuc", () -> latestScores.get(task).multiAuc());
            t.gauge("logLoss", () -> latestScores.get(task).logLoss());
            t.gauge("calibration", () -> latestScores.get(task).calibration());
            t.gauge("windowAuc", () -> latestScores.get(task).windowAuc());
            t.gauge("windowMultiAuc", () -> latestScores.get(task).windowMultiAuc());
            // the part of alpha the distillation gate lets this task's student distil with (NaN without a gate)
            t.gauge("distillationShare", () -> trainer.model().gate() == null ? Double.NaN : trainer.model().gate().share(task));
        }
        // an idle stream still gets its last report and its time-based snapshot
        long period = settings.metricsEverySeconds() * 1000;
        getProcessingTimeService().scheduleWithFixedDelay(time -> whileIdle(), period, period);
        if (replica != null) {
            // a trainer that left a wait goes on when the round is complete, without input and without blocking (see RoundExchange)
            getProcessingTimeService().scheduleWithFixedDelay(time -> {
                if (replica.awaitingMerge() || !queued.isEmpty()) {
                    advance(-1);
                }
            }, LEFT_WAIT_POLL_MILLIS, LEFT_WAIT_POLL_MILLIS);
        }
    }

    @Override
    public void processElement(StreamRecord<Example> element) throws Exception {
        if (replica != null) {
            queued.add(element.getValue());
            advance(checkpointTaken);
            return;
        }
        StepResult step = trainer.learn(element.getValue());
        if (step != null) {
            stepMicros.update(trainer.lastStepNanos() / 1_000);
            afterStep(false);
        }
    }

    /** Trains the queued events, sends each round's update and merges the round; waits for it unless a peer took a checkpoint after {@code checkpointTaken}. */
    private void advance(long checkpointTaken) throws InterruptedException {
        while (!replica.done()) {
            long steps = trainer.model().steps();
            if (replica.awaitingMerge()) {
                if (!mergeRound(checkpointTaken)) {
                    return;
                }
            } else if (replica.readyToSend()) { // trains the replica's part of the round first, if due
                publish(replica.update());
            } else if (!queued.isEmpty()) {
                replica.learn(queued.poll());
            } else {
                return;
            }
            if (trainer.model().steps() != steps) {
                stepMicros.update(trainer.lastStepNanos() / 1_000);
            }
        }
    }

    @Override
    public void endInput() throws Exception {
        if (replica != null) {
            // what is queued, the last update, then the rounds until every trainer's input has ended and what was read is
            // trained; no checkpoint barrier comes after the end of the input, so nothing to leave a wait for
            advance(Long.MAX_VALUE);
            if (!replica.done()) {
                publish(replica.finish());
                advance(Long.MAX_VALUE);
            }
            afterRound(true);
            return;
        }
        trainer.flush();
        afterStep(true);
    }

    private void publish(RoundUpdate u) throws InterruptedException {
        byte[] bytes = u.encode(replica.dtype());
        lastUpdateBytes = bytes.length;
        exchange.publish(u.round(), u.replica(), bytes);
    }

    /** Waits for the round's updates (see {@link #advance}), merges them, and (subtask 0) emits what is due; false if it left the wait. */
    private boolean mergeRound(long checkpointTaken) {
        long start = System.nanoTime();
        List<RoundUpdate> updates = exchange.await(replica.round(), replica.awaited(), checkpointTaken);
        long read = System.nanoTime();
        roundWaitMicros.update((read - start) / 1_000);
        if (updates == null) {
            return false;
        }
        replica.merge(updates);
        noteSpread(replica.eventTimeSpreadMillis());
        mergeMicros.update((System.nanoTime() - read) / 1_000);
        if (!replica.done()) {
            afterRound(false);
        }
        return true;
    }

    private void noteSpread(long spread) {
        eventTimeSpreadMillis = spread;
        long now = getProcessingTimeService().getCurrentProcessingTime();
        if (spread > SPREAD_WARNING_MILLIS && now - lastSpreadWarningMillis > SPREAD_WARNING_MILLIS) {
            lastSpreadWarningMillis = now;
            LOG.warn("The trainers' inputs are {} s apart in event time: the partitions behind are read first (larger shares of each "
                    + "round), but a partition that gets no events, or whose producer's clock is behind, holds the others back by as much "
                    + "(docs/scaling.md)",
                    spread / 1000);
        }
    }

    /** After a merge: snapshots and reports of the merged model, from subtask 0 only (every replica holds it). */
    private void afterRound(boolean end) {
        if (replica.replica() == 0) {
            afterStep(end);
        }
    }

    /** Events in the model the next snapshot would hold: all trainers' merged ones, or the one trainer's. */
    private long eventsTrained() {
        return replica != null ? replica.mergedEvents() : trainer.eventsTrained();
    }

    private void afterStep(boolean end) {
        long now = getProcessingTimeService().getCurrentProcessingTime();
        long sinceSnapshot = eventsTrained() - eventsAtLastSnapshot;
        boolean byCount = settings.snapshotEveryEvents() > 0 && sinceSnapshot >= settings.snapshotEveryEvents();
        boolean byTime = settings.snapshotEverySeconds() > 0 && now - lastSnapshotMillis >= settings.snapshotEverySeconds() * 1000;
        if ((byCount || byTime || end) && sinceSnapshot > 0) {
            emitSnapshot(now);
        }
        if (end || now - lastMetricsMillis >= settings.metricsEverySeconds() * 1000) {
            emitMetrics(now, end);
        }
    }

    private void whileIdle() {
        if (replica != null && replica.replica() != 0) {
            return;
        }
        long now = getProcessingTimeService().getCurrentProcessingTime();
        boolean byTime = settings.snapshotEverySeconds() > 0 && now - lastSnapshotMillis >= settings.snapshotEverySeconds() * 1000;
        // between merges a replica's model holds its own part of the round: its snapshots come with merges only
        if (byTime && replica == null && trainer.eventsTrained() > eventsAtLastSnapshot) {
            emitSnapshot(now);
        }
        if (eventsTrained() != eventsAtLastReport && now - lastMetricsMillis >= settings.metricsEverySeconds() * 1000) {
            emitMetrics(now, false);
        }
    }

    private void emitSnapshot(long now) {
        ModelSnapshot s = replica != null ? replica.snapshot(snapshotVersion + 1, now) : trainer.snapshot(snapshotVersion + 1, now);
        if (s == null) {
            LOG.warn("Not writing a snapshot after {} events: the model has a non-finite parameter", eventsTrained());
            return;
        }
        snapshotVersion++;
        output.collect(new StreamRecord<>(new SnapshotMessage(snapshotVersion, SnapshotCodec.encode(s))));
        snapshotsWritten++;
        eventsAtLastSnapshot = eventsTrained();
        lastSnapshotMillis = now;
    }

    private void emitMetrics(long now, boolean end) {
        latestScores = trainer.scores();
        TrainingMetrics m = TrainingMetrics.newBuilder().setTime(now).setEventsTrained(eventsTrained())
                .setSteps(trainer.model().steps()).setSkippedSteps(trainer.model().skippedSteps())
                .setSnapshotsWritten(snapshotsWritten)
                .setLastEventTime(replica != null ? replica.mergedLastEventTime() : trainer.lastEventTime())
                .setModelLoss(trainer.lastModelLoss()).setFinal$(end)
                .setTasks(SnapshotCodec.metrics(latestScores)).build();
        output.collect(METRICS, new StreamRecord<>(new MetricsMessage(Wire.encode(m))));
        lastMetricsMillis = now;
        eventsAtLastReport = eventsTrained();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        if (replica != null) {
            checkpointTaken = context.getCheckpointId();
            exchange.publishCheckpoint(checkpointTaken, replica.replica());
            queuedState.update(new ArrayList<>(queued));
            trainerState.update(List.of(replica.toBytes()));
            counterState.update(List.of(new long[] {snapshotVersion, eventsAtLastSnapshot, snapshotsWritten, runId, exchange.resumeOffset()}));
            return;
        }
        trainerState.update(List.of(trainer.toBytes()));
        counterState.update(List.of(new long[] {snapshotVersion, eventsAtLastSnapshot, snapshotsWritten}));
    }

    @Override
    public void close() throws Exception {
        try {
            if (exchange != null) {
                exchange.close();
            }
        } finally {
            super.close();
        }
    }

    /** For tests: the trainer this operator drives. */
    public OnlineTrainer trainer() {
        return trainer;
    }
}

package io.crossdistil.job.trainer;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.TrainingMetrics;
import io.crossdistil.avro.Wire;
import io.crossdistil.job.io.MetricsMessage;
import io.crossdistil.job.io.SnapshotMessage;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StepResult;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.nd4j.Nd4jThreads;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.training.OnlineTrainer;
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
 * <p>The partial batch is state, not flushed at a checkpoint barrier, so the model does not depend
 * on when checkpoints happen. At the end of a bounded input the partial batch is trained and a
 * final snapshot and report are emitted.
 */
public final class TrainerOperator extends AbstractStreamOperator<SnapshotMessage>
        implements OneInputStreamOperator<Example, SnapshotMessage>, BoundedOneInput {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<MetricsMessage> METRICS = new OutputTag<>("trainer-metrics") {};

    private final TrainerSettings settings;

    // ---- state, all declared in initializeState ----
    private transient ListState<byte[]> trainerState;
    /** [snapshot version, events trained at the last snapshot, snapshots written] */
    private transient ListState<long[]> counterState;

    private transient OnlineTrainer trainer;
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

        // before the model's first array: ND4J's thread counts are process-wide (see Nd4jThreads)
        Nd4jThreads.limit(settings.nd4jThreads());
        LOG.info("ND4J threads per operation: {}", Nd4jThreads.describe());
        ModelConfig configured = ModelConfig.fromMap(settings.modelOptions());
        Iterator<byte[]> saved = trainerState.get().iterator();
        if (context.isRestored() && saved.hasNext()) {
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
        latestScores = trainer.scores();
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
        stepMicros = g.histogram("stepMicros", new DescriptiveStatisticsHistogram(1_000));
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
    }

    @Override
    public void processElement(StreamRecord<Example> element) {
        StepResult step = trainer.learn(element.getValue());
        if (step != null) {
            stepMicros.update(trainer.lastStepNanos() / 1_000);
            afterStep(false);
        }
    }

    @Override
    public void endInput() {
        trainer.flush();
        afterStep(true);
    }

    private void afterStep(boolean end) {
        long now = getProcessingTimeService().getCurrentProcessingTime();
        long sinceSnapshot = trainer.eventsTrained() - eventsAtLastSnapshot;
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
        long now = getProcessingTimeService().getCurrentProcessingTime();
        boolean byTime = settings.snapshotEverySeconds() > 0 && now - lastSnapshotMillis >= settings.snapshotEverySeconds() * 1000;
        if (byTime && trainer.eventsTrained() > eventsAtLastSnapshot) {
            emitSnapshot(now);
        }
        if (trainer.eventsTrained() != eventsAtLastReport && now - lastMetricsMillis >= settings.metricsEverySeconds() * 1000) {
            emitMetrics(now, false);
        }
    }

    private void emitSnapshot(long now) {
        ModelSnapshot s = trainer.snapshot(snapshotVersion + 1, now);
        if (s == null) {
            LOG.warn("Not writing a snapshot after {} events: the model has a non-finite parameter", trainer.eventsTrained());
            return;
        }
        snapshotVersion++;
        output.collect(new StreamRecord<>(new SnapshotMessage(snapshotVersion, SnapshotCodec.encode(s))));
        snapshotsWritten++;
        eventsAtLastSnapshot = trainer.eventsTrained();
        lastSnapshotMillis = now;
    }

    private void emitMetrics(long now, boolean end) {
        latestScores = trainer.scores();
        TrainingMetrics m = TrainingMetrics.newBuilder().setTime(now).setEventsTrained(trainer.eventsTrained())
                .setSteps(trainer.model().steps()).setSkippedSteps(trainer.model().skippedSteps())
                .setSnapshotsWritten(snapshotsWritten).setLastEventTime(trainer.lastEventTime())
                .setModelLoss(trainer.lastModelLoss()).setFinal$(end)
                .setTasks(SnapshotCodec.metrics(latestScores)).build();
        output.collect(METRICS, new StreamRecord<>(new MetricsMessage(Wire.encode(m))));
        lastMetricsMillis = now;
        eventsAtLastReport = trainer.eventsTrained();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        trainerState.update(List.of(trainer.toBytes()));
        counterState.update(List.of(new long[] {snapshotVersion, eventsAtLastSnapshot, snapshotsWritten}));
    }

    /** For tests: the trainer this operator drives. */
    public OnlineTrainer trainer() {
        return trainer;
    }
}

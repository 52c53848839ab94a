package io.crossdistil.model.training;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.model.CrossDistilModel;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StepResult;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.metrics.ProgressiveMetrics;
import io.crossdistil.model.metrics.TaskScore;
import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.sampling.Samples;
import io.crossdistil.model.snapshot.FrozenTeachers;
import io.crossdistil.model.snapshot.InitialSnapshot;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.state.StateBytes;
import java.util.ArrayList;
import java.util.List;

/**
 * The synchronous online learner (docs/algorithm.md, "One training step"), one event at a time: events gather
 * into a mini-batch; a full batch is scored (progressive validation), drawn samples for, trained
 * on, and offered to the reservoirs. It owns one model, one sampler and the metrics, and its whole
 * state - the partial batch included - is written to bytes and read back exactly, so a run that
 * is interrupted and restored continues bit for bit.
 */
public final class OnlineTrainer {
    private static final int FORMAT = 1;

    private final ModelConfig cfg;
    private final CrossDistilModel model;
    private final QuadrupletSampler sampler;
    private final ProgressiveMetrics metrics;
    private final List<Example> pending;
    private long eventsTrained;
    private long lastEventTime;
    private double lastModelLoss = Double.NaN;
    /** Wall time of the last step, nanoseconds: a measurement, not state (not written with the trainer). */
    private long lastStepNanos;
    /** This trainer's share of each draw of samples, and how many share it (see {@link #shareSamples}). */
    private int samplePart;
    private int sampleParts = 1;
    /** The last step's events (not state). */
    private List<Example> lastStepEvents = List.of();

    /**
     * A new trainer: its model starts from the configuration's initial snapshot if it names one,
     * else from random values.
     *
     * @throws IllegalArgumentException when a frozen teacher or the initial snapshot the
     *     configuration names cannot be used (see FrozenTeachers, InitialSnapshot)
     */
    public OnlineTrainer(ModelConfig cfg, int metricsWindow) {
        this(warmStarted(new CrossDistilModel(cfg, FrozenTeachers.load(cfg))), new QuadrupletSampler(cfg.numTasks(), cfg.features.size(), cfg.denseFeatures.size(),
                cfg.reservoirCapacity, cfg.seed ^ 0x5DEECE66DL),
                new ProgressiveMetrics(cfg.tasks, metricsWindow), new ArrayList<>());
    }

    private static CrossDistilModel warmStarted(CrossDistilModel model) {
        InitialSnapshot.applyTo(model);
        return model;
    }

    /**
     * Makes this trainer one of {@code parts} data-parallel replicas (parallel.ReplicaTrainer): it
     * trains on share {@code part} of every draw of samples (all replicas draw alike), and leaves
     * offering events to the reservoirs to its caller, which offers every replica's events in the
     * same order on all of them. Configuration, not state: the replica sets it again on restore.
     */
    public void shareSamples(int part, int parts) {
        this.samplePart = part;
        this.sampleParts = parts;
    }

    private OnlineTrainer(CrossDistilModel model, QuadrupletSampler sampler, ProgressiveMetrics metrics, List<Example> pending) {
        this.cfg = model.config();
        this.model = model;
        this.sampler = sampler;
        this.metrics = metrics;
        this.pending = pending;
    }

    /** Adds one event; returns the step's result when it completed a mini-batch, else null. */
    public StepResult learn(Example e) {
        pending.add(e);
        return pending.size() >= cfg.batchSize ? step() : null;
    }

    /** Trains on the partial batch, if any (at the end of a bounded input); null when there was none. */
    public StepResult flush() {
        return pending.isEmpty() ? null : step();
    }

    private StepResult step() {
        long start = System.nanoTime();
        Samples samples = cfg.variant.ranksTeachers()
                ? sampler.draw(cfg.quadrupletsPerStep, cfg.marginalPairsPerStep).share(samplePart, sampleParts) : Samples.none(cfg.numTasks());
        StepResult r = model.step(pending, samples);
        int[] permutations = new int[pending.size()];
        for (int i = 0; i < permutations.length; i++) {
            Example e = pending.get(i);
            permutations[i] = e.permutation;
            lastEventTime = Math.max(lastEventTime, e.eventTime);
        }
        metrics.record(permutations, r.scores(), r.predictions());
        if (sampleParts == 1) {
            sampler.offerAll(pending);
        }
        eventsTrained += pending.size();
        lastModelLoss = r.modelLoss();
        lastStepEvents = List.copyOf(pending);
        pending.clear();
        lastStepNanos = System.nanoTime() - start;
        return r;
    }

    /** A snapshot of the current model, or null when a parameter is not finite (it must never be served). */
    public ModelSnapshot snapshot(long version, long now) {
        return snapshot(version, now, eventsTrained, lastEventTime);
    }

    /** As {@link #snapshot(long, long)}, for a model that more trainers than this one trained (see parallel.ReplicaTrainer). */
    public ModelSnapshot snapshot(long version, long now, long eventsTrained, long lastEventTime) {
        if (!model.allFinite()) {
            return null;
        }
        return SnapshotCodec.build(version, now, eventsTrained, lastEventTime, model, metrics.scores());
    }

    /** Records other trainers' progressive scores in this trainer's metrics (see parallel.ReplicaTrainer). */
    public void recordScores(int[] permutations, double[][] ranking, double[][] predictions) {
        metrics.record(permutations, ranking, predictions);
    }

    /** Offers events to this trainer's reservoirs: a data-parallel replica's round of every replica's events (see {@link #shareSamples}). */
    public void offer(List<Example> events) {
        sampler.offerAll(events);
    }

    /** The last step's events, in the order of its result's rows. */
    public List<Example> lastStepEvents() {
        return lastStepEvents;
    }

    public List<TaskScore> scores() {
        return metrics.scores();
    }

    /** Events that went through a training step, skipped steps included. */
    public long eventsTrained() {
        return eventsTrained;
    }

    public int pendingEvents() {
        return pending.size();
    }

    public long lastEventTime() {
        return lastEventTime;
    }

    /** Wall time of the last training step (drawing the samples, the model's step, the metrics, the reservoirs), nanoseconds; 0 before the first. */
    public long lastStepNanos() {
        return lastStepNanos;
    }

    public double lastModelLoss() {
        return lastModelLoss;
    }

    public CrossDistilModel model() {
        return model;
    }

    public ModelConfig config() {
        return cfg;
    }

    public byte[] toBytes() {
        return StateBytes.write(FORMAT, out -> {
            StateBytes.writeBlock(out, model.toBytes());
            StateBytes.writeBlock(out, sampler.toBytes());
            StateBytes.writeBlock(out, metrics.toBytes());
            Example.writeAll(out, pending);
            out.writeLong(eventsTrained);
            out.writeLong(lastEventTime);
            out.writeDouble(lastModelLoss);
        });
    }

    public static OnlineTrainer fromBytes(byte[] data) {
        return StateBytes.read(data, FORMAT, "trainer state", in -> {
            CrossDistilModel model = CrossDistilModel.fromBytes(StateBytes.readBlock(in), FrozenTeachers::load);
            ModelConfig cfg = model.config();
            QuadrupletSampler sampler = QuadrupletSampler.fromBytes(StateBytes.readBlock(in), cfg.features.size(), cfg.denseFeatures.size());
            ProgressiveMetrics metrics = ProgressiveMetrics.fromBytes(StateBytes.readBlock(in));
            OnlineTrainer t = new OnlineTrainer(model, sampler, metrics, new ArrayList<>(Example.readAll(in)));
            t.eventsTrained = in.readLong();
            t.lastEventTime = in.readLong();
            t.lastModelLoss = in.readDouble();
            return t;
        });
    }
}

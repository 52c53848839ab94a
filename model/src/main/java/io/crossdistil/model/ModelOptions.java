package io.crossdistil.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every model option: its key (the job's command-line argument without the leading dashes, and
 * the key every snapshot stores), its default, where the default comes from and what it does.
 * "method" marks the published method's setting; "reference run" the settings of the one-pass
 * reference measurement described in docs/algorithm.md ("Teacher routing"); "project" our own
 * choice where the method paper states no value.
 *
 * <p>A training option says only how the model learns (step sizes, losses, the gate, sampling,
 * warm start), never what a snapshot's students compute from its values: a reader that only
 * scores may ignore one it does not know (see {@link ModelConfig#forScoring}). Every other option
 * says what the model is, and a reader must know it.
 */
public final class ModelOptions {
    private ModelOptions() {}

    /** One documented option; {@code training}: it says only how the model learns. */
    public record Option(String key, String defaultValue, String source, String doc, boolean training) {
        /** An option that is not a model's training option (a job's option, or what the model is). */
        public Option(String key, String defaultValue, String source, String doc) {
            this(key, defaultValue, source, doc, false);
        }
    }

    public static final List<Option> OPTIONS = List.of(
            new Option("tasks", "finish,like", "project", "task names in priority order (K >= 2); each event carries a 0/1 label per task"),
            new Option("features", "user_id,item_id", "project", "categorical fields hashed into embeddings; user_id and item_id are the event's own ids, other names are keys of its categorical map"),
            new Option("dense-features", "", "project", "dense fields (keys of the event's dense map), comma-separated; a field an event lacks reads as the field's mean (as 0 with dense-scaling none)"),
            new Option("dense-scaling", "standard", "project", "how dense values reach the network: standard ((x - mean) / sd, with running statistics of the events trained on, which the model's state and snapshots carry; chosen on census-income, confirmed on the generated stream), log (sign(x) log(1 + |x|), then standardised: for heavy-tailed counts and amounts) or none (as they come)"),
            new Option("variant", "crossdistil", "method", "the method (crossdistil) or an ablation or baseline (docs/algorithm.md, Variants)"),
            new Option("embedding-dim", "8", "project", "embedding dimension per field"),
            new Option("hash-rows", "131072", "project", "rows of the one embedding table that all fields share (field-salted hashing)"),
            new Option("backbone", "shared-bottom", "method", "shared-bottom or mmoe"),
            new Option("bottom-layers", "128,64", "project", "hidden sizes of the shared bottom MLP (also of a separate teacher bottom)"),
            new Option("experts", "4", "project", "MMoE: number of experts"),
            new Option("expert-layers", "64", "project", "MMoE: hidden sizes of each expert MLP"),
            new Option("tower-layers", "32", "project", "hidden sizes of every head's tower; each ends in one logit"),
            new Option("tower-exchange", "none", "project", "what the student towers exchange, from Deep Mutual Learning across Task Towers: none, ctfm (cross-task feature mining at their entry), gkd (global knowledge distillation at their top) or ctfm+gkd (docs/algorithm.md, Tower exchange)"),
            new Option("ctfm-task-embedding", "true", "method", "feature mining adds a learned task embedding to each tower's input first, as the reference code does (true or false)"),
            training("tower-exchange-dropout", "0.0", "method", "dropout rate of the mined features and of the global knowledge in training, in [0, 1); the reference code's default is 0, its published runs 0.5"),
            new Option("teacher-routing", "stop", "reference run", "where teacher gradients flow: shared (as published), stop (not into the shared bottom), separate (own teacher bottom)"),
            training("alpha", "0.2", "reference run", "distillation weight alpha per task, in [0, 1]"),
            training("beta1", "1.0", "project", "weight of the auxiliary ranking inside a task's positives, per task, >= 0"),
            training("beta2", "1.0", "project", "weight of the auxiliary ranking inside a task's negatives, per task, >= 0"),
            training("tau", "1.0", "project", "distillation temperature, > 0"),
            training("distillation-ramp-events", "0", "project", "alpha grows linearly from 0 over this many trained events (a curriculum); 0: alpha from the first event"),
            training("teacher-snapshots", "", "project", "frozen teachers: snapshots of earlier runs of this model (files or snapshot directories, local paths or, in the job, URIs of Flink's file systems, comma-separated; on the command line also --teacher-snapshot PATH, repeatable) whose students the students distil from besides the online teachers; same tasks, features and model shape"),
            training("initial-snapshot", "", "project", "a warm start: a new model begins with the parameters of this snapshot of an earlier run (a file or a snapshot directory: its latest; a local path or, in the job, a URI of any file system Flink has, s3:// included) instead of random ones: students, teachers, calibrations, dense statistics; optimizer state, reservoirs and the gate's evidence start afresh. Same tasks, features and model shape. A job restored from its state continues that state"),
            training("initial-snapshot-ramp-events", "51200", "project", "after a warm start (initial-snapshot) the step size grows linearly from 0 over this many events while the fresh optimizer state gathers the gradients' scale: without it the first steps move every weight by about the full step size and undo much of what the snapshot knew; 0: no ramp (chosen on census-income, confirmed on the generated stream: docs/results/warm-start/)"),
            training("one-sided-distillation", "false", "project", "distil an event only where its teacher pulls the student towards the event's label, a positive up and a negative down (docs/algorithm.md, One-sided distillation; true or false)"),
            training("distillation-gate", "true", "project", "scale each task's alpha by what distilling measurably adds to the student against a label-only twin that trains the shared layers (docs/algorithm.md, The distillation gate; true or false)"),
            training("gate-window-events", "10000", "project", "the gate's evidence decays by 1/e over this many events"),
            training("gate-tolerance", "0.0003", "project", "AUC a task may lose to distillation on the recent stream (and Multi-AUC it may miss), against the student's label-only twin, > 0 (chosen on census-income and the generated stream: the largest that cost at most half the 0.001 AUC bound since the start)"),
            training("gate-reset-students", "true", "project", "a student whose distillation limit falls to 0 becomes its label-only twin again, values and optimizer state, so that a shut gate is the multi-task baseline exactly (true or false)"),
            training("gate-log-loss-tolerance", "0.01", "project", "part by which a task's served log-loss may exceed its label-only twin's on the recent stream, > 0"),
            training("gate-adapt-events", "160000", "project", "events over which a task's distillation limit rises from 0 to 1 at the fastest (it falls four times as fast)"),
            training("margin", "0.0", "project", "error-correction margin m (in logits), >= 0"),
            training("teacher-weights", "1.0", "project", "w1, w2 ...: weight of each teacher's loss in L_Model, per task, >= 0"),
            training("student-weights", "1.0", "project", "w3, w4 ...: weight of each student's loss in L_Model, per task, >= 0"),
            training("optimizer", "adagrad", "project", "adam, adagrad or sgd (ND4J's updaters); AdaGrad's per-weight rates suit embedding rows that see few updates (chosen on census-income, confirmed on the generated stream)"),
            training("learning-rate", "0.05", "project", "gamma1, the model step size (chosen with the optimizer)"),
            training("calibration-learning-rate", "0.01", "project", "gamma2, the calibration step size"),
            new Option("output-calibration", "true", "project", "fit each task's served probability online, sigmoid(a r + b) of the student logit r, on every batch's labels before the step (true or false)"),
            training("output-calibration-learning-rate", "0.03", "project", "step size of the output calibration (chosen on census-income, confirmed on the generated stream)"),
            training("snapshot-average-events", "4096", "project", "snapshots carry the parameters averaged over about this many recent events (an exponential moving average: Polyak averaging), not the last step's, whose probabilities jump from step to step; training and the progressive metrics use the live parameters; 0: snapshots carry the last step's (chosen on census-income, confirmed on the generated stream: docs/results/census-income-snapshot-calibration/)"),
            training("batch-size", "256", "reference run", "events per training step"),
            training("quadruplets-per-step", "64", "project", "tuples drawn per step, one event from each label permutation (a quadruplet for K = 2)"),
            training("marginal-pairs-per-step", "64", "project", "(positive, negative) pairs drawn per task per step for the coarse ranking"),
            training("reservoir-capacity", "20000", "reference run", "events kept per label permutation"),
            training("seed", "42", "project", "seed of the initial weights and of the sampler"),
            new Option("dtype", "float", "project", "float or double (double is for gradient checks)"));

    private static final Map<String, Option> BY_KEY = new LinkedHashMap<>();

    static {
        for (Option o : OPTIONS) {
            BY_KEY.put(o.key(), o);
        }
    }

    /** The option with this key, or null. */
    public static Option get(String key) {
        return BY_KEY.get(key);
    }

    /** The keys of the training options, in {@link #OPTIONS} order. */
    public static List<String> trainingKeys() {
        return OPTIONS.stream().filter(Option::training).map(Option::key).toList();
    }

    private static Option training(String key, String defaultValue, String source, String doc) {
        return new Option(key, defaultValue, source, doc, true);
    }
}

package io.crossdistil.model;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The model's whole configuration: one validated, immutable object. It is read from and written
 * to a flat key -> value map whose keys are the job's command-line arguments (without the
 * leading dashes) and the keys stored in every snapshot, so a snapshot says exactly how it was
 * trained.
 *
 * <p>Per-task values (alpha, beta1, beta2, teacher-weights, student-weights) take either one
 * number for every task or a comma-separated list with one number per task, in task order.
 *
 * <p>Every option, its default and where the default comes from is listed in {@link #OPTIONS}.
 * "method" marks the published method's setting; "reference run" the settings of the one-pass
 * reference measurement described in docs/algorithm.md ("Teacher routing"); "project" our own
 * choice where the method paper states no value.
 */
public final class ModelConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One documented option. */
    public record Option(String key, String defaultValue, String source, String doc) {}

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
            new Option("tower-exchange-dropout", "0.0", "method", "dropout rate of the mined features and of the global knowledge in training, in [0, 1); the reference code's default is 0, its published runs 0.5"),
            new Option("teacher-routing", "stop", "reference run", "where teacher gradients flow: shared (as published), stop (not into the shared bottom), separate (own teacher bottom)"),
            new Option("alpha", "0.2", "reference run", "distillation weight alpha per task, in [0, 1]"),
            new Option("beta1", "1.0", "project", "weight of the auxiliary ranking inside a task's positives, per task, >= 0"),
            new Option("beta2", "1.0", "project", "weight of the auxiliary ranking inside a task's negatives, per task, >= 0"),
            new Option("tau", "1.0", "project", "distillation temperature, > 0"),
            new Option("distillation-ramp-events", "0", "project", "alpha grows linearly from 0 over this many trained events (a curriculum); 0: alpha from the first event"),
            new Option("teacher-snapshots", "", "project", "frozen teachers: snapshots of earlier runs of this model (files or snapshot directories, local paths or, in the job, URIs of Flink's file systems, comma-separated; on the command line also --teacher-snapshot PATH, repeatable) whose students the students distil from besides the online teachers; same tasks, features and model shape"),
            new Option("initial-snapshot", "", "project", "a warm start: a new model begins with the parameters of this snapshot of an earlier run (a file or a snapshot directory: its latest; a local path or, in the job, a URI of any file system Flink has, s3:// included) instead of random ones: students, teachers, calibrations, dense statistics; optimizer state, reservoirs and the gate's evidence start afresh. Same tasks, features and model shape. A job restored from its state continues that state"),
            new Option("initial-snapshot-ramp-events", "51200", "project", "after a warm start (initial-snapshot) the step size grows linearly from 0 over this many events while the fresh optimizer state gathers the gradients' scale: without it the first steps move every weight by about the full step size and undo much of what the snapshot knew; 0: no ramp (chosen on census-income, confirmed on the generated stream: docs/results/warm-start/)"),
            new Option("one-sided-distillation", "false", "project", "distil an event only where its teacher pulls the student towards the event's label, a positive up and a negative down (docs/algorithm.md, One-sided distillation; true or false)"),
            new Option("distillation-gate", "true", "project", "scale each task's alpha by what distilling measurably adds to the student against a label-only twin that trains the shared layers (docs/algorithm.md, The distillation gate; true or false)"),
            new Option("gate-window-events", "10000", "project", "the gate's evidence decays by 1/e over this many events"),
            new Option("gate-tolerance", "0.0003", "project", "AUC a task may lose to distillation on the recent stream (and Multi-AUC it may miss), against the student's label-only twin, > 0 (chosen on census-income and the generated stream: the largest that cost at most half the 0.001 AUC bound since the start)"),
            new Option("gate-reset-students", "true", "project", "a student whose distillation limit falls to 0 becomes its label-only twin again, values and optimizer state, so that a shut gate is the multi-task baseline exactly (true or false)"),
            new Option("gate-log-loss-tolerance", "0.01", "project", "part by which a task's served log-loss may exceed its label-only twin's on the recent stream, > 0"),
            new Option("gate-adapt-events", "160000", "project", "events over which a task's distillation limit rises from 0 to 1 at the fastest (it falls four times as fast)"),
            new Option("margin", "0.0", "project", "error-correction margin m (in logits), >= 0"),
            new Option("teacher-weights", "1.0", "project", "w1, w2 ...: weight of each teacher's loss in L_Model, per task, >= 0"),
            new Option("student-weights", "1.0", "project", "w3, w4 ...: weight of each student's loss in L_Model, per task, >= 0"),
            new Option("optimizer", "adagrad", "project", "adam, adagrad or sgd (ND4J's updaters); AdaGrad's per-weight rates suit embedding rows that see few updates (chosen on census-income, confirmed on the generated stream)"),
            new Option("learning-rate", "0.05", "project", "gamma1, the model step size (chosen with the optimizer)"),
            new Option("calibration-learning-rate", "0.01", "project", "gamma2, the calibration step size"),
            new Option("output-calibration", "true", "project", "fit each task's served probability online, sigmoid(a r + b) of the student logit r, on every batch's labels before the step (true or false)"),
            new Option("output-calibration-learning-rate", "0.03", "project", "step size of the output calibration (chosen on census-income, confirmed on the generated stream)"),
            new Option("snapshot-average-events", "4096", "project", "snapshots carry the parameters averaged over about this many recent events (an exponential moving average: Polyak averaging), not the last step's, whose probabilities jump from step to step; training and the progressive metrics use the live parameters; 0: snapshots carry the last step's (chosen on census-income, confirmed on the generated stream: docs/results/census-income-snapshot-calibration/)"),
            new Option("batch-size", "256", "reference run", "events per training step"),
            new Option("quadruplets-per-step", "64", "project", "tuples drawn per step, one event from each label permutation (a quadruplet for K = 2)"),
            new Option("marginal-pairs-per-step", "64", "project", "(positive, negative) pairs drawn per task per step for the coarse ranking"),
            new Option("reservoir-capacity", "20000", "reference run", "events kept per label permutation"),
            new Option("seed", "42", "project", "seed of the initial weights and of the sampler"),
            new Option("dtype", "float", "project", "float or double (double is for gradient checks)"));

    private static final Map<String, Option> BY_KEY = new LinkedHashMap<>();

    static {
        for (Option o : OPTIONS) {
            BY_KEY.put(o.key(), o);
        }
    }

    private final Map<String, String> values;

    public final List<String> tasks;
    public final List<String> features;
    public final List<String> denseFeatures;
    public final DenseScaling denseScaling;
    public final Variant variant;
    public final int embeddingDim;
    public final int hashRows;
    public final Backbone backbone;
    private final int[] bottomLayers;
    public final int experts;
    private final int[] expertLayers;
    private final int[] towerLayers;
    public final TowerExchange towerExchange;
    public final boolean ctfmTaskEmbedding;
    public final double towerExchangeDropout;
    public final TeacherRouting teacherRouting;
    private final double[] alpha;
    private final double[] beta1;
    private final double[] beta2;
    public final double tau;
    public final long distillationRampEvents;
    public final List<String> teacherSnapshots;
    /** A snapshot to start from, or null: a new model starts from random values. */
    public final String initialSnapshot;
    public final long initialSnapshotRampEvents;
    public final boolean oneSidedDistillation;
    public final boolean distillationGate;
    public final int gateWindowEvents;
    public final double gateTolerance;
    public final boolean gateResetStudents;
    /** Events over which the served average of the parameters decays by 1/e; 0: none. */
    public final double snapshotAverageEvents;
    public final double gateLogLossTolerance;
    public final int gateAdaptEvents;
    public final double margin;
    private final double[] teacherWeights;
    private final double[] studentWeights;
    public final OptimizerKind optimizer;
    public final double learningRate;
    public final double calibrationLearningRate;
    public final boolean outputCalibration;
    public final double outputCalibrationLearningRate;
    public final int batchSize;
    public final int quadrupletsPerStep;
    public final int marginalPairsPerStep;
    public final int reservoirCapacity;
    public final long seed;
    public final DataType dtype;

    private ModelConfig(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        tasks = names("tasks", true);
        if (tasks.size() < 2) {
            throw bad("tasks", "needs at least two task names, for example finish,like");
        }
        if (tasks.size() > 8) {
            throw bad("tasks", "supports at most 8 tasks (2^K reservoirs)");
        }
        if (tasks.stream().distinct().count() != tasks.size()) {
            throw bad("tasks", "has a repeated name");
        }
        features = names("features", true);
        denseFeatures = names("dense-features", false);
        denseScaling = parse("dense-scaling", DenseScaling::parse);
        variant = parse("variant", Variant::parse);
        embeddingDim = positiveInt("embedding-dim");
        hashRows = positiveInt("hash-rows");
        backbone = parse("backbone", Backbone::parse);
        bottomLayers = layers("bottom-layers");
        experts = positiveInt("experts");
        expertLayers = layers("expert-layers");
        towerLayers = layers("tower-layers");
        towerExchange = parse("tower-exchange", TowerExchange::parse);
        ctfmTaskEmbedding = bool("ctfm-task-embedding");
        towerExchangeDropout = number("tower-exchange-dropout", 0, 1);
        if (towerExchangeDropout == 1) {
            throw bad("tower-exchange-dropout", "must be below 1 (1 drops everything)");
        }
        teacherRouting = parse("teacher-routing", TeacherRouting::parse);
        alpha = perTask("alpha", 0, 1);
        beta1 = perTask("beta1", 0, Double.MAX_VALUE);
        beta2 = perTask("beta2", 0, Double.MAX_VALUE);
        tau = number("tau", Double.MIN_VALUE, Double.MAX_VALUE);
        distillationRampEvents = events("distillation-ramp-events");
        teacherSnapshots = names("teacher-snapshots", false);
        if (!teacherSnapshots.isEmpty() && !variant.distils()) {
            throw bad("teacher-snapshots", "needs a variant whose students distil; " + variant.key() + " does not");
        }
        initialSnapshot = values.get("initial-snapshot").isEmpty() ? null : values.get("initial-snapshot");
        initialSnapshotRampEvents = events("initial-snapshot-ramp-events");
        oneSidedDistillation = bool("one-sided-distillation");
        distillationGate = bool("distillation-gate");
        gateResetStudents = bool("gate-reset-students");
        gateWindowEvents = positiveInt("gate-window-events");
        gateTolerance = number("gate-tolerance", Double.MIN_VALUE, 1);
        gateLogLossTolerance = number("gate-log-loss-tolerance", Double.MIN_VALUE, 10);
        gateAdaptEvents = positiveInt("gate-adapt-events");
        margin = number("margin", 0, Double.MAX_VALUE);
        teacherWeights = perTask("teacher-weights", 0, Double.MAX_VALUE);
        studentWeights = perTask("student-weights", 0, Double.MAX_VALUE);
        optimizer = parse("optimizer", OptimizerKind::parse);
        learningRate = number("learning-rate", Double.MIN_VALUE, 10);
        calibrationLearningRate = number("calibration-learning-rate", Double.MIN_VALUE, 10);
        outputCalibration = bool("output-calibration");
        outputCalibrationLearningRate = number("output-calibration-learning-rate", Double.MIN_VALUE, 10);
        snapshotAverageEvents = number("snapshot-average-events", 0, 1e12);
        batchSize = positiveInt("batch-size");
        quadrupletsPerStep = positiveInt("quadruplets-per-step");
        marginalPairsPerStep = positiveInt("marginal-pairs-per-step");
        reservoirCapacity = positiveInt("reservoir-capacity");
        // a reservoir keeps its events' features in one array (see Reservoir)
        if ((long) reservoirCapacity * Math.max(features.size(), denseFeatures.size()) > Integer.MAX_VALUE - 8) {
            throw bad("reservoir-capacity", "is too large for " + Math.max(features.size(), denseFeatures.size())
                    + " features an event: capacity times features must stay below 2^31");
        }
        seed = parse("seed", Long::parseLong);
        dtype = parse("dtype", s -> switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "float" -> DataType.FLOAT;
            case "double" -> DataType.DOUBLE;
            default -> throw new IllegalArgumentException("use float or double");
        });
    }

    /** The options, as a model's state carries them (see {@link #read}). */
    public void write(DataOutput out) throws IOException {
        Map<String, String> c = toMap();
        out.writeInt(c.size());
        for (Map.Entry<String, String> e : c.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
    }

    /** A configuration written by {@link #write} (see {@link #fromStored}). */
    public static ModelConfig read(DataInput in) throws IOException {
        int n = in.readInt();
        Map<String, String> c = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            c.put(in.readUTF(), in.readUTF());
        }
        return fromStored(c);
    }

    /**
     * The configuration a model's state or snapshot carries. Options it lacks (it is older) take
     * their defaults, except where the default would change what the stored model computes: dense
     * values reached the network unscaled before dense-scaling.
     */
    public static ModelConfig fromStored(Map<String, String> stored) {
        Map<String, String> c = new LinkedHashMap<>(stored);
        if (!c.getOrDefault("dense-features", "").isBlank()) {
            c.putIfAbsent("dense-scaling", DenseScaling.NONE.key());
        }
        return fromMap(c);
    }

    /** The defaults of {@link #OPTIONS}. */
    public static ModelConfig defaults() {
        return fromMap(Map.of());
    }

    /**
     * Reads a configuration; keys missing from {@code overrides} take their defaults.
     *
     * @throws IllegalArgumentException naming the key and what to fix, for an unknown key or a
     *     bad value
     */
    public static ModelConfig fromMap(Map<String, String> overrides) {
        Map<String, String> merged = new LinkedHashMap<>();
        for (Option o : OPTIONS) {
            merged.put(o.key(), o.defaultValue());
        }
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!BY_KEY.containsKey(e.getKey())) {
                throw new IllegalArgumentException("unknown model option '" + e.getKey() + "'; known options: "
                        + String.join(", ", BY_KEY.keySet()));
            }
            merged.put(e.getKey(), e.getValue() == null ? "" : e.getValue().trim());
        }
        return new ModelConfig(merged);
    }

    public static boolean isOption(String key) {
        return BY_KEY.containsKey(key);
    }

    /** A copy with one option changed. */
    public ModelConfig with(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(values);
        m.put(key, value);
        return fromMap(m);
    }

    /** Every option with its value; {@code fromMap(toMap())} gives an equal configuration. */
    public Map<String, String> toMap() {
        return values;
    }

    /** Hidden sizes of the shared bottom (and of a separate teacher bottom). */
    public int[] bottomLayers() {
        return bottomLayers.clone();
    }

    /** MMoE: hidden sizes of each expert. */
    public int[] expertLayers() {
        return expertLayers.clone();
    }

    /** Hidden sizes of every head's tower, before its logit. */
    public int[] towerLayers() {
        return towerLayers.clone();
    }

    /** The distillation weight of task k. */
    public double alpha(int k) {
        return alpha[k];
    }

    /** The weight of task k's auxiliary ranking inside its positives. */
    public double beta1(int k) {
        return beta1[k];
    }

    /** The weight of task k's auxiliary ranking inside its negatives. */
    public double beta2(int k) {
        return beta2[k];
    }

    /** The weight of task k's teacher loss in L_Model. */
    public double teacherWeight(int k) {
        return teacherWeights[k];
    }

    /** The weight of task k's student loss in L_Model. */
    public double studentWeight(int k) {
        return studentWeights[k];
    }

    public int numTasks() {
        return tasks.size();
    }

    /** Number of label permutations, 2^K. */
    public int numPermutations() {
        return 1 << tasks.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig c && c.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }

    // ---- parsing helpers: each failure names the key and what to fix ----

    private <T> T parse(String key, Function<String, T> parser) {
        String raw = values.get(key);
        try {
            return parser.apply(raw);
        } catch (RuntimeException e) {
            throw bad(key, "has the value '" + raw + "': " + (e.getMessage() == null ? "not a valid value" : e.getMessage()));
        }
    }

    private static IllegalArgumentException bad(String key, String what) {
        return new IllegalArgumentException("model option '" + key + "' " + what + " (" + BY_KEY.get(key).doc() + ")");
    }

    /** A count of events, 0 or more. */
    private long events(String key) {
        long v = parse(key, Long::parseLong);
        if (v < 0) {
            throw bad(key, "must not be negative, not " + v);
        }
        return v;
    }

    private int positiveInt(String key) {
        int v = parse(key, Integer::parseInt);
        if (v <= 0) {
            throw bad(key, "must be a positive whole number, not " + v);
        }
        return v;
    }

    private boolean bool(String key) {
        return parse(key, s -> switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("use true or false");
        });
    }

    private double number(String key, double min, double max) {
        double v = parse(key, Double::parseDouble);
        if (!(v >= min && v <= max)) {
            throw bad(key, "is " + v + ", out of range [" + min + ", " + max + "]");
        }
        return v;
    }

    private List<String> names(String key, boolean required) {
        String raw = values.get(key);
        List<String> out = new ArrayList<>();
        for (String s : raw.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        if (required && out.isEmpty()) {
            throw bad(key, "must name at least one");
        }
        if (out.stream().distinct().count() != out.size()) {
            throw bad(key, "has a repeated name");
        }
        return List.copyOf(out);
    }

    private int[] layers(String key) {
        int[] sizes = parse(key, s -> Arrays.stream(s.split(",")).filter(x -> !x.isBlank())
                .mapToInt(x -> Integer.parseInt(x.trim())).toArray());
        if (sizes.length == 0 || Arrays.stream(sizes).anyMatch(x -> x <= 0)) {
            throw bad(key, "must be one or more positive sizes, for example 128,64");
        }
        return sizes;
    }

    private double[] perTask(String key, double min, double max) {
        double[] given = parse(key, s -> Arrays.stream(s.split(",")).mapToDouble(x -> Double.parseDouble(x.trim())).toArray());
        double[] out;
        if (given.length == 1) {
            out = new double[tasks.size()];
            Arrays.fill(out, given[0]);
        } else if (given.length == tasks.size()) {
            out = given;
        } else {
            throw bad(key, "has " + given.length + " values; give one for all tasks or one per task (" + tasks.size() + ")");
        }
        for (double v : out) {
            if (!(v >= min && v <= max)) {
                throw bad(key, "has " + v + ", out of range [" + min + ", " + max + "]");
            }
        }
        return out;
    }
}

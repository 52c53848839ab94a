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
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
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
 * <p>Every option, its default and where the default comes from is listed in
 * {@link ModelOptions#OPTIONS}.
 */
public final class ModelConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The key under which a snapshot's configuration lists its training options (comma-separated),
     * so that a reader that only scores knows which options it may ignore.
     */
    public static final String TRAINING_OPTIONS = "training-options";

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
        c.remove(TRAINING_OPTIONS);
        if (!c.getOrDefault("dense-features", "").isBlank()) {
            c.putIfAbsent("dense-scaling", DenseScaling.NONE.key());
        }
        return fromMap(c);
    }

    /**
     * What a reader that only scores needs of a snapshot's configuration (serving, a frozen teacher,
     * a warm start's check). The training options the snapshot lists under {@link #TRAINING_OPTIONS}
     * are left out and take this version's defaults: they do not change what the students compute,
     * and a newer trainer's that this version does not know must not stop serving. An option the
     * snapshot does not list as a training option must be known.
     *
     * @throws IllegalArgumentException naming an unknown option that may change the scores
     */
    public static ModelConfig forScoring(Map<String, String> stored) {
        Map<String, String> c = new LinkedHashMap<>(stored);
        c.remove(TRAINING_OPTIONS);
        c.keySet().removeAll(trainingOptions(stored));
        for (String key : c.keySet()) {
            if (!isOption(key)) {
                throw new IllegalArgumentException("the snapshot's model option '" + key + "' is unknown to this version: "
                        + "a newer trainer wrote it, and it may change what the model computes; upgrade this reader");
            }
        }
        return fromStored(c);
    }

    /** The training options a snapshot's configuration lists (none in one written before the list). */
    public static Set<String> trainingOptions(Map<String, String> stored) {
        String listed = stored.get(TRAINING_OPTIONS);
        return listed == null ? Set.of() : Arrays.stream(listed.split(",")).map(String::trim).collect(Collectors.toSet());
    }

    /** The stored configuration of a snapshot: every option, and the list of its training options. */
    public Map<String, String> toStored() {
        Map<String, String> m = new LinkedHashMap<>(values);
        m.put(TRAINING_OPTIONS, String.join(",", ModelOptions.trainingKeys()));
        return m;
    }

    /** The defaults of {@link ModelOptions#OPTIONS}. */
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
        for (ModelOptions.Option o : ModelOptions.OPTIONS) {
            merged.put(o.key(), o.defaultValue());
        }
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!isOption(e.getKey())) {
                throw new IllegalArgumentException("unknown model option '" + e.getKey() + "'; known options: "
                        + String.join(", ", ModelOptions.OPTIONS.stream().map(ModelOptions.Option::key).toList()));
            }
            merged.put(e.getKey(), e.getValue() == null ? "" : e.getValue().trim());
        }
        return new ModelConfig(merged);
    }

    public static boolean isOption(String key) {
        return ModelOptions.get(key) != null;
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
        return new IllegalArgumentException("model option '" + key + "' " + what + " (" + ModelOptions.get(key).doc() + ")");
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

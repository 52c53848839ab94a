package io.crossdistil.job;

import io.crossdistil.job.io.DecodeSettings;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.ModelOptions;
import io.crossdistil.model.parallel.ReplicaTrainer;
import io.crossdistil.model.snapshot.FrozenTeachers;
import io.crossdistil.model.snapshot.InitialSnapshot;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * The job's arguments: {@code --key value} (or {@code --key=value}). Job options are listed in
 * {@link #OPTIONS}; every model option of {@link ModelOptions#OPTIONS} is accepted as well; any
 * {@code --kafka.<property> value} is passed to every Kafka client (security settings and the like).
 * An unknown or invalid argument stops the job at start with a message that says what to fix.
 */
public final class JobConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A disabled topic or directory. */
    public static final String NONE = "none";

    public static final List<ModelOptions.Option> OPTIONS = List.of(
            new ModelOptions.Option("bootstrap-servers", "", "required", "Kafka bootstrap servers, host:port[,host:port]"),
            new ModelOptions.Option("topic", "feedback", "", "topic of the feedback events (Avro single-object encoding; Schema Registry framing with --registry-schemas)"),
            new ModelOptions.Option("dlq-topic", "feedback-dlq", "", "dead-letter topic: every record that cannot be decoded or validated, with the reason"),
            new ModelOptions.Option("snapshot-topic", "model-snapshots", "", "compacted topic the model snapshots go to, or none"),
            new ModelOptions.Option("metrics-topic", "feedback-metrics", "", "topic of the trainer's progress reports, or none"),
            new ModelOptions.Option("group-id", "crossdistil", "", "Kafka consumer group (offsets live in Flink checkpoints; the group only reports them)"),
            new ModelOptions.Option("starting-offsets", "committed", "", "earliest, latest, or committed (the group's offsets, else earliest)"),
            new ModelOptions.Option("bounded", "false", "", "true: stop after the offsets that were the latest when the job started (replays, tests)"),
            new ModelOptions.Option("snapshot-dir", "snapshots", "", "directory (any Flink file system URI) for snapshot files and the latest pointer, or none"),
            new ModelOptions.Option("snapshot-every-events", "1000000", "", "write a snapshot after this many trained events (0: never by count); at 100,000 events/s one every 10 s"),
            new ModelOptions.Option("snapshot-every-seconds", "60", "", "write a snapshot when this much time has passed since the last (0: never by time)"),
            new ModelOptions.Option("snapshot-retain", "10", "", "snapshot files kept in the directory; older ones are deleted"),
            new ModelOptions.Option("metrics-every-seconds", "2", "", "how often the trainer publishes its progress report"),
            new ModelOptions.Option("metrics-window", "10000", "", "events in the sliding window of the windowed metrics"),
            new ModelOptions.Option("checkpoint-interval-ms", "10000", "", "checkpoint interval (exactly-once state)"),
            new ModelOptions.Option("checkpoint-dir", "", "", "checkpoint storage URI (for example file:///flink/checkpoints); needed unless the cluster sets execution.checkpointing.dir"),
            new ModelOptions.Option("state-backend", "hashmap", "", "hashmap or rocksdb"),
            new ModelOptions.Option("nd4j-threads", "1", "", "threads of one ND4J operation, set by the trainer for its whole TaskManager process (ND4J's own ops and BLAS); 0 leaves ND4J's own count (OMP_NUM_THREADS, else the cores). A step's operations are small: more threads mostly wait for cores Flink's and Kafka's threads hold (2 cores: 3.7 ms a step with 1, 8 to 23 with 2)"),
            new ModelOptions.Option("decode-parallelism", "0", "", "parallelism of source and decoding (0: the environment's default); the trainer runs with 1 (with --trainers N > 1, all three run with N)"),
            new ModelOptions.Option("trainers", "1", "", "data-parallel trainers, each with a full model replica fed a fixed share of the topic's partitions (docs/scaling.md); N > 1 needs at least N partitions, exactly N for a bit-reproducible model"),
            new ModelOptions.Option("round-steps", Integer.toString(ReplicaTrainer.DEFAULT_ROUND_STEPS), "", "with --trainers N > 1: training steps of each trainer between two merges of their changes"),
            new ModelOptions.Option("exchange-topic", "", "", "with --trainers N > 1: topic the trainers exchange their changes through (default: TOPIC-exchange; created with one partition when missing)"),
            new ModelOptions.Option("max-features", "1000", "", "events with more categorical features than this are dead letters"),
            new ModelOptions.Option("max-record-bytes", "1048576", "", "records larger than this are dead letters"),
            new ModelOptions.Option("other-labels", "refuse", "", "labels of tasks this job does not train: refuse (the event is a dead letter) or ignore (for a topic whose events carry more tasks than the job trains)"),
            new ModelOptions.Option("registry-schemas", "", "", "for events framed by Confluent Schema Registry serializers (byte 0, the writer schema's 4-byte id, the Avro body): ID=FILE, comma-separated, each schema id producers write with and a file of that schema (what the registry holds under the id: curl -s REGISTRY/schemas/ids/ID | jq -r .schema > FILE); each is read and checked at start. Without it such events are dead letters naming the id"),
            new ModelOptions.Option("writer-schemas", "", "", "Avro schema files (.avsc, comma-separated) of other versions of the FeedbackEvent schema that producers write with: their events are read by Avro's schema resolution (fields the job does not know skipped, fields the writer lacks given their defaults); each is read and checked at start. Without it such events are dead letters (unknown writer schema)"),
            new ModelOptions.Option("delivery-guarantee", "at-least-once", "", "Kafka sinks: at-least-once (a recovery may repeat a dead letter, snapshot or report) or exactly-once (Kafka transactions committed with each checkpoint: nothing repeated, records visible to read_committed consumers only after the checkpoint; transactional ids start with the job name, so give every job its own --job-name)"),
            new ModelOptions.Option("job-name", "crossdistil", "", "the Flink job name"));

    private static final Map<String, ModelOptions.Option> BY_KEY = new LinkedHashMap<>();

    static {
        OPTIONS.forEach(o -> BY_KEY.put(o.key(), o));
    }

    private final String bootstrapServers;
    private final String topic;
    private final String dlqTopic;
    private final String snapshotTopic;
    private final String metricsTopic;
    private final String groupId;
    private final String startingOffsets;
    private final boolean bounded;
    private final String snapshotDir;
    private final long snapshotEveryEvents;
    private final long snapshotEverySeconds;
    private final int snapshotRetain;
    private final long metricsEverySeconds;
    private final int metricsWindow;
    private final long checkpointIntervalMs;
    private final String checkpointDir;
    private final String stateBackend;
    private final int nd4jThreads;
    private final int decodeParallelism;
    private final int trainers;
    private final int roundSteps;
    private final String exchangeTopic;
    private final DecodeSettings decode;
    private final DeliveryGuarantee deliveryGuarantee;
    private final String jobName;
    private final ModelConfig model;
    private final Map<String, String> modelOptions;
    private final Map<String, String> kafka;

    /** Parses and checks every value once; throws IllegalArgumentException saying what to fix. */
    private JobConfig(Map<String, String> job, Map<String, String> modelOptions, Map<String, String> kafka) {
        bootstrapServers = job.get("bootstrap-servers");
        if (bootstrapServers.isEmpty()) {
            throw new IllegalArgumentException("option --bootstrap-servers is required (host:port of your Kafka brokers)");
        }
        topic = topicName(job, "topic");
        dlqTopic = topicName(job, "dlq-topic");
        snapshotTopic = optional(job, "snapshot-topic");
        metricsTopic = optional(job, "metrics-topic");
        groupId = job.get("group-id");
        startingOffsets = oneOf(job, "starting-offsets", "earliest", "latest", "committed");
        bounded = bool(job, "bounded");
        snapshotDir = optional(job, "snapshot-dir");
        snapshotEveryEvents = nonNegative(job, "snapshot-every-events");
        snapshotEverySeconds = nonNegative(job, "snapshot-every-seconds");
        snapshotRetain = (int) positive(job, "snapshot-retain");
        metricsEverySeconds = positive(job, "metrics-every-seconds");
        metricsWindow = (int) positive(job, "metrics-window");
        checkpointIntervalMs = positive(job, "checkpoint-interval-ms");
        checkpointDir = job.get("checkpoint-dir");
        stateBackend = oneOf(job, "state-backend", "hashmap", "rocksdb");
        deliveryGuarantee = switch (oneOf(job, "delivery-guarantee", "at-least-once", "exactly-once")) {
            case "exactly-once" -> DeliveryGuarantee.EXACTLY_ONCE;
            default -> DeliveryGuarantee.AT_LEAST_ONCE;
        };
        decodeParallelism = (int) nonNegative(job, "decode-parallelism");
        trainers = (int) positive(job, "trainers");
        roundSteps = (int) positive(job, "round-steps");
        exchangeTopic = job.get("exchange-topic").isEmpty() ? topic + "-exchange" : topicName(job, "exchange-topic");
        if (trainers > 1 && decodeParallelism != 0 && decodeParallelism != trainers) {
            throw new IllegalArgumentException("--decode-parallelism " + decodeParallelism + " with --trainers " + trainers
                    + ": each trainer reads its own partitions through its own source and decoder, so leave --decode-parallelism out "
                    + "or set it to " + trainers);
        }
        nd4jThreads = (int) nonNegative(job, "nd4j-threads");
        decode = new DecodeSettings((int) positive(job, "max-features"), (int) positive(job, "max-record-bytes"),
                oneOf(job, "other-labels", "refuse", "ignore").equals("ignore"), DecodeSettings.writerSchemas(job.get("writer-schemas")),
                DecodeSettings.registrySchemas(job.get("registry-schemas")));
        jobName = job.get("job-name");
        this.modelOptions = Map.copyOf(modelOptions);
        this.model = ModelConfig.fromMap(modelOptions); // model options are validated by the model's own configuration
        FrozenTeachers.check(model); // a frozen teacher that cannot be used stops the job here, not on a TaskManager
        InitialSnapshot.check(model); // so does a snapshot to start from
        ReplicaTrainer.replicaConfig(model, trainers); // so does a batch the trainers cannot share
        this.kafka = Map.copyOf(kafka);
    }

    /** Parses command-line arguments; throws {@link IllegalArgumentException} saying what to fix. */
    public static JobConfig fromArgs(String[] args) {
        return fromMap(parseArgs(args));
    }

    /** The one option that may be repeated: {@code --teacher-snapshot PATH}, one frozen teacher each. */
    private static final String TEACHER_SNAPSHOT = "teacher-snapshot";

    /**
     * {@code --key value} and {@code --key=value} pairs, in order; a missing value or a repeated key
     * is an error, except {@code --teacher-snapshot}, whose values join {@code teacher-snapshots}.
     */
    public static Map<String, String> parseArgs(String[] args) {
        Map<String, String> raw = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException("expected an option like --topic, found '" + a + "'");
            }
            String key = a.substring(2);
            String value;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("option --" + key + " needs a value");
            }
            if (key.equals(TEACHER_SNAPSHOT)) {
                // repeatable: every one joins the model option that lists them
                raw.merge("teacher-snapshots", value, (before, next) -> before + "," + next);
                continue;
            }
            if (raw.put(key, value) != null) {
                throw new IllegalArgumentException("option --" + key + " is given twice");
            }
        }
        return raw;
    }

    public static JobConfig fromMap(Map<String, String> raw) {
        Map<String, String> job = new LinkedHashMap<>();
        OPTIONS.forEach(o -> job.put(o.key(), o.defaultValue()));
        Map<String, String> model = new LinkedHashMap<>();
        Map<String, String> kafka = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : raw.entrySet()) {
            String key = e.getKey();
            if (BY_KEY.containsKey(key)) {
                job.put(key, e.getValue().trim());
            } else if (ModelConfig.isOption(key)) {
                model.put(key, e.getValue());
            } else if (key.startsWith("kafka.") && key.length() > 6) {
                kafka.put(key.substring(6), e.getValue());
            } else {
                throw new IllegalArgumentException("unknown option --" + key + "; run with --help for the list of options");
            }
        }
        return new JobConfig(job, model, kafka);
    }

    private static String topicName(Map<String, String> job, String key) {
        String v = job.get(key);
        if (v.isEmpty() || v.equals(NONE)) {
            throw new IllegalArgumentException("option --" + key + " needs a topic name");
        }
        return v;
    }

    /** Null when disabled. */
    private static String optional(Map<String, String> job, String key) {
        String v = job.get(key);
        return v.isEmpty() || v.equals(NONE) ? null : v;
    }

    private static String oneOf(Map<String, String> job, String key, String... allowed) {
        String v = job.get(key);
        if (!List.of(allowed).contains(v)) {
            throw new IllegalArgumentException("option --" + key + " must be " + String.join(" or ", allowed) + ", not '" + v + "'");
        }
        return v;
    }

    private static long number(Map<String, String> job, String key) {
        try {
            return Long.parseLong(job.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --" + key + " must be a whole number, not '" + job.get(key) + "' (" + BY_KEY.get(key).doc() + ")");
        }
    }

    private static long positive(Map<String, String> job, String key) {
        long v = number(job, key);
        if (v <= 0) {
            throw new IllegalArgumentException("option --" + key + " must be positive, not " + v);
        }
        return v;
    }

    private static long nonNegative(Map<String, String> job, String key) {
        long v = number(job, key);
        if (v < 0) {
            throw new IllegalArgumentException("option --" + key + " must not be negative, not " + v);
        }
        return v;
    }

    private static boolean bool(Map<String, String> job, String key) {
        String v = job.get(key).toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("option --" + key + " must be true or false, not '" + job.get(key) + "'");
        }
        return v.equals("true");
    }

    public static String help() {
        StringBuilder b = new StringBuilder("Job options:\n");
        for (ModelOptions.Option o : OPTIONS) {
            b.append(String.format("  --%-26s %s%s%n", o.key(), o.doc(),
                    o.defaultValue().isEmpty() ? "" : " [default: " + o.defaultValue() + "]"));
        }
        b.append("  --kafka.<property> <value>  passed to every Kafka client, e.g. --kafka.security.protocol SSL\n");
        b.append("\nModel options (docs/algorithm.md; 'source' says where a default comes from):\n");
        for (ModelOptions.Option o : ModelOptions.OPTIONS) {
            b.append(String.format("  --%-26s %s [default: %s; source: %s]%n", o.key(), o.doc(), o.defaultValue(), o.source()));
        }
        return b.toString();
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String topic() {
        return topic;
    }

    public String dlqTopic() {
        return dlqTopic;
    }

    /** Null when disabled. */
    public String snapshotTopic() {
        return snapshotTopic;
    }

    /** Null when disabled. */
    public String metricsTopic() {
        return metricsTopic;
    }

    /** Null when disabled. */
    public String snapshotDir() {
        return snapshotDir;
    }

    public String groupId() {
        return groupId;
    }

    public String startingOffsets() {
        return startingOffsets;
    }

    public boolean bounded() {
        return bounded;
    }

    public long snapshotEveryEvents() {
        return snapshotEveryEvents;
    }

    public long snapshotEverySeconds() {
        return snapshotEverySeconds;
    }

    public int snapshotRetain() {
        return snapshotRetain;
    }

    public long metricsEverySeconds() {
        return metricsEverySeconds;
    }

    public int nd4jThreads() {
        return nd4jThreads;
    }

    public int metricsWindow() {
        return metricsWindow;
    }

    public long checkpointIntervalMs() {
        return checkpointIntervalMs;
    }

    public String checkpointDir() {
        return checkpointDir;
    }

    public String stateBackend() {
        return stateBackend;
    }

    public DeliveryGuarantee deliveryGuarantee() {
        return deliveryGuarantee;
    }

    public int decodeParallelism() {
        return decodeParallelism;
    }

    /** Data-parallel trainers (1: one trainer, as before). */
    public int trainers() {
        return trainers;
    }

    public int roundSteps() {
        return roundSteps;
    }

    public String exchangeTopic() {
        return exchangeTopic;
    }

    /** What the decoders accept. */
    public DecodeSettings decodeSettings() {
        return decode;
    }

    public String jobName() {
        return jobName;
    }

    /** The model options as given (defaults are the model's). */
    public Map<String, String> modelOptions() {
        return modelOptions;
    }

    public ModelConfig modelConfig() {
        return model;
    }

    /** Extra Kafka client properties from {@code --kafka.*}, as given. */
    public Map<String, String> kafkaOptions() {
        return kafka;
    }

    /** Extra Kafka client properties from {@code --kafka.*}. */
    public Properties kafkaProperties() {
        Properties p = new Properties();
        p.putAll(kafka);
        return p;
    }
}

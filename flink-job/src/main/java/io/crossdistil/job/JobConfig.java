package io.crossdistil.job;

import io.crossdistil.model.ModelConfig;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * The job's arguments: {@code --key value} (or {@code --key=value}). Job options are listed in
 * {@link #OPTIONS}; every model option of {@link ModelConfig#OPTIONS} is accepted as well; any
 * {@code --kafka.<property> value} is passed to every Kafka client (security settings and the like).
 * An unknown or invalid argument stops the job at start with a message that says what to fix.
 */
public final class JobConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A disabled topic or directory. */
    public static final String NONE = "none";

    public static final List<ModelConfig.Option> OPTIONS = List.of(
            new ModelConfig.Option("bootstrap-servers", "", "required", "Kafka bootstrap servers, host:port[,host:port]"),
            new ModelConfig.Option("topic", "feedback", "", "topic of the feedback events (Avro single-object encoding)"),
            new ModelConfig.Option("dlq-topic", "feedback-dlq", "", "dead-letter topic: every record that cannot be decoded or validated, with the reason"),
            new ModelConfig.Option("snapshot-topic", "model-snapshots", "", "compacted topic the model snapshots go to, or none"),
            new ModelConfig.Option("metrics-topic", "feedback-metrics", "", "topic of the trainer's progress reports, or none"),
            new ModelConfig.Option("group-id", "crossdistil", "", "Kafka consumer group (offsets live in Flink checkpoints; the group only reports them)"),
            new ModelConfig.Option("starting-offsets", "committed", "", "earliest, latest, or committed (the group's offsets, else earliest)"),
            new ModelConfig.Option("bounded", "false", "", "true: stop after the offsets that were the latest when the job started (replays, tests)"),
            new ModelConfig.Option("snapshot-dir", "snapshots", "", "directory (any Flink file system URI) for snapshot files and the latest pointer, or none"),
            new ModelConfig.Option("snapshot-every-events", "1000000", "", "write a snapshot after this many trained events (0: never by count); at 100,000 events/s one every 10 s"),
            new ModelConfig.Option("snapshot-every-seconds", "60", "", "write a snapshot when this much time has passed since the last (0: never by time)"),
            new ModelConfig.Option("snapshot-retain", "10", "", "snapshot files kept in the directory; older ones are deleted"),
            new ModelConfig.Option("metrics-every-seconds", "2", "", "how often the trainer publishes its progress report"),
            new ModelConfig.Option("metrics-window", "10000", "", "events in the sliding window of the windowed metrics"),
            new ModelConfig.Option("checkpoint-interval-ms", "10000", "", "checkpoint interval (exactly-once state)"),
            new ModelConfig.Option("checkpoint-dir", "", "", "checkpoint storage URI (for example file:///flink/checkpoints); needed unless the cluster sets execution.checkpointing.dir"),
            new ModelConfig.Option("state-backend", "hashmap", "", "hashmap or rocksdb"),
            new ModelConfig.Option("nd4j-threads", "1", "", "threads of one ND4J operation, set by the trainer for its whole TaskManager process (ND4J's own ops and BLAS); 0 leaves ND4J's own count (OMP_NUM_THREADS, else the cores). A step's operations are small: more threads mostly wait for cores Flink's and Kafka's threads hold (2 cores: 3.7 ms a step with 1, 8 to 23 with 2)"),
            new ModelConfig.Option("decode-parallelism", "0", "", "parallelism of source and decoding (0: the environment's default); the trainer runs with 1"),
            new ModelConfig.Option("max-features", "1000", "", "events with more categorical features than this are dead letters"),
            new ModelConfig.Option("max-record-bytes", "1048576", "", "records larger than this are dead letters"),
            new ModelConfig.Option("delivery-guarantee", "at-least-once", "", "Kafka sinks: at-least-once (a recovery may repeat a dead letter, snapshot or report) or exactly-once (Kafka transactions committed with each checkpoint: nothing repeated, records visible to read_committed consumers only after the checkpoint; transactional ids start with the job name, so give every job its own --job-name)"),
            new ModelConfig.Option("job-name", "crossdistil", "", "the Flink job name"));

    private static final Map<String, ModelConfig.Option> BY_KEY = new LinkedHashMap<>();

    static {
        OPTIONS.forEach(o -> BY_KEY.put(o.key(), o));
    }

    private final Map<String, String> job;
    private final Map<String, String> model;
    private final Map<String, String> kafka;

    private JobConfig(Map<String, String> job, Map<String, String> model, Map<String, String> kafka) {
        this.job = job;
        this.model = model;
        this.kafka = kafka;
    }

    /** Parses command-line arguments; throws {@link IllegalArgumentException} saying what to fix. */
    public static JobConfig fromArgs(String[] args) {
        return fromMap(parseArgs(args));
    }

    /** {@code --key value} and {@code --key=value} pairs, in order; a missing value or a repeated key is an error. */
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
        JobConfig c = new JobConfig(job, model, kafka);
        c.validate();
        return c;
    }

    private void validate() {
        if (bootstrapServers().isEmpty()) {
            throw new IllegalArgumentException("option --bootstrap-servers is required (host:port of your Kafka brokers)");
        }
        for (String topicKey : List.of("topic", "dlq-topic")) {
            if (job.get(topicKey).isEmpty() || job.get(topicKey).equals(NONE)) {
                throw new IllegalArgumentException("option --" + topicKey + " needs a topic name");
            }
        }
        startingOffsets();
        bool("bounded");
        nonNegative("snapshot-every-events");
        nonNegative("snapshot-every-seconds");
        positive("snapshot-retain");
        positive("metrics-every-seconds");
        positive("metrics-window");
        positive("checkpoint-interval-ms");
        stateBackend();
        deliveryGuarantee();
        nonNegative("decode-parallelism");
        nonNegative("nd4j-threads");
        positive("max-features");
        positive("max-record-bytes");
        modelConfig(); // model options are validated by the model's own configuration
    }

    private long number(String key) {
        try {
            return Long.parseLong(job.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --" + key + " must be a whole number, not '" + job.get(key) + "' (" + BY_KEY.get(key).doc() + ")");
        }
    }

    private long positive(String key) {
        long v = number(key);
        if (v <= 0) {
            throw new IllegalArgumentException("option --" + key + " must be positive, not " + v);
        }
        return v;
    }

    private long nonNegative(String key) {
        long v = number(key);
        if (v < 0) {
            throw new IllegalArgumentException("option --" + key + " must not be negative, not " + v);
        }
        return v;
    }

    private boolean bool(String key) {
        String v = job.get(key).toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("option --" + key + " must be true or false, not '" + job.get(key) + "'");
        }
        return v.equals("true");
    }

    public static String help() {
        StringBuilder b = new StringBuilder("Job options:\n");
        for (ModelConfig.Option o : OPTIONS) {
            b.append(String.format("  --%-26s %s%s%n", o.key(), o.doc(),
                    o.defaultValue().isEmpty() ? "" : " [default: " + o.defaultValue() + "]"));
        }
        b.append("  --kafka.<property> <value>  passed to every Kafka client, e.g. --kafka.security.protocol SSL\n");
        b.append("\nModel options (docs/algorithm.md; 'source' says where a default comes from):\n");
        for (ModelConfig.Option o : ModelConfig.OPTIONS) {
            b.append(String.format("  --%-26s %s [default: %s; source: %s]%n", o.key(), o.doc(), o.defaultValue(), o.source()));
        }
        return b.toString();
    }

    public String bootstrapServers() {
        return job.get("bootstrap-servers");
    }

    public String topic() {
        return job.get("topic");
    }

    public String dlqTopic() {
        return job.get("dlq-topic");
    }

    /** Null when disabled. */
    public String snapshotTopic() {
        return optional("snapshot-topic");
    }

    /** Null when disabled. */
    public String metricsTopic() {
        return optional("metrics-topic");
    }

    /** Null when disabled. */
    public String snapshotDir() {
        return optional("snapshot-dir");
    }

    private String optional(String key) {
        String v = job.get(key);
        return v.isEmpty() || v.equals(NONE) ? null : v;
    }

    public String groupId() {
        return job.get("group-id");
    }

    public String startingOffsets() {
        String v = job.get("starting-offsets");
        if (!List.of("earliest", "latest", "committed").contains(v)) {
            throw new IllegalArgumentException("option --starting-offsets must be earliest, latest or committed, not '" + v + "'");
        }
        return v;
    }

    public boolean bounded() {
        return bool("bounded");
    }

    public long snapshotEveryEvents() {
        return number("snapshot-every-events");
    }

    public long snapshotEverySeconds() {
        return number("snapshot-every-seconds");
    }

    public int snapshotRetain() {
        return (int) number("snapshot-retain");
    }

    public long metricsEverySeconds() {
        return number("metrics-every-seconds");
    }

    public int nd4jThreads() {
        return (int) number("nd4j-threads");
    }

    public int metricsWindow() {
        return (int) number("metrics-window");
    }

    public long checkpointIntervalMs() {
        return number("checkpoint-interval-ms");
    }

    public String checkpointDir() {
        return job.get("checkpoint-dir");
    }

    public String stateBackend() {
        String v = job.get("state-backend");
        if (!v.equals("hashmap") && !v.equals("rocksdb")) {
            throw new IllegalArgumentException("option --state-backend must be hashmap or rocksdb, not '" + v + "'");
        }
        return v;
    }

    public DeliveryGuarantee deliveryGuarantee() {
        return switch (job.get("delivery-guarantee")) {
            case "at-least-once" -> DeliveryGuarantee.AT_LEAST_ONCE;
            case "exactly-once" -> DeliveryGuarantee.EXACTLY_ONCE;
            default -> throw new IllegalArgumentException("option --delivery-guarantee must be at-least-once or exactly-once, not '"
                    + job.get("delivery-guarantee") + "'");
        };
    }

    public int decodeParallelism() {
        return (int) number("decode-parallelism");
    }

    public int maxFeatures() {
        return (int) number("max-features");
    }

    public int maxRecordBytes() {
        return (int) number("max-record-bytes");
    }

    public String jobName() {
        return job.get("job-name");
    }

    /** The model options as given (defaults are the model's). */
    public Map<String, String> modelOptions() {
        return model;
    }

    public ModelConfig modelConfig() {
        return ModelConfig.fromMap(model);
    }

    /** Extra Kafka client properties from {@code --kafka.*}. */
    public Properties kafkaProperties() {
        Properties p = new Properties();
        p.putAll(kafka);
        return p;
    }
}

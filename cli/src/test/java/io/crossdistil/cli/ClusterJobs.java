package io.crossdistil.cli;

import io.crossdistil.job.CrossDistilPipeline;
import io.crossdistil.job.JobConfig;
import io.crossdistil.kafka.EmbeddedKafka;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The job on a test MiniCluster (Flink's MiniClusterExtension) against an embedded broker. */
final class ClusterJobs {
    private ClusterJobs() {}

    /** A MiniCluster configuration that restarts a failed job quickly. */
    static Configuration quickRestarts() {
        Configuration c = new Configuration();
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        c.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
        c.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
        return c;
    }

    /** Creates the job's four topics. */
    static void createTopics(EmbeddedKafka kafka) throws Exception {
        createTopics(kafka, 1);
    }

    /** Creates the job's four topics, the events topic with {@code partitions} partitions. */
    static void createTopics(EmbeddedKafka kafka, int partitions) throws Exception {
        kafka.createTopic(LocalRunner.TOPIC, partitions, false);
        for (String t : List.of(LocalRunner.DLQ_TOPIC, LocalRunner.METRICS_TOPIC)) {
            kafka.createTopic(t, 1, false);
        }
        kafka.createTopic(LocalRunner.SNAPSHOT_TOPIC, 1, true);
    }

    /** Submits the bounded job (small model, generator features) with {@code overrides} on top. */
    static JobClient submit(EmbeddedKafka kafka, Path dir, Map<String, String> overrides) throws Exception {
        return submit(kafka, dir, overrides, null);
    }

    /** {@link #submit(EmbeddedKafka, Path, Map)}, restored from {@code savepoint} unless it is null. */
    static JobClient submit(EmbeddedKafka kafka, Path dir, Map<String, String> overrides, String savepoint) throws Exception {
        Map<String, String> job = LocalPipelineTest.smallModel();
        job.put("bootstrap-servers", kafka.bootstrapServers());
        job.put("bounded", "true");
        job.put("starting-offsets", "earliest");
        job.put("checkpoint-dir", dir.resolve("checkpoints").toUri().toString());
        job.put("snapshot-dir", dir.resolve("snapshots").toString());
        job.put("decode-parallelism", "1");
        job.put("features", "user_id,item_id," + String.join(",", SyntheticStream.FIELDS));
        job.putAll(overrides);
        JobConfig config = JobConfig.fromMap(job);
        Configuration conf = CrossDistilPipeline.configuration(config);
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        CrossDistilPipeline.build(env, config);
        return env.executeAsync(config.jobName());
    }
}

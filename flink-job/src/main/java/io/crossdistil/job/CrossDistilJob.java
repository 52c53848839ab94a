package io.crossdistil.job;

import io.crossdistil.job.io.FeedbackTopics;
import io.crossdistil.job.io.SnapshotTopic;
import java.util.Arrays;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Entry point for {@code flink run <job jar> --bootstrap-servers ... [options]}. Run with
 * {@code --help} for every option. A bad argument stops the job before it is submitted, with a
 * message that says what to fix.
 */
public final class CrossDistilJob {
    private CrossDistilJob() {}

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help")) {
            System.out.println("Usage: flink run <crossdistil job jar> --bootstrap-servers HOST:PORT [options]\n");
            System.out.println(JobConfig.help());
            return;
        }
        JobConfig config;
        try {
            config = JobConfig.fromArgs(args);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("crossdistil: " + e.getMessage() + " (run with --help for all options)", e);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(CrossDistilPipeline.configuration(config));
        if (env.getConfiguration().getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isEmpty()) {
            // without it Flink keeps checkpoints in the JobManager's memory, limited to 5 MB, and the
            // trainer's state (parameters, optimizer moments, reservoirs) is larger: every checkpoint would fail
            throw new IllegalArgumentException("crossdistil: no checkpoint directory: give --checkpoint-dir (for example"
                    + " file:///flink/checkpoints or s3://bucket/checkpoints) or set execution.checkpointing.dir in the cluster's config.yaml");
        }
        try {
            // a topic the job cannot read or write would fail it at once or at its first dead letter, report or
            // snapshot, and again after every restart
            FeedbackTopics.prepare(config.bootstrapServers(), config.kafkaProperties(), config.topic(), config.dlqTopic(),
                    config.metricsTopic());
            if (config.snapshotTopic() != null) {
                SnapshotTopic.prepare(config.bootstrapServers(), config.kafkaProperties(), config.snapshotTopic(), config.modelConfig());
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("crossdistil: " + e.getMessage(), e);
        }
        CrossDistilPipeline.build(env, config);
        env.execute(config.jobName());
    }
}

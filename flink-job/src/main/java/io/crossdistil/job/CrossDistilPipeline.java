package io.crossdistil.job;

import io.crossdistil.job.io.BoundedKafkaSource;
import io.crossdistil.job.io.DecodeFunction;
import io.crossdistil.job.io.ExampleTypeInfo;
import io.crossdistil.job.io.ExchangeTopics;
import io.crossdistil.job.io.KafkaSinks;
import io.crossdistil.job.io.MetricsMessage;
import io.crossdistil.job.io.RawRecord;
import io.crossdistil.job.io.RawRecordDeserializer;
import io.crossdistil.job.io.SnapshotDirectorySink;
import io.crossdistil.job.io.SnapshotMessage;
import io.crossdistil.job.trainer.TrainerOperator;
import io.crossdistil.job.trainer.TrainerSettings;
import io.crossdistil.model.event.Example;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job's data flow (docs/operations.md): Kafka -> decode and validate (bad records to the dead-letter
 * topic) -> trainer -> snapshots to a directory and a compacted topic, progress reports to a topic.
 * Every operator has a UID, so savepoints survive upgrades.
 */
public final class CrossDistilPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(CrossDistilPipeline.class);
    public static final String SOURCE_UID = "feedback-source";
    public static final String DECODE_UID = "decode";
    public static final String TRAINER_UID = "trainer";

    private CrossDistilPipeline() {}

    /** Checkpointing and state backend, as configuration (Flink 2.x sets them this way). */
    public static Configuration configuration(JobConfig c) {
        Configuration conf = new Configuration();
        // Chained operators hand records on without a defensive copy (each event's raw bytes from the
        // source to the decoder, each 4 MB snapshot to two sinks). Safe here: no operator keeps or
        // changes a record it was handed, and the trainer, which keeps a batch of events, gets new
        // ones from the network (ExampleSerializer never fills a reused instance).
        conf.set(PipelineOptions.OBJECT_REUSE, true);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(c.checkpointIntervalMs()));
        conf.set(StateBackendOptions.STATE_BACKEND, c.stateBackend());
        if (!c.checkpointDir().isEmpty()) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, c.checkpointDir());
        }
        return conf;
    }

    public static void build(StreamExecutionEnvironment env, JobConfig c) {
        KafkaSourceBuilder<RawRecord> sourceBuilder = KafkaSource.<RawRecord>builder()
                .setBootstrapServers(c.bootstrapServers())
                .setTopics(c.topic())
                .setGroupId(c.groupId())
                .setStartingOffsets(switch (c.startingOffsets()) {
                    case "earliest" -> OffsetsInitializer.earliest();
                    case "latest" -> OffsetsInitializer.latest();
                    default -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
                })
                .setDeserializer(new RawRecordDeserializer())
                .setProperties(c.kafkaProperties());
        Source<RawRecord, ?, ?> source = c.bounded()
                ? new BoundedKafkaSource<>(sourceBuilder.setBounded(OffsetsInitializer.latest()).build())
                : sourceBuilder.build();

        DataStream<RawRecord> raw = env.fromSource(source, WatermarkStrategy.noWatermarks(), "feedback source").uid(SOURCE_UID);
        SingleOutputStreamOperator<Example> examples = raw
                .process(new DecodeFunction(c.modelOptions(), c.decodeSettings()), ExampleTypeInfo.INSTANCE)
                .uid(DECODE_UID).name("decode + validate");
        int readers = c.trainers() > 1 ? c.trainers() : c.decodeParallelism();
        if (readers > 0) {
            ((SingleOutputStreamOperator<RawRecord>) raw).setParallelism(readers);
            examples.setParallelism(readers);
        }
        examples.getSideOutput(DecodeFunction.DEAD_LETTERS)
                .sinkTo(KafkaSinks.deadLetters(c.bootstrapServers(), c.dlqTopic(), c.kafkaProperties(),
                        c.deliveryGuarantee(), c.jobName() + "-dead-letters"))
                .uid("dead-letter-sink").name("dead letters -> " + c.dlqTopic());

        TrainerSettings.Exchange exchange = null;
        if (c.trainers() > 1) {
            ExchangeTopics.prepare(c.bootstrapServers(), c.kafkaProperties(), c.topic(), c.trainers(), c.exchangeTopic());
            int share = c.modelConfig().batchSize / c.trainers();
            if (share < 256) {
                // N trainers at R = 1 learn what one trainer learns at the same batch, so the batch, not N, sets quality;
                // but a small step costs more per event than a large one, and the merge is paid per step
                LOG.warn("Each of the {} trainers steps on {} events (--batch-size {} shared among them): they learn what one trainer "
                        + "learns at this batch, but for throughput give each trainer a step of about 256 events (--batch-size {}); "
                        + "docs/scaling.md says what a larger batch costs", c.trainers(), share, c.modelConfig().batchSize, 256 * c.trainers());
            }
            long submitted = System.currentTimeMillis();
            exchange = new TrainerSettings.Exchange(c.trainers(), c.roundSteps(), c.bootstrapServers(), c.exchangeTopic(),
                    c.kafkaOptions(), submitted, submitted);
        }
        TrainerSettings settings = new TrainerSettings(c.modelOptions(), c.snapshotEveryEvents(), c.snapshotEverySeconds(),
                c.metricsEverySeconds(), c.metricsWindow(), c.nd4jThreads(), exchange);
        // with N trainers, subtask i of the source, the decoder and the trainer form one line: trainer i
        // reads exactly the partitions source reader i owns, in their order
        DataStream<Example> trainerInput = c.trainers() > 1 ? examples.forward() : examples;
        SingleOutputStreamOperator<SnapshotMessage> snapshots = trainerInput
                .transform("trainer", TypeInformation.of(SnapshotMessage.class), new TrainerOperator(settings))
                .uid(TRAINER_UID).setParallelism(c.trainers()).setMaxParallelism(c.trainers())
                // a thread of its own: reading and decoding run beside the training steps, not between them
                .startNewChain();

        // The snapshot sinks run in tasks of their own, not chained to the trainer: the file write
        // and the Kafka producer's lz4 compression of a 4 MB snapshot took 8-19 ms of the trainer
        // thread's CPU per snapshot; handing the record over the network stack costs it 3-4.
        // With N trainers each has sinks of its own (only trainer 0's receive anything): a sink fed
        // by every trainer would align checkpoint barriers across them, hold trainer 0's output
        // while a peer waits for trainer 0's round, and so stop trainer 0 from ever ending it.
        int sinks = c.trainers();
        DataStream<SnapshotMessage> toSinks = c.trainers() > 1 ? snapshots.forward() : snapshots;
        if (c.snapshotDir() != null) {
            toSinks.sinkTo(new SnapshotDirectorySink(c.snapshotDir(), c.snapshotRetain()))
                    .uid("snapshot-directory-sink").name("snapshots -> " + c.snapshotDir()).setParallelism(sinks)
                    .disableChaining();
        }
        if (c.snapshotTopic() != null) {
            toSinks.sinkTo(KafkaSinks.snapshots(c.bootstrapServers(), c.snapshotTopic(), c.kafkaProperties(),
                    c.deliveryGuarantee(), c.jobName() + "-snapshots"))
                    .uid("snapshot-topic-sink").name("snapshots -> " + c.snapshotTopic()).setParallelism(sinks)
                    .disableChaining();
        }
        if (c.metricsTopic() != null) {
            DataStream<MetricsMessage> reports = snapshots.getSideOutput(TrainerOperator.METRICS);
            (c.trainers() > 1 ? reports.forward() : reports)
                    .sinkTo(KafkaSinks.metrics(c.bootstrapServers(), c.metricsTopic(), c.kafkaProperties(),
                            c.deliveryGuarantee(), c.jobName() + "-metrics"))
                    .uid("metrics-topic-sink").name("metrics -> " + c.metricsTopic()).setParallelism(sinks);
        }
    }
}

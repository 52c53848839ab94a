package io.crossdistil.cluster;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A KRaft broker and a standalone Flink cluster with the job jar uploaded, for the failover tests;
 * their working folder lies under target/, not in a temporary folder, so that the JobManager's
 * and TaskManagers' logs outlive a failure.
 */
final class ClusterFixture implements AutoCloseable {
    private final Path work;
    private final EmbeddedKafka kafka;
    private final StandaloneFlinkCluster cluster;
    private final String jarId;

    private ClusterFixture(Path work, EmbeddedKafka kafka, StandaloneFlinkCluster cluster, String jarId) {
        this.work = work;
        this.kafka = kafka;
        this.cluster = cluster;
        this.jarId = jarId;
    }

    /**
     * @param folder the working folder's name under target/
     * @param settings Flink configuration on top of the cluster's own
     * @param taskManagers TaskManagers to start
     */
    static ClusterFixture start(String folder, Map<String, String> settings, int taskManagers) throws Exception {
        Path work = Path.of("target", folder).toAbsolutePath();
        EmbeddedKafka.deleteQuietly(work);
        EmbeddedKafka kafka = EmbeddedKafka.start();
        StandaloneFlinkCluster cluster = null;
        try {
            cluster = StandaloneFlinkCluster.start(Path.of(System.getProperty("crossdistil.flink.lib")), work.resolve("flink"), settings,
                    List.of(System.getProperty("crossdistil.java.options").trim().split("\\s+")), Map.of("OMP_NUM_THREADS", "1"));
            for (int i = 1; i < taskManagers; i++) {
                cluster.startTaskManager();
            }
            String jarId = cluster.rest().uploadJar(Path.of(System.getProperty("crossdistil.job.jar")));
            return new ClusterFixture(work, kafka, cluster, jarId);
        } catch (Exception e) {
            if (cluster != null) {
                cluster.close();
            }
            kafka.close();
            throw e;
        }
    }

    /** A run over its own topics (see FailoverRun). */
    FailoverRun run(String name, int partitions, Map<String, String> options) throws Exception {
        return new FailoverRun(name, kafka, cluster, jarId, work, partitions, options);
    }

    /** The unfailed run every failover run is compared with: all records first, then the job, its last snapshot. */
    ModelSnapshot reference(int partitions, Map<String, String> options) throws Exception {
        FailoverRun run = run("reference", partitions, options);
        run.produce(0);
        run.submit();
        ModelSnapshot last = run.awaitLastSnapshot(Duration.ofMinutes(5));
        run.cancelAndCheck();
        return last;
    }

    EmbeddedKafka kafka() {
        return kafka;
    }

    StandaloneFlinkCluster cluster() {
        return cluster;
    }

    @Override
    public void close() {
        try {
            cluster.close();
        } finally {
            kafka.close();
        }
    }
}

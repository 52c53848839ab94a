package io.crossdistil.kafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) started in this process
 * from Kafka's own server jars, on free loopback ports. {@link #close()} stops it and deletes its
 * data unless the data directory was given by the caller.
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** Snapshots can be large; the broker accepts messages up to this size. */
    public static final int MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

    private final Path dataDir;
    private final boolean ownsDir;
    private final KafkaConfig config;
    private final String bootstrapServers;
    private KafkaRaftServer server;

    private EmbeddedKafka(Path dataDir, boolean ownsDir, KafkaConfig config, String bootstrapServers) {
        this.dataDir = dataDir;
        this.ownsDir = ownsDir;
        this.config = config;
        this.bootstrapServers = bootstrapServers;
    }

    /** Starts a broker with its data in a new temporary directory, deleted on close. */
    public static EmbeddedKafka start() throws Exception {
        return start(Files.createTempDirectory("crossdistil-kafka"), true);
    }

    public static EmbeddedKafka start(Path dataDir, boolean deleteOnClose) throws Exception {
        int brokerPort = freePort();
        int controllerPort = freePort();
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dataDir.toString());
        p.put("num.partitions", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("message.max.bytes", Integer.toString(MAX_MESSAGE_BYTES));
        p.put("replica.fetch.max.bytes", Integer.toString(MAX_MESSAGE_BYTES));
        p.put("socket.request.max.bytes", Integer.toString(MAX_MESSAGE_BYTES + 1024 * 1024));
        p.put("auto.create.topics.enable", "false");
        KafkaConfig config = KafkaConfig.fromProps(p);

        new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(1)
                .setClusterId(Uuid.randomUuid().toString())
                .setDirectories(List.of(dataDir.toString()))
                .setMetadataLogDirectory(dataDir.toString())
                .setControllerListenerName("CONTROLLER")
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .run();

        EmbeddedKafka kafka = new EmbeddedKafka(dataDir, deleteOnClose, config, "127.0.0.1:" + brokerPort);
        try {
            kafka.startServer();
        } catch (Exception e) {
            kafka.close();
            throw e;
        }
        return kafka;
    }

    private void startServer() throws Exception {
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        awaitReady();
    }

    /**
     * Stops the broker, keeps it down for {@code down}, and starts it again on the same ports with
     * the same data, as an operator restarting a broker would.
     */
    public void restart(java.time.Duration down) throws Exception {
        stopServer();
        Thread.sleep(down.toMillis());
        startServer();
    }

    private void stopServer() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }

    private void awaitReady() throws Exception {
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /** Creates a topic; {@code compacted} keeps the newest record per key. */
    public void createTopic(String name, int partitions, boolean compacted) throws Exception {
        NewTopic t = new NewTopic(name, partitions, (short) 1).configs(Map.of(
                "cleanup.policy", compacted ? "compact" : "delete",
                "max.message.bytes", Integer.toString(MAX_MESSAGE_BYTES)));
        try (Admin admin = admin()) {
            admin.createTopics(List.of(t)).all().get(60, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        try {
            stopServer();
        } finally {
            if (ownsDir) {
                deleteQuietly(dataDir);
            }
        }
    }

    /** A free TCP port on the loopback interface. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** Deletes a folder and everything in it, as far as it can. */
    public static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temporary directory
        }
    }
}

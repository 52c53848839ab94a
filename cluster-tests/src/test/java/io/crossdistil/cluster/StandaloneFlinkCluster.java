package io.crossdistil.cluster;

import static io.crossdistil.kafka.EmbeddedKafka.freePort;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real standalone Flink cluster on loopback: a JobManager ({@code StandaloneSessionClusterEntrypoint})
 * and TaskManagers ({@code TaskManagerRunner}), each its own JVM, started the way Flink's own
 * scripts start them - from the distribution's lib/ folder, with a generated {@code config.yaml},
 * JVM memory settings computed by Flink's {@code BashJavaUtils}, and log4j writing to the log
 * folder. {@link #close()} kills every process it started; a shutdown hook does the same if the
 * test JVM ends first.
 */
final class StandaloneFlinkCluster implements AutoCloseable {
    private static final String JOB_MANAGER = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    private static final String TASK_MANAGER = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    private static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    private final Path lib;
    private final Path conf;
    private final Path logs;
    private final List<String> javaOptions;
    private final Map<String, String> environment;
    private final FlinkRest rest;
    private final List<Process> processes = new ArrayList<>();
    private final Thread killOnExit = new Thread(this::killAll, "kill-flink-cluster");
    /** The running TaskManagers, in the order they were started. */
    private final List<Process> taskManagers = new ArrayList<>();
    private int taskManagersStarted;

    private StandaloneFlinkCluster(Path lib, Path conf, Path logs, List<String> javaOptions, Map<String, String> environment, int restPort) {
        this.lib = lib;
        this.conf = conf;
        this.logs = logs;
        this.javaOptions = javaOptions;
        this.environment = environment;
        this.rest = new FlinkRest("http://127.0.0.1:" + restPort);
    }

    /**
     * Starts a JobManager and one TaskManager and waits until the TaskManager has registered.
     *
     * @param lib         the distribution's jars (the flink-standalone module's target/flink/lib)
     * @param work        a folder for configuration, logs and Flink's working files
     * @param settings    config.yaml entries on top of the loopback, memory and restart settings here
     * @param javaOptions JVM options for both processes (module openings, system properties)
     * @param environment environment variables for both processes
     */
    static StandaloneFlinkCluster start(Path lib, Path work, Map<String, String> settings, List<String> javaOptions,
            Map<String, String> environment) throws Exception {
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException("no Flink distribution at " + lib + ": build the flink-standalone module first");
        }
        Path conf = Files.createDirectories(work.resolve("conf"));
        Path logs = Files.createDirectories(work.resolve("log"));
        int restPort = freePort();
        StringBuilder yaml = new StringBuilder();
        Map<String, String> base = new java.util.LinkedHashMap<>();
        base.put("jobmanager.rpc.address", "127.0.0.1");
        base.put("jobmanager.rpc.port", Integer.toString(freePort()));
        base.put("jobmanager.bind-host", "127.0.0.1");
        base.put("taskmanager.bind-host", "127.0.0.1");
        base.put("taskmanager.host", "127.0.0.1");
        base.put("rest.address", "127.0.0.1");
        base.put("rest.bind-address", "127.0.0.1");
        base.put("rest.port", Integer.toString(restPort));
        base.put("jobmanager.memory.process.size", "1024m");
        // ND4J allocates outside the heap: the trainer's arrays live in task off-heap memory
        base.put("taskmanager.memory.process.size", "4096m");
        base.put("taskmanager.memory.task.off-heap.size", "1024m");
        base.put("taskmanager.numberOfTaskSlots", "2");
        base.put("parallelism.default", "1");
        base.put("restart-strategy.type", "fixed-delay");
        base.put("restart-strategy.fixed-delay.attempts", "1000");
        base.put("restart-strategy.fixed-delay.delay", "1 s");
        // a killed TaskManager is noticed within seconds, not after the 50 s default
        base.put("heartbeat.interval", "1000");
        base.put("heartbeat.timeout", "5000");
        base.put("io.tmp.dirs", work.resolve("tmp").toString());
        base.put("web.upload.dir", work.resolve("upload").toString());
        base.putAll(settings);
        base.forEach((k, v) -> yaml.append(k).append(": ").append(yamlString(v)).append('\n'));
        Files.writeString(conf.resolve("config.yaml"), yaml.toString());
        Files.writeString(conf.resolve("log4j.properties"), String.join("\n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = file",
                "appender.file.name = file",
                "appender.file.type = File",
                "appender.file.fileName = ${sys:log.file}",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                "logger.kafka.name = org.apache.kafka",
                "logger.kafka.level = WARN", ""));

        StandaloneFlinkCluster cluster = new StandaloneFlinkCluster(lib, conf, logs, javaOptions, environment, restPort);
        Runtime.getRuntime().addShutdownHook(cluster.killOnExit);
        try {
            cluster.launch("jobmanager", JOB_MANAGER, "GET_JM_RESOURCE_PARAMS");
            cluster.startTaskManager();
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    FlinkRest rest() {
        return rest;
    }

    Path logs() {
        return logs;
    }

    /** Starts one more TaskManager JVM and waits until every running one has registered with the JobManager. */
    void startTaskManager() throws Exception {
        taskManagers.add(launch("taskmanager-" + (++taskManagersStarted), TASK_MANAGER, "GET_TM_RESOURCE_PARAMS"));
        rest.awaitTaskManagers(taskManagers.size(), Duration.ofSeconds(90));
    }

    /** {@code kill -9} of the first running TaskManager: no shutdown hook, no goodbye to the JobManager. */
    void killTaskManager() throws InterruptedException {
        killTaskManager(0);
    }

    /** {@code kill -9} of running TaskManager {@code i} (in start order among the running ones). */
    void killTaskManager(int i) throws InterruptedException {
        Process taskManager = taskManagers.remove(i);
        taskManager.destroyForcibly();
        if (!taskManager.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the TaskManager did not die");
        }
        processes.remove(taskManager);
    }

    /** TaskManagers running now. */
    int taskManagers() {
        return taskManagers.size();
    }

    private Process launch(String name, String mainClass, String resourceCommand) throws Exception {
        List<String> memory = bashJavaUtils(resourceCommand);
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(List.of(memory.get(0).trim().split("\\s+")));
        cmd.addAll(javaOptions);
        cmd.add("-Dlog.file=" + logs.resolve(name + ".log"));
        cmd.add("-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri());
        cmd.add("-cp");
        cmd.add(lib.resolve("*").toString());
        cmd.add(mainClass);
        cmd.add("--configDir");
        cmd.add(conf.toString());
        for (String token : memory.get(1).trim().split("\\s+")) {
            if (!token.isEmpty()) {
                cmd.add(token); // "-D" "key=value" pairs, as Flink's scripts pass them
            }
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logs.resolve(name + ".out").toFile());
        pb.environment().putAll(environment);
        Process p = pb.start();
        processes.add(p);
        if (mainClass.equals(JOB_MANAGER)) {
            rest.awaitUp(Duration.ofSeconds(90), p);
        }
        return p;
    }

    /** Flink's own memory calculation: the JVM options line and the dynamic configuration line. */
    private List<String> bashJavaUtils(String command) throws Exception {
        Process p = new ProcessBuilder(java(), "-cp", lib.resolve("*").toString(), BASH_JAVA_UTILS, command, "--configDir", conf.toString())
                .redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException("BashJavaUtils " + command + " failed:\n" + out);
        }
        List<String> results = out.lines().filter(l -> l.startsWith(RESULT_PREFIX)).map(l -> l.substring(RESULT_PREFIX.length())).toList();
        if (results.size() < 2) {
            throw new IllegalStateException("unexpected BashJavaUtils output:\n" + out);
        }
        return results.subList(results.size() - 2, results.size());
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String yamlString(String v) {
        return "'" + v.replace("'", "''") + "'";
    }

    private void killAll() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
    }

    @Override
    public void close() {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException alreadyExiting) {
            // the hook runs anyway
        }
    }
}

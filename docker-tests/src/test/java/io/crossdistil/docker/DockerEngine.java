package io.crossdistil.docker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Docker engine for the tests: the one that runs, or one started here (dockerd with the vfs
 * storage driver, its data, state and socket in a folder of the test's) and stopped by
 * {@link #close}. Runs docker and compose commands against it.
 */
final class DockerEngine implements AutoCloseable {
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final Process daemon;
    /** The default bridge's interface, when the engine started here made it (dockerd leaves it behind). */
    private final boolean removeBridge;
    private final List<String> compose;

    private DockerEngine(Process daemon, String host, boolean removeBridge) throws Exception {
        this.daemon = daemon;
        this.removeBridge = removeBridge;
        if (host != null) {
            environment.put("DOCKER_HOST", host);
        }
        compose = composeCommand();
    }

    /** The running engine, or one started in {@code work} when none runs (as root, with Debian's docker.io installed). */
    static DockerEngine startIfNeeded(Path work) throws Exception {
        if (exec(List.of("docker", "info"), Map.of(), Duration.ofSeconds(30)).code() == 0) {
            return new DockerEngine(null, null, false);
        }
        if (!onPath("dockerd")) {
            throw new IllegalStateException("no Docker engine runs and dockerd is not installed: as root, "
                    + "'apt-get install docker.io docker-compose' (.ci/run does), or start an engine");
        }
        Path dir = Files.createDirectories(work.resolve("engine"));
        boolean bridgeExisted = Files.exists(BRIDGE);
        String host = "unix://" + dir.resolve("docker.sock");
        Process p = new ProcessBuilder("dockerd", "--storage-driver=vfs", "--data-root", dir.resolve("data").toString(),
                "--exec-root", dir.resolve("exec").toString(), "--pidfile", dir.resolve("docker.pid").toString(), "-H", host)
                .redirectErrorStream(true).redirectOutput(dir.resolve("dockerd.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (exec(List.of("docker", "info"), Map.of("DOCKER_HOST", host), Duration.ofSeconds(10)).code() != 0) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroy();
                throw new IllegalStateException("dockerd did not start:\n" + Files.readString(dir.resolve("dockerd.log")));
            }
            Thread.sleep(500);
        }
        return new DockerEngine(p, host, !bridgeExisted);
    }

    private static final Path BRIDGE = Path.of("/sys/class/net/docker0");

    /** docker-compose (1.x) where installed, else the docker CLI's compose plugin. */
    private List<String> composeCommand() throws Exception {
        if (onPath("docker-compose")) {
            return List.of("docker-compose");
        }
        if (exec(List.of("docker", "compose", "version"), environment, Duration.ofSeconds(30)).code() == 0) {
            return List.of("docker", "compose");
        }
        throw new IllegalStateException("neither docker-compose nor 'docker compose' is installed");
    }

    /** The variables a docker command needs to reach this engine. */
    Map<String, String> environment() {
        return environment;
    }

    /** Runs docker with these arguments against this engine; fails with its output unless it exits with 0. */
    String docker(Duration timeout, String... args) throws Exception {
        return checked(tryDocker(timeout, args));
    }

    /** Runs docker with these arguments against this engine, whatever its exit code (cleaning up, probing). */
    Result tryDocker(Duration timeout, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("docker"));
        cmd.addAll(List.of(args));
        return exec(cmd, environment, timeout);
    }

    /** Runs compose with these arguments and the extra environment {@code env}; fails with its output unless it exits with 0. */
    String compose(Map<String, String> env, Duration timeout, String... args) throws Exception {
        return checked(tryCompose(env, timeout, args));
    }

    /** Runs compose with these arguments and the extra environment {@code env}, whatever its exit code. */
    Result tryCompose(Map<String, String> env, Duration timeout, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(compose);
        cmd.addAll(List.of(args));
        Map<String, String> all = new LinkedHashMap<>(environment);
        all.putAll(env);
        return exec(cmd, all, timeout);
    }

    /** Runs a program (a script that uses docker) with this engine's environment; fails with its output unless it exits with 0. */
    String run(Duration timeout, String... cmd) throws Exception {
        return checked(exec(List.of(cmd), environment, timeout));
    }

    record Result(List<String> command, int code, String output) {}

    private static String checked(Result r) {
        if (r.code() != 0) {
            throw new IllegalStateException(String.join(" ", r.command()) + " exited with " + r.code() + ":\n" + r.output());
        }
        return r.output();
    }

    private static Result exec(List<String> cmd, Map<String, String> env, Duration timeout) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(cmd, 127, e.getMessage());
        }
        // read while it runs: a full pipe would stop it
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                out.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the process's end closes the stream
            }
        });
        reader.start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            reader.join(5_000);
            return new Result(cmd, -1, "timed out after " + timeout + ":\n" + out);
        }
        reader.join(5_000);
        return new Result(cmd, p.exitValue(), out.toString());
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** Stops the engine if it was started here (its containers with it). */
    @Override
    public void close() throws Exception {
        if (daemon != null) {
            daemon.destroy();
            if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
            if (removeBridge && Files.exists(BRIDGE)) {
                exec(List.of("ip", "link", "delete", "docker0"), Map.of(), Duration.ofSeconds(30));
            }
        }
    }
}

package io.crossdistil.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** The parts of Flink's REST API a user needs to submit, watch and cancel a job. */
final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    FlinkRest(String base) {
        this.base = base;
    }

    /** Uploads a job jar ({@code POST /jars/upload}, multipart) and returns its id. */
    String uploadJar(Path jar) throws Exception {
        String boundary = "----crossdistil" + UUID.randomUUID();
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"" + jar.getFileName()
                + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n";
        String tail = "\r\n--" + boundary + "--\r\n";
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofString(head),
                        HttpRequest.BodyPublishers.ofFile(jar), HttpRequest.BodyPublishers.ofString(tail)))
                .timeout(Duration.ofMinutes(2)).build();
        String file = send(req).path("filename").asText();
        return Path.of(file).getFileName().toString();
    }

    /** Runs an uploaded jar ({@code POST /jars/{id}/run}) and returns the job id. */
    String run(String jarId, String entryClass, List<String> args) throws Exception {
        String body = JSON.writeValueAsString(Map.of("entryClass", entryClass, "programArgsList", args));
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/jars/" + jarId + "/run"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofMinutes(2)).build();
        return send(req).path("jobid").asText();
    }

    /** The job's state: CREATED, RUNNING, RESTARTING, FINISHED, CANCELED, FAILED, ... */
    String jobState(String jobId) throws Exception {
        return get("/jobs/" + jobId).path("state").asText();
    }

    /** True when the job and every one of its tasks run. */
    boolean allTasksRunning(String jobId) throws Exception {
        JsonNode job = get("/jobs/" + jobId);
        if (!job.path("state").asText().equals("RUNNING")) {
            return false;
        }
        for (JsonNode v : job.path("vertices")) {
            if (!v.path("status").asText().equals("RUNNING")) {
                return false;
            }
        }
        return true;
    }

    /** How often the JobManager has restarted the job (its {@code numRestarts} metric). */
    long restarts(String jobId) throws Exception {
        for (JsonNode m : get("/jobs/" + jobId + "/metrics?get=numRestarts")) {
            return Long.parseLong(m.path("value").asText());
        }
        return 0;
    }

    /** Cancels the job and waits until it has stopped. */
    void cancel(String jobId, Duration timeout) throws Exception {
        send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).build());
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!List.of("CANCELED", "FAILED", "FINISHED").contains(jobState(jobId))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + jobId + " did not stop within " + timeout);
            }
            Thread.sleep(200);
        }
    }

    void awaitTaskManagers(int count, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (get("/overview").path("taskmanagers").asInt() != count) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(count + " TaskManager(s) did not register within " + timeout);
            }
            Thread.sleep(200);
        }
    }

    /**
     * Waits until the REST endpoint answers (not listening yet, or 503 while the JobManager elects
     * its leader, mean "not yet"); fails early if {@code process} has exited.
     */
    void awaitUp(Duration timeout, Process process) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                get("/config");
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the JobManager exited with " + process.exitValue() + "; see its log", notYet);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the JobManager's REST endpoint did not come up within " + timeout, notYet);
                }
                Thread.sleep(200);
            }
        }
    }

    JsonNode get(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    private JsonNode send(HttpRequest req) throws IOException, InterruptedException {
        HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (res.statusCode() / 100 != 2) {
            throw new IOException(req.method() + " " + req.uri() + " answered " + res.statusCode() + ": " + res.body());
        }
        return res.body().isEmpty() ? JSON.nullNode() : JSON.readTree(res.body());
    }
}

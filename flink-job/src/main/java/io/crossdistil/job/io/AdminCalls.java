package io.crossdistil.job.io;

import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaFuture;

/**
 * Kafka Admin calls the job makes where it is configured (topic checks before it starts), with one
 * message for brokers that do not answer (within {@link #TIMEOUT_SECONDS}, or the Admin client's
 * default.api.timeout.ms if shorter): the client's own says only that it "timed out waiting for a
 * node assignment", under whatever call came first.
 */
final class AdminCalls {
    static final int TIMEOUT_SECONDS = 60;

    private AdminCalls() {}

    static Admin open(String servers, Properties extra) {
        Properties p = new Properties();
        p.putAll(extra);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        return Admin.create(p);
    }

    /**
     * The call's result; an error of the call itself as an ExecutionException.
     *
     * @throws IllegalStateException when the brokers do not answer, saying what to check
     */
    static <T> T get(KafkaFuture<T> call, String servers) throws ExecutionException {
        try {
            return call.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw unreachable(servers, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(servers, e.getCause());
            }
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking Kafka at " + servers, e);
        }
    }

    private static IllegalStateException unreachable(String servers, Throwable cause) {
        return new IllegalStateException("Kafka at " + servers + " did not answer: check"
                + " --bootstrap-servers, that this machine reaches the brokers and the addresses they advertise, and the --kafka.*"
                + " security settings", cause);
    }
}

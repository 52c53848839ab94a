package io.crossdistil.job.io;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;

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

    /** A topic's settings; an ExecutionException with UnknownTopicOrPartitionException when it does not exist. */
    static Config topicConfig(Admin admin, String servers, String topic) throws ExecutionException {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return get(admin.describeConfigs(List.of(resource)).all(), servers).get(resource);
    }

    /** A topic's message limit (max.message.bytes) in its settings. */
    static long maxMessageBytes(Config topicConfig) {
        return Long.parseLong(topicConfig.get("max.message.bytes").value());
    }

    /** Creates the topic unless it exists; true when it was created. Other errors of the call as an ExecutionException. */
    static boolean createIfMissing(Admin admin, String servers, NewTopic topic) throws ExecutionException {
        try {
            get(admin.createTopics(List.of(topic)).all(), servers);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                return false;
            }
            throw e;
        }
    }

    private static IllegalStateException unreachable(String servers, Throwable cause) {
        return new IllegalStateException("Kafka at " + servers + " did not answer: check"
                + " --bootstrap-servers, that this machine reaches the brokers and the addresses they advertise, and the --kafka.*"
                + " security settings", cause);
    }
}

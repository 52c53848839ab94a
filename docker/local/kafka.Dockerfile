# A local Kafka base: the broker (KRaft) and tools jars the kafka-standalone module collects
# (Kafka's own, from Maven Central) on a JRE base, laid out as the official apache/kafka image is
# (/opt/kafka/bin scripts, configuration from KAFKA_* variables). Built by docker/local-bases.sh.
ARG JRE_IMAGE
FROM ${JRE_IMAGE}
COPY libs /opt/kafka/libs
COPY kafka-bin /opt/kafka/bin
RUN chmod +x /opt/kafka/bin/* && mkdir -p /opt/kafka/config /var/lib/kafka/data
ENTRYPOINT ["/opt/kafka/bin/kafka-run.sh"]

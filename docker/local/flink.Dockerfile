# A local Flink base: the jars the flink-standalone module collects (Flink's own, from Maven
# Central) on a JRE base, laid out as the official image is (/opt/flink/lib, /opt/flink/usrlib)
# and started by an entrypoint that takes the same commands. Built by docker/local-bases.sh.
ARG JRE_IMAGE
FROM ${JRE_IMAGE}
# the module openings Flink's distribution uses on Java 17 (the parent POM's java17.opens)
ARG JAVA_OPENS
ENV FLINK_HOME=/opt/flink JDK_JAVA_OPTIONS="${JAVA_OPENS}"
COPY lib /opt/flink/lib
COPY flink-entrypoint.sh /docker-entrypoint.sh
RUN chmod +x /docker-entrypoint.sh && mkdir -p /opt/flink/usrlib /opt/flink/conf /opt/flink/log
WORKDIR /opt/flink
ENTRYPOINT ["/docker-entrypoint.sh"]

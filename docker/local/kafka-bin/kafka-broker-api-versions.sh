#!/bin/sh
# as Kafka's own bin/kafka-broker-api-versions.sh: org.apache.kafka.tools.BrokerApiVersionsCommand
exec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/bin/log4j2.properties -cp '/opt/kafka/libs/*' org.apache.kafka.tools.BrokerApiVersionsCommand "$@"

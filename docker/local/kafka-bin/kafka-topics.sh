#!/bin/sh
# as Kafka's own bin/kafka-topics.sh: org.apache.kafka.tools.TopicCommand
exec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/bin/log4j2.properties -cp '/opt/kafka/libs/*' org.apache.kafka.tools.TopicCommand "$@"

#!/bin/sh
# as Kafka's own bin/kafka-storage.sh: kafka.tools.StorageTool
exec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/bin/log4j2.properties -cp '/opt/kafka/libs/*' kafka.tools.StorageTool "$@"

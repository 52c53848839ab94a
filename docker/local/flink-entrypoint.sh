#!/bin/sh
# The local Flink base's entrypoint: the two commands of the official image that
# docker/compose.yaml uses, run the way Flink's scripts run them (config.yaml from
# FLINK_PROPERTIES, JVM memory from Flink's BashJavaUtils, logs to the console):
#   standalone-job --job-classname CLASS [program arguments]   application mode, job jar in usrlib/
#   taskmanager
set -e
cd "$FLINK_HOME"
conf=conf/config.yaml
printf '%s\n' "$FLINK_PROPERTIES" > "$conf"
# defaults for what FLINK_PROPERTIES leaves out (YAML keys may not repeat)
default() { grep -q "^$1:" "$conf" || echo "$1: $2" >> "$conf"; }
default jobmanager.rpc.address jobmanager
default jobmanager.bind-host 0.0.0.0
default taskmanager.bind-host 0.0.0.0
default rest.bind-address 0.0.0.0
default blob.server.port 6124
default taskmanager.rpc.port 6122
default jobmanager.memory.process.size 1600m
cat > conf/log4j-console.properties <<'LOG'
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = console
appender.console.name = console
appender.console.type = Console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
LOG

# $1: the entry class, $2: BashJavaUtils' resource command; the rest: the class's arguments
run() {
  main=$1
  resources=$(java -cp "lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils "$2" --configDir conf | grep '^BASH_JAVA_UTILS_EXEC_RESULT:' | tail -n 2 | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://')
  jvm=$(echo "$resources" | sed -n 1p)
  dynamic=$(echo "$resources" | sed -n 2p)
  shift 2
  # $jvm and $dynamic are word lists by design ("-Xmx... -Xms..." and "-D key=value ...")
  # shellcheck disable=SC2086
  exec java $jvm -Dlog4j.configurationFile=file:conf/log4j-console.properties -cp "lib/*" "$main" --configDir conf $dynamic "$@"
}

case "$1" in
  standalone-job) shift; run org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint GET_JM_RESOURCE_PARAMS "$@" ;;
  taskmanager) shift; run org.apache.flink.runtime.taskexecutor.TaskManagerRunner GET_TM_RESOURCE_PARAMS "$@" ;;
  *) exec "$@" ;;
esac

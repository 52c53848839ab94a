#!/usr/bin/env bash
# Builds the base images docker/Dockerfile and docker/compose.yaml take as build arguments, from
# this machine, for a Docker engine that cannot reach an image registry:
#   crossdistil-local/jre:17        Debian bookworm (debootstrap) with OpenJDK 17's JRE
#   crossdistil-local/flink:2.2.1   the flink-standalone module's jars, the official image's layout and commands
#   crossdistil-local/kafka:4.2.0   the kafka-standalone module's jars, the official image's layout and KAFKA_* settings
#   crossdistil-local/build         this machine's Maven build in /out, where the Dockerfile's build stage looks
# Needs root (debootstrap), a Docker engine, and the Maven build first:
#   mvn -B -Pdocker-tests package -DskipTests
# Then, with the environment this script prints:
#   docker-compose -f docker/compose.yaml up --build
# An image that exists is kept (REBUILD=1 builds all again). DEBIAN_MIRROR overrides the mirror.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STAGE="$ROOT/target/docker-local"
REBUILD="${REBUILD:-0}"
JRE=crossdistil-local/jre:17
FLINK=crossdistil-local/flink:2.2.1
KAFKA=crossdistil-local/kafka:4.2.0
BUILD=crossdistil-local/build

exists() { [ "$REBUILD" != 1 ] && docker image inspect "$1" > /dev/null 2>&1; }
# docker build, its output kept in a log (shown if it fails): build TAG DOCKERFILE CONTEXT [ARG ...]
build() {
  local tag=$1 file=$2 ctx=$3 log="$STAGE/$(basename "$2" .Dockerfile).log"; shift 3
  docker build -t "$tag" -f "$file" "$@" "$ctx" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
}
need() { ls $1 > /dev/null 2>&1 || { echo "local-bases: $1 is missing: run 'mvn -B -Pdocker-tests package -DskipTests' first" >&2; exit 1; }; }

need "$ROOT/flink-standalone/target/flink/lib"
need "$ROOT/kafka-standalone/target/kafka/libs"
need "$ROOT/flink-job/target/crossdistil-flink-job-*-job.jar"
need "$ROOT/cli/target/classpath.txt"
mkdir -p "$STAGE"

if ! exists "$JRE"; then
  mirror="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)}"
  mirror="${mirror:-http://deb.debian.org/debian}"
  rootfs="$STAGE/jre-rootfs"
  rm -rf "$rootfs"
  echo "local-bases: $JRE from $mirror (debootstrap, about a minute)" >&2
  debootstrap --variant=minbase --include=openjdk-17-jre-headless bookworm "$rootfs" "$mirror" > "$STAGE/debootstrap.log"
  # lean: no package caches, indexes, documentation or translations (apt-get update brings indexes back)
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  tar -C "$rootfs" -c . | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$JRE" > /dev/null
  rm -rf "$rootfs"
fi

if ! exists "$FLINK"; then
  echo "local-bases: $FLINK" >&2
  ctx="$STAGE/flink"; rm -rf "$ctx"; mkdir -p "$ctx"
  cp -r "$ROOT/flink-standalone/target/flink/lib" "$ctx/lib"
  cp "$ROOT/docker/local/flink-entrypoint.sh" "$ctx/"
  opens="$(sed -n 's|.*<java17.opens>\(.*\)</java17.opens>.*|\1|p' "$ROOT/pom.xml")"
  build "$FLINK" "$ROOT/docker/local/flink.Dockerfile" "$ctx" --build-arg JRE_IMAGE="$JRE" --build-arg JAVA_OPENS="$opens"
fi

if ! exists "$KAFKA"; then
  echo "local-bases: $KAFKA" >&2
  ctx="$STAGE/kafka"; rm -rf "$ctx"; mkdir -p "$ctx"
  cp -r "$ROOT/kafka-standalone/target/kafka/libs" "$ctx/libs"
  cp -r "$ROOT/docker/local/kafka-bin" "$ctx/kafka-bin"
  build "$KAFKA" "$ROOT/docker/local/kafka.Dockerfile" "$ctx" --build-arg JRE_IMAGE="$JRE"
fi

if ! exists "$BUILD"; then
  echo "local-bases: $BUILD" >&2
  ctx="$STAGE/build"; rm -rf "$ctx"; mkdir -p "$ctx/out/lib"
  # what the Dockerfile's build stage makes, made here: the command line's runtime jars (as Maven
  # listed them for bin/crossdistil) and its own, and the job jar
  tr ':' '\n' < "$ROOT/cli/target/classpath.txt" | while read -r jar || [ -n "$jar" ]; do cp "$jar" "$ctx/out/lib/"; done
  cp "$ROOT"/cli/target/crossdistil-cli-*[0-9T].jar "$ctx/out/lib/"
  cp "$ROOT"/flink-job/target/crossdistil-flink-job-*-job.jar "$ctx/out/crossdistil-job.jar"
  build "$BUILD" "$ROOT/docker/local/build.Dockerfile" "$ctx" --build-arg JRE_IMAGE="$JRE"
fi

cat <<ENV
BUILD_IMAGE=$BUILD
FLINK_IMAGE=$FLINK
JRE_IMAGE=$JRE
KAFKA_IMAGE=$KAFKA
ENV

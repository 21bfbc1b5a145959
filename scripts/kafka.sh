#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) for tests and development.
# Usage: scripts/kafka.sh start|stop|status|reset   (start prints KAFKA_BROKERS=host:port)
# Env: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_HEAP_OPTS (-Xms256m -Xmx1g)
# Needs only bash, coreutils, java and mvn: the official jars come from Maven Central.
set -euo pipefail

# Pinned to 3.9.x rather than 4.x: 4.0 dropped old protocol versions (KIP-896) that
# some Node clients still send, and 3.9 is the last line that accepts them all.
KAFKA_VERSION=3.9.1
PORT=${KAFKA_PORT:-19092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
HEAP=${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}
BROKERS=127.0.0.1:$PORT

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=$ROOT/.cache/kafka
JARS=$CACHE/jars-$KAFKA_VERSION   # versioned so a bump never mixes old and new jars
DATA=$CACHE/data
PIDFILE=$CACHE/kafka.pid
LOG=$CACHE/broker.log

log() { echo "kafka.sh: $*" >&2; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# The pid file can outlive the broker and its pid be reused, so also check the command line.
broker_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *" kafka.Kafka "* ]] && echo "$pid"
}

# Short-lived tool JVMs: skip the optimising JIT, it only costs startup time here.
kafka_tool() {
  timeout "${TOOL_TIMEOUT:-120}" java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$CACHE/tools-log4j.properties" -cp "$JARS/*" "$@"
}

fetch_jars() {
  [[ -f $JARS/.complete ]] && return 0
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (first run only)..."
  mkdir -p "$CACHE"
  # kafka-tools provides TopicCommand (used for the readiness check and handy for tests);
  # connect-runtime is excluded because nothing here needs Kafka Connect's ~40 jars.
  cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.choir</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
  # Copy into a temp dir and rename, so an interrupted download is never taken as cached.
  rm -rf "$JARS.tmp"
  if ! mvn -q -B -f "$CACHE/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$JARS.tmp" >"$CACHE/mvn.log" 2>&1 </dev/null; then
    cat "$CACHE/mvn.log" >&2; log "mvn failed"; exit 1
  fi
  touch "$JARS.tmp/.complete"
  rm -rf "$JARS" && mv "$JARS.tmp" "$JARS"
}

write_config() {
  cat >"$CACHE/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$BROKERS
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA
num.partitions=1
auto.create.topics.enable=true
# Single node: internal topics cannot be replicated, and tests should not wait for rebalances.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  # Broker logs go to stdout (redirected to broker.log); tools only report warnings.
  printf '%s\n' 'log4j.rootLogger=INFO, out' 'log4j.appender.out=org.apache.log4j.ConsoleAppender' \
    'log4j.appender.out.layout=org.apache.log4j.PatternLayout' \
    'log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n' \
    'log4j.logger.org.apache.kafka.clients=WARN' >"$CACHE/log4j.properties"
  printf '%s\n' 'log4j.rootLogger=WARN, err' 'log4j.appender.err=org.apache.log4j.ConsoleAppender' \
    'log4j.appender.err.Target=System.err' 'log4j.appender.err.layout=org.apache.log4j.PatternLayout' \
    'log4j.appender.err.layout.ConversionPattern=[%d] %p %m (%c)%n' >"$CACHE/tools-log4j.properties"
}

format_storage() {
  [[ -f $DATA/meta.properties ]] && return 0
  # A Kafka cluster id is 16 random bytes, base64url without padding (22 chars).
  local id; id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
  kafka_tool kafka.tools.StorageTool format --ignore-formatted -t "$id" \
    -c "$CACHE/server.properties" >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; log "format failed"; exit 1; }
}

start() {
  if port_open "$PORT"; then echo "KAFKA_BROKERS=$BROKERS"; return 0; fi
  local pid
  # A broker of ours may still be booting (e.g. two concurrent starts): wait for it instead.
  if ! pid=$(broker_pid); then
    fetch_jars
    write_config
    : >"$LOG"
    format_storage
    # set -m gives the broker its own process group, so Ctrl-C or a test runner killing
    # the caller's group does not take the broker down with it.
    (set -m; cd "$CACHE"; nohup java $HEAP -XX:+UseG1GC -Djava.awt.headless=true \
      -Dkafka.logs.dir="$CACHE" -Dlog4j.configuration="file:$CACHE/log4j.properties" \
      -cp "$JARS/*" kafka.Kafka "$CACHE/server.properties" >>"$LOG" 2>&1 </dev/null &
      echo $! >"$PIDFILE")
    pid=$(cat "$PIDFILE")
  fi
  # An open port is not enough: the broker accepts connections before it has metadata.
  # Only a successful admin request (listing topics) proves clients can use it.
  local deadline=$((SECONDS + 60))
  until port_open "$PORT" &&
      TOOL_TIMEOUT=15 kafka_tool org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "$BROKERS" --list >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      # Don't leave a half-started broker holding the ports and the data dir lock.
      { grep -m5 -E '^\[.*\] (ERROR|FATAL) ' "$LOG" || tail -20 "$LOG"; } >&2; stop
      log "broker died or was not ready within 60s (full log: $LOG)"; exit 1
    fi
    sleep 1
  done
  echo "KAFKA_BROKERS=$BROKERS"
}

stop() {
  local pid
  if ! pid=$(broker_pid); then rm -f "$PIDFILE"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  # A clean shutdown flushes logs; give it 30s before forcing it.
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then log "broker did not stop, killing"; kill -KILL "$pid" || true; fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if port_open "$PORT"; then echo "KAFKA_BROKERS=$BROKERS"; else echo "kafka: not running" >&2; exit 1; fi ;;
  reset) stop; rm -rf "$DATA" ;;
  *) echo "usage: $0 start|stop|status|reset" >&2; exit 2 ;;
esac

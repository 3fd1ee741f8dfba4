#!/usr/bin/env bash
# The cqrs-relay command as an operator runs it, on the private test stack (tools/test sets
# CQRS_PG_URL, CQRS_KAFKA_BOOTSTRAP, CQRS_KAFKA_TOPIC): --help, refused settings (exit 2, naming
# the variable), and a run that publishes events readable with kcat, writes its metrics file and
# on SIGTERM saves its checkpoint and exits 0.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RELAY=${CQRS_BUILD_DIR:-$ROOT/build}/commands/relay/cqrs-relay
: "${CQRS_PG_URL:?run through tools/test}" "${CQRS_KAFKA_BOOTSTRAP:?run through tools/test}"
TOPIC=${CQRS_KAFKA_TOPIC:-events}

fail() { echo "FAIL: $*" >&2; exit 1; }

work=$(mktemp -d /tmp/cqrs-relay-cli.XXXXXX)
relay_pid=
cleanup() {
  if [ -n "$relay_pid" ]; then kill -KILL "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --help documents the relay's own settings and exits 0.
"$RELAY" --help >"$work/help" || fail "--help exited non-zero"
grep -q CQRS_RELAY_BATCH "$work/help" || fail "--help does not document CQRS_RELAY_BATCH"

# A wrong setting stops start-up with exit 2 and a message naming the variable.
expect_refused() {
  local variable=$1 status=0
  env "$@" "$RELAY" 2>"$work/err" >/dev/null </dev/null || status=$?
  [ "$status" -eq 2 ] || fail "$* exited $status, expected 2"
  grep -q "${variable%%=*}" "$work/err" || fail "$* error does not name ${variable%%=*}: $(cat "$work/err")"
}
expect_refused CQRS_RELAY_BATCH=0
expect_refused CQRS_RELAY_POLL_MS=soon
expect_refused CQRS_RELAY_NAME='two words'
expect_refused CQRS_KAFKA_PROPERTIES=acks=1
expect_refused CQRS_KAFKA_PROPERTIES=linger.ms=soon

# A run: events appended before it starts are published, keyed by stream, with headers.
sql() { psql -qtAX "$CQRS_PG_URL" -c "$1"; }
run=cli$RANDOM$RANDOM
head=$(sql "SELECT lpad(to_hex(xid::text::bigint), 16, '0') || lpad(to_hex(seq), 16, '0') FROM events
            WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY xid DESC, seq DESC LIMIT 1")
sql "INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, payload, correlation_id)
     SELECT 'relay$run-1', v, gen_random_uuid(), 'cli.tick', 1, convert_to('tick ' || v, 'UTF8'), 'corr-$run'
       FROM generate_series(1, 20) v"

CQRS_RELAY_NAME=$run CQRS_RELAY_START_POSITION=$head CQRS_RELAY_METRICS_FILE=$work/metrics \
  "$RELAY" 2>"$work/relay.log" &
relay_pid=$!

published() { grep -q "^cqrs_relay_events_total{relay=\"$run\"} 20$" "$work/metrics" 2>/dev/null; }
deadline=$((SECONDS + 20))
until published; do
  [ $SECONDS -ge $deadline ] && fail "metrics file never showed 20 events: $(cat "$work/metrics" 2>/dev/null; tail -5 "$work/relay.log")"
  sleep 0.2
done
grep -q "^cqrs_relay_leader{relay=\"$run\"} 1$" "$work/metrics" || fail "metrics file does not show leadership"
grep -Eq "^cqrs_store_xmin_lag_seconds\{relay=\"$run\"\} [0-9.e+-]+$" "$work/metrics" || fail "metrics file does not show the store's xmin lag"

kill -TERM "$relay_pid"
status=0
wait "$relay_pid" || status=$?
relay_pid=
[ "$status" -eq 0 ] || fail "SIGTERM: exit $status, expected 0: $(tail -5 "$work/relay.log")"

saved=$(sql "SELECT lpad(to_hex(xid::text::bigint), 16, '0') || lpad(to_hex(seq), 16, '0') FROM relay_checkpoints
             WHERE relay_name = '$run' AND topic = '$TOPIC'")
last=$(sql "SELECT lpad(to_hex(xid::text::bigint), 16, '0') || lpad(to_hex(seq), 16, '0') FROM events
            WHERE stream_id = 'relay$run-1' AND stream_version = 20")
[[ "$saved" > "$last" || "$saved" == "$last" ]] || fail "checkpoint $saved is before the last event $last"

# Readable with kcat: the key, and the headers a consumer needs.
timeout 30 kcat -b "$CQRS_KAFKA_BOOTSTRAP" -C -t "$TOPIC" -o beginning -e -q -f '%k|%h|%s\n' 2>/dev/null |
  grep "^relay$run-1|" >"$work/messages" || true
[ "$(wc -l <"$work/messages")" -eq 20 ] || fail "kcat found $(wc -l <"$work/messages") messages of relay$run-1, expected 20"
grep -q "stream-version=20,log-position=$last,.*correlation-id=corr-$run|tick 20$" "$work/messages" ||
  fail "message 20 lacks its headers or payload: $(tail -1 "$work/messages")"
echo "ok: cqrs-relay --help, refused settings, publish, metrics file, SIGTERM with checkpoint"

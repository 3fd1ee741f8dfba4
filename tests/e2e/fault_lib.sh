# Helpers for the fault tests (run through tools/test): the private stack's PostgreSQL and Redis
# stopped, frozen and started again from the test (their data and pid files are under
# CQRS_STACK_DIR), a relay under the dev stack's supervisor, a projector of this run's own scoped
# projections, and waits on conditions with a deadline.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$ROOT/tools/lib/common.sh"
: "${CQRS_STACK_DIR:?run through tools/test}"

PG_DATA=$CQRS_STACK_DIR/pg/data
REDIS_PID_FILE=$CQRS_STACK_DIR/redis/redis.pid
BUILD=${CQRS_BUILD_DIR:-$ROOT/build}

# eventually SECONDS WHAT COMMAND...: COMMAND until it succeeds; after SECONDS, fail naming WHAT.
eventually() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "$what: not within $seconds s"
    sleep 0.1
  done
}

pg_answers() { psql -X -q -A -t "$CQRS_PG_URL" -c "SELECT 1" >/dev/null 2>&1; }
pg_stop() { pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1; }
# `restart` starts a stopped cluster too, with the options of its last start (postmaster.opts).
pg_start() {
  pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$CQRS_STACK_DIR/pg/server.log" -m fast -w -t 30 restart >/dev/null 2>&1
}
pg_restart() { pg_start; }

redis_pid() { cat "$REDIS_PID_FILE"; }
redis_freeze() { kill -STOP "$(redis_pid)" || fail "cannot stop Redis"; }
redis_thaw() { kill -CONT "$(redis_pid)" 2>/dev/null || true; }
redis_answers() { redis-cli -u "$CQRS_REDIS_URL" ping 2>/dev/null | grep -q PONG; }

# Leaves the stack as tools/test started it, whatever the test did to it.
restore_services() {
  redis_thaw
  pg_answers || pg_start || true
}

# start_relay WORK: a relay of this run's own (its own checkpoint) under the dev stack's
# supervisor: the relay's own faults are not what these tests judge.
start_relay() {
  supervise "$1/relay" "$BUILD/commands/relay/cqrs-relay" --relay-name "fault$RUN" --log-level error &
  relay_supervisor=$!
}

stop_relay() {
  [ "${relay_supervisor:-0}" -ne 0 ] || return 0
  kill -TERM "$relay_supervisor" 2>/dev/null
  wait "$relay_supervisor" 2>/dev/null || true
  relay_supervisor=0
}

# The products' stock and versions in this run's PostgreSQL catalog: "count sum(on_hand) sum(version)".
pg_totals() {
  psql -X -A -t -F' ' "$CQRS_PG_URL" -c "SELECT count(*), coalesce(sum(r.on_hand), 0), coalesce(sum(r.stream_version), 0)
    FROM product_catalog_rows r JOIN projection_live_models l
      ON l.projection = 'product_catalog_$scope' AND l.model = r.model"
}

# Events not yet applied, over every projection of this run's scope (`cqrs projections`, exact).
lag() { "$CQRS" projections | jq -s 'map(.lag_events) | add'; }
caught_up() { [ "$(lag)" = "0" ]; }

redis_digest() {
  local model key
  model=$(redis-cli -u "$CQRS_REDIS_URL" GET "cqrs:projection:product_detail_$scope:live")
  for key in $(redis-cli -u "$CQRS_REDIS_URL" --scan --pattern "$model:product:*" | sed "s/^$model://" | sort); do
    echo "$key $(redis-cli -u "$CQRS_REDIS_URL" HGETALL "$model:$key" | paste -sd' ')"
  done
}

pg_digest() {
  psql -X -A -t "$CQRS_PG_URL" -c "SELECT r.product_id, r.sku, r.on_hand, r.reserved, r.available, r.stream_version
    FROM product_catalog_rows r JOIN projection_live_models l
      ON l.projection = 'product_catalog_$scope' AND l.model = r.model ORDER BY r.product_id"
}

# Every event applied exactly once: both live models equal a fresh rebuild from the event store.
expect_models_equal_rebuild() {
  local redis_live pg_live
  redis_live=$(redis_digest)
  pg_live=$(pg_digest)
  "$CQRS" rebuild --all >/dev/null || fail "rebuild failed"
  [ "$(redis_digest)" = "$redis_live" ] || fail "the Redis model differs from a rebuild"
  [ "$(pg_digest)" = "$pg_live" ] || fail "the PostgreSQL model differs from a rebuild"
}

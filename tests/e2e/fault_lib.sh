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

caught_up() { [ "$(lag)" = "0" ]; }

# Every event applied exactly once: both live models equal a fresh rebuild from the event store.
expect_models_equal_rebuild() {
  local redis_live pg_live
  redis_live=$(redis_digest)
  pg_live=$(pg_digest)
  "$CQRS" rebuild --all >/dev/null || fail "rebuild failed"
  [ "$(redis_digest)" = "$redis_live" ] || fail "the Redis model differs from a rebuild"
  [ "$(pg_digest)" = "$pg_live" ] || fail "the PostgreSQL model differs from a rebuild"
}

# start_fault_world PREFIX LOG_LEVEL: this run's scope (PREFIX<run>), a relay and a projector
# (its log in $work/projector.log), stopped on exit with the services restored, and $products
# products; restock_all restocks each once, expected/totals_are_expected say what the catalog must
# show once every restock so far is applied. Call it at the top level of the test (not in a
# subshell): it sets the test's variables and its EXIT trap.
start_fault_world() {
  scope="$1$RUN"
  category="product_$scope"
  export CQRS_PROJECTION_SCOPE=$scope CQRS_PROJECTOR_GROUP="$1$RUN" CQRS_LOG_LEVEL=$2
  work=$(mktemp -d)
  projector=0
  finish() {
    restore_services
    stop_relay
    [ "$projector" -ne 0 ] && kill -TERM "$projector" 2>/dev/null && wait "$projector" 2>/dev/null
    rm -rf "$work"
    return 0
  }
  trap finish EXIT

  start_relay "$work"
  "$CQRS" projector 2>>"$work/projector.log" &
  projector=$!

  products=10
  for p in $(seq 1 $products); do created "$category-p$p" "SKU-$RUN-$p" 100 50; done
  restocks=0
  restock_all() {
    for p in $(seq 1 $products); do restocked "$category-p$p" 1; done
    restocks=$((restocks + 1))
  }
  # "count sum(on_hand) sum(version)" once every restock so far is applied.
  expected() { echo "$products $((products * (50 + restocks))) $((products * (1 + restocks)))"; }
  totals_are_expected() { [ "$(pg_totals)" = "$(expected)" ]; }
}

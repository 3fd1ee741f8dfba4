# /readyz during faults: 200 naming Redis degraded while Redis is frozen or down (reads fall back
# to PostgreSQL), Redis up again at the first probe after it returns, and 503 only while
# PostgreSQL does not answer.
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

work=$(mktemp -d)
port=$(free_port)
url="https://127.0.0.1:$port"
gateway=0
finish() {
  restore_services
  [ "$gateway" -ne 0 ] && kill -TERM "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null
  rm -rf "$work"
  return 0
}
trap finish EXIT

CQRS_HTTP_PORT=$port CQRS_LOG_LEVEL=warn "$BUILD/gateway/cqrs-gateway" >"$work/gateway.log" 2>&1 &
gateway=$!
healthy() { curl -sf -o /dev/null "$url/healthz"; }
eventually 30 "the gateway answering /healthz" healthy

# probe: "STATUS BODY" of one /readyz, within 5 s.
probe() { curl -s --max-time 5 -o "$work/body" -w '%{http_code}' "$url/readyz"; echo " $(cat "$work/body" 2>/dev/null)"; }
expect_probe() {
  local want_status=$1 want_redis=$2 want_postgres=$3 answer
  answer=$(probe)
  [ "${answer%% *}" = "$want_status" ] || fail "/readyz answered '$answer', expected $want_status"
  grep -q "\"redis\":\"$want_redis\"" <<<"$answer" || fail "/readyz answered '$answer', expected redis $want_redis"
  grep -q "\"postgres\":\"$want_postgres\"" <<<"$answer" || fail "/readyz answered '$answer', expected postgres $want_postgres"
}

expect_probe 200 up up

# A projection whose checkpoint has not moved for a minute (its projector gone): named stale,
# still 200. Named to sort first: the body lists at most 20.
stale="a_stale_$RUN"
psql -X -q -v ON_ERROR_STOP=1 "$CQRS_PG_URL" -c "INSERT INTO projection_live_models (projection, model)
  VALUES ('$stale', '${stale}_v1');
  INSERT INTO projection_checkpoints (projection, kafka_partition, log_position, kafka_offset, updated_at)
  VALUES ('$stale', 0, '', 0, now() - interval '1 minute')" || fail "cannot insert a stale checkpoint"
forget_stale() {
  psql -X -q "$CQRS_PG_URL" -c "DELETE FROM projection_checkpoints WHERE projection = '$stale';
    DELETE FROM projection_live_models WHERE projection = '$stale'" >/dev/null 2>&1 || true
}
trap 'forget_stale; finish' EXIT
expect_probe 200 up up
grep -q "\"stale_projections\":\[\"$stale\"" "$work/body" || fail "the stale projection is not named: $(cat "$work/body")"
grep -q '"projections"' "$work/body" || fail "stale projections not named degraded: $(cat "$work/body")"
forget_stale

redis_freeze
expect_probe 200 down up
grep -q '"degraded":\["redis"' "$work/body" || fail "Redis frozen, not named degraded: $(cat "$work/body")"
redis_thaw
expect_probe 200 up up

# Stopped and started again on its port (as tests/e2e_gateway's Redis outage does).
redis_port=${CQRS_REDIS_URL##*:}; redis_port=${redis_port%%/*}
kill -TERM "$(redis_pid)"
redis_gone() { ! redis_answers; }
eventually 10 "Redis stopping" redis_gone
expect_probe 200 down up
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize yes \
  --dir "$CQRS_STACK_DIR/redis" --pidfile "$REDIS_PID_FILE" --logfile "$CQRS_STACK_DIR/redis/redis.log" >/dev/null ||
  fail "Redis did not start again"
eventually 10 "Redis answering again" redis_answers
expect_probe 200 up up

pg_stop || fail "PostgreSQL did not stop"
expect_probe 503 up down
pg_start || fail "PostgreSQL did not start again"
ready() { [ "$(probe | cut -d' ' -f1)" = 200 ]; }
eventually 30 "/readyz answering 200 once PostgreSQL is back" ready
kill -0 "$gateway" 2>/dev/null || fail "the gateway exited"
echo "/readyz: 200 degraded without Redis, Redis seen back at once, 503 only without PostgreSQL"

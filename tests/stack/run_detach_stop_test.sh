# tools/run --detach brings up PostgreSQL, Redis and the broker; psql, redis-cli and kcat connect
# with build/stack.env's settings; tools/run --stop leaves no process behind.
. "$(dirname "$0")/lib.sh"
scratch=$(mktemp -d /tmp/cqrs-stacktest.XXXXXX)
export CQRS_RUN_STATE=$scratch/run.state CQRS_STACK_ENV=$scratch/stack.env CQRS_HTTP_PORT=18080
trap '"$ROOT/tools/run" --stop >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT

"$ROOT/tools/run" --detach 2>"$scratch/run.log" || { cat "$scratch/run.log"; fail "tools/run --detach failed"; }
[ -s "$CQRS_STACK_ENV" ] || fail "no stack.env written"
. "$CQRS_STACK_ENV"
dir=$(cat "$CQRS_RUN_STATE")
redis_port=${CQRS_REDIS_URL##*:}; redis_port=${redis_port%%/*}

[ "$(psql "$CQRS_PG_URL" -Atc "select to_regclass('schema_migrations') is not null")" = t ] ||
  fail "psql cannot read the applied migrations"
[ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping)" = PONG ] || fail "redis-cli cannot reach Redis"
kcat -b "$CQRS_KAFKA_BOOTSTRAP" -L -t events 2>/dev/null | grep -q 'topic "events" with 6 partitions' ||
  fail "kcat does not see topic events with 6 partitions"
[ "$CQRS_HTTP_URL" = "https://127.0.0.1:18080" ] || fail "CQRS_HTTP_URL does not follow CQRS_HTTP_PORT"
# HTTPS with the checkout's dev CA, whose key only its owner reads; PostgreSQL over verified TLS.
ca=$ROOT/build/dev-ca.pem
[ "$CQRS_TLS_CA_FILE" = "$ca" ] || fail "CQRS_TLS_CA_FILE is '$CQRS_TLS_CA_FILE', expected $ca"
[ "$(stat -c %a "$ROOT/build/dev-ca.key")" = 600 ] || fail "the dev CA's key is not mode 0600"
curl -sf --cacert "$ca" -o /dev/null "$CQRS_HTTP_URL/healthz" || fail "curl --cacert build/dev-ca.pem cannot reach the gateway"
[ "$(psql "$CQRS_PG_URL" -Atc "select ssl from pg_stat_ssl where pid = pg_backend_pid()")" = t ] ||
  fail "psql with CQRS_PG_URL is not on TLS"
case "$CQRS_PG_URL" in *sslmode=verify-full*) ;; *) fail "CQRS_PG_URL does not verify the server: $CQRS_PG_URL" ;; esac
pg_port=${CQRS_PG_URL#*@localhost:}; pg_port=${pg_port%%/*}
psql "postgresql://postgres@127.0.0.1:$pg_port/cqrs?sslmode=disable" -Atc "select 1" >/dev/null 2>&1 &&
  fail "PostgreSQL accepted a TCP connection without TLS"
[ -n "$CQRS_JWT_SECRET" ] || fail "no generated secret"

kill -0 "$(cat "$dir/engine/relay.pid")" 2>/dev/null || fail "the relay is not running"
kill -0 "$(cat "$dir/engine/projector.pid")" 2>/dev/null || fail "the projector is not running"
for _ in $(seq 1 50); do [ -s "$dir/engine/relay.metrics" ] && break; sleep 0.1; done
grep -q '^cqrs_relay' "$dir/engine/relay.metrics" || fail "the relay publishes no metrics"

"$ROOT/tools/run" --detach 2>/dev/null && fail "a second tools/run --detach must refuse"

"$ROOT/tools/run" --stop 2>/dev/null || fail "tools/run --stop failed"
left=$(leftovers "$dir" "$redis_port")
[ -z "$left" ] || fail "processes left behind: $left"
[ ! -e "$CQRS_STACK_ENV" ] || fail "stack.env still present after --stop"
[ ! -d "$dir" ] || fail "scratch directory still present"
echo "detach/stop cycle left nothing behind"

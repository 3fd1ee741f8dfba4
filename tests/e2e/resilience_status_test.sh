# `cqrs status` shows every resilience instance of the engine's processes from their metrics files:
# the gateway's bulkheads (password_hashing, gateway_postgres, gateway_redis) and, beside them, the
# instances of another process. A breaker open in that other process is shown as open and leaves the
# gateway ready: readiness depends on PostgreSQL only, never on another process's breaker.
# With CQRS_METRICS_URLS (a scaled stack's build/stack.env), it reads each process's metrics
# endpoint as well: a real cqrs-processes serving its payment_provider instance over HTTP and the
# gateway's bulkheads over HTTPS, each named by its engine/NAME.metrics_url, each shown once; an
# endpoint that does not answer is named and makes the exit status 1.
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"
unset CQRS_METRICS_URLS  # a developer's own stack's endpoints are not this test's

work=$(mktemp -d)
mkdir -p "$work/engine"
port=$(free_port)
url="https://127.0.0.1:$port"
gateway=0
processes=0
finish() {
  [ "$gateway" -ne 0 ] && kill -TERM "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null
  [ "$processes" -ne 0 ] && kill -TERM "$processes" 2>/dev/null && wait "$processes" 2>/dev/null
  rm -rf "$work"
  return 0
}
trap finish EXIT

CQRS_HTTP_PORT=$port "$BUILD/gateway/cqrs-gateway" --gateway-metrics-file "$work/engine/gateway.metrics" \
  >"$work/gateway.log" 2>&1 &
gateway=$!
eventually 30 "the gateway answering /readyz" curl -sf -o /dev/null "$url/readyz"
eventually 10 "the gateway's metrics file" grep -q 'cqrs_resilience_bulkhead_available{name="password_hashing"}' \
  "$work/engine/gateway.metrics"

# Another process's metrics, as core/resilience writes them, with its payment_provider breaker open.
cat >"$work/engine/payments.metrics" <<'METRICS'
# TYPE cqrs_resilience_circuit_state gauge
cqrs_resilience_circuit_state{name="payment_provider",state="closed"} 0
cqrs_resilience_circuit_state{name="payment_provider",state="open"} 1
cqrs_resilience_circuit_state{name="payment_provider",state="half_open"} 0
cqrs_resilience_failure_rate{name="payment_provider"} 100
cqrs_resilience_calls_total{name="payment_provider",outcome="not_permitted"} 7
METRICS

CQRS_STACK_DIR=$work "$CQRS" status >"$work/status" 2>&1 || { cat "$work/status" >&2; fail "cqrs status failed"; }
for instance in password_hashing gateway_postgres gateway_redis; do
  grep -Eq "^gateway +$instance +closed +[0-9]+ +0 " "$work/status" || { cat "$work/status" >&2; fail "no line for $instance"; }
done
grep -Eq '^payments +payment_provider +open .* 7 +100$' "$work/status" || { cat "$work/status" >&2; fail "the open breaker is not shown"; }

# The other process's open breaker leaves the gateway ready.
status=$(curl -s -o "$work/ready" -w '%{http_code}' "$url/readyz")
[ "$status" = 200 ] || fail "readyz answered $status with another process's breaker open: $(cat "$work/ready")"
jq -e '.status == "ready" or .status == "degraded"' "$work/ready" >/dev/null || fail "readyz says $(cat "$work/ready")"

# The endpoints of CQRS_METRICS_URLS: a saga worker's (plain HTTP, its own port) and the gateway's
# (HTTPS, trusting the stack's CA); the gateway's file is not read again.
metrics_port=$(free_port)
CQRS_PAYMENT_PROVIDER_URL=https://127.0.0.1:1 CQRS_PROCESSES_GROUP="status-$RANDOM$RANDOM" \
  "$BUILD/commands/processes/cqrs-processes" --metrics-port "$metrics_port" >"$work/processes.log" 2>&1 &
processes=$!
processes_url="http://127.0.0.1:$metrics_port/metrics"
eventually 30 "the saga worker's metrics endpoint" bash -c "curl -sf '$processes_url' | grep -q 'cqrs_resilience_circuit_state{name=\"payment_provider\"'"
echo "$processes_url" >"$work/engine/processes-1.metrics_url"
echo "$url/metrics" >"$work/engine/gateway.metrics_url"
CQRS_STACK_DIR=$work CQRS_METRICS_URLS="$processes_url,$url/metrics" CQRS_TLS_CA_FILE=$CQRS_TLS_CA_FILE "$CQRS" status \
  >"$work/status" 2>&1 || { cat "$work/status" "$work/processes.log" >&2; fail "cqrs status over the endpoints failed"; }
grep -Eq '^processes-1 +payment_provider +closed ' "$work/status" || { cat "$work/status" >&2; fail "no line for the saga worker's breaker"; }
for instance in password_hashing gateway_postgres gateway_redis; do
  [ "$(grep -Ec "^gateway +$instance +closed +[0-9]+ +0 " "$work/status")" = 1 ] ||
    { cat "$work/status" >&2; fail "$instance is not shown once"; }
done
grep -Eq '^payments +payment_provider +open ' "$work/status" || { cat "$work/status" >&2; fail "the files beside the endpoints are not read"; }
# Without a stack directory, the endpoints alone, named by address.
CQRS_STACK_DIR= CQRS_METRICS_URLS="$processes_url" "$CQRS" status >"$work/status" 2>&1 ||
  { cat "$work/status" >&2; fail "cqrs status with CQRS_METRICS_URLS alone failed"; }
grep -Eq "^127.0.0.1:$metrics_port +payment_provider +closed " "$work/status" || { cat "$work/status" >&2; fail "no line by address"; }
# An endpoint that does not answer is named, and the exit status says so.
dead="http://127.0.0.1:$(free_port)/metrics"
! CQRS_STACK_DIR= CQRS_METRICS_URLS="$processes_url,$dead" "$CQRS" status >"$work/status" 2>&1 || fail "a dead endpoint passed"
grep -q "$dead" "$work/status" || { cat "$work/status" >&2; fail "the dead endpoint is not named"; }
grep -Eq "payment_provider +closed " "$work/status" || { cat "$work/status" >&2; fail "the live endpoint is not shown beside a dead one"; }
rm -f "$work/engine/"*.metrics_url

# Files named on the command line; a missing one is an error (and named).
CQRS_STACK_DIR= "$CQRS" status --metrics-files "$work/engine/payments.metrics" >"$work/status" 2>&1 ||
  fail "cqrs status --metrics-files failed"
grep -q payment_provider "$work/status" || fail "--metrics-files not read"
! "$CQRS" status --metrics-files "$work/engine/nothing.metrics" >"$work/status" 2>&1 || fail "a missing file passed"
grep -q "nothing.metrics" "$work/status" || fail "the missing file is not named"
exit 0

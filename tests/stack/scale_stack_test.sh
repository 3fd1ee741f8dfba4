# The short version of the scale suite (tests/scale): tools/run --detach --scale starts HAProxy
# over 2 gateways, 2 projectors, 2 relays and the replica; tools/run --status lists them (one relay
# leads, the other stands by; the replica streams); every process serves metrics at its URL in
# CQRS_METRICS_URLS; a gateway given SIGTERM answers /readyz 503 at once and no request through
# HAProxy fails meanwhile; the gateways read from the replica; --stop leaves nothing behind.
. "$(dirname "$0")/../scale/scale_lib.sh"

start_scaled_stack gateways=2,projectors=2,relays=2,replica=on
redis_port=$(setting CQRS_REDIS_URL); redis_port=${redis_port##*:}; redis_port=${redis_port%%/*}

"$ROOT/tools/run" --status >"$scratch/status"
for name in postgres postgres-replica redis kafka gateway-1 gateway-2 haproxy projector-1 projector-2 relay-1 relay-2; do
  grep -qE "^$name pid [0-9]+ " "$scratch/status" || { cat "$scratch/status"; fail "--status has no running $name"; }
done
[ "$(awk '$1 ~ /^relay-/ {print $4}' "$scratch/status" | sort | tr '\n' ' ')" = "leader standby " ] ||
  { cat "$scratch/status"; fail "the relays are not one leader and one standby"; }
grep -q '^postgres-replica pid [0-9]* streaming ' "$scratch/status" || { cat "$scratch/status"; fail "the replica does not stream"; }
grep -q "^haproxy pid [0-9]* running $url\$" "$scratch/status" || { cat "$scratch/status"; fail "haproxy is not at $url"; }
[ -n "$(setting CQRS_PG_READ_URL)" ] || fail "no CQRS_PG_READ_URL in stack.env"

urls=$(setting CQRS_METRICS_URLS)
[ "$(tr ',' '\n' <<<"$urls" | wc -l)" -eq 6 ] || fail "CQRS_METRICS_URLS does not list the 6 engine processes: $urls"
for metrics in ${urls//,/ }; do
  curl -sf "$metrics" >"$scratch/metrics" || fail "$metrics does not answer"
  grep -q '^cqrs_process_restarts ' "$scratch/metrics" || fail "$metrics serves no metrics"
done

create_products 2
create_order_products 1
register_customers 1
settle_projectors
wait_until 10 bash -c "[ \"\$(curl -s '$(cat "$dir/engine/gateway-1.address")/metrics' | awk '/^cqrs_read_replica_state / {print \$2}')\" = 0 ]" ||
  fail "gateway-1 does not read from the replica"

# SIGTERM under a light load through HAProxy (restocks, reads, orders): /readyz 503 at once, not
# one failed request.
start_load 2 1 1
sleep 2
t0=$(now_ms)
kill -TERM "$(child_of gateway-1)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$(cat "$dir/engine/gateway-1.address")/readyz")" = 503 ] ||
  fail "a gateway given SIGTERM does not answer /readyz 503"
sleep 4
wait_until 60 gateway_ready gateway-1 || fail "gateway-1 did not come back"
t1=$(now_ms)
stop_load
failed=$(failures_between "$t0" "$t1")
[ "$failed" -eq 0 ] || { show_failures "$t0" "$t1"; fail "$failed requests failed while a gateway drained"; }
echo "drain: 0 failed, $(consistency_waits_between "$t0" "$t1") min_position reads answered not_yet_consistent; the group settled in $settle_s s"
grep -q 'msg=draining' "$dir/engine/gateway-1.log" || fail "gateway-1 did not log its drain"

"$ROOT/tools/run" --stop 2>/dev/null || fail "tools/run --stop failed"
left=$(leftovers "$dir" "$redis_port")
[ -z "$left" ] || fail "processes left behind: $left"
echo "scaled stack: status, metrics, drain and replica reads hold"

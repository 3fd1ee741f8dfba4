# The scale suite (tools/test scale): under a steady mixed load through HAProxy (restocks with
# Idempotency-Keys, reads with min_position, searches on the PostgreSQL read model, orders of
# registered customers paid with tok_ok, retried with their Idempotency-Keys) with 2 gateways,
# 3 projectors, 2 relays, the replica and 2 saga workers:
#   kill -9 of a gateway          only requests in flight on it may fail; retried with their keys, each applies once
#   SIGTERM of a gateway          zero failed requests (it drains)
#   kill -9 of a projector        its partitions move to the others
#   kill -9 of a saga worker      the other takes its partitions
#   kill -9 of the leading relay  the standby leads within 10 s
#   the replica stopped/started   reads answer from the primary, then from the replica again
# then nothing lost or applied twice, every order paid with one captured charge in the card
# processor's ledger, every read model (catalog, product details, order list, order details, order
# payments) equals a fresh rebuild (digests), and Prometheus (--with-prometheus) scrapes every process.
# Figures on stdout as `SCALE <key> <value>`.
. "$(dirname "$0")/scale_lib.sh"

takeover_bound_s=10
other_relay_leads() { local now; now=$(leading_relay); [ -n "$now" ] && [ "$now" != "$leader" ]; }
back_on_replica() { [ "$(replica_state gateway-1)" = 0 ] && [ "$(replica_state gateway-2)" = 0 ]; }
replica_return_bound_s=30
spec=gateways=2,projectors=3,processes=2,relays=2,replica=on
start_scaled_stack "$spec" --with-prometheus
echo "SCALE stack $spec"
create_products 12
create_order_products 4
register_customers 2
settle_projectors
echo "SCALE projectors_settled_s $settle_s"
load_started=$(now_ms)
start_load 3 1 2
sleep 4

# signal_gateway SIGNAL NAME: sends SIGNAL to the gateway, waits until it is back (its supervisor
# restarts it) and HAProxy sends it requests again; prints the requests that failed meanwhile.
signal_gateway() {
  local t0
  t0=$(now_ms)
  kill "-$1" "$(child_of "$2")"
  sleep 4
  wait_until 60 gateway_ready "$2" || fail "$2 did not come back"
  wait_until 30 haproxy_sees_up "$2" || fail "HAProxy does not see $2 again"
  failures_between "$t0" "$(now_ms)"
  show_failures "$t0" "$(now_ms)" 2>"$scratch/failures.$2.$1"
}

# kill -9 of a gateway: HAProxy retries what failed before an answer on the other gateway.
echo "SCALE phase_gateway_kill_at_ms $(( $(now_ms) - load_started ))"
kill_failed=$(signal_gateway KILL gateway-1)
echo "SCALE gateway_kill_failed $kill_failed"
# SIGTERM of a gateway: it drains; not one request fails.
echo "SCALE phase_gateway_sigterm_at_ms $(( $(now_ms) - load_started ))"
sigterm_failed=$(signal_gateway TERM gateway-2)
echo "SCALE gateway_sigterm_failed $sigterm_failed"
[ "$sigterm_failed" -eq 0 ] || cat "$scratch/failures.gateway-2.TERM" >&2

# kill -9 of a projector: the group rebalances, the others carry its partitions meanwhile.
echo "SCALE phase_projector_kill_at_ms $(( $(now_ms) - load_started ))"
kill -KILL "$(child_of projector-2)"
sleep 4

# kill -9 of a saga worker: the other takes its partitions.
echo "SCALE phase_saga_worker_kill_at_ms $(( $(now_ms) - load_started ))"
kill -KILL "$(child_of processes-1)"
sleep 4

# kill -9 of the leading relay: the standby takes the lead.
leader=$(leading_relay)
[ -n "$leader" ] || fail "no relay leads"
echo "SCALE phase_relay_kill_at_ms $(( $(now_ms) - load_started ))"
t0=$(now_ms)
kill -KILL "$(child_of "$leader")"
wait_until "$takeover_bound_s" other_relay_leads ||
  fail "no standby relay took the lead within $takeover_bound_s s"
takeover_ms=$(( $(now_ms) - t0 ))
echo "SCALE relay_takeover_ms $takeover_ms"
sleep 2

# The replica stopped: reads go to the primary (counted); started again: back to the replica.
wait_until 30 back_on_replica || fail "the gateways do not read from the replica"
bypassed_before=$(bypassed_reads gateway-1)
echo "SCALE phase_replica_stop_at_ms $(( $(now_ms) - load_started ))"
t0=$(now_ms)
stop_replica_server "$dir" || fail "cannot stop the replica"
wait_until 10 bash -c "[ \"\$(curl -s '$(cat "$dir/engine/gateway-1.address")/metrics' | awk '/^cqrs_read_replica_state / {print \$2}')\" = 2 ]" ||
  fail "gateway-1 did not bypass the stopped replica"
sleep 2
start_replica_server "$dir" || fail "cannot start the replica again"
t_started=$(now_ms)
wait_until "$replica_return_bound_s" back_on_replica ||
  fail "the gateways did not return to the replica within $replica_return_bound_s s"
replica_return_ms=$(( $(now_ms) - t_started ))
t1=$(now_ms)
echo "SCALE replica_outage_failed $(failures_between "$t0" "$t1")"
echo "SCALE replica_bypassed_reads $(awk -v a="$bypassed_before" -v b="$(bypassed_reads gateway-1)" 'BEGIN { print b - a }')"
echo "SCALE replica_return_ms $replica_return_ms"
sleep 2
stop_load

# Every command applied exactly once; the models caught up; a fresh rebuild gives the same models.
cat "$scratch"/writes.* >"$scratch/writes"
sent=$(awk '$2 == "sent"' "$scratch/writes" | wc -l)
retried=$(awk '$2 == "retry"' "$scratch/writes" | wc -l)
first_failed=$(awk '$2 == "sent" && $5 != 200' "$scratch/writes" | wc -l)
reads=$(cat "$scratch"/reads.* | wc -l)
reads_failed=$(cat "$scratch"/reads.* | awk '$5 != 200' | wc -l)
acked_keys=$(awk '$5 == 200 { print $3 }' "$scratch/writes" | sort -u | wc -l)
stored=$(psql_value "SELECT count(*) FROM events WHERE event_type = 'product.restocked' AND stream_id <> 'product-$probe_product'")
echo "SCALE requests_sent $(cat "$scratch/writes" "$scratch"/reads.* "$scratch"/orders.* | wc -l)"
echo "SCALE commands_sent $sent"
echo "SCALE commands_failed_first_try $first_failed"
echo "SCALE commands_retried $retried"
echo "SCALE reads_sent $reads"
echo "SCALE reads_failed $reads_failed"
# By answer: 503 not_yet_consistent is a min_position wait that outlasted a take-over (a client retries).
echo "SCALE reads_failed_min_position $(cat "$scratch"/reads.[0-9]* | awk '$5 != 200' | wc -l)"
echo "SCALE reads_not_yet_consistent $(cat "$scratch"/reads.[0-9]* | awk '$6 == "not_yet_consistent"' | wc -l)"
echo "SCALE reads_failed_search $(cat "$scratch"/reads.r* | awk '$5 != 200' | wc -l)"
# When: milliseconds after the load started, per failed read.
echo "SCALE reads_failed_at_ms $(cat "$scratch"/reads.* | awk -v s="$load_started" '$5 != 200 { printf "%d,", $1 - s }')"
echo "SCALE reads_failed_by_status $(cat "$scratch"/reads.* | awk '$5 != 200 { n[$5 "/" $6]++ } END { for (s in n) printf "%s:%d,", s, n[s] }')"
echo "SCALE commands_acked $acked_keys"
echo "SCALE restocks_stored $stored"
[ "$acked_keys" -eq "$sent" ] || fail "$((sent - acked_keys)) commands never got an answer"
[ "$stored" -eq "$acked_keys" ] || fail "the store holds $stored restocks for $acked_keys acknowledged commands (lost or doubled)"
[ "$sigterm_failed" -eq 0 ] || fail "$sigterm_failed requests failed while a gateway drained"

# Orders: each acknowledged once, stored once, every one paid with one captured charge.
orders_sent=$(cat "$scratch"/orders.* | awk '$2 == "sent"' | wc -l)
orders_retried=$(cat "$scratch"/orders.* | awk '$2 == "retry"' | wc -l)
orders_acked=$(acked_orders | wc -l)
echo "SCALE orders_sent $orders_sent"
echo "SCALE orders_failed_first_try $(cat "$scratch"/orders.* | awk '$2 == "sent" && $5 != 202' | wc -l)"
echo "SCALE orders_retried $orders_retried"
echo "SCALE orders_acked $orders_acked"
echo "SCALE orders_stored $(orders_stored)"
[ "$orders_sent" -gt 0 ] || fail "no order was placed"
[ "$orders_acked" -eq "$orders_sent" ] || fail "$((orders_sent - orders_acked)) orders never got a 202"
[ "$(orders_stored)" -eq "$orders_acked" ] || fail "the store holds $(orders_stored) orders for $orders_acked acknowledged (lost or doubled)"
t0=$(now_ms)
wait_until 180 orders_settled || fail "$(( $(orders_stored) - $(orders_in_terminal_state) )) orders did not reach a terminal state"
echo "SCALE orders_settled_after_load_ms $(( $(now_ms) - t0 ))"
wait_until 120 models_caught_up || fail "the read models did not catch up with the store"
echo "SCALE orders_by_status $(orders_by_status)"
[ "$(orders_by_status)" = "paid:$orders_acked" ] || fail "not every order is paid: $(orders_by_status)"
# The orders' audit (tests/support/orders_audit.sh): each settled, one captured charge per paid
# order in the card processor's ledger, the products' stock conserved, no reservation left open.
acked_orders >"$scratch/orders.acked"
"$ROOT/tests/support/orders_audit.sh" --orders "$scratch/orders.acked" --env "$CQRS_STACK_ENV" --wait 60 >"$scratch/audit" ||
  { cat "$scratch/audit"; fail "the orders' audit found violations"; }
sed 's/^AUDIT /SCALE orders_audit_/' "$scratch/audit"

# Every live model equals a fresh rebuild.
model_digests >"$scratch/digests.live"
(set -a; . "$CQRS_STACK_ENV"; "$CQRS_BUILD_DIR/tools/cli/cqrs" rebuild --all) >"$scratch/rebuild.log" 2>&1 ||
  { cat "$scratch/rebuild.log"; fail "cqrs rebuild --all failed"; }
model_digests >"$scratch/digests.rebuilt"
while read -r model live; do
  rebuilt=$(awk -v m="$model" '$1 == m { print $2 }' "$scratch/digests.rebuilt")
  echo "SCALE ${model}_digest_live $live"
  echo "SCALE ${model}_digest_rebuilt $rebuilt"
  [ "$live" = "$rebuilt" ] || fail "the live $model model differs from a fresh rebuild"
done <"$scratch/digests.live"
wait_until 60 prometheus_scrapes_all || fail "Prometheus does not scrape every process"
echo "SCALE prometheus_targets_up $(setting CQRS_METRICS_URLS | tr ',' '\n' | wc -l)"
echo "scale suite: every fault held"

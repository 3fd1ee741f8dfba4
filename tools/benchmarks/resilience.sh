# The resilience benchmark's shell half, sourced by tools/bench (which provides bench_rounds and
# the helpers bench_line, note, say, die). Only the order run uses the private stack.
#
# `cqrs-bench resilience` times, in one process and alternating for --rounds rounds, a bare call
# (a few nanoseconds of opaque work), the same call through a closed circuit breaker, and through
# the whole payment_provider pipeline (bulkhead, retry, breaker, time limit); CPU time of the
# calling threads, medians. Figures (nanoseconds per call):
#   resilience.bare_ns, resilience.breaker_ns, resilience.pipeline_ns
#   resilience.breaker_overhead_ns     breaker minus bare (one thread)
#   resilience.pipeline_overhead_ns    pipeline minus bare (one thread)
#   resilience.breaker_overhead_ns.threads2   breaker minus bare, two threads on one breaker
#
#
# Then the card processor's client (commands/provider) under injected faults, against a
# cqrs-payment-provider started here over HTTPS with the stack's certificate
# (cqrs-provider-fault-bench; counts, not times, except the run's wall time):
#   resilience.fault_payments, resilience.fault_calls, resilience.fault_retries,
#   resilience.fault_unsettled, resilience.charges_per_payment_max, resilience.fault_run_ms
#                                      300 payments charged with 30 % of the answers lost
#   resilience.fault_opens, resilience.fault_closes, resilience.fault_not_permitted
#                                      5 rounds of a failing then healthy provider
#
# Then the same at the order level: the e2e scenario "errors at 100 %" of
# build/tests/e2e_orders/e2e_resilience_tests on this private stack (its own gateway, relay,
# projector, cqrs-payment-provider, and a cqrs-processes with a small breaker: 4 calls decide, 3 s
# open, 2 probes): 3 orders fail their charges and open the breaker, 3 more are placed while it is
# open, then the provider recovers (counts, from the process's metrics file, log and the ledger):
#   resilience.orders_placed, resilience.orders_parked (stock_reserved, uncharged, while open),
#   resilience.orders_completed_after_recovery, resilience.max_charges_per_order,
#   resilience.breaker_opens (closed->open and half_open->open, from the log),
#   resilience.order_calls_failed, resilience.order_calls_not_permitted, resilience.order_calls_successful
#   resilience.order_recovery_ms       from the provider's recovery to the last order paid (the
#                                      breaker's wait in open, its probes, the parked retries)
#
#   tools/bench resilience [--rounds N]   (--seconds does not apply: a fixed number of calls)

bench_resilience_summary() {
  echo "the circuit breaker's and the whole pipeline's overhead per call against a bare call"
}

resilience_result_value() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1"; }

# resilience_measure THREADS OUT: runs cqrs-bench resilience, its figures in OUT.
resilience_measure() {
  "$CQRS_BUILD_DIR/tools/benchmarks/cqrs-bench" resilience --rounds "$bench_rounds" --threads "$1" >"$2" ||
    die "cqrs-bench resilience failed"
}

bench_resilience_run() {
  local one="$bench_dir/resilience.1" two="$bench_dir/resilience.2" key
  note "resilience: 2,000,000 calls per measurement and thread, $bench_rounds rounds, medians, thread CPU time"
  resilience_measure 1 "$one"
  for key in bare_ns breaker_ns pipeline_ns breaker_overhead_ns pipeline_overhead_ns; do
    bench_line "resilience.$key" "$(resilience_result_value "$one" "$key")"
  done
  resilience_measure 2 "$two"
  bench_line resilience.breaker_overhead_ns.threads2 "$(resilience_result_value "$two" breaker_overhead_ns)"
  resilience_fault_run
  resilience_order_run
}

# resilience_fault_run: the client-level fault figures, against a provider of its own.
resilience_fault_run() {
  local out="$bench_dir/resilience.faults" log="$bench_dir/payment-provider.log" pid key status=0
  note "resilience faults: the provider client over HTTPS against cqrs-payment-provider (port $CQRS_PAYMENT_PROVIDER_PORT)"
  "$CQRS_BUILD_DIR/tools/payment_provider/cqrs-payment-provider" --payment-provider-port "$CQRS_PAYMENT_PROVIDER_PORT" \
    --payment-provider-tls-cert-file "$CQRS_TLS_CERT_FILE" --payment-provider-tls-key-file "$CQRS_TLS_KEY_FILE" \
    --log-level warn >"$log" 2>&1 &
  pid=$!
  local deadline=$((SECONDS + 10))
  until (exec 3<>"/dev/tcp/127.0.0.1/$CQRS_PAYMENT_PROVIDER_PORT") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { cat "$log" >&2; kill "$pid"; die "cqrs-payment-provider did not start"; }
    sleep 0.1
  done
  "$CQRS_BUILD_DIR/tools/benchmarks/cqrs-provider-fault-bench" --url "$CQRS_PAYMENT_PROVIDER_URL" \
    --ca-file "$CQRS_PAYMENT_PROVIDER_CA_FILE" >"$out" || status=$?
  kill "$pid"
  wait "$pid" 2>/dev/null
  [ "$status" -eq 0 ] || die "cqrs-provider-fault-bench failed"
  for key in fault_payments fault_calls fault_retries fault_unsettled charges_per_payment_max fault_run_ms \
    fault_opens fault_closes fault_not_permitted; do
    bench_line "resilience.$key" "$(resilience_result_value "$out" "$key")"
  done
}

# resilience_order_run: the order-level figures, from the e2e scenario run on this stack.
resilience_order_run() {
  local out="$bench_dir/resilience.orders" log="$bench_dir/resilience.orders.log" key
  note "resilience orders: POST /v1/orders through the gateway, the saga's breaker against a failing then recovering provider"
  : >"$out"
  CQRS_BUILD_DIR="$CQRS_BUILD_DIR" CQRS_RESILIENCE_FIGURES_FILE="$out" \
    "$CQRS_BUILD_DIR/tests/e2e_orders/e2e_resilience_tests" -tc="errors at 100 %*" >"$log" 2>&1 ||
    { tail -n 60 "$log" >&2; die "the order-level resilience run failed (log: $log)"; }
  for key in orders_placed orders_parked orders_completed_after_recovery max_charges_per_order breaker_opens \
    order_calls_failed order_calls_not_permitted order_calls_successful order_recovery_ms; do
    bench_line "resilience.$key" "$(resilience_result_value "$out" "$key")"
  done
}

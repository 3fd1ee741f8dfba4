# The resilience benchmark's shell half, sourced by tools/bench (which provides bench_rounds and
# the helpers bench_line, note, say, die). It needs no service of the private stack.
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

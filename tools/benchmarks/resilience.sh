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
}

# The relay benchmark. On a private stack with PostgreSQL's DEFAULT durability (fsync
# on, synchronous_commit on) and the embedded broker, `cqrs-relay-bench`:
#   1. loads EVENTS events (default 1,000,000; 200-byte payloads) through the store's append,
#      1000 events per append, 4 writers;
#   2. reads them once with the store's reader alone (the baseline: relay.baseline_read_events_per_s);
#   3. starts a relay and times it publishing all of them, from its start to Kafka's last
#      acknowledgement: relay.drain_events_per_s (target >= 100000);
#   4. appends one event per call at a steady 2,000 appends/s (4 writers, commit notifications on)
#      for SECONDS s and measures, per event, the time from its append returning (committed) to
#      Kafka's acknowledgement (the relay's delivery report): relay.latency_p50_ms,
#      relay.latency_p99_ms (target <= 20).
# Figures on stdout as `BENCH <key> <value>`, context as `# ...` lines, progress on stderr.
#
#   tools/bench relay [--seconds S]      (S: how long the latency phase runs; default 10)
#
# Sourced by tools/bench, which starts the private stack; defines bench_relay_summary and
# bench_relay_run only.

bench_relay_summary() {
  echo "relay: drain 1,000,000 stored events into Kafka; commit-to-ack latency at 2,000 appends/s"
}

# "busy total" jiffies of all cores.
bench_relay_machine_ticks() { awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat; }

# bench_relay_run [EVENTS] [SECONDS]: runs on the stack of the current environment (CQRS_PG_URL,
# CQRS_KAFKA_BOOTSTRAP, CQRS_KAFKA_TOPIC).
bench_relay_run() {
  local events=${1:-1000000} seconds=${2:-${bench_seconds:-20}} before after
  printf '# relay: %s events loaded then drained; latency at 2000 appends/s for %s s\n' "$events" "$seconds"
  printf '# durability: fsync=%s synchronous_commit=%s\n' \
    "$(psql -XAtq "$CQRS_PG_URL" -c 'SHOW fsync')" "$(psql -XAtq "$CQRS_PG_URL" -c 'SHOW synchronous_commit')"
  before=$(bench_relay_machine_ticks)
  "$CQRS_BUILD_DIR/commands/relay/cqrs-relay-bench" --events "$events" --seconds "$seconds" --rate 2000 || return 1
  after=$(bench_relay_machine_ticks)
  # How busy the machine was on average (all processes, ours included): figures from a shared
  # machine mean little without it.
  awk -v a="$before" -v b="$after" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "# machine busy %.0f%% of %d cores during the run\n", 100 * (y[1] - x[1]) / (y[2] - x[2]), '"$(nproc)"' }'
}

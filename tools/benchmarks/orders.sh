# The orders benchmark's shell half, sourced by tools/bench (the private stack, bench_seconds,
# bench_rounds and the helpers bench_line, note, psql_value, median, ratio, ...). It reuses the
# gateway benchmark's engine start, seeding, restock rounds and CPU accounting (gateway.sh).
#
# On that stack it starts the whole engine (relay, projector, gateway, the order fulfilment process
# manager cqrs-processes and the stand-in card processor, which approves `tok_ok` at once), seeds
# 1,000 products through POST /v1/products, then, all in one run:
#   1. For --rounds rounds, alternating (odd rounds restock first):
#      - POST /v1/products/{id}/restock as admin with wrk at 32 connections (as tools/bench gateway):
#        orders.restock_per_s, the engine's plain command rate on the same stack;
#      - `cqrs-orders-bench closed`: 32 customers, each placing an order of one unit of a random
#        product (POST /v1/orders, 202) and following it with GET /v1/orders/{id} until it reads
#        `paid`, then placing the next, for --seconds after 3 s of warm-up. The rate is the
#        `order.paid` events the store recorded in those seconds: orders.per_s.
#      orders.ratio_to_restock = orders.per_s / orders.restock_per_s (target >= 0.03).
#   2. `cqrs-orders-bench rate` at half orders.per_s (open loop) for 30 s
#      (BENCH_ORDERS_LATENCY_SECONDS) after 3 s of warm-up: per order, POST sent -> its
#      `order.paid` event recorded in the store (the event's recorded_at, the appending
#      transaction's start; the system clock on both sides): orders.p50_ms (target <= 60),
#      orders.p99_ms (target <= 250); POST sent -> the first GET reading `paid` (the Redis read
#      model, one more relay -> Kafka -> projector hop, read every max(5 ms, age / 20)):
#      orders.seen_p50_ms, orders.seen_p99_ms. And where the time goes: for every event of the
#      order's process (its correlation id: the order's, the payment's and the product's events),
#      the median and p99 time after the POST at which the store recorded it (notes, and
#      orders.at_<event type>_p50_ms).
# An order that is refused, fails or is not paid within 60 s makes the run invalid.

. "$CQRS_ROOT/tools/benchmarks/gateway.sh"

gateway_products=1000
orders_connections=32
orders_latency_connections=64
orders_warmup_seconds=3
orders_latency_seconds=${BENCH_ORDERS_LATENCY_SECONDS:-30}
# Diagnostics: BENCH_ORDERS_LATENCY_RATE fixes the latency phase's rate (orders/s) instead of half
# the measured one; with BENCH_ORDERS_ONLY=latency the rounds are skipped (the rate is then needed).
orders_latency_rate=${BENCH_ORDERS_LATENCY_RATE:-}
orders_tool="$CQRS_BUILD_DIR/tools/benchmarks/cqrs-orders-bench"

bench_orders_summary() {
  echo "orders: POST -> paid per second (32 customers) vs restock commands/s, POST -> paid latency at half that rate"
}

# Until the projections and the process managers have nothing left to do (at most 180 s).
orders_wait_idle() {
  local deadline=$((SECONDS + 180)) pending
  gateway_wait_projections 180
  while :; do
    pending=$(psql_value "SELECT count(*) FROM process_actions WHERE status = 'pending'")
    [ "$pending" = 0 ] && return 0
    [ $SECONDS -ge $deadline ] && die "the process managers still have $pending pending actions"
    sleep 0.5
  done
}

# orders_check OUT: an order refused, failed or never paid makes the run invalid.
orders_check() {
  local key
  for key in orders_non_202 orders_failed orders_unsettled; do
    [ "$(gateway_result "$1" "$key")" = 0 ] ||
      { cat "$1" >&2; tail -n 20 "$bench_dir/engine/processes.log" >&2; die "INVALID: $key is $(gateway_result "$1" "$key") ($1)"; }
  done
}

# orders_paid_in_window OUT: order.paid events recorded in the run's counted window, per second.
orders_paid_in_window() {
  local start end
  start=$(gateway_result "$1" window_start_us); end=$(gateway_result "$1" window_end_us)
  psql_value "SELECT round(count(*) / (($end - $start) / 1e6), 2) FROM events WHERE event_type = 'order.paid'
    AND recorded_at >= to_timestamp($start / 1e6) AND recorded_at < to_timestamp($end / 1e6)"
}

declare -A orders_fig

orders_closed() {
  local round=$1 out="$bench_dir/orders.closed.$1.out" rate
  orders_wait_idle
  gateway_checkpoint
  gateway_measure "$out" "$orders_tool" closed --url "$gateway_url" --products "$bench_dir/ids.all" \
    --out "$bench_dir/orders.closed.$round.tsv" --connections "$orders_connections" --seconds "$bench_seconds" \
    --warmup-seconds "$orders_warmup_seconds" --poll-ms 10 ||
    { cat "$out" >&2; die "cqrs-orders-bench closed failed"; }
  orders_check "$out"
  rate=$(orders_paid_in_window "$out")
  orders_fig[rate]+=" $rate"
  gateway_others_pct+=("$measured_others_pct")
  say "round $round orders:      $rate paid/s in the store ($(gateway_result "$out" seen_paid_per_s) read paid/s)," \
    "POST -> read paid p50 $(gateway_result "$out" seen_p50_ms) p99 $(gateway_result "$out" seen_p99_ms) ms," \
    "$(gateway_result "$out" orders_placed) orders; CPU $measured_breakdown s, client $measured_client_s s;" \
    "others used $measured_others_pct% of the CPU"
  note "orders round $round: CPU per order placed (ms): $(echo "$measured_breakdown" | tr ' ' '\n' |
    awk -F= -v n="$(gateway_result "$out" orders_placed)" '{ printf "%s%s=%.2f", (i++ ? " " : ""), $1, (n > 0 ? $2 * 1000 / n : 0) }')"
}

# The latency phase's orders and their times, loaded into a table of the private stack.
orders_load_run() {
  psql_value "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_orders_run;
    CREATE TABLE bench_orders_run (order_id text PRIMARY KEY, sent_us bigint, acked_us bigint, seen_us bigint)" >/dev/null &&
    "$PG_BIN/psql" "$CQRS_PG_URL" -X -q -v ON_ERROR_STOP=1 -c "\\copy bench_orders_run FROM '$1'" ||
    die "cannot load $1"
}

# SQL: each counted order's events (by the correlation id of its order.placed), ms after its POST.
orders_events_sql() {
  echo "WITH run AS (SELECT order_id, to_timestamp(sent_us / 1e6) AS sent FROM bench_orders_run WHERE sent_us >= $1),
    placed AS (SELECT r.order_id, r.sent, e.correlation_id FROM run r
      JOIN events e ON e.stream_id = 'order-' || r.order_id AND e.stream_version = 1)
    SELECT p.order_id, e.event_type, extract(epoch FROM e.recorded_at - p.sent) * 1000 AS ms
      FROM placed p JOIN events e ON e.correlation_id = p.correlation_id"
}

orders_latency() {
  local out="$bench_dir/orders.rate.out" tsv="$bench_dir/orders.rate.tsv" rate start line wal0 wal1
  rate=${orders_latency_rate:-$(awk -v r="$(median ${orders_fig[rate]})" 'BEGIN { printf "%.1f", r / 2 }')}
  orders_wait_idle
  gateway_checkpoint
  say "latency: orders at $rate/s for $orders_latency_seconds s"
  wal0=$(wal_sync_totals)
  gateway_measure "$out" "$orders_tool" rate --url "$gateway_url" --products "$bench_dir/ids.all" --out "$tsv" \
    --connections "$orders_latency_connections" --rate "$rate" --seconds "$orders_latency_seconds" \
    --warmup-seconds "$orders_warmup_seconds" --poll-ms 5 ||
    { cat "$out" >&2; die "cqrs-orders-bench rate failed"; }
  wal1=$(wal_sync_totals)
  orders_check "$out"
  orders_load_run "$tsv"
  start=$(gateway_result "$out" window_start_us)
  line=($(psql_value "WITH ev AS ($(orders_events_sql "$start"))
    SELECT count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY ms), percentile_disc(0.99) WITHIN GROUP (ORDER BY ms),
      max(ms) FROM ev WHERE event_type = 'order.paid'" | tr '|' ' '))
  [ "${line[0]:-0}" -gt 0 ] || die "no order.paid events found for the latency phase's orders"
  bench_line orders.p50_ms "$(printf '%.1f' "${line[1]}")"
  bench_line orders.p99_ms "$(printf '%.1f' "${line[2]}")"
  bench_line orders.max_ms "$(printf '%.1f' "${line[3]}")"
  bench_line orders.latency_rate "$rate"
  bench_line orders.seen_p50_ms "$(gateway_result "$out" seen_p50_ms)"
  bench_line orders.seen_p99_ms "$(gateway_result "$out" seen_p99_ms)"
  bench_line orders.ack_p50_ms "$(gateway_result "$out" ack_p50_ms)"
  bench_line orders.ack_p99_ms "$(gateway_result "$out" ack_p99_ms)"
  note "latency: ${line[0]} orders counted, $(gateway_result "$out" orders_late) sent over 1 ms late," \
    "$(gateway_result "$out" reads) reads; CPU $measured_breakdown s, client $measured_client_s s;" \
    "others used $measured_others_pct% of the CPU"
  note "latency: $(awk -v a="$wal0" -v b="$wal1" -v n="$(gateway_result "$out" orders_placed)" 'BEGIN { split(a, x, " ")
    split(b, y, " "); printf "%.1f", (n > 0 ? (y[1] - x[1]) / n : 0) }') WAL flushes per order, each" \
    "$(fsync_mean_ms "$wal0" "$wal1") ms on average"
  orders_where_time_goes "$start"
}

# Every step of the counted orders, in the order of their median time after the POST: each event
# of the order's process recorded in the store (recorded_at: its transaction's start), handled by
# cqrs-processes (process_handled.handled_at: after relay -> Kafka -> consumer), each action of
# the process done (process_actions.done_at: after a worker took it and carried it out), and the
# first GET that read the order paid.
orders_steps_sql() {
  echo "WITH run AS (SELECT order_id, to_timestamp(sent_us / 1e6) AS sent, seen_us FROM bench_orders_run WHERE sent_us >= $1),
    recorded AS ($(orders_events_sql "$1")),
    steps AS (
      SELECT 'recorded ' || event_type AS step, ms FROM recorded
      UNION ALL
      SELECT 'handled  ' || e.event_type, extract(epoch FROM h.handled_at - r.sent) * 1000
        FROM run r JOIN process_handled h ON h.process_id = r.order_id
        JOIN events e ON e.stream_id = h.stream_id AND e.stream_version = h.stream_version
      UNION ALL
      SELECT 'done     ' || a.kind || ' ' || a.key, extract(epoch FROM a.done_at - r.sent) * 1000
        FROM run r JOIN process_actions a ON a.process_id = r.order_id WHERE a.done_at IS NOT NULL
      UNION ALL
      SELECT 'read paid (GET /v1/orders/{id})', (r.seen_us - extract(epoch FROM r.sent) * 1e6) / 1000
        FROM run r WHERE r.seen_us IS NOT NULL)
    SELECT step, count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
      percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) FROM steps GROUP BY step ORDER BY p50"
}

orders_where_time_goes() {
  local step n p50 p99
  note "where the time goes: each step of an order, ms after its POST (p50 and p99 over the counted orders)"
  note "$(printf '%-44s %6s %9s %9s' step count p50_ms p99_ms)"
  while IFS='|' read -r step n p50 p99; do
    note "$(printf '%-44s %6s %9.1f %9.1f' "$step" "$n" "$p50" "$p99")"
    case "$step" in
      "recorded "*) bench_line "orders.at_$(echo "${step#recorded }" | tr '.' '_')_p50_ms" "$(printf '%.1f' "$p50")" ;;
    esac
  done < <(psql_value "$(orders_steps_sql "$1")")
}

orders_report() {
  local orders restock
  orders=$(median ${orders_fig[rate]}); restock=$(median ${gateway_fig[command.rps]})
  note "orders per round (paid/s in the store):${orders_fig[rate]} | restock commands/s:${gateway_fig[command.rps]}"
  bench_line orders.per_s "$orders"
  bench_line orders.restock_per_s "$restock"
  bench_line orders.ratio_to_restock "$(ratio "$orders" "$restock")"
}

bench_orders_run() {
  local round
  ensure_packages wrk curl jq
  [ -x "$orders_tool" ] || die "$orders_tool is missing (meson compile cqrs-orders-bench)"
  gateway_start_engine
  gateway_seed
  if [ "${BENCH_ORDERS_ONLY:-}" = latency ]; then
    [ -n "$orders_latency_rate" ] || die "BENCH_ORDERS_ONLY=latency needs BENCH_ORDERS_LATENCY_RATE"
    orders_latency
    return
  fi
  note "orders: $orders_connections customers (closed loop), $bench_seconds s per measurement after" \
    "$orders_warmup_seconds s of warm-up, $bench_rounds rounds (odd rounds restock first), medians;" \
    "restock with wrk at $gateway_command_connections connections over $gateway_products products"
  gateway_warm_up_commands
  for round in $(seq 1 "$bench_rounds"); do
    if [ $((round % 2)) -eq 1 ]; then gateway_command_ours "$round"; orders_closed "$round"
    else orders_closed "$round"; gateway_command_ours "$round"; fi
  done
  orders_report
  orders_latency
  bench_line orders.others_cpu_pct.max "$(printf '%s\n' "${gateway_others_pct[@]}" | sort -g | tail -n 1)"
}

# The scale benchmark's shell half, sourced by tools/bench (the private stack in $bench_dir with
# PostgreSQL's default durability, bench_seconds, bench_rounds, bench_line, note, median, ratio).
# On that stack it starts a scaled engine (tools/lib/common.sh start_scaled_engine): HAProxy over
# 2 gateways, one relay, one projector and the streaming replica, seeds 2,000 products, then in
# one run, with wrk (64 connections for GET, 32 for restock; rounds alternate the order):
#   1. GET /v1/products/{id} (Redis read model) straight to gateway-1, through HAProxy with only
#      gateway-1 enabled, through HAProxy with both: scale.get_direct_rps, scale.get_haproxy1_rps,
#      scale.get_haproxy2_rps, scale.get_proxy_cost_ratio (haproxy1 / direct),
#      scale.get_second_gateway_ratio (haproxy2 / haproxy1).
#   2. POST /v1/products/{id}/restock the same three ways: scale.restock_direct_rps,
#      scale.restock_haproxy1_rps, scale.restock_haproxy2_rps.
#   3. GET /v1/products?limit=20 (the PostgreSQL catalog model) on gateway-1 with the replica in
#      use and with the gateway reading the primary (the replica stopped):
#      scale.search_replica_rps, scale.search_primary_rps.
#   4. Per-event costs over 2,000 restocks sent one at a time: CPU ms per command of the gateway,
#      relay, projector, PostgreSQL and HAProxy (scale.cpu_ms_per_command_<process>), bytes per
#      event in the events table with its indexes (scale.pg_bytes_per_event), WAL per command
#      (scale.wal_bytes_per_command), Kafka message bytes (scale.kafka_bytes_per_event) and Redis
#      bytes per product (scale.redis_bytes_per_product).
# The machine has 2 cores shared with other work: the figures show proportions, not capacity.

scale_products=2000
scale_files="$CQRS_ROOT/tools/benchmarks/gateway"

bench_scale_summary() {
  echo "scale: GET and restock direct vs HAProxy over 1 and 2 gateways, replica vs primary reads, per-event costs"
}

# scale_wrk OUT URL SCRIPT CONNECTIONS ARGS...: one wrk run; prints its requests/s.
scale_wrk() {
  local out=$1 url=$2 script=$3 connections=$4
  shift 4
  wrk -t 1 -c "$connections" -d "${bench_seconds}s" --latency -s "$script" "$url" -- "$@" >"$out" 2>&1
  awk '/^Requests\/sec:/ { print $2 }' "$out"
}

scale_haproxy() {
  python3 - "$bench_dir/haproxy/admin.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2] + "\n").encode()); s.recv(65536)
PY
}

# process_ticks NAME: CPU jiffies of an engine process (its pid in DIR/engine/NAME.child).
scale_ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$bench_dir/engine/$1.child")/stat"; }
scale_pg_ticks() {
  local pm child
  pm=$(head -n 1 "$bench_dir/pg/data/postmaster.pid")
  { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
    for child in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$child/stat" 2>/dev/null; done; } |
    awk '{ s += $1 } END { print s + 0 }'
}

scale_seed() {
  local token=$1 i
  : >"$bench_dir/ids"
  for i in $(seq 1 "$scale_products"); do
    printf '{"sku":"BENCH-%d","name":"Bench %d","description":"","price":{"amount":100,"currency":"EUR"},"stock":0}\n' "$i" "$i"
  done | xargs -P 8 -d '\n' -I{} curl -s --max-time 10 "$CQRS_HTTP_URL/v1/products" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{}' -w '\n' | jq -r '.id // empty' >>"$bench_dir/ids"
  [ "$(wc -l <"$bench_dir/ids")" -ge $((scale_products * 9 / 10)) ] || die "seeding the products failed"
}

scale_costs() {
  local token=$1 n=2000 i names=(gateway-1 relay-1 projector-1 haproxy) name before=() after=() pg0 pg1 wal0 wal1 rows0
  local events0 events1
  for name in "${names[@]}"; do before+=("$(scale_ticks "$name")"); done
  pg0=$(scale_pg_ticks)
  wal0=$(psql_value "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
  events0=$(psql_value "SELECT count(*) FROM events")
  head -n "$n" "$bench_dir/ids" | while read -r id; do
    curl -s -o /dev/null --max-time 10 "$CQRS_HTTP_URL/v1/products/$id/restock" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -d '{"quantity":1}'
  done
  sleep 3  # the relay and the projector finish their share
  for name in "${names[@]}"; do after+=("$(scale_ticks "$name")"); done
  pg1=$(scale_pg_ticks)
  wal1=$(psql_value "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
  events1=$(psql_value "SELECT count(*) FROM events")
  n=$((events1 - events0))
  for i in "${!names[@]}"; do
    bench_line "scale.cpu_ms_per_command_${names[$i]%-1}" \
      "$(awk -v a="${before[$i]}" -v b="${after[$i]}" -v n="$n" -v hz="$clock_ticks" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }')"
  done
  bench_line scale.cpu_ms_per_command_postgres "$(awk -v a="$pg0" -v b="$pg1" -v n="$n" -v hz="$clock_ticks" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }')"
  bench_line scale.wal_bytes_per_command "$(( (wal1 - wal0) / n ))"
  bench_line scale.pg_bytes_per_event "$(psql_value "SELECT (pg_total_relation_size('events') / count(*))::bigint FROM events")"
  bench_line scale.kafka_bytes_per_event "$(kcat -C -b "$CQRS_KAFKA_BOOTSTRAP" -t "$CQRS_KAFKA_TOPIC" -o -200 -e -q -f '%S %K %h\n' 2>/dev/null |
    awk '{ s += $1 + length($2) + length($0) - length($1) - length($2) - 2; n++ } END { if (n) printf "%.0f", s / n; else print 0 }')"
  local port=${CQRS_REDIS_URL##*:}; port=${port%%/*}
  bench_line scale.redis_bytes_per_product "$(redis-cli -p "$port" info memory | awk -F: -v n="$(wc -l <"$bench_dir/ids")" '/^used_memory:/ { printf "%.0f", $2 / n }')"
  note "per-event costs over $n restocks sent one at a time through HAProxy (CPU of each process over the whole run)"
}

bench_scale_run() {
  local token round direct=() h1=() h2=() rdirect=() rh1=() rh2=() srep=() sprim=() gw1
  ensure_packages "${CQRS_SCALE_PACKAGES[@]}" wrk
  parse_scale gateways=2,projectors=1,relays=1,replica=on
  write_setting "$bench_dir" CQRS_RATE_LIMIT_RPS 0
  start_scaled_engine "$bench_dir"
  set -a; . "$bench_dir/stack.env"; set +a
  gw1=$(cat "$bench_dir/engine/gateway-1.address")
  token=$("$CQRS_BUILD_DIR/tools/cli/cqrs" token --sub bench --role admin --ttl 7200 2>/dev/null ||
    "$CQRS_BUILD_DIR/tools/cli/cqrs" token --sub bench --role admin)
  say "scale: seeding $scale_products products"
  scale_seed "$token"
  sleep 3
  note "wrk: 1 thread, GET 64 connections, restock 32 connections, ${bench_seconds} s each; $bench_rounds rounds"
  for round in $(seq 1 "$bench_rounds"); do
    say "scale: round $round"
    direct+=("$(scale_wrk "$bench_dir/w.out" "$gw1" "$scale_files/get.lua" 64 "$bench_dir/ids")")
    scale_haproxy "disable server gateways/gateway-2"; sleep 1
    h1+=("$(scale_wrk "$bench_dir/w.out" "$CQRS_HTTP_URL" "$scale_files/get.lua" 64 "$bench_dir/ids")")
    rh1+=("$(scale_wrk "$bench_dir/w.out" "$CQRS_HTTP_URL" "$scale_files/restock.lua" 32 "$bench_dir/ids" "$token")")
    scale_haproxy "enable server gateways/gateway-2"; sleep 2
    h2+=("$(scale_wrk "$bench_dir/w.out" "$CQRS_HTTP_URL" "$scale_files/get.lua" 64 "$bench_dir/ids")")
    rh2+=("$(scale_wrk "$bench_dir/w.out" "$CQRS_HTTP_URL" "$scale_files/restock.lua" 32 "$bench_dir/ids" "$token")")
    rdirect+=("$(scale_wrk "$bench_dir/w.out" "$gw1" "$scale_files/restock.lua" 32 "$bench_dir/ids" "$token")")
    srep+=("$(scale_wrk "$bench_dir/w.out" "$gw1/v1/products?limit=20" /dev/null 32)")
    stop_replica_server "$bench_dir"; sleep 1
    sprim+=("$(scale_wrk "$bench_dir/w.out" "$gw1/v1/products?limit=20" /dev/null 32)")
    start_replica_server "$bench_dir"; sleep 3
  done
  bench_line scale.get_direct_rps "$(median "${direct[@]}")"
  bench_line scale.get_haproxy1_rps "$(median "${h1[@]}")"
  bench_line scale.get_haproxy2_rps "$(median "${h2[@]}")"
  bench_line scale.get_proxy_cost_ratio "$(ratio "$(median "${h1[@]}")" "$(median "${direct[@]}")")"
  bench_line scale.get_second_gateway_ratio "$(ratio "$(median "${h2[@]}")" "$(median "${h1[@]}")")"
  bench_line scale.restock_direct_rps "$(median "${rdirect[@]}")"
  bench_line scale.restock_haproxy1_rps "$(median "${rh1[@]}")"
  bench_line scale.restock_haproxy2_rps "$(median "${rh2[@]}")"
  bench_line scale.search_replica_rps "$(median "${srep[@]}")"
  bench_line scale.search_primary_rps "$(median "${sprim[@]}")"
  scale_costs "$token"
}

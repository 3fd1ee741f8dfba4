# The gateway benchmark's shell half, sourced by tools/bench, which provides the private
# stack ($bench_dir, $CQRS_PG_URL, $CQRS_REDIS_URL; default durability), bench_seconds,
# bench_rounds and the helpers bench_line, note, psql_value, median, ratio, children_seconds,
# machine_ticks, server_ticks, postmaster_pid, wait_backends_reaped, wal_sync_totals, fsync_mean_ms.
#
# On that stack it starts the engine (relay, projector, gateway), seeds 10,000 products through
# POST /v1/products (the real write path, so both read models get them), then, all in one run:
#   1. GET /v1/products/{id} (Redis hits, 1,000 of the seeded ids) with wrk, 64 connections, against
#      Debian's nginx serving a static 200 of the same size (one worker, own config in the scratch
#      directory): gateway.get_rps, gateway.nginx_rps, gateway.get_ratio_to_nginx (target >= 0.5),
#      gateway.get_p99_ms (target <= 2). Both over HTTPS: TLS 1.3 with the stack's certificate
#      (the same file, the same key type), keep-alive, so both pay the same record encryption.
#   2. POST /v1/products/{id}/restock {"quantity":1} as admin over the 10,000 products, wrk at 32
#      connections, against pgbench at 32 clients inserting one event-shaped row per transaction:
#      gateway.command_rps, gateway.pgbench_insert_tps, gateway.command_ratio_to_pgbench
#      (target >= 0.6).
#   3. Restocks at 2,000 commands/s (open loop) for 15 s by `cqrs-visibility-bench visibility`,
#      which records when each acknowledged version shows in the Redis read model:
#      gateway.visible_p50_ms (target <= 10), gateway.visible_p99_ms (target <= 50),
#      gateway.visible_rate (acknowledged commands/s actually achieved). This phase runs first,
#      right after seeding, and once more at the end as gateway.visible_aged_*: the embedded
#      broker (librdkafka's mock cluster) walks every message set it retains (up to 5 MB per
#      partition) on every fetch (rdkafka_mock.c, rd_kafka_mock_msgset_find: "FIXME: Maintain an
#      index"), so its CPU per fetch grows with all the bench produced before; a Kafka broker
#      finds an offset through its index. The aged figures show what that costs here.
#   4. Read-your-writes: restocks at 2,000 commands/s (open loop, 256 connections) for 15 s by
#      `cqrs-visibility-bench ryw`, each followed on its connection, once acknowledged, by
#      GET /v1/products/{id}?min_position=<its position>: gateway.ryw_p50_ms (target <= 20),
#      gateway.ryw_p99_ms (target <= 80), the GET's round trip; gateway.ryw_rate (acknowledged
#      commands/s achieved), gateway.ryw_non_200 (answers other than 200, e.g. 503 after the
#      consistency wait); a 200 older than the acknowledged version makes the run invalid. Runs
#      right after the first visibility phase.
# Rounds of 1 and 2 alternate the sides (odd rounds baseline first); figures are medians. A wrk
# measurement with non-2xx answers or socket errors above 0.1 % of its requests is invalid and
# fails the run. The gateway's rate limiter is set far above the load (it still runs, but never
# refuses): one token subject and one address would otherwise be held to 1,000 requests/s.

gateway_get_connections=64
gateway_get_ids=1000
gateway_command_connections=32
gateway_products=10000
# BENCH_GATEWAY_VISIBILITY_RATE and BENCH_GATEWAY_ONLY=visibility (or ryw): diagnostics (how the
# visibility or read-your-writes latency depends on the offered rate) without the wrk phases.
gateway_visibility_rate=${BENCH_GATEWAY_VISIBILITY_RATE:-2000}
gateway_visibility_seconds=15
gateway_visibility_connections=64
# Each connection waits for its read-back before its next command: 2,000/s at up to 125 ms per
# command and read.
gateway_ryw_connections=256
gateway_wrk_threads=1
gateway_files="$CQRS_ROOT/tools/benchmarks/gateway"
gateway_tool="$CQRS_BUILD_DIR/tools/benchmarks/cqrs-visibility-bench"

bench_gateway_summary() {
  echo "gateway: GET vs nginx static (64 conns), restock vs pgbench insert (32), ack -> visible and min_position read at 2,000/s"
}

# --- the engine on the private stack ------------------------------------------------------------

# Settings the gateway reads, added to stack.env before the engine starts (unless the stack
# already chose them): a free port, a JWT secret, and a rate limit far above the load.
gateway_configure_stack() {
  local env="$bench_dir/stack.env"
  grep -Eq '^(export )?CQRS_HTTP_PORT=' "$env" || echo "CQRS_HTTP_PORT=$(free_port)" >>"$env"
  grep -Eq '^(export )?CQRS_JWT_SECRET=' "$env" ||
    echo "CQRS_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$env"
  echo "CQRS_RATE_LIMIT_RPS=1000000" >>"$env"
  echo "CQRS_RATE_LIMIT_BURST=10000000" >>"$env"
}

# Starts relay, projector and gateway (start_engine starts the gateway once it knows it; until
# then this starts it the same way), and waits until the gateway is ready.
gateway_start_engine() {
  gateway_configure_stack
  start_engine "$bench_dir"
  if [ ! -e "$bench_dir/engine/gateway.pid" ]; then
    start_engine_process "$bench_dir" gateway "$CQRS_BUILD_DIR/gateway/cqrs-gateway"
  fi
  set -a; . "$bench_dir/stack.env"; set +a
  gateway_url=${CQRS_HTTP_URL:-https://127.0.0.1:$CQRS_HTTP_PORT}
  wait_for 60 curl -fsS "$gateway_url/readyz" ||
    { tail -n 30 "$bench_dir/engine/gateway.log" >&2; die "the gateway did not become ready at $gateway_url"; }
  note "engine: relay, projector, gateway at $gateway_url (CQRS_HTTP_THREADS=${CQRS_HTTP_THREADS:-2}," \
    "rate limit ${CQRS_RATE_LIMIT_RPS}/s per client)"
}

# Waits until every projection has applied every stored event (`cqrs projections`: lag_events).
gateway_wait_projections() {
  local deadline=$((SECONDS + ${1:-300})) lag
  while :; do
    lag=$("$CQRS_BUILD_DIR/tools/cli/cqrs" projections 2>/dev/null | jq -s 'map(.lag_events) | add // -1')
    [ "$lag" = 0 ] && return 0
    [ $SECONDS -ge $deadline ] && die "the projections still lag by $lag events"
    sleep 0.5
  done
}

gateway_seed() {
  local out="$bench_dir/seed.out"
  gateway_token=$("$gateway_tool" token --subject bench-admin --ttl 7200) || die "cannot make a token"
  say "seeding $gateway_products products through POST /v1/products"
  "$gateway_tool" seed --url "$gateway_url" --redis-url "$CQRS_REDIS_URL" --token "$gateway_token" \
    --products "$gateway_products" --connections 32 --ids-out "$bench_dir/ids.all" >"$out" 2>&1 ||
    { cat "$out" >&2; die "seeding failed"; }
  [ "$(wc -l <"$bench_dir/ids.all")" -eq "$gateway_products" ] || die "seeding wrote a wrong number of ids"
  head -n "$gateway_get_ids" "$bench_dir/ids.all" >"$bench_dir/ids.get"
  gateway_wait_projections
  note "seeded $gateway_products products: $(gateway_result "$out" seed_creates_per_s) creates/s," \
    "all in Redis after $(gateway_result "$out" seed_all_visible_s) s"
}

# gateway_result FILE KEY: a `RESULT KEY VALUE` line of cqrs-visibility-bench.
gateway_result() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1"; }

# --- nginx, the GET baseline --------------------------------------------------------------------

# One worker on a free loopback port; config, pid, logs and the served file in the scratch
# directory. Its pid file is in engine/, so the stack's stop stops it on any exit.
gateway_start_nginx() {
  local dir="$bench_dir/nginx" id
  mkdir -p "$dir/www" "$dir/tmp"
  id=$(head -n 1 "$bench_dir/ids.get")
  curl -fsS "$gateway_url/v1/products/$id" >"$dir/www/product.json" || die "GET /v1/products/$id failed"
  grep -q '"version"' "$dir/www/product.json" || die "GET /v1/products/$id answered no product"
  nginx_port=$(free_port)
  sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$nginx_port|g" -e "s|@CERT@|$CQRS_TLS_CERT_FILE|g" \
    -e "s|@KEY@|$CQRS_TLS_KEY_FILE|g" "$gateway_files/nginx.conf.template" >"$dir/nginx.conf"
  /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" || die "nginx did not start"
  wait_for 10 test -s "$dir/nginx.pid" || die "nginx wrote no pid file"
  cp "$dir/nginx.pid" "$bench_dir/engine/nginx.pid"
  nginx_url="https://127.0.0.1:$nginx_port"
  wait_for 10 curl -fsS --tlsv1.3 "$nginx_url/v1/products/$id" || die "nginx does not answer at $nginx_url"
  curl -sS -o /dev/null -w '%{ssl_verify_result}' --tlsv1.3 --tls-max 1.3 "$gateway_url/healthz" | grep -qx 0 ||
    die "the gateway does not serve TLS 1.3 with a verified certificate"
  note "nginx $(/usr/sbin/nginx -v 2>&1 | sed 's|.*/||'): one worker at $nginx_url, static file of" \
    "$(wc -c <"$dir/www/product.json") bytes (the gateway's answer for one product), access log in 64 KiB batches, as the gateway writes its own;" \
    "both sides HTTPS, TLS 1.3 only, the stack's certificate ($(openssl x509 -noout -text -in "$CQRS_TLS_CERT_FILE" |
      sed -n 's/^ *Public Key Algorithm: //p'))"
}

# --- measuring ----------------------------------------------------------------------------------

# Ticks of a process and its live children.
gateway_tree_ticks() {
  { awk '{ print $14 + $15 }' "/proc/$1/stat"
    for child in $(pgrep -P "$1"); do awk '{ print $14 + $15 }' "/proc/$child/stat"; done
  } 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# "name ticks" for each process of the private stack (engine processes, nginx, Kafka, Redis,
# PostgreSQL with its exited backends).
gateway_stack_ticks() {
  local file
  for file in "$bench_dir"/engine/*.pid "$bench_dir/kafka/broker.pid" "$bench_dir/redis/redis.pid"; do
    [ -e "$file" ] && echo "$(basename "$file" .pid) $(gateway_tree_ticks "$(cat "$file")")"
  done
  echo "postgres $(server_ticks)"
}

# gateway_measure OUT CMD...: runs CMD (output in OUT) and sets measured_client_s (CMD's CPU),
# measured_stack_s (the private stack's CPU), measured_breakdown ("name=seconds ..." per process)
# and measured_others_pct (the share of all cores that the rest of the machine used meanwhile).
gateway_measure() {
  local out=$1 status m0 m1 c0 c1 idle_children
  shift
  idle_children=$(pgrep -c -P "$(postmaster_pid)")
  m0=$(machine_ticks); gateway_stack_ticks >"$bench_dir/ticks.before"; children_seconds c0
  "$@" >"$out" 2>&1
  status=$?
  children_seconds c1
  wait_backends_reaped "$idle_children"
  gateway_stack_ticks >"$bench_dir/ticks.after"; m1=$(machine_ticks)
  measured_client_s=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
  measured_breakdown=$(awk -v hz="$clock_ticks" 'NR == FNR { t[$1] = $2; next }
    { printf "%s%s=%.2f", (n++ ? " " : ""), $1, ($2 - t[$1]) / hz }' "$bench_dir/ticks.before" "$bench_dir/ticks.after")
  measured_stack_s=$(echo "$measured_breakdown" | tr ' ' '\n' | awk -F= '{ s += $2 } END { printf "%.2f", s }')
  measured_others_pct=$(awk -v m0="$m0" -v m1="$m1" -v c="$measured_client_s" -v s="$measured_stack_s" \
    -v hz="$clock_ticks" 'BEGIN { split(m0, a, " "); split(m1, b, " "); total = b[2] - a[2]
      others = (b[1] - a[1]) - (c + s) * hz; if (others < 0) others = 0
      printf "%.0f", (total > 0 ? 100 * others / total : 0) }')
  return $status
}

# gateway_us_per SECONDS COUNT: microseconds of CPU per request.
gateway_us_per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.0f", (n > 0 ? s * 1e6 / n : 0) }'; }

# wrk's figures: "requests_per_s p50_ms p99_ms requests non_2xx socket_errors".
gateway_wrk_figures() {
  awk 'function ms(v,  unit, n) { n = v + 0; unit = v; sub(/^[0-9.]+/, "", unit)
         return unit == "us" ? n / 1000 : unit == "ms" ? n : unit == "s" ? n * 1000 : unit == "m" ? n * 60000 : -1 }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50% / { p50 = ms($2) }
    /^ +99% / { p99 = ms($2) }
    / requests in / { requests = $1 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); errors = $4 + $6 + $8 + $10 }
    END { if (rps == "" || p99 == "") exit 1; print rps, p50, p99, requests, non2xx + 0, errors + 0 }' "$1"
}

# gateway_wrk OUT URL SCRIPT CONNECTIONS [SCRIPT ARGS...]: one measurement; prints wrk's figures
# followed by "client_us stack_us others_pct"; an invalid measurement fails the run.
gateway_wrk() {
  local out=$1 url=$2 script=$3 connections=$4 f
  shift 4
  gateway_measure "$out" wrk -t "$gateway_wrk_threads" -c "$connections" -d "${bench_seconds}s" --latency \
    -s "$gateway_files/$script" "$url" -- "$@" || { cat "$out" >&2; die "wrk failed"; }
  f=($(gateway_wrk_figures "$out")) || { cat "$out" >&2; die "cannot read wrk's output ($out)"; }
  if [ $(( (f[4] + f[5]) * 1000 )) -gt "${f[3]}" ]; then
    cat "$out" >&2
    die "INVALID: $url answered ${f[4]} non-2xx and had ${f[5]} socket errors in ${f[3]} requests ($out)"
  fi
  echo "$measured_breakdown" >"$out.cpu"
  echo "${f[*]} $(gateway_us_per "$measured_client_s" "${f[3]}") $(gateway_us_per "$measured_stack_s" "${f[3]}")" \
    "$measured_others_pct"
}

gateway_redis_hits() { redis-cli -u "$CQRS_REDIS_URL" INFO stats | sed -n 's/^keyspace_hits:\([0-9]*\).*/\1/p'; }

# Per-round figures: space-separated lists, one value per round.
declare -A gateway_fig
gateway_others_pct=()

# gateway_keep SIDE FIGURES...: appends one round's figures of a wrk side.
gateway_keep_wrk() {
  local side=$1; shift
  gateway_fig[$side.rps]+=" $1"; gateway_fig[$side.p50]+=" $2"; gateway_fig[$side.p99]+=" $3"
  gateway_fig[$side.client_us]+=" $7"; gateway_fig[$side.stack_us]+=" $8"
  gateway_others_pct+=("$9")
}

gateway_get_ours() {
  local round=$1 hits f
  hits=$(gateway_redis_hits)
  f=($(gateway_wrk "$bench_dir/get.ours.$round.out" "$gateway_url" get.lua "$gateway_get_connections" \
    "$bench_dir/ids.get")) || exit 1
  hits=$(( $(gateway_redis_hits) - hits ))
  [ "$hits" -ge "${f[3]}" ] || die "only $hits Redis hits for ${f[3]} GETs: not Redis hits"
  gateway_keep_wrk get "${f[@]}"
  say "round $round GET gateway: ${f[0]} req/s, p50 ${f[1]} p99 ${f[2]} ms; CPU per request: wrk ${f[6]} us," \
    "stack ${f[7]} us ($(cat "$bench_dir/get.ours.$round.out.cpu") s); others used ${f[8]}% of the CPU"
}

gateway_get_nginx() {
  local round=$1 f
  f=($(gateway_wrk "$bench_dir/get.nginx.$round.out" "$nginx_url" get.lua "$gateway_get_connections" \
    "$bench_dir/ids.get")) || exit 1
  gateway_keep_wrk nginx "${f[@]}"
  say "round $round GET nginx:   ${f[0]} req/s, p50 ${f[1]} p99 ${f[2]} ms; CPU per request: wrk ${f[6]} us," \
    "stack ${f[7]} us; others used ${f[8]}% of the CPU"
}

# --- commands against pgbench -------------------------------------------------------------------

gateway_checkpoint() { psql_value "CHECKPOINT" >/dev/null || die "CHECKPOINT failed"; }

gateway_restocked_events() { psql_value "SELECT count(*) FROM events WHERE event_type = 'product.restocked'"; }

# The raw table: the events table's shape, own sequence; rows as big as a restock event, with event
# ids that start with the time in milliseconds, as the engine's (version 7) do.
gateway_prepare_pgbench() {
  local payload_bytes payload_hex
  payload_bytes=$(psql_value "SELECT round(avg(octet_length(payload))) FROM events WHERE event_type = 'product.restocked'")
  [ -n "$payload_bytes" ] && [ "$payload_bytes" -gt 0 ] || die "no restock events to size the raw rows by"
  psql_value "CREATE SEQUENCE bench_gateway_raw_seq AS bigint;
    CREATE TABLE bench_gateway_raw (LIKE events INCLUDING ALL);
    ALTER TABLE bench_gateway_raw ALTER COLUMN seq SET DEFAULT nextval('bench_gateway_raw_seq');" >/dev/null ||
    die "cannot create bench_gateway_raw"
  payload_hex=$(head -c 100000 /dev/urandom | tr -dc 'a-z' | head -c "$payload_bytes" | od -An -tx1 | tr -d ' \n')
  cat >"$bench_dir/raw_insert.sql" <<SQL
\\set stream random(0, $((gateway_products - 1)))
\\set version random(1, 9000000000000000000)
INSERT INTO bench_gateway_raw (stream_id, stream_version, event_id, event_type, schema_version, payload, recorded_at) VALUES ('raw-' || (:stream)::text, :version, $bench_time_ordered_uuid_sql, 'product.restocked', 1, '\\x$payload_hex'::bytea, clock_timestamp());
SQL
  note "pgbench: one INSERT per transaction into bench_gateway_raw (LIKE events INCLUDING ALL)," \
    "$payload_bytes-byte payloads (a restock event's), time-ordered event ids, -M prepared, $gateway_command_connections clients"
}

gateway_command_raw() {
  local round=$1 out="$bench_dir/pgbench.$1.out" before rows processed tps
  gateway_wait_projections
  gateway_checkpoint
  before=$(psql_value "SELECT count(*) FROM bench_gateway_raw")
  gateway_measure "$out" "$PG_BIN/pgbench" -n -M prepared -c "$gateway_command_connections" \
    -j "$gateway_command_connections" -T "$bench_seconds" -f "$bench_dir/raw_insert.sql" "$CQRS_PG_URL" ||
    { cat "$out" >&2; die "pgbench failed"; }
  rows=$(($(psql_value "SELECT count(*) FROM bench_gateway_raw") - before))
  processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
  [ "$rows" = "$processed" ] || die "pgbench reported $processed transactions but $rows rows arrived"
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out")
  [ -n "$tps" ] || { cat "$out" >&2; die "cannot read pgbench's output"; }
  gateway_fig[raw.tps]+=" $tps"
  gateway_fig[raw.client_us]+=" $(gateway_us_per "$measured_client_s" "$rows")"
  gateway_fig[raw.stack_us]+=" $(gateway_us_per "$measured_stack_s" "$rows")"
  gateway_others_pct+=("$measured_others_pct")
  say "round $round pgbench:     $tps tx/s; CPU per row: pgbench $(gateway_us_per "$measured_client_s" "$rows") us," \
    "stack $(gateway_us_per "$measured_stack_s" "$rows") us ($measured_breakdown s); others used $measured_others_pct% of the CPU"
}

gateway_command_ours() {
  local round=$1 before arrived f
  gateway_wait_projections
  gateway_checkpoint
  before=$(gateway_restocked_events)
  f=($(gateway_wrk "$bench_dir/restock.$round.out" "$gateway_url" restock.lua "$gateway_command_connections" \
    "$bench_dir/ids.all" "$gateway_token")) || exit 1
  arrived=$(( $(gateway_restocked_events) - before ))
  # wrk counts answered requests; up to one request per connection may still be in flight at its end.
  [ "$arrived" -ge "${f[3]}" ] && [ "$arrived" -le $(( f[3] + gateway_command_connections )) ] ||
    die "wrk counted ${f[3]} answered restocks but $arrived restock events arrived"
  gateway_keep_wrk command "${f[@]}"
  say "round $round restock:     ${f[0]} commands/s, p50 ${f[1]} p99 ${f[2]} ms; CPU per command: wrk ${f[6]} us," \
    "stack ${f[7]} us ($(cat "$bench_dir/restock.$round.out.cpu") s); others used ${f[8]}% of the CPU"
}

# A short untimed restock run: warms the gateway's pools and gives restock events to size the
# raw rows by.
gateway_warm_up_commands() {
  local saved=$bench_seconds
  bench_seconds=3
  gateway_wrk "$bench_dir/restock.warmup.out" "$gateway_url" restock.lua "$gateway_command_connections" \
    "$bench_dir/ids.all" "$gateway_token" >/dev/null || exit 1
  bench_seconds=$saved
}

# --- visibility ---------------------------------------------------------------------------------

# $1: the figures' prefix after "gateway." (visible, visible_aged).
gateway_visibility() {
  local key=$1 out="$bench_dir/$1.out"
  gateway_wait_projections
  # The seeding and the wrk rounds leave dead rows whose autovacuum would otherwise land inside
  # the 15 s measured (seen: 5 s of PostgreSQL CPU); vacuumed before, as the steady state is.
  psql_value "VACUUM (ANALYZE)" >/dev/null || die "VACUUM failed"
  gateway_checkpoint
  say "$key: restocks at $gateway_visibility_rate/s for $gateway_visibility_seconds s" \
    "($(psql_value "SELECT count(*) FROM events") events stored before)"
  gateway_measure "$out" "$gateway_tool" visibility --url "$gateway_url" --redis-url "$CQRS_REDIS_URL" \
    --token "$gateway_token" --ids "$bench_dir/ids.all" --rate "$gateway_visibility_rate" \
    --seconds "$gateway_visibility_seconds" --connections "$gateway_visibility_connections" --poll-us 500 \
    --grace-seconds 180 ||
    { cat "$out" >&2; die "cqrs-visibility-bench visibility failed"; }
  [ "$(gateway_result "$out" commands_non_2xx)" = 0 ] || { cat "$out" >&2; die "INVALID: refused commands"; }
  bench_line "gateway.${key}_p50_ms" "$(gateway_result "$out" visible_p50_ms)"
  bench_line "gateway.${key}_p99_ms" "$(gateway_result "$out" visible_p99_ms)"
  bench_line "gateway.${key}_rate" "$(gateway_result "$out" commands_per_s)"
  bench_line "gateway.${key}_p90_ms" "$(gateway_result "$out" visible_p90_ms)"
  bench_line "gateway.${key}_max_ms" "$(gateway_result "$out" visible_max_ms)"
  bench_line "gateway.${key}_ack_p50_ms" "$(gateway_result "$out" ack_p50_ms)"
  bench_line "gateway.${key}_ack_p99_ms" "$(gateway_result "$out" ack_p99_ms)"
  note "$key: $(gateway_result "$out" commands_acked) commands acknowledged," \
    "$(gateway_result "$out" commands_late) sent over 1 ms late, poll every $(gateway_result "$out" poll_cycle_mean_us) us" \
    "(~$(gateway_result "$out" poll_reads_per_cycle) reads each, $(gateway_result "$out" poll_reads) reads and" \
    "$(gateway_result "$out" write_notifications) write notifications in all); CPU $measured_breakdown s," \
    "client $measured_client_s s; others used $measured_others_pct% of the CPU"
  bench_line "gateway.${key}_missing" "$(gateway_result "$out" visible_missing)"
  # Percentiles of what became visible only: with versions missing they understate the latency.
  [ "$(gateway_result "$out" visible_missing)" = 0 ] ||
    die "INVALID: $(gateway_result "$out" visible_missing) acknowledged versions were not visible" \
      "$(gateway_result "$out" grace_s) s after the last command"
}

# --- read your writes ---------------------------------------------------------------------------

gateway_ryw() {
  local out="$bench_dir/ryw.out"
  gateway_wait_projections
  gateway_checkpoint
  say "ryw: restocks at $gateway_visibility_rate/s for $gateway_visibility_seconds s, each read back with min_position"
  gateway_measure "$out" "$gateway_tool" ryw --url "$gateway_url" --token "$gateway_token" --ids "$bench_dir/ids.all" \
    --rate "$gateway_visibility_rate" --seconds "$gateway_visibility_seconds" --connections "$gateway_ryw_connections" ||
    { cat "$out" >&2; die "cqrs-visibility-bench ryw failed"; }
  [ "$(gateway_result "$out" commands_non_2xx)" = 0 ] || { cat "$out" >&2; die "INVALID: refused commands"; }
  [ "$(gateway_result "$out" ryw_stale)" = 0 ] ||
    { cat "$out" >&2; die "INVALID: $(gateway_result "$out" ryw_stale) min_position reads answered an older version"; }
  bench_line gateway.ryw_p50_ms "$(gateway_result "$out" ryw_p50_ms)"
  bench_line gateway.ryw_p99_ms "$(gateway_result "$out" ryw_p99_ms)"
  bench_line gateway.ryw_rate "$(gateway_result "$out" commands_per_s)"
  bench_line gateway.ryw_p90_ms "$(gateway_result "$out" ryw_p90_ms)"
  bench_line gateway.ryw_max_ms "$(gateway_result "$out" ryw_max_ms)"
  bench_line gateway.ryw_non_200 "$(gateway_result "$out" ryw_non_200)"
  note "ryw: $(gateway_result "$out" commands_acked) commands acknowledged (ack p50 $(gateway_result "$out" ack_p50_ms)" \
    "p99 $(gateway_result "$out" ack_p99_ms) ms), $(gateway_result "$out" ryw_reads) reads," \
    "$(gateway_result "$out" commands_late) commands sent over 1 ms late, $gateway_ryw_connections connections;" \
    "CPU $measured_breakdown s, client $measured_client_s s; others used $measured_others_pct% of the CPU"
}

# --- report -------------------------------------------------------------------------------------

gateway_report() {
  local get nginx cmd raw max
  get=$(median ${gateway_fig[get.rps]}); nginx=$(median ${gateway_fig[nginx.rps]})
  cmd=$(median ${gateway_fig[command.rps]}); raw=$(median ${gateway_fig[raw.tps]})
  note "GET per round: gateway${gateway_fig[get.rps]} | nginx${gateway_fig[nginx.rps]}"
  note "restock per round: gateway${gateway_fig[command.rps]} | pgbench${gateway_fig[raw.tps]}"
  bench_line gateway.get_rps "$get"
  bench_line gateway.nginx_rps "$nginx"
  bench_line gateway.get_ratio_to_nginx "$(ratio "$get" "$nginx")"
  bench_line gateway.get_p50_ms "$(median ${gateway_fig[get.p50]})"
  bench_line gateway.get_p99_ms "$(median ${gateway_fig[get.p99]})"
  bench_line gateway.nginx_p99_ms "$(median ${gateway_fig[nginx.p99]})"
  bench_line gateway.get_cpu_us_per_request "$(median ${gateway_fig[get.stack_us]})"
  bench_line gateway.nginx_cpu_us_per_request "$(median ${gateway_fig[nginx.stack_us]})"
  bench_line gateway.command_rps "$cmd"
  bench_line gateway.pgbench_insert_tps "$raw"
  bench_line gateway.command_ratio_to_pgbench "$(ratio "$cmd" "$raw")"
  bench_line gateway.command_p50_ms "$(median ${gateway_fig[command.p50]})"
  bench_line gateway.command_p99_ms "$(median ${gateway_fig[command.p99]})"
  bench_line gateway.command_cpu_us_per_request "$(median ${gateway_fig[command.stack_us]})"
  bench_line gateway.pgbench_cpu_us_per_row "$(median ${gateway_fig[raw.stack_us]})"
  max=$(printf '%s\n' "${gateway_others_pct[@]}" | sort -g | tail -n 1)
  bench_line gateway.others_cpu_pct.median "$(median "${gateway_others_pct[@]}")"
  bench_line gateway.others_cpu_pct.max "$max"
  [ "$max" -le 10 ] || note "warning: other processes used up to $max% of the machine during a measurement"
}

# BENCH_GATEWAY_ONLY=hold (diagnostics, e.g. perf): keeps the seeded stack up and writes what a
# client needs to $bench_dir/hold.env, until that file is removed.
gateway_hold() {
  printf 'URL=%s\nTOKEN=%s\nIDS=%s\nIDS_GET=%s\nDIR=%s\n' "$gateway_url" "$gateway_token" \
    "$bench_dir/ids.all" "$bench_dir/ids.get" "$bench_dir" >"$bench_dir/hold.env"
  say "holding the stack: remove $bench_dir/hold.env to stop"
  while [ -e "$bench_dir/hold.env" ]; do sleep 1; done
}

bench_gateway_run() {
  local round
  ensure_packages wrk nginx curl
  [ -x "$gateway_tool" ] || die "$gateway_tool is missing (meson compile cqrs-visibility-bench)"
  gateway_start_engine
  gateway_seed
  if [ "${BENCH_GATEWAY_ONLY:-}" = hold ]; then
    gateway_hold
    return
  fi
  if [ "${BENCH_GATEWAY_ONLY:-}" != ryw ]; then
    gateway_visibility visible
    [ "${BENCH_GATEWAY_ONLY:-}" = visibility ] && return
  fi
  gateway_ryw
  [ "${BENCH_GATEWAY_ONLY:-}" = ryw ] && return
  gateway_start_nginx
  note "gateway: wrk -t$gateway_wrk_threads --latency, $bench_seconds s per measurement, $bench_rounds rounds" \
    "(odd rounds baseline first), medians; GET over $gateway_get_ids ids at $gateway_get_connections connections," \
    "restock over $gateway_products products at $gateway_command_connections"
  for round in $(seq 1 "$bench_rounds"); do
    if [ $((round % 2)) -eq 1 ]; then gateway_get_nginx "$round"; gateway_get_ours "$round"
    else gateway_get_ours "$round"; gateway_get_nginx "$round"; fi
  done
  gateway_warm_up_commands
  gateway_prepare_pgbench
  for round in $(seq 1 "$bench_rounds"); do
    if [ $((round % 2)) -eq 1 ]; then gateway_command_raw "$round"; gateway_command_ours "$round"
    else gateway_command_ours "$round"; gateway_command_raw "$round"; fi
  done
  gateway_report
  gateway_visibility visible_aged
}

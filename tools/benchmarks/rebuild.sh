# The rebuild benchmark's shell half, sourced by tools/bench, which provides the private
# stack ($bench_dir, $CQRS_PG_URL, $CQRS_REDIS_URL; no projector runs on it) and the helpers
# bench_line, note, psql_value, median, ratio and run_measured.
#
# 1. Seeds EVENTS product events (default 1,000,000) straight into the events table: EVENTS / 10
#    products, each with ten events (created, restocked, price changed, reserved, restocked,
#    committed, reserved, released, details updated, reserved), one INSERT ... generate_series per
#    version layer (one transaction each, so the log holds layer after layer). Payloads are the
#    contracts' cereal JSON (docs/event-schemas.md), so every one decodes.
# 2. Raw baseline: `psql -c "\copy (select * from events) to /dev/null"`, three times (before the
#    rebuild, between rebuild and replay, after the replay); rebuild.copy_seconds is the median.
# 3. Ours: `cqrs rebuild --all` (product_detail in Redis, product_catalog in PostgreSQL, built
#    from one COPY read of the log, folded in memory and written in bulk; docs/projections.md),
#    timed as one command: rebuild.seconds, rebuild.events_per_s (events in the store /
#    rebuild.seconds), rebuild.ratio_to_copy (target <= 4). The per-projection `seconds` of its
#    summary lines run from the command's start to that model's switch and drop.
# 4. `cqrs replay --all > /dev/null`: replay.events_per_s (target >= 500000).
# 5. Checks: both live models hold EVENTS / 10 products with the expected stock (on hand 125,
#    reserved 2, available 123, stream version 10), no dead letters.
# A CHECKPOINT precedes every measurement. Figures as `BENCH <key> <value>` on stdout.
#
#   tools/bench rebuild                               1,000,000 events (about 2 minutes, most of
#                                                     it seeding)
#   BENCH_REBUILD_EVENTS=200000 tools/bench rebuild   fewer events (a multiple of 10; ~1 minute)
# (tools/bench takes only --seconds and --rounds, and neither applies here: one round.)

rebuild_events=${BENCH_REBUILD_EVENTS:-1000000}

bench_rebuild_summary() {
  echo "rebuild both product projections from 1,000,000 stored events vs psql \\copy of events; replay --all"
}

rebuild_cqrs() { "$CQRS_BUILD_DIR/tools/cli/cqrs" "$@"; }
rebuild_redis() { redis-cli -u "$CQRS_REDIS_URL" "$@"; }
rebuild_checkpoint() { psql_value "CHECKPOINT" >/dev/null || die "CHECKPOINT failed"; }

# rebuild_clock CMD...: runs CMD (in this shell, so run_measured can wrap it) and sets
# rebuild_elapsed to its wall-clock seconds.
rebuild_clock() {
  local t0=$EPOCHREALTIME status
  "$@"
  status=$?
  rebuild_elapsed=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  return $status
}

# The payload of each version layer, as an SQL expression of the product number p. Final state of
# every product: on hand 100 + 10 + 20 - 5 = 125, reserved 2, available 123, version 10.
rebuild_layer() {
  local id="lpad(p::text, 7, '0')"
  case $1 in
    1) echo "product.created 2 '{\"sku\":\"SKU-' || $id || '\",\"name\":\"Widget ' || p || '\",\"description\":\"A sturdy widget, number ' || p || ', made of steel and patience for the benchmark catalog.\",\"price\":{\"amount_minor\":' || (100 + p % 9900) || ',\"currency\":\"EUR\"},\"initial_stock\":100}'" ;;
    2) echo "product.restocked 1 '{\"quantity\":10}'" ;;
    3) echo "product.price_changed 1 '{\"price\":{\"amount_minor\":' || (200 + p % 9800) || ',\"currency\":\"EUR\"}}'" ;;
    4) echo "product.stock_reserved 1 '{\"reservation_id\":\"r1-' || p || '\",\"quantity\":5}'" ;;
    5) echo "product.restocked 1 '{\"quantity\":20}'" ;;
    6) echo "product.reservation_committed 1 '{\"reservation_id\":\"r1-' || p || '\",\"quantity\":5}'" ;;
    7) echo "product.stock_reserved 1 '{\"reservation_id\":\"r2-' || p || '\",\"quantity\":3}'" ;;
    8) echo "product.reservation_released 1 '{\"reservation_id\":\"r2-' || p || '\",\"quantity\":3}'" ;;
    9) echo "product.details_updated 1 '{\"name\":\"Widget ' || p || ' mk2\",\"description\":\"A sturdier widget, number ' || p || ', now with a second coat of paint.\"}'" ;;
    10) echo "product.stock_reserved 1 '{\"reservation_id\":\"r3-' || p || '\",\"quantity\":2}'" ;;
  esac
}

rebuild_seed() {
  local products=$1 v layer type schema_version json
  for v in $(seq 1 10); do
    layer=$(rebuild_layer "$v")
    type=${layer%% *}; layer=${layer#* }
    schema_version=${layer%% *}; json=${layer#* }
    psql_value "INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, payload, actor)
      SELECT 'product-' || lpad(p::text, 7, '0'), $v, gen_random_uuid(), '$type', $schema_version,
             convert_to($json, 'UTF8'), 'bench'
        FROM generate_series(1, $products) AS p ORDER BY p" >/dev/null || die "seeding layer $v failed"
  done
  # Only the SKU claims a real create would have made (not read by projections; for realism).
  psql_value "INSERT INTO unique_claims (scope, value, stream_id)
    SELECT 'product.sku', 'SKU-' || lpad(p::text, 7, '0'), 'product-' || lpad(p::text, 7, '0')
      FROM generate_series(1, $products) AS p" >/dev/null || die "seeding SKU claims failed"
}

rebuild_copy_s=()
rebuild_copy_others=()

# One raw baseline measurement.
rebuild_measure_copy() {
  rebuild_checkpoint
  run_measured "$bench_dir/copy.out" rebuild_clock "$PG_BIN/psql" "$CQRS_PG_URL" -X -q -v ON_ERROR_STOP=1 \
    -c "\\copy (select * from events) to /dev/null" || { cat "$bench_dir/copy.out" >&2; die "psql \\copy failed"; }
  rebuild_copy_s+=("$rebuild_elapsed")
  rebuild_copy_others+=("$measured_others_pct")
  say "copy ($1): $rebuild_elapsed s; CPU client $measured_client_s s, server $measured_server_s s;" \
    "others used $measured_others_pct% of the CPU"
}

# rebuild_us_per_event SECONDS EVENTS
rebuild_us_per_event() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", (n > 0 ? s * 1e6 / n : 0) }'; }

rebuild_redis_cpu() { rebuild_redis INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.2f", s }'; }

# A figure of a `cqrs rebuild` summary line ({"projection":NAME,"done":true,...,"seconds":S}).
rebuild_summary_value() {
  grep '"done":true' "$bench_dir/rebuild.out" | grep "\"projection\":\"$1\"" |
    sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p" | awk '{ printf "%.3f\n", $1 }'
}

# The live models hold every product with the expected state.
rebuild_check_models() {
  local products=$1 pg redis_model redis_keys sample ok=1 dead
  pg=$(psql_value "SELECT count(*) || ' ' || count(*) FILTER (WHERE on_hand = 125 AND reserved = 2 AND available = 123
      AND stream_version = 10 AND NOT discontinued AND price_minor = 200 + substr(product_id, 1)::bigint % 9800
      AND name = 'Widget ' || product_id::bigint || ' mk2') FROM product_catalog")
  redis_model=$(rebuild_redis GET cqrs:projection:product_detail:live | tr -d '\r')
  redis_keys=$(rebuild_redis --scan --pattern "$redis_model:product:*" | wc -l)
  sample=$(rebuild_redis HMGET "$redis_model:product:$(printf '%07d' "$products")" on_hand reserved available version \
    | tr -d '\r' | tr '\n' ' ')
  dead=$(psql_value "SELECT count(*) FROM projection_dead_letters")
  note "check: product_catalog rows (all, with the expected state): $pg; Redis model $redis_model:" \
    "$redis_keys product hashes, last product on_hand reserved available version = $sample; dead letters $dead"
  bench_line rebuild.check.catalog_products "${pg%% *}"
  bench_line rebuild.check.detail_products "$redis_keys"
  [ "$pg" = "$products $products" ] || ok=0
  [ "$redis_keys" = "$products" ] || ok=0
  [ "$sample" = "125 2 123 10 " ] || ok=0
  [ "$dead" = 0 ] || ok=0
  if [ "$ok" = 1 ]; then bench_line rebuild.check ok; else bench_line rebuild.check FAIL; fi
}

bench_rebuild_run() {
  local products=$((rebuild_events / 10)) events redis0 redis1 rebuild_s rebuild_client rebuild_server rebuild_others
  local replay_s replay_client replay_server replay_others copy_s
  [ "$products" -ge 1 ] || die "BENCH_REBUILD_EVENTS must be at least 10"
  events=$((products * 10))
  note "rebuild: $events product events ($products products x 10), both product projections;" \
    "raw: psql \\copy (select * from events) to /dev/null (median of 3)"

  say "seeding $events events"
  rebuild_clock rebuild_seed "$products"
  bench_line rebuild.seed_seconds "$rebuild_elapsed"
  psql_value "VACUUM (ANALYZE) events" >/dev/null || die "VACUUM failed"
  [ "$(psql_value "SELECT count(*) FROM events WHERE category = 'product'")" = "$events" ] || die "seeding lost events"
  bench_line rebuild.events "$events"
  bench_line rebuild.events_table_mb "$(psql_value "SELECT pg_total_relation_size('events') / 1048576")"

  rebuild_measure_copy "before rebuild"

  rebuild_checkpoint
  rebuild_redis CONFIG RESETSTAT >/dev/null
  redis0=$(rebuild_redis_cpu)
  say "cqrs rebuild --all"
  run_measured "$bench_dir/rebuild.out" rebuild_clock rebuild_cqrs rebuild --all ||
    { tail -n 20 "$bench_dir/rebuild.out" >&2; die "cqrs rebuild failed"; }
  rebuild_s=$rebuild_elapsed rebuild_client=$measured_client_s rebuild_server=$measured_server_s
  rebuild_others=$measured_others_pct
  redis1=$(rebuild_redis_cpu)
  rebuild_redis INFO commandstats | tr -d '\r' | grep '^cmdstat_' | sed 's/^/# redis /' >"$bench_dir/redis_commandstats"
  say "rebuild: $rebuild_s s; CPU client $rebuild_client s, PostgreSQL $rebuild_server s," \
    "Redis $(awk -v a="$redis0" -v b="$redis1" 'BEGIN { printf "%.2f", b - a }') s; others used $rebuild_others% of the CPU"

  rebuild_measure_copy "after rebuild"

  rebuild_checkpoint
  say "cqrs replay --all > /dev/null"
  run_measured "$bench_dir/replay.out" rebuild_clock bash -c '"$0" replay --all >/dev/null' \
    "$CQRS_BUILD_DIR/tools/cli/cqrs" || { tail -n 20 "$bench_dir/replay.out" >&2; die "cqrs replay failed"; }
  replay_s=$rebuild_elapsed replay_client=$measured_client_s replay_server=$measured_server_s
  replay_others=$measured_others_pct
  say "replay: $replay_s s; CPU client $replay_client s, PostgreSQL $replay_server s;" \
    "others used $replay_others% of the CPU"

  rebuild_measure_copy "after replay"

  copy_s=$(median "${rebuild_copy_s[@]}")
  note "copy per round (s): ${rebuild_copy_s[*]}; others' CPU % per round: ${rebuild_copy_others[*]}"
  bench_line rebuild.copy_seconds "$copy_s"
  bench_line rebuild.copy_events_per_s "$(awk -v n="$events" -v s="$copy_s" 'BEGIN { printf "%.0f", n / s }')"
  bench_line rebuild.seconds "$rebuild_s"
  bench_line rebuild.events_per_s "$(awk -v n="$events" -v s="$rebuild_s" 'BEGIN { printf "%.0f", n / s }')"
  bench_line rebuild.ratio_to_copy "$(ratio "$rebuild_s" "$copy_s")"
  local name s
  for name in product_detail product_catalog; do
    s=$(rebuild_summary_value "$name" seconds)
    bench_line "rebuild.$name.seconds" "${s:-nan}"
    [ -n "$s" ] && bench_line "rebuild.$name.events_per_s" "$(awk -v n="$events" -v s="$s" 'BEGIN { printf "%.0f", n / s }')"
  done
  bench_line rebuild.client_cpu_us_per_event "$(rebuild_us_per_event "$rebuild_client" "$events")"
  bench_line rebuild.server_cpu_us_per_event "$(rebuild_us_per_event "$rebuild_server" "$events")"
  bench_line rebuild.redis_cpu_us_per_event "$(rebuild_us_per_event "$(awk -v a="$redis0" -v b="$redis1" 'BEGIN { print b - a }')" "$events")"
  bench_line rebuild.others_cpu_pct "$rebuild_others"
  cat "$bench_dir/redis_commandstats"
  bench_line replay.seconds "$replay_s"
  bench_line replay.events_per_s "$(awk -v n="$events" -v s="$replay_s" 'BEGIN { printf "%.0f", n / s }')"
  bench_line replay.client_cpu_us_per_event "$(rebuild_us_per_event "$replay_client" "$events")"
  bench_line replay.server_cpu_us_per_event "$(rebuild_us_per_event "$replay_server" "$events")"
  bench_line replay.others_cpu_pct "$replay_others"
  rebuild_check_models "$products"
}

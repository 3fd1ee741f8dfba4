# The append benchmark's shell half, sourced by tools/bench, which provides the private
# stack ($bench_dir, $CQRS_PG_URL), bench_seconds, bench_rounds and the helpers bench_line, note,
# psql_value, median, ratio, run_measured and wal_sync_totals.
#
# Raw: pgbench, one INSERT of one ~300-byte row per transaction into bench_raw_events, a copy of
# the events table (same columns, defaults, constraints and indexes), prepared statements.
# Ours: `cqrs-bench append`, one event_store::append of one event per call to existing streams
# with the exact expected version, each writer on its own streams.
# Both at 1, 8 and 32 concurrent clients; rounds alternate which side goes first, so drift in the
# machine hits both; the figures are the medians of the rounds.

append_clients=(1 8 32)
append_streams=1000
append_payload_bytes=300

bench_append_summary() {
  echo "one-event appends (exact expected version) vs pgbench one-row INSERTs, at 1, 8, 32 writers"
}

# The raw table: the events table's shape, with its own sequence so the sides share nothing.
append_create_raw_table() {
  psql_value "CREATE SEQUENCE bench_raw_seq AS bigint;
    CREATE TABLE bench_raw_events (LIKE events INCLUDING ALL);
    ALTER TABLE bench_raw_events ALTER COLUMN seq SET DEFAULT nextval('bench_raw_seq');" ||
    die "cannot create bench_raw_events"
}

# The same columns our append writes: stream `bench-N` of 1000, a version (random: the table has
# no streams row to count with, and a collision in 9e18 is not a concern), a fresh UUID that starts
# with the time in milliseconds as ours do (version 7; PostgreSQL 15 has no generator of its own),
# the same type and a payload of the same size as ours.
append_write_pgbench_script() {
  local file=$1 payload_hex
  payload_hex=$(head -c 100000 /dev/urandom | tr -dc 'a-z' | head -c "$append_payload_bytes" | od -An -tx1 | tr -d ' \n')
  [ ${#payload_hex} -eq $((2 * append_payload_bytes)) ] || die "could not make a payload"
  cat >"$file" <<SQL
\\set stream random(0, $((append_streams - 1)))
\\set version random(1, 9000000000000000000)
INSERT INTO bench_raw_events (stream_id, stream_version, event_id, event_type, schema_version, payload, recorded_at) VALUES ('bench-' || (:stream)::text, :version, $bench_time_ordered_uuid_sql, 'bench.appended', 1, '\\x$payload_hex'::bytea, clock_timestamp());
SQL
}

# Every measurement starts from a fresh checkpoint, so that neither side pays for a checkpoint
# (and the full-page writes after it) that the other one started.
append_checkpoint() { psql_value "CHECKPOINT" >/dev/null || die "CHECKPOINT failed"; }

append_wal_lsn() { psql_value "SELECT pg_current_wal_lsn()"; }

append_wal_bytes_per_row() {
  psql_value "SELECT round(pg_wal_lsn_diff('$2', '$1') / greatest($3, 1))"
}

# append_us_per_row SECONDS ROWS: microseconds per row.
append_us_per_row() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.0f", (n > 0 ? s * 1e6 / n : 0) }'; }

# The figures a measurement prints, after its own: CPU per row of the client and of PostgreSQL,
# WAL bytes per row, the share of the machine that other processes used meanwhile, and the mean
# WAL flush time (the disk is shared too).
append_cost_figures() {
  local rows=$1 lsn_before=$2 lsn_after=$3 syncs_before=$4
  echo "$(append_us_per_row "$measured_client_s" "$rows") $(append_us_per_row "$measured_server_s" "$rows")" \
    "$(append_wal_bytes_per_row "$lsn_before" "$lsn_after" "$rows") $measured_others_pct" \
    "$(fsync_mean_ms "$syncs_before" "$(wal_sync_totals)")"
}

# append_measure_raw CLIENTS: prints "tps latency_mean_ms client_us server_us wal_bytes others_pct fsync_ms".
append_measure_raw() {
  local clients=$1 out="$bench_dir/pgbench.c$1.out" rows_before rows processed lsn_before lsn_after syncs_before tps latency
  append_checkpoint
  rows_before=$(psql_value "SELECT count(*) FROM bench_raw_events")
  lsn_before=$(append_wal_lsn)
  syncs_before=$(wal_sync_totals)
  run_measured "$out" "$PG_BIN/pgbench" -n -M prepared -c "$clients" -j "$clients" -T "$bench_seconds" \
    -f "$bench_dir/raw_append.sql" "$CQRS_PG_URL" || { cat "$out" >&2; die "pgbench failed"; }
  lsn_after=$(append_wal_lsn)
  rows=$(($(psql_value "SELECT count(*) FROM bench_raw_events") - rows_before))
  processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
  [ "$rows" = "$processed" ] || die "pgbench reported $processed transactions but $rows rows arrived"
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out")
  latency=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")
  [ -n "$tps" ] && [ -n "$latency" ] || { cat "$out" >&2; die "cannot read pgbench's output"; }
  echo "$tps $latency $(append_cost_figures "$rows" "$lsn_before" "$lsn_after" "$syncs_before")"
}

# result_value FILE KEY: a `RESULT KEY VALUE` line of cqrs-bench.
append_result_value() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1"; }

append_bench_events() { psql_value "SELECT count(*) FROM events WHERE category = 'bench'"; }
append_bench_streams() { psql_value "SELECT count(*) FROM streams WHERE stream_id LIKE 'bench-%'"; }

# append_measure_ours CLIENTS: prints
# "events_per_s latency_mean_ms latency_p50_ms latency_p99_ms client_us server_us wal_bytes others_pct fsync_ms".
# Each writer appends a few untimed events first (creating missing streams, one warm-up append),
# so the rows that arrive are the timed appends plus those; the CPU figures count them too.
append_measure_ours() {
  local clients=$1 out="$bench_dir/ours.c$1.out" events_before streams_before lsn_before lsn_after syncs_before appends rows
  append_checkpoint
  events_before=$(append_bench_events)
  streams_before=$(append_bench_streams)
  lsn_before=$(append_wal_lsn)
  syncs_before=$(wal_sync_totals)
  run_measured "$out" "$CQRS_BUILD_DIR/tools/benchmarks/cqrs-bench" append --url "$CQRS_PG_URL" \
    --writers "$clients" --seconds "$bench_seconds" --streams "$append_streams" \
    --payload-bytes "$append_payload_bytes" || { cat "$out" >&2; die "cqrs-bench append failed"; }
  lsn_after=$(append_wal_lsn)
  appends=$(append_result_value "$out" appends)
  [ "$(append_result_value "$out" conflicts)" = 0 ] || die "cqrs-bench saw version conflicts on disjoint streams"
  rows=$(($(append_bench_events) - events_before))
  [ "$rows" = "$((appends + clients + $(append_bench_streams) - streams_before))" ] ||
    die "cqrs-bench reported $appends appends (+ untimed ones) but $rows events arrived"
  echo "$(append_result_value "$out" events_per_s) $(append_result_value "$out" latency_mean_ms)" \
    "$(append_result_value "$out" latency_p50_ms) $(append_result_value "$out" latency_p99_ms)" \
    "$(append_cost_figures "$rows" "$lsn_before" "$lsn_after" "$syncs_before")"
}

# Per-run figures, by client count: space-separated lists, one value per round.
declare -A append_raw_tps append_raw_latency append_raw_client_us append_raw_server_us
declare -A append_ours_tps append_ours_mean append_ours_p50 append_ours_p99 append_ours_client_us append_ours_server_us
append_raw_wal=()
append_ours_wal=()
append_others_pct=()
append_fsync_ms=()

append_round_raw() {
  local c=$1 round=$2 f
  f=($(append_measure_raw "$c")) || exit 1
  append_raw_tps[$c]+=" ${f[0]}"
  append_raw_latency[$c]+=" ${f[1]}"
  append_raw_client_us[$c]+=" ${f[2]}"
  append_raw_server_us[$c]+=" ${f[3]}"
  append_raw_wal+=("${f[4]}")
  append_others_pct+=("${f[5]}")
  append_fsync_ms+=("${f[6]}")
  say "round $round c$c raw:  ${f[0]} tx/s, mean ${f[1]} ms; per row: client ${f[2]} us, server ${f[3]} us CPU," \
    "${f[4]} WAL bytes; others used ${f[5]}% of the CPU; WAL flush ${f[6]} ms"
}

append_round_ours() {
  local c=$1 round=$2 f
  f=($(append_measure_ours "$c")) || exit 1
  append_ours_tps[$c]+=" ${f[0]}"
  append_ours_mean[$c]+=" ${f[1]}"
  append_ours_p50[$c]+=" ${f[2]}"
  append_ours_p99[$c]+=" ${f[3]}"
  append_ours_client_us[$c]+=" ${f[4]}"
  append_ours_server_us[$c]+=" ${f[5]}"
  append_ours_wal+=("${f[6]}")
  append_others_pct+=("${f[7]}")
  append_fsync_ms+=("${f[8]}")
  say "round $round c$c ours: ${f[0]} events/s, mean ${f[1]} p50 ${f[2]} p99 ${f[3]} ms; per row: client ${f[4]} us," \
    "server ${f[5]} us CPU, ${f[6]} WAL bytes; others used ${f[7]}% of the CPU; WAL flush ${f[8]} ms"
}

# Odd rounds measure raw first, even rounds ours first.
append_round() {
  local round=$1 clients
  for clients in "${append_clients[@]}"; do
    if [ $((round % 2)) -eq 1 ]; then
      append_round_raw "$clients" "$round"; append_round_ours "$clients" "$round"
    else
      append_round_ours "$clients" "$round"; append_round_raw "$clients" "$round"
    fi
  done
}

# Both sides' rows, measured in the table: they must be of comparable size.
append_report_rows() {
  bench_line append.row_bytes.raw "$(psql_value "SELECT round(avg(pg_column_size(r.*))) FROM bench_raw_events r")"
  bench_line append.row_bytes.ours "$(psql_value "SELECT round(avg(pg_column_size(e.*))) FROM events e WHERE category = 'bench'")"
  bench_line append.wal_bytes_per_row.raw "$(median "${append_raw_wal[@]}")"
  bench_line append.wal_bytes_per_row.ours "$(median "${append_ours_wal[@]}")"
}

append_report_clients() {
  local c=$1 raw ours
  raw=$(median ${append_raw_tps[$c]})
  ours=$(median ${append_ours_tps[$c]})
  note "c$c per round: raw${append_raw_tps[$c]} | ours${append_ours_tps[$c]}"
  bench_line "append.raw_tps.c$c" "$raw"
  bench_line "append.ours_tps.c$c" "$ours"
  bench_line "append.ratio.c$c" "$(ratio "$ours" "$raw")"
  bench_line "append.raw_latency_mean_ms.c$c" "$(median ${append_raw_latency[$c]})"
  bench_line "append.ours_latency_mean_ms.c$c" "$(median ${append_ours_mean[$c]})"
  bench_line "append.ours_latency_p50_ms.c$c" "$(median ${append_ours_p50[$c]})"
  bench_line "append.ours_latency_p99_ms.c$c" "$(median ${append_ours_p99[$c]})"
  bench_line "append.raw_server_cpu_us_per_row.c$c" "$(median ${append_raw_server_us[$c]})"
  bench_line "append.ours_server_cpu_us_per_row.c$c" "$(median ${append_ours_server_us[$c]})"
  bench_line "append.raw_client_cpu_us_per_row.c$c" "$(median ${append_raw_client_us[$c]})"
  bench_line "append.ours_client_cpu_us_per_row.c$c" "$(median ${append_ours_client_us[$c]})"
  # The ratio a CPU-bound, undisturbed machine would show: raw CPU per row over ours.
  bench_line "append.cpu_ratio.c$c" "$(ratio \
    "$(( $(median ${append_raw_client_us[$c]} | cut -d. -f1) + $(median ${append_raw_server_us[$c]} | cut -d. -f1) ))" \
    "$(( $(median ${append_ours_client_us[$c]} | cut -d. -f1) + $(median ${append_ours_server_us[$c]} | cut -d. -f1) ))")"
}

# How much of the machine other processes took while we measured, and how fast the (shared) disk
# flushed WAL: with others above a few percent or flushes far from their median, the rates are
# disturbed (each side by a different amount) and the CPU-per-row figures are the firmer ones.
append_report_interference() {
  local max
  max=$(printf '%s\n' "${append_others_pct[@]}" | sort -g | tail -n 1)
  bench_line append.others_cpu_pct.median "$(median "${append_others_pct[@]}")"
  bench_line append.others_cpu_pct.max "$max"
  bench_line append.wal_flush_ms.median "$(median "${append_fsync_ms[@]}")"
  bench_line append.wal_flush_ms.max "$(printf '%s\n' "${append_fsync_ms[@]}" | sort -g | tail -n 1)"
  [ "$max" -le 10 ] || note "warning: other processes used up to $max% of the machine during a measurement"
}

bench_append_run() {
  local round clients
  append_create_raw_table
  append_write_pgbench_script "$bench_dir/raw_append.sql"
  note "append: $append_streams streams, ${append_payload_bytes}-byte payloads, clients ${append_clients[*]}," \
    "$bench_seconds s per measurement, $bench_rounds rounds, medians"
  for round in $(seq 1 "$bench_rounds"); do append_round "$round"; done
  for clients in "${append_clients[@]}"; do append_report_clients "$clients"; done
  append_report_rows
  append_report_interference
}

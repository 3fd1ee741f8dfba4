# cqrs projector --projector-metrics-file writes Prometheus text every second: after a few events
# its counters per projection count them, and the lag gauges are there.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# This run's own copies of every projection, fed by this run's own streams.
scope="metrics$RUN"
category="product_$scope"
export CQRS_PROJECTION_SCOPE=$scope CQRS_PROJECTOR_GROUP="metrics$RUN" CQRS_LOG_LEVEL=error
work=$(mktemp -d)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
  return 0
}
trap stop_all EXIT

"${CQRS_BUILD_DIR:-$ROOT/build}/commands/relay/cqrs-relay" --relay-name "metrics$RUN" --log-level error 2>>"$work/relay.log" &
pids+=($!)
"$CQRS" projector --projector-metrics-file "$work/projector.prom" 2>>"$work/projector.log" &
pids+=($!)

created "$category-p1" "SKU-$RUN-1" 100 5
restocked "$category-p1" 2
reserved "$category-p1" r1 1

series() { grep -E "^$1\{projection=\"$2_$scope\"\} " "$work/projector.prom" 2>/dev/null | awk '{print $2}'; }
deadline=$((SECONDS + 60))
until [ "$(series cqrs_projection_events_applied_total product_detail)" = "3" ] &&
  [ "$(series cqrs_projection_events_applied_total product_catalog)" = "3" ]; do
  [ $SECONDS -ge $deadline ] && { cat "$work/projector.prom" "$work/projector.log" >&2; fail "the metrics file never counted 3 applied events"; }
  sleep 0.5
done
[ "$(series cqrs_projection_events_dead_lettered_total product_detail)" = "0" ] || fail "dead letters counted"
[ -n "$(series cqrs_projection_lag_events product_detail)" ] || fail "no lag in events"
[ -n "$(series cqrs_projection_lag_seconds product_catalog)" ] || fail "no lag in seconds"
echo "projector writes its metrics file"

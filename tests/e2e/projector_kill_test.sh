# Two projector processes in one group under load, killed with SIGKILL at random moments and
# restarted: once caught up, both read models equal a fresh rebuild from the event store and
# agree with the aggregate's own state.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# This run's own copies of every projection, fed by this run's own streams.
scope="kill$RUN"
category="product_$scope"
export CQRS_PROJECTION_SCOPE=$scope CQRS_PROJECTOR_GROUP="kill$RUN" CQRS_LOG_LEVEL=error
work=$(mktemp -d)
projectors=(0 0)
relay=0
stop_all() {
  for pid in "${projectors[@]}" "$relay"; do
    [ "$pid" -ne 0 ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$work"
  return 0
}
trap stop_all EXIT

start_projector() {
  "$CQRS" projector 2>>"$work/projector.log" &
  projectors[$1]=$!
}

"${CQRS_BUILD_DIR:-$ROOT/build}/commands/relay/cqrs-relay" --relay-name "kill$RUN" --log-level error 2>>"$work/relay.log" &
relay=$!
start_projector 0
start_projector 1

for p in $(seq 1 20); do created "$category-p$p" "SKU-$RUN-$p" $((p * 100)) 50; done
for round in $(seq 1 30); do
  for p in $(seq 1 20); do
    if [ $((RANDOM % 2)) -eq 0 ]; then restocked "$category-p$p" 1; else reserved "$category-p$p" "r$round" 1; fi
  done
  if [ $((round % 5)) -eq 0 ]; then
    victim=$((RANDOM % 2))
    kill -KILL "${projectors[$victim]}"
    wait "${projectors[$victim]}" 2>/dev/null || true
    sleep 0.$((RANDOM % 5))
    start_projector "$victim"
  fi
done

deadline=$((SECONDS + 90))
until [ "$(lag)" = "0" ]; do
  [ $SECONDS -ge $deadline ] && { tail -20 "$work/projector.log" >&2; fail "projectors did not catch up: lag $(lag)"; }
  sleep 0.5
done

redis_live=$(redis_digest)
pg_live=$(pg_digest)
[ "$(wc -l <<<"$pg_live")" -eq 20 ] || fail "catalog has $(wc -l <<<"$pg_live") products"
"$CQRS" rebuild --all >/dev/null
[ "$(redis_digest)" = "$redis_live" ] || fail "Redis model differs from a rebuild"
[ "$(pg_digest)" = "$pg_live" ] || fail "PostgreSQL model differs from a rebuild"
grep -q '"rebuild_needed":false' <("$CQRS" projections) || fail "projections listing"
echo "kill -9 under load: models equal a rebuild"

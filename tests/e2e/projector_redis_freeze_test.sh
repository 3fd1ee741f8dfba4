# Redis and PostgreSQL read models progress independently: while Redis is frozen (SIGSTOP: it
# accepts connections and answers nothing), the PostgreSQL catalog keeps applying; once Redis
# runs again (SIGCONT) its models catch up, and both equal a rebuild (every event applied once).
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

scope="frz$RUN"
category="product_$scope"
export CQRS_PROJECTION_SCOPE=$scope CQRS_PROJECTOR_GROUP="frz$RUN" CQRS_LOG_LEVEL=info
work=$(mktemp -d)
projector=0
finish() {
  restore_services
  stop_relay
  [ "$projector" -ne 0 ] && kill -TERM "$projector" 2>/dev/null && wait "$projector" 2>/dev/null
  rm -rf "$work"
  return 0
}
trap finish EXIT

start_relay "$work"
"$CQRS" projector 2>>"$work/projector.log" &
projector=$!

products=10
for p in $(seq 1 $products); do created "$category-p$p" "SKU-$RUN-$p" 100 50; done
restocks=0
restock_all() {
  for p in $(seq 1 $products); do restocked "$category-p$p" 1; done
  restocks=$((restocks + 1))
}
expected() { echo "$products $((products * (50 + restocks))) $((products * (1 + restocks)))"; }
totals_are_expected() { [ "$(pg_totals)" = "$(expected)" ]; }

eventually 60 "the catalog before the freeze" totals_are_expected
eventually 60 "both models caught up before the freeze" caught_up

redis_freeze
for _ in 1 2 3; do restock_all; done
# The Redis models are cut off after their apply times out; the catalog does not wait for them.
eventually 60 "the PostgreSQL catalog advancing while Redis is frozen" totals_are_expected
grep -q 'cut off' "$work/projector.log" || fail "no read model was cut off while Redis was frozen"
kill -0 "$projector" 2>/dev/null || fail "the projector exited while Redis was frozen: $(tail -5 "$work/projector.log")"
redis_thaw

eventually 60 "the Redis models catching up after SIGCONT" caught_up
grep -q 'caught up from the event store' "$work/projector.log" || fail "no model caught up from the event store"
restock_all
eventually 60 "the catalog after the thaw" totals_are_expected
eventually 60 "both models caught up after the thaw" caught_up
kill -0 "$projector" 2>/dev/null || fail "the projector exited: $(tail -5 "$work/projector.log")"
expect_models_equal_rebuild
echo "Redis frozen: PostgreSQL models went on, Redis caught up, every event applied once"

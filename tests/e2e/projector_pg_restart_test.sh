# The projector outlives a PostgreSQL restart and an outage of PostgreSQL: it never exits, and
# once PostgreSQL is back both read models hold every event exactly once (equal to a rebuild).
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

scope="pgr$RUN"
category="product_$scope"
export CQRS_PROJECTION_SCOPE=$scope CQRS_PROJECTOR_GROUP="pgr$RUN" CQRS_LOG_LEVEL=warn
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
# "count sum(on_hand) sum(version)" once every restock so far is applied.
expected() { echo "$products $((products * (50 + restocks))) $((products * (1 + restocks)))"; }
totals_are_expected() { [ "$(pg_totals)" = "$(expected)" ]; }

restock_all
eventually 60 "the catalog before any fault" totals_are_expected

# A restart between two writes: the projector's connections all die at once.
pg_restart || fail "PostgreSQL did not restart"
restock_all
eventually 60 "the catalog after a PostgreSQL restart ($(pg_totals) vs $(expected))" totals_are_expected

# An outage: held until the projector has met it (a failed checkpoint or a model cut off), then
# PostgreSQL comes back and the writes go on.
before=$(wc -l <"$work/projector.log")
pg_stop || fail "PostgreSQL did not stop"
met_outage() { tail -n +"$((before + 1))" "$work/projector.log" | grep -Eq 'step failed|cut off'; }
eventually 30 "the projector noticing the outage" met_outage
kill -0 "$projector" 2>/dev/null || fail "the projector exited during the outage: $(tail -5 "$work/projector.log")"
pg_start || fail "PostgreSQL did not start again"
restock_all
eventually 60 "the catalog after a PostgreSQL outage ($(pg_totals) vs $(expected))" totals_are_expected

eventually 60 "both models caught up (lag $(lag))" caught_up
kill -0 "$projector" 2>/dev/null || fail "the projector exited: $(tail -5 "$work/projector.log")"
grep -q 'terminate called' "$work/projector.log" && fail "the projector crashed"
expect_models_equal_rebuild
echo "PostgreSQL restart and outage: the projector went on, every event applied once"

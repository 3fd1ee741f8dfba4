# The projector outlives a PostgreSQL restart and an outage of PostgreSQL: it never exits, and
# once PostgreSQL is back both read models hold every event exactly once (equal to a rebuild).
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

start_fault_world pgr warn

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

# Redis and PostgreSQL read models progress independently: while Redis is frozen (SIGSTOP: it
# accepts connections and answers nothing), the PostgreSQL catalog keeps applying; once Redis
# runs again (SIGCONT) its models catch up, and both equal a rebuild (every event applied once).
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

start_fault_world frz info

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
# Writes Redis had queued while frozen may land at SIGCONT and close the lag before the cut-off
# model's next heal attempt (at most 5 s of backoff later): wait for the heal, do not race it.
eventually 30 "a model caught up from the event store" grep -q 'caught up from the event store' "$work/projector.log"
restock_all
eventually 60 "the catalog after the thaw" totals_are_expected
eventually 60 "both models caught up after the thaw" caught_up
kill -0 "$projector" 2>/dev/null || fail "the projector exited: $(tail -5 "$work/projector.log")"
expect_models_equal_rebuild
echo "Redis frozen: PostgreSQL models went on, Redis caught up, every event applied once"

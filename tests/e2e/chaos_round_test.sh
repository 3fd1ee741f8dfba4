# A short round of the fault suite: tools/chaos with two faults drawn at random (the seed is
# printed, so a failure can be replayed with `tools/chaos --rounds 2 --seed S`), on a private
# stack of its own. Every acknowledged command must be in the store and both read models exactly
# once, with no 5xx outside the faults.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seed=${CQRS_CHAOS_SEED:-$RANDOM}
echo "chaos round: seed $seed" >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$ROOT/tools/chaos" --rounds 2 --seed "$seed" --writers 3 >"$out" || status=$?
cat "$out" >&2
value() { awk -v k="$1" '$1 == "CHAOS" && $2 == k { print $3 }' "$out"; }
[ "$(value rounds)" = 2 ] || fail "tools/chaos printed no summary (exit $status)"
[ "$(value acked)" -gt 0 ] || fail "no command was acknowledged under load"
for key in lost doubled digest_mismatches unexpected_5xx; do
  [ "$(value "$key")" = 0 ] || fail "CHAOS $key is $(value "$key"), expected 0 (seed $seed)"
done
[ "$(value recover_max_s)" != never ] || fail "the engine did not recover from a fault (seed $seed)"
[ "$status" -eq 0 ] || fail "tools/chaos exited $status"

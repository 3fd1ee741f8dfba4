# tools/test holds every test to a time limit: a hanging script test is stopped (its children
# too), named on a TIMED OUT line and counted as failed, and the run still ends with its summary.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
scratch=$(mktemp -d /tmp/cqrs-timelimit.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cat >"$scratch/hanging_test.sh" <<SCRIPT
sleep 600 &
echo \$! >"$scratch/child.pid"
wait
SCRIPT

# The nested run must build and start its own private stack, not steer by this one's settings.
started=$SECONDS
status=0
# The limit applies to every script of the nested run: 10 s leaves the unit suite's own scripts
# room on a loaded machine.
env -u CQRS_STACK_DIR CQRS_TEST_SCRIPT_TIMEOUT=10 CQRS_TEST_EXTRA_SCRIPT="$scratch/hanging_test.sh" \
  "$ROOT/tools/test" unit >"$scratch/out" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "tools/test exited 0 although a test hung"
grep -q "^TIMED OUT: hanging_test.sh did not finish within 10 s.*CQRS_TEST_SCRIPT_TIMEOUT" "$scratch/out" ||
  fail "no TIMED OUT line naming the script: $(tail -n 5 "$scratch/out")"
# Every failure of the nested run is one it reported (the hanging script's among them), and the
# summary counts each: a script slowed past the limit by a loaded machine is reported too.
reported=$(grep -Ec '^(TIMED OUT|FAILED): ' "$scratch/out")
tail -n 1 "$scratch/out" | grep -Eq "^[1-9][0-9]* passed, $reported failed\$" ||
  fail "the summary does not count the $reported reported failures: $(grep -E '^(TIMED OUT|FAILED): ' "$scratch/out"; tail -n 1 "$scratch/out")"
[ $((SECONDS - started)) -lt 280 ] || fail "the hanging script was not stopped at its limit"
child=$(cat "$scratch/child.pid")
! kill -0 "$child" 2>/dev/null || { kill "$child"; fail "the hanging script's child outlived it"; }

status=0
CQRS_TEST_BINARY_TIMEOUT=soon "$ROOT/tools/test" unit >"$scratch/out" 2>&1 || status=$?
[ "$status" -ne 0 ] && grep -q "CQRS_TEST_BINARY_TIMEOUT" "$scratch/out" || fail "a limit that is not a number was taken"
echo "a hanging test was stopped at its limit, reported, and counted as failed"

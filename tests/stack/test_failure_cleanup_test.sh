# A failing test during tools/test still stops every process of its private stack, and the
# failure shows in the exit status and the summary line.
. "$(dirname "$0")/lib.sh"
scratch=$(mktemp -d /tmp/cqrs-stacktest.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cat >"$scratch/failing_test.sh" <<SCRIPT
echo "\$CQRS_STACK_DIR" >"$scratch/stack_dir"
echo "\$CQRS_REDIS_URL" >"$scratch/redis_url"
exit 1
SCRIPT
if CQRS_TEST_EXTRA_SCRIPT=$scratch/failing_test.sh "$ROOT/tools/test" unit >"$scratch/out" 2>&1; then
  fail "tools/test exited 0 although a test failed"
fi
tail -n 1 "$scratch/out" | grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed$' || fail "summary line does not count the failure"
dir=$(cat "$scratch/stack_dir")
redis_url=$(cat "$scratch/redis_url"); redis_port=${redis_url##*:}; redis_port=${redis_port%%/*}
[ -n "$dir" ] || fail "the failing test did not see the private stack"
left=$(leftovers "$dir" "$redis_port")
[ -z "$left" ] || fail "processes left behind: $left"
[ ! -d "$dir" ] || fail "scratch directory left behind"
echo "a failing test still stopped the private stack"

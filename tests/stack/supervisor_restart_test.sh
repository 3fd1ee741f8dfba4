# The dev stack's supervisor: an engine process killed with SIGKILL is started again (counted,
# `restarts=1` in its log, cqrs_process_restarts 1 in its metrics), and tools/run --stop still leaves no process behind.
. "$(dirname "$0")/lib.sh"
scratch=$(mktemp -d /tmp/cqrs-stacktest.XXXXXX)
export CQRS_RUN_STATE=$scratch/run.state CQRS_STACK_ENV=$scratch/stack.env CQRS_HTTP_PORT=18082
trap '"$ROOT/tools/run" --stop >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT

"$ROOT/tools/run" --detach 2>"$scratch/run.log" || { cat "$scratch/run.log"; fail "tools/run --detach failed"; }
. "$CQRS_STACK_ENV"
dir=$(cat "$CQRS_RUN_STATE")
redis_port=${CQRS_REDIS_URL##*:}; redis_port=${redis_port%%/*}

for name in projector relay gateway; do
  first=$(cat "$dir/engine/$name.child")
  kill -0 "$first" 2>/dev/null || fail "$name is not running"
  kill -KILL "$first"
  deadline=$((SECONDS + 30))
  until [ "$(cat "$dir/engine/$name.restarts" 2>/dev/null)" = 1 ] && [ -s "$dir/engine/$name.child" ] &&
    [ "$(cat "$dir/engine/$name.child")" != "$first" ] && kill -0 "$(cat "$dir/engine/$name.child")" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "$name was not started again: $(tail -3 "$dir/engine/$name.log")"
    sleep 0.1
  done
  grep -q 'restarts=1' "$dir/engine/$name.log" || fail "$name's log does not count the restart"
done
for name in projector relay; do
  deadline=$((SECONDS + 30))
  until grep -q '^cqrs_process_restarts 1$' "$dir/engine/$name.metrics" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "the restarted $name's metrics do not count the restart"
    sleep 0.1
  done
done
curl -sf -o /dev/null "$CQRS_HTTP_URL/healthz" || {
  deadline=$((SECONDS + 20))
  until curl -sf -o /dev/null "$CQRS_HTTP_URL/healthz"; do
    [ $SECONDS -lt $deadline ] || fail "the restarted gateway does not answer"
    sleep 0.1
  done
}
metrics=$(curl -sf "$CQRS_HTTP_URL/metrics") || fail "the restarted gateway's /metrics does not answer"
grep -q '^cqrs_process_restarts 1$' <<<"$metrics" || fail "the restarted gateway's metrics do not count the restart"

children=$(cat "$dir"/engine/*.child)
"$ROOT/tools/run" --stop 2>/dev/null || fail "tools/run --stop failed"
left=$(leftovers "$dir" "$redis_port")
[ -z "$left" ] || fail "processes left behind: $left"
# The gateway's command line does not name the directory: its pid must be gone all the same.
for pid in $children; do
  if kill -0 "$pid" 2>/dev/null; then fail "engine process $pid left behind"; fi
done
echo "killed engine processes were restarted, and the stop left nothing behind"

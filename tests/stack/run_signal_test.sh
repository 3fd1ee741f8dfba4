# Ctrl-C (SIGINT) or SIGTERM to a foreground tools/run stops every process it started, and
# tools/run exits 0: a requested stop is not a failure.
. "$(dirname "$0")/lib.sh"
scratch=$(mktemp -d /tmp/cqrs-stacktest.XXXXXX)
export CQRS_RUN_STATE=$scratch/run.state CQRS_STACK_ENV=$scratch/stack.env CQRS_HTTP_PORT=18081
trap '"$ROOT/tools/run" --stop >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT

for signal in INT TERM; do
  log=$scratch/run-$signal.log
  # A background job of a script starts with SIGINT ignored; restore it as a terminal would have it.
  env --default-signal=INT "$ROOT/tools/run" 2>"$log" &
  runner=$!
  # Its last word before waiting: from then on a signal stops the stack through its trap.
  wait_for_line "$log" "running; Ctrl-C stops everything" ||
    { cat "$log"; fail "tools/run did not come up"; }
  [ -s "$CQRS_STACK_ENV" ] || fail "tools/run wrote no stack.env"
  dir=$(cat "$CQRS_RUN_STATE")
  . "$CQRS_STACK_ENV"
  redis_port=${CQRS_REDIS_URL##*:}; redis_port=${redis_port%%/*}
  [ -n "$(pgrep -f -- "$dir")" ] || fail "no stack process found under $dir"
  kill -0 "$runner" 2>/dev/null || { cat "$log"; fail "tools/run exited before SIG$signal"; }
  kill -s "$signal" "$runner" || fail "cannot send SIG$signal to tools/run ($runner)"
  wait_for_exit "$runner" 120 || { cat "$log"; fail "tools/run still running 120 s after SIG$signal"; }
  status=0
  wait "$runner" || status=$?
  [ "$status" -eq 0 ] || { cat "$log"; fail "tools/run exited with status $status after SIG$signal, not 0"; }
  grep -qx "stopping" "$log" || { cat "$log"; fail "tools/run did not stop through its trap after SIG$signal"; }
  left=$(leftovers "$dir" "$redis_port")
  [ -z "$left" ] || fail "SIG$signal left processes behind: $left"
  [ ! -e "$CQRS_STACK_ENV" ] || fail "SIG$signal left stack.env behind"
  [ ! -e "$CQRS_RUN_STATE" ] || fail "SIG$signal left the run state file behind"
  [ ! -d "$dir" ] || fail "SIG$signal left $dir behind"
  echo "SIG$signal stopped everything"
done

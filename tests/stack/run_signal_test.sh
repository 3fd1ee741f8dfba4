# Ctrl-C (SIGINT) or SIGTERM to a foreground tools/run stops every process it started.
. "$(dirname "$0")/lib.sh"
scratch=$(mktemp -d /tmp/cqrs-stacktest.XXXXXX)
export CQRS_RUN_STATE=$scratch/run.state CQRS_STACK_ENV=$scratch/stack.env CQRS_HTTP_PORT=18081
trap '"$ROOT/tools/run" --stop >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT

for signal in INT TERM; do
  # A background job of a script starts with SIGINT ignored; restore it as a terminal would have it.
  env --default-signal=INT "$ROOT/tools/run" 2>"$scratch/run.log" &
  runner=$!
  wait_for_file "$CQRS_STACK_ENV" || { cat "$scratch/run.log"; fail "tools/run did not come up"; }
  dir=$(cat "$CQRS_RUN_STATE")
  . "$CQRS_STACK_ENV"
  redis_port=${CQRS_REDIS_URL##*:}; redis_port=${redis_port%%/*}
  [ -n "$(pgrep -f -- "$dir")" ] || fail "no stack process found under $dir"
  kill -s "$signal" "$runner"
  wait "$runner" || true
  left=$(leftovers "$dir" "$redis_port")
  [ -z "$left" ] || fail "SIG$signal left processes behind: $left"
  [ ! -e "$CQRS_STACK_ENV" ] || fail "SIG$signal left stack.env behind"
  echo "SIG$signal stopped everything"
done

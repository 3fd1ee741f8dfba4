# Helpers for the stack's script tests: each test is a bash script that exits non-zero on failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The private stack's settings must not steer the stack under test.
unset CQRS_PG_URL CQRS_REDIS_URL CQRS_KAFKA_BOOTSTRAP CQRS_KAFKA_TOPIC CQRS_HTTP_URL CQRS_STACK_DIR CQRS_JWT_SECRET

fail() { echo "FAIL: $*" >&2; exit 1; }

# Everything a stack started from DIR may leave behind: processes naming DIR, and its Redis.
leftovers() {
  local dir=$1 redis_port=$2
  pgrep -f -- "$dir" || true
  if [ -n "$redis_port" ] && redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
    echo "redis on $redis_port"
  fi
}

wait_for_file() {
  local file=$1 deadline=$((SECONDS + ${2:-120}))
  until [ -s "$file" ]; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# Waits until FILE has a line containing TEXT (fixed string), at most SECONDS (120).
wait_for_line() {
  local file=$1 text=$2 deadline=$((SECONDS + ${3:-120}))
  until grep -qF -- "$text" "$file" 2>/dev/null; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# Waits until process PID (a child of this shell) has exited, at most SECONDS (120); its status
# is then collected with `wait PID`.
wait_for_exit() {
  local pid=$1 deadline=$((SECONDS + ${2:-120}))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

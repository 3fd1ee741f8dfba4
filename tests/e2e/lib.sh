# Helpers for the e2e script tests: run through tools/test, which exports the private stack's
# CQRS_PG_URL, CQRS_REDIS_URL, CQRS_KAFKA_BOOTSTRAP and CQRS_KAFKA_TOPIC.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CQRS="${CQRS_BUILD_DIR:-$ROOT/build}/tools/cli/cqrs"
RUN=r$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')

fail() { echo "FAIL: $*" >&2; exit 1; }
: "${CQRS_PG_URL:?run through tools/test}"

# append STREAM TYPE SCHEMA_VERSION JSON: one event, through the store's own append function.
append() {
  psql -q -X -v ON_ERROR_STOP=1 "$CQRS_PG_URL" -c \
    "SELECT o_status FROM cqrs_append_events('$1', -1, ARRAY['$2'], ARRAY[$3], ARRAY[gen_random_uuid()],
       convert_to('$4', 'UTF8'), ARRAY[octet_length(convert_to('$4', 'UTF8'))], NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL)" >/dev/null
}

created() { append "$1" product.created 2 "{\"sku\":\"$2\",\"name\":\"Name $2\",\"description\":\"About $2\",\"price\":{\"amount_minor\":$3,\"currency\":\"EUR\"},\"initial_stock\":$4}"; }
restocked() { append "$1" product.restocked 1 "{\"quantity\":$2}"; }
reserved() { append "$1" product.stock_reserved 1 "{\"reservation_id\":\"$2\",\"quantity\":$3}"; }

# expect_status CODE COMMAND...: runs the command and checks its exit status.
expect_status() {
  local want=$1 got=0
  shift
  "$@" >/tmp/e2e.$RUN.out 2>/tmp/e2e.$RUN.err || got=$?
  [ "$got" -eq "$want" ] || { cat /tmp/e2e.$RUN.err >&2; fail "$* exited $got, expected $want"; }
}

# Events not yet applied, over every projection of this run's scope (`cqrs projections`, exact).
lag() { "$CQRS" projections | jq -s 'map(.lag_events) | add'; }

# The live models of this run's scope ($scope), one line per product, for comparing with a rebuild.
redis_digest() {
  local model key
  model=$(redis-cli -u "$CQRS_REDIS_URL" GET "cqrs:projection:product_detail_$scope:live")
  for key in $(redis-cli -u "$CQRS_REDIS_URL" --scan --pattern "$model:product:*" | sed "s/^$model://" | sort); do
    echo "$key $(redis-cli -u "$CQRS_REDIS_URL" HGETALL "$model:$key" | paste -sd' ')"
  done
}

pg_digest() {
  psql -X -A -t "$CQRS_PG_URL" -c "SELECT r.product_id, r.sku, r.on_hand, r.reserved, r.available, r.stream_version
    FROM product_catalog_rows r JOIN projection_live_models l
      ON l.projection = 'product_catalog_$scope' AND l.model = r.model ORDER BY r.product_id"
}

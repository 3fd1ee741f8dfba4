# Helpers for the tests of a scaled stack (tools/run --detach --scale ...): a steady mixed load
# through HAProxy, the faults, and the checks. Sourced by tests/scale/*_test.sh and by the short
# version in tests/stack; each test starts its own stack (private state file, stack.env, ports).
. "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh"
. "$ROOT/tools/lib/common.sh"

now_ms() { date +%s%3N; }

# start_scaled_stack SPEC [OPTION...]: tools/run --detach --scale SPEC OPTION... on a scratch state; sets scratch, dir,
# url (HAProxy) and auth; the stack stops when the test exits.
start_scaled_stack() {
  scratch=$(mktemp -d /tmp/cqrs-scaletest.XXXXXX)
  export CQRS_RUN_STATE=$scratch/run.state CQRS_STACK_ENV=$scratch/stack.env
  CQRS_HTTP_PORT=$(free_port); export CQRS_HTTP_PORT
  trap 'rm -f "$scratch/load.on"; "$ROOT/tools/run" --stop >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
  "$ROOT/tools/run" --detach --scale "$@" 2>"$scratch/run.log" || { tail -n 40 "$scratch/run.log"; fail "tools/run --detach --scale $* failed"; }
  dir=$(cat "$CQRS_RUN_STATE")
  url=$(setting CQRS_HTTP_URL)
  export CURL_CA_BUNDLE=$CQRS_DEV_CA
  auth="Authorization: Bearer $(set -a; . "$CQRS_STACK_ENV"; "$CQRS_BUILD_DIR/tools/cli/cqrs" token --sub scale --role admin)"
}

setting() { (. "$CQRS_STACK_ENV"; printenv "$1"); }
status_of() { "$ROOT/tools/run" --status | awk -v n="$1" '$1 == n { print $4 }'; }
child_of() { cat "$dir/engine/$1.child" 2>/dev/null; }
psql_value() { psql "$(setting CQRS_PG_URL)" -Atc "$1"; }

# create_products COUNT: that many new products, their ids in the array products.
create_products() {
  local i id
  products=()
  for i in $(seq 1 "$1"); do
    id=$(curl -s --max-time 10 "$url/v1/products" -H "$auth" -H 'Content-Type: application/json' \
      -d "{\"sku\":\"SCALE-$RANDOM-$i-$(now_ms)\",\"name\":\"Scale $i\",\"description\":\"\",\"price\":{\"amount\":100,\"currency\":\"EUR\"},\"stock\":0}" |
      jq -r .id)
    [ -n "$id" ] && [ "$id" != null ] || fail "could not create product $i"
    products+=("$id")
  done
}

# restock PRODUCT KEY: prints "<status> <position>" (000 and nothing: no answer).
restock() {
  curl -s --max-time 10 -w '\n%{http_code}' "$url/v1/products/$1/restock" -H "$auth" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: $2" -d '{"quantity":1}' |
    { read -r body; read -r code; echo "$code $(jq -r '.position // empty' <<<"$body" 2>/dev/null)"; }
}

# writer N: restocks random products while the load runs; a command without a 200 is sent again
# with its Idempotency-Key until it gets one (as a client must). Lines: "<ms> sent|retry <key> <product> <status>".
writer() {
  local n=$1 i=0 product key answer status position
  while [ -e "$scratch/load.on" ]; do
    product=${products[$((RANDOM % ${#products[@]}))]}
    key="scale-$n-$i"
    answer=$(restock "$product" "$key"); status=${answer%% *}
    echo "$(now_ms) sent $key $product $status" >>"$scratch/writes.$n"
    while [ "$status" != 200 ]; do
      sleep 0.2
      answer=$(restock "$product" "$key"); status=${answer%% *}
      echo "$(now_ms) retry $key $product $status" >>"$scratch/writes.$n"
    done
    position=${answer#* }
    # Read your write: the product as of the command's position.
    echo "$(now_ms) read - $product $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
      "$url/v1/products/$product?min_position=$position")" >>"$scratch/reads.$n"
    i=$((i + 1))
  done
}

# reader N: searches and lists (PostgreSQL read models, on the replica when it is up).
reader() {
  local n=$1
  while [ -e "$scratch/load.on" ]; do
    echo "$(now_ms) read - search $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/v1/products?limit=5")" \
      >>"$scratch/reads.r$n"
  done
}

start_load() {
  local writers=${1:-3} readers=${2:-1} n
  touch "$scratch/load.on"
  load_pids=()
  for n in $(seq 1 "$writers"); do writer "$n" & load_pids+=($!); done
  for n in $(seq 1 "$readers"); do reader "$n" & load_pids+=($!); done
}

stop_load() {
  rm -f "$scratch/load.on"
  wait "${load_pids[@]}"
}

# failures_between FROM_MS TO_MS: answers other than 200 in that window (writes' first sends and reads).
failures_between() {
  cat "$scratch"/writes.* "$scratch"/reads.* 2>/dev/null |
    awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 != "retry" && $5 != 200' | wc -l
}

# wait_until SECONDS CMD...: CMD succeeds within SECONDS, else false.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

gateway_ready() { curl -sf -o /dev/null "$(cat "$dir/engine/$1.address")/readyz"; }
# HAProxy counts the gateway as up again (its stats socket).
haproxy_sees_up() {
  echo "show stat" | python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect('$dir/haproxy/admin.sock'); s.sendall(b'show stat\n')
d=b''
while True:
  c=s.recv(65536)
  if not c: break
  d+=c
for l in d.decode().splitlines():
  f=l.split(',')
  if len(f)>17 and f[0]=='gateways' and f[1]=='$1': sys.exit(0 if f[17]=='UP' else 1)
sys.exit(1)"
}

# replica_state GATEWAY: the gateway's cqrs_read_replica_state (0 replica, 1 returning, 2 primary).
replica_state() {
  curl -s "$(cat "$dir/engine/$1.address")/metrics" | awk '/^cqrs_read_replica_state / {print $2}'
}
bypassed_reads() {
  curl -s "$(cat "$dir/engine/$1.address")/metrics" | awk '/^cqrs_read_replica_bypassed_reads_total / {print $2}'
}

leading_relay() { "$ROOT/tools/run" --status | awk '$1 ~ /^relay-/ && $4 == "leader" { print $1 }'; }

# catalog_digest: md5 of the live PostgreSQL catalog model, row by row.
catalog_digest() {
  psql_value "SELECT md5(coalesce(string_agg(concat_ws('|', r.product_id, r.sku, r.name, r.description, r.price_minor,
                r.currency, r.on_hand, r.reserved, r.discontinued, r.stream_version), E'\n' ORDER BY r.product_id), ''))
              FROM product_catalog_rows r JOIN projection_live_models l ON l.projection = 'product_catalog' AND l.model = r.model"
}
# detail_digest: md5 of the live Redis product-detail model (every product's hash, fields sorted).
detail_digest() {
  local port model id
  port=$(setting CQRS_REDIS_URL); port=${port##*:}; port=${port%%/*}
  model=$(redis-cli -p "$port" get cqrs:projection:product_detail:live)
  for id in $(psql_value "SELECT DISTINCT substr(stream_id, 9) FROM events WHERE category = 'product' ORDER BY 1"); do
    echo "$id $(redis-cli -p "$port" hgetall "${model:-product_detail.v1.initial}:product:$id" | paste - - | sort | tr '\n' ' ')"
  done | md5sum | cut -d' ' -f1
}

# models_caught_up: every product's on_hand in the catalog equals its restocks in the store.
models_caught_up() {
  [ "$(psql_value "SELECT count(*) FROM (SELECT substr(e.stream_id, 9) id, count(*) FILTER (WHERE e.event_type = 'product.restocked') n
        FROM events e WHERE e.category = 'product' GROUP BY 1) s
        LEFT JOIN (product_catalog_rows r JOIN projection_live_models l ON l.projection = 'product_catalog' AND l.model = r.model)
        ON r.product_id = s.id WHERE r.on_hand IS DISTINCT FROM s.n")" = 0 ]
}

# prometheus_scrapes_all: Prometheus (--with-prometheus) scrapes every URL of CQRS_METRICS_URLS, all up.
prometheus_scrapes_all() {
  local up
  up=$(curl -s "$(setting CQRS_PROMETHEUS_URL)/api/v1/targets" | jq '[.data.activeTargets[] | select(.health == "up")] | length')
  [ "$up" = "$(setting CQRS_METRICS_URLS | tr ',' '\n' | wc -l)" ]
}

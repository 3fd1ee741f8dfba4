# Helpers for the tests of a scaled stack (tools/run --detach --scale ...): a steady mixed load
# through HAProxy, the faults, and the checks. Sourced by tests/scale/*_test.sh and by the short
# version in tests/stack; each test starts its own stack (private state file, stack.env, ports).
. "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh"
. "$ROOT/tools/lib/common.sh"

now_ms() { date +%s%3N; }

# start_scaled_stack SPEC [OPTION...]: tools/run --detach --scale SPEC OPTION... on a scratch state; sets scratch, dir,
# url (HAProxy) and auth; the stack stops when the test exits. CQRS_SCALE_KEEP_LOGS=DIR keeps the
# processes' logs and the load's records of the run in DIR/<test>.<time> (to trace a rare failure).
start_scaled_stack() {
  scratch=$(mktemp -d /tmp/cqrs-scaletest.XXXXXX)
  export CQRS_RUN_STATE=$scratch/run.state CQRS_STACK_ENV=$scratch/stack.env
  CQRS_HTTP_PORT=$(free_port); export CQRS_HTTP_PORT
  trap 'rm -f "$scratch/load.on"; keep_logs; "$ROOT/tools/run" --stop >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
  "$ROOT/tools/run" --detach --scale "$@" 2>"$scratch/run.log" || { tail -n 40 "$scratch/run.log"; fail "tools/run --detach --scale $* failed"; }
  dir=$(cat "$CQRS_RUN_STATE")
  url=$(setting CQRS_HTTP_URL)
  export CURL_CA_BUNDLE=$CQRS_DEV_CA
  auth="Authorization: Bearer $(set -a; . "$CQRS_STACK_ENV"; "$CQRS_BUILD_DIR/tools/cli/cqrs" token --sub scale --role admin)"
}

keep_logs() {
  [ -n "${CQRS_SCALE_KEEP_LOGS:-}" ] || return 0
  local kept
  kept="$CQRS_SCALE_KEEP_LOGS/$(basename "$0" .sh).$(date -u +%Y%m%dT%H%M%S)"
  mkdir -p "$kept"
  cp "$scratch"/writes.* "$scratch"/reads.* "$scratch"/orders.* "$kept/" 2>/dev/null || true
  if [ -n "${dir:-}" ]; then cp "$dir"/engine/*.log "$kept/" 2>/dev/null || true; fi
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

# answer_fields BODY: "<position> <problem code>" of an answer's JSON body, each - when absent.
answer_fields() {
  local fields
  fields=$(jq -r '"\(.position // "-") \(.code // "-")"' <<<"$1" 2>/dev/null || true)
  echo "${fields:-- -}"
}

# restock PRODUCT KEY: prints "<status> <position> <problem code>" (000 - -: no answer).
restock() {
  curl -s --max-time 10 -w '\n%{http_code}' "$url/v1/products/$1/restock" -H "$auth" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: $2" -d '{"quantity":1}' |
    { read -r body; read -r code; echo "$code $(answer_fields "$body")"; }
}

# get_answer URL: prints "<status> <problem code>" of a GET through HAProxy (000 -: no answer).
get_answer() {
  curl -s --max-time 10 -w '\n%{http_code}' "$1" |
    { read -r body; read -r code; fields=$(answer_fields "$body"); echo "$code ${fields#* }"; }
}

# writer N: restocks random products while the load runs; a command without a 200 is sent again
# with its Idempotency-Key until it gets one (as a client must). Lines:
# "<ms> sent|retry <key> <product> <status> <problem code>", reads "<ms> read - <product> <status> <problem code>".
writer() {
  local n=$1 i=0 product key answer status position
  while [ -e "$scratch/load.on" ]; do
    product=${products[$((RANDOM % ${#products[@]}))]}
    key="scale-$n-$i"
    answer=$(restock "$product" "$key"); status=${answer%% *}
    echo "$(now_ms) sent $key $product $status ${answer##* }" >>"$scratch/writes.$n"
    while [ "$status" != 200 ]; do
      sleep 0.2
      answer=$(restock "$product" "$key"); status=${answer%% *}
      echo "$(now_ms) retry $key $product $status ${answer##* }" >>"$scratch/writes.$n"
    done
    position=$(cut -d' ' -f2 <<<"$answer")
    # Read your write: the product as of the command's position.
    echo "$(now_ms) read - $product $(get_answer "$url/v1/products/$product?min_position=$position")" >>"$scratch/reads.$n"
    i=$((i + 1))
  done
}

# create_order_products COUNT: that many products with ample stock for the orders, ids in order_products
# (apart from the restocked ones, whose stock the restocks alone make).
create_order_products() {
  local i id
  order_products=()
  for i in $(seq 1 "$1"); do
    id=$(curl -s --max-time 10 "$url/v1/products" -H "$auth" -H 'Content-Type: application/json' \
      -d "{\"sku\":\"SCALE-ORD-$RANDOM-$i-$(now_ms)\",\"name\":\"Scale order $i\",\"description\":\"\",\"price\":{\"amount\":250,\"currency\":\"EUR\"},\"stock\":100000}" |
      jq -r .id)
    [ -n "$id" ] && [ "$id" != null ] || fail "could not create order product $i"
    order_products+=("$id")
  done
}

# register_customers COUNT: that many customers registered (POST /v1/users) and signed in
# (POST /v1/auth/login), their access tokens in the array customer_tokens.
register_customers() {
  local i email password token
  customer_tokens=()
  for i in $(seq 1 "$1"); do
    email="scale-$i-$RANDOM-$(now_ms)@example.com"
    password="scale customer password $i"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/v1/users" -H 'Content-Type: application/json' \
      -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Scale Customer $i\"}")" = 201 ] ||
      fail "could not register customer $i"
    token=$(curl -s --max-time 10 "$url/v1/auth/login" -H 'Content-Type: application/json' \
      -d "{\"email\":\"$email\",\"password\":\"$password\"}" | jq -r .access_token)
    [ -n "$token" ] && [ "$token" != null ] || fail "customer $i could not sign in"
    customer_tokens+=("$token")
  done
}

# place_order TOKEN PRODUCT KEY: POST /v1/orders (one line, card tok_ok); prints
# "<status> <order id> <problem code>" (000 - -: no answer).
place_order() {
  curl -s --max-time 10 -w '\n%{http_code}' "$url/v1/orders" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: $3" \
    -d "{\"lines\":[{\"product_id\":\"$2\",\"quantity\":1}],\"shipping_address\":{\"line1\":\"1 Main Street\",\"city\":\"Springfield\",\"postal_code\":\"12345\",\"country\":\"US\"},\"payment\":{\"card_token\":\"tok_ok\"}}" |
    { read -r body; read -r code; fields=$(jq -r '"\(.id // "-") \(.code // "-")"' <<<"$body" 2>/dev/null || true)
      echo "$code ${fields:-- -}"; }
}

# orderer N: customer N places one-line orders while the load runs; an order without a 202 is sent
# again with its Idempotency-Key until it gets one (the same key names the same order).
# Lines in orders.N: "<ms> sent|retry <key> <order id> <status> <problem code>".
orderer() {
  local n=$1 i=0 token=${customer_tokens[$((($1 - 1) % ${#customer_tokens[@]}))]} product key answer status tries
  while [ -e "$scratch/load.on" ]; do
    product=${order_products[$((RANDOM % ${#order_products[@]}))]}
    key="scale-order-$n-$i"
    answer=$(place_order "$token" "$product" "$key"); status=${answer%% *}
    echo "$(now_ms) sent $key $(cut -d' ' -f2 <<<"$answer") $status ${answer##* }" >>"$scratch/orders.$n"
    tries=1
    while [ "$status" != 202 ] && [ $tries -lt 100 ]; do
      sleep 0.2
      answer=$(place_order "$token" "$product" "$key"); status=${answer%% *}
      echo "$(now_ms) retry $key $(cut -d' ' -f2 <<<"$answer") $status ${answer##* }" >>"$scratch/orders.$n"
      tries=$((tries + 1))
    done
    i=$((i + 1))
    sleep 0.2
  done
}

# reader N: searches and lists (PostgreSQL read models, on the replica when it is up).
reader() {
  local n=$1
  while [ -e "$scratch/load.on" ]; do
    echo "$(now_ms) read - search $(get_answer "$url/v1/products?limit=5")" >>"$scratch/reads.r$n"
  done
}

# settle_projectors [SECONDS]: waits until the projectors' consumer group has settled after the
# start, so that the load meets a stack whose partitions have their owners. Joining members make the
# group rebalance (each join waits up to the session timeout, 6 s) and no partition is consumed
# meanwhile, so a min_position read answers 503 not_yet_consistent after its 2 s wait. Probes (a
# restock of a product of their own, read back with its min_position) must answer 200 for SECONDS
# (8, beyond the session timeout) in a row; 90 s at most. Sets probe_product, and settle_s: how long it took.
settle_projectors() {
  local stable_for=${1:-8} started=$SECONDS stable_since=$SECONDS i=0 answer position
  probe_product=$(curl -s --max-time 10 "$url/v1/products" -H "$auth" -H 'Content-Type: application/json' \
    -d "{\"sku\":\"SCALE-PROBE-$RANDOM-$(now_ms)\",\"name\":\"Scale probe\",\"description\":\"\",\"price\":{\"amount\":100,\"currency\":\"EUR\"},\"stock\":0}" |
    jq -r .id)
  [ -n "$probe_product" ] && [ "$probe_product" != null ] || fail "could not create the probe product"
  while [ $((SECONDS - stable_since)) -lt "$stable_for" ]; do
    [ $((SECONDS - started)) -lt 90 ] || fail "the projectors' group did not settle within 90 s"
    answer=$(restock "$probe_product" "scale-probe-$i-$(now_ms)")
    i=$((i + 1))
    position=$(cut -d' ' -f2 <<<"$answer")
    if [ "${answer%% *}" != 200 ] ||
      [ "$(get_answer "$url/v1/products/$probe_product?min_position=$position" | cut -d' ' -f1)" != 200 ]; then
      stable_since=$SECONDS
    fi
    sleep 0.2
  done
  settle_s=$((SECONDS - started))
}

# start_load [WRITERS [READERS [ORDERERS]]]: orderers need register_customers and create_order_products first.
start_load() {
  local writers=${1:-3} readers=${2:-1} orderers=${3:-0} n
  touch "$scratch/load.on"
  load_pids=()
  for n in $(seq 1 "$writers"); do writer "$n" & load_pids+=($!); done
  for n in $(seq 1 "$readers"); do reader "$n" & load_pids+=($!); done
  for n in $(seq 1 "$orderers"); do orderer "$n" & load_pids+=($!); done
}

stop_load() {
  rm -f "$scratch/load.on"
  wait "${load_pids[@]}"
}

# failures_between FROM_MS TO_MS: requests that failed in that window (first sends of restocks and
# orders, and reads): any answer but 200 (202 for orders), except 503 not_yet_consistent, a
# min_position wait that outlasted the projectors' catch-up (the read model's answer, whichever
# gateway gives it; a client retries after Retry-After), counted by consistency_waits_between.
failures_between() {
  cat "$scratch"/writes.* "$scratch"/reads.* "$scratch"/orders.* 2>/dev/null |
    awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 != "retry" && $5 != 200 && $5 != 202 && $6 != "not_yet_consistent"' | wc -l
}
# consistency_waits_between FROM_MS TO_MS: min_position reads answered 503 not_yet_consistent then.
consistency_waits_between() {
  cat "$scratch"/reads.* 2>/dev/null | awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $6 == "not_yet_consistent"' | wc -l
}

# show_failures FROM_MS TO_MS: on stderr, the failed answers of that window and what HAProxy logged
# about them (requests not answered 2xx, retries, servers going down or up), to trace a failure.
show_failures() {
  {
    echo "--- failed answers between $1 and $2 (ms)"
    cat "$scratch"/writes.* "$scratch"/reads.* "$scratch"/orders.* 2>/dev/null |
      awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 != "retry" && $5 != 200 && $5 != 202'
    echo "--- HAProxy: answers other than 2xx, and servers' states"
    awk '$3 ~ /^api/ { split($11, c, "/"); if ($6 !~ /^2/ || c[5] != 0) print; next } !/^\[/' \
      "$dir/engine/haproxy.log" 2>/dev/null | tail -n 60
  } >&2
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

redis_port() { local port; port=$(setting CQRS_REDIS_URL); port=${port##*:}; echo "${port%%/*}"; }
# live_redis_model PROJECTION: the key prefix of a Redis projection's live model.
live_redis_model() {
  local model
  model=$(redis-cli -p "$(redis_port)" get "cqrs:projection:$1:live")
  echo "${model:-$1.v1.initial}"
}
# stream_ids CATEGORY: the ids of every stream of CATEGORY in the store (the stream name after `CATEGORY-`).
stream_ids() {
  psql_value "SELECT DISTINCT substr(stream_id, length('$1') + 2) FROM events WHERE category = '$1' ORDER BY 1"
}

# catalog_digest: md5 of the live PostgreSQL catalog model, row by row.
catalog_digest() {
  psql_value "SELECT md5(coalesce(string_agg(concat_ws('|', r.product_id, r.sku, r.name, r.description, r.price_minor,
                r.currency, r.on_hand, r.reserved, r.discontinued, r.stream_version), E'\n' ORDER BY r.product_id), ''))
              FROM product_catalog_rows r JOIN projection_live_models l ON l.projection = 'product_catalog' AND l.model = r.model"
}
# order_list_digest: md5 of the live PostgreSQL order list, each row as JSON without its model's name.
order_list_digest() {
  psql_value "SELECT md5(coalesce(string_agg((to_jsonb(r) - 'model')::text, E'\n' ORDER BY r.order_id), ''))
              FROM order_list_rows r JOIN projection_live_models l ON l.projection = 'order_list' AND l.model = r.model"
}
# redis_digest PROJECTION CATEGORY: md5 of a live Redis model that keeps one hash `CATEGORY:<id>`
# per stream of CATEGORY (every stream in the store, its fields sorted).
redis_digest() {
  local port model id
  port=$(redis_port)
  model=$(live_redis_model "$1")
  for id in $(stream_ids "$2"); do
    echo "$id $(redis-cli -p "$port" hgetall "$model:$2:$id" | paste - - | sort | tr '\n' ' ')"
  done | md5sum | cut -d' ' -f1
}
# detail_digest: md5 of the live Redis product-detail model (every product's hash, fields sorted).
detail_digest() { redis_digest product_detail product; }
# model_digests: "<model> <digest>" for every read model the suite compares with a fresh rebuild.
model_digests() {
  echo "catalog $(catalog_digest)"
  echo "detail $(detail_digest)"
  echo "order_list $(order_list_digest)"
  echo "order_detail $(redis_digest order_detail order)"
  echo "order_payment $(redis_digest order_payment payment)"
}

# pg_caught_up TABLE PROJECTION ID_COLUMN CATEGORY: every stream of CATEGORY has its last version
# in the live rows of TABLE (column stream_version).
pg_caught_up() {
  [ "$(psql_value "SELECT count(*) FROM (SELECT substr(e.stream_id, length('$4') + 2) id, max(e.stream_version) v
        FROM events e WHERE e.category = '$4' GROUP BY 1) s
        LEFT JOIN ($1 r JOIN projection_live_models l ON l.projection = '$2' AND l.model = r.model)
        ON r.$3 = s.id WHERE r.stream_version IS DISTINCT FROM s.v")" = 0 ]
}
# redis_caught_up PROJECTION CATEGORY: every stream of CATEGORY has its last version in the live
# model's hash (field version).
redis_caught_up() {
  local model
  model=$(live_redis_model "$1")
  psql_value "SELECT substr(stream_id, length('$2') + 2) || ' ' || max(stream_version) FROM events
              WHERE category = '$2' GROUP BY stream_id ORDER BY stream_id" >"$scratch/versions.$1"
  paste -d' ' <(cut -d' ' -f2 "$scratch/versions.$1") \
    <(awk -v m="$model" -v c="$2" '{ print "HGET " m ":" c ":" $1 " version" }' "$scratch/versions.$1" |
      redis-cli -p "$(redis_port)") |
    awk '$1 != $2 { bad++ } END { exit bad > 0 }'
}
# models_caught_up: every live model the digests cover has applied the last version of every stream.
models_caught_up() {
  pg_caught_up product_catalog_rows product_catalog product_id product &&
    pg_caught_up order_list_rows order_list order_id order &&
    redis_caught_up order_detail order && redis_caught_up order_payment payment
}

# Orders ----------------------------------------------------------------------------------------

# acked_orders: the ids of the orders placed with a 202, one a line.
acked_orders() { cat "$scratch"/orders.* 2>/dev/null | awk '$5 == 202 { print $4 }' | sort -u; }
# orders_stored: orders placed in the store.
orders_stored() { psql_value "SELECT count(*) FROM events WHERE event_type = 'order.placed'"; }
# orders_in_terminal_state: orders whose stream has ended (paid, or any way an order stops short of it).
orders_in_terminal_state() {
  psql_value "SELECT count(DISTINCT stream_id) FROM events WHERE category = 'order' AND event_type IN
              ('order.paid', 'order.rejected', 'order.payment_failed', 'order.expired', 'order.cancelled')"
}
orders_settled() { [ "$(orders_in_terminal_state)" = "$(orders_stored)" ]; }
# orders_by_status: "<status>:<count>," of the live order list.
orders_by_status() {
  psql_value "SELECT string_agg(status || ':' || n, ',' ORDER BY status) FROM (SELECT status, count(*) n
              FROM order_list_rows r JOIN projection_live_models l ON l.projection = 'order_list' AND l.model = r.model
              GROUP BY status) s"
}

# prometheus_scrapes_all: Prometheus (--with-prometheus) scrapes every URL of CQRS_METRICS_URLS, all up.
prometheus_scrapes_all() {
  local up
  up=$(curl -s "$(setting CQRS_PROMETHEUS_URL)/api/v1/targets" | jq '[.data.activeTargets[] | select(.health == "up")] | length')
  [ "$up" = "$(setting CQRS_METRICS_URLS | tr ',' '\n' | wc -l)" ]
}

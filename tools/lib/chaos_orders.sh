#!/usr/bin/env bash
# The order fault run (`tools/chaos orders`): orders placed against a private stack while the card
# processor loses answers after charging, answers late and hangs at random; then the same with
# kill -9 of the saga process (cqrs-processes) and of the gateway at random moments (the stack's
# supervisor starts them again). Every order is then audited (tests/support/orders_audit.sh).
#
#   tools/chaos orders [--orders N] [--seed S] [--clients C] [--kills K] [--payment-timeout-ms T]
#                      [--phases faults,kills] [--keep]
#
#   --orders N              orders per phase (100)
#   --clients C             customers placing orders at once (4)
#   --kills K               kill -9 of each of cqrs-processes and the gateway in the second phase (3)
#   --payment-timeout-ms T  CQRS_ORDER_PAYMENT_TIMEOUT of the stack (30000)
#   --phases LIST           the phases to run, in order (faults,kills); `kills` alone is the short
#                           round of tools/test (provider faults and kills together)
#   --seed S                the run's draws (orders, faults, kill moments) and the provider's
#
# Each customer places its orders one after the other, a random 0-0.8 s apart, as a real client
# does: a POST that got no answer (or a 5xx) is sent again with the same Idempotency-Key, 0.5 s
# later, then 1, 2 and 4 s apart, until it is answered 202. Figures on stdout, per phase
# (`faults`, then `kills`), as `CHAOS orders.<phase>.<key> <value>`:
#
#   orders, paid, payment_failed, rejected, expired   orders placed, and in each final status
#   declined_cards                orders placed with a declining card token
#   not_settled                   orders not settled within the bound (violation)
#   captured_per_paid_max         most captured charges of one paid order (1)
#   ledger_violations             paid orders without exactly one captured charge, other orders
#                                 with one, authorizations left open (violation)
#   conservation_violations       products whose stock does not add up (violation)
#   reservations_left             reservations still open for a settled order (violation)
#   commit_mismatches             committed quantities that are not a paid order's lines (violation)
#   post_retries                  placements sent again for want of an answer
#   payment_request_late          orders whose payment request was stored over 2 s after the order
#                                 (the gateway died between the two; the client's retry sent it)
#   payment_request_missing       orders without a payment request (they end `expired`)
#   terminal_max_s                longest time from an order's first POST to its final status
#   terminal_bound_s              the bound that time must stay under (docs/robustness.md)
#
# and for the second phase `kills_processes` and `kills_gateway`. Exit status 0 when no phase has
# a violation and every order settled within the bound.
set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

orders=100
clients=4
kills=3
payment_timeout_ms=30000
phases=faults,kills
seed=$RANDOM
keep=0

usage() { sed -n '7,38p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case $1 in
    --orders) orders=${2:-}; shift 2 ;;
    --clients) clients=${2:-}; shift 2 ;;
    --kills) kills=${2:-}; shift 2 ;;
    --payment-timeout-ms) payment_timeout_ms=${2:-}; shift 2 ;;
    --seed) seed=${2:-}; shift 2 ;;
    --phases) phases=${2:-}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) say "tools/chaos orders: unknown argument '$1' (try --help)"; exit 2 ;;
  esac
done
for value in "$orders" "$clients" "$kills" "$payment_timeout_ms" "$seed"; do
  [[ $value =~ ^[0-9]+$ ]] || { say "tools/chaos orders: --orders, --clients, --kills, --payment-timeout-ms and --seed take whole numbers, got '$value'"; exit 2; }
done
[ "$orders" -ge 1 ] && [ "$clients" -ge 1 ] || { say "tools/chaos orders: --orders and --clients must be at least 1"; exit 2; }
[[ $phases =~ ^(faults|kills)(,(faults|kills))*$ ]] || { say "tools/chaos orders: --phases takes faults and/or kills, comma-separated, got '$phases'"; exit 2; }
[ "$payment_timeout_ms" -ge 1000 ] || { say "tools/chaos orders: --payment-timeout-ms must be at least 1000"; exit 2; }
RANDOM=$seed

# The bound on the time from an order's first POST to its final status, in seconds. The payment
# deadline, plus a saga action interrupted by a kill: its lease (CQRS_PROCESSES_LEASE_MS, 30 s)
# runs out before it is taken again, plus the supervisor's restart delays and the consumer group's
# rebalance (30 s together at most for the kills made here), plus the placement's own retries
# while the gateway is down (15 s).
lease_s=30
terminal_bound_s=$((payment_timeout_ms / 1000 + lease_s + 30 + 15))

ensure_packages
ensure_build
unset CQRS_PG_PORT CQRS_REDIS_PORT CQRS_PG_URL CQRS_REDIS_URL CQRS_KAFKA_BOOTSTRAP CQRS_HTTP_URL
unset CQRS_HTTP_PORT CQRS_JWT_SECRET

dir=$(mktemp -d /tmp/cqrs-chaos-orders.XXXXXX)
chmod 755 "$dir"
cleanup() {
  rm -f "$dir/kills.on"
  stop_stack "$dir"
  if [ "$keep" -eq 1 ]; then say "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
settings() { (. "$dir/stack.env"; printenv "$1"); }

start_stack "$dir" fast
write_setting "$dir" CQRS_ORDER_PAYMENT_TIMEOUT "$payment_timeout_ms"
write_setting "$dir" CQRS_PROCESSES_LEASE_MS $((lease_s * 1000))
# Each saga worker blocks on one call to the card processor at a time (up to 15 s of attempts when
# it hangs): eight of them keep 100 orders under faults moving.
write_setting "$dir" CQRS_PROCESSES_WORKERS 8
write_setting "$dir" CQRS_PAYMENT_PROVIDER_SEED "$seed"
start_engine "$dir"
url=$(settings CQRS_HTTP_URL)
provider=$(settings CQRS_PAYMENT_PROVIDER_URL)
cqrs() { (. "$dir/stack.env"; "$CQRS_BUILD_DIR/tools/cli/cqrs" "$@"); }
admin="Authorization: Bearer $(cqrs token --sub chaos-orders --role admin)"
say "chaos orders: stack in $dir, seed $seed, $orders orders a phase, $clients customers"

# --- the catalog --------------------------------------------------------------------------------

products=8
: >"$dir/products"
for i in $(seq 1 "$products"); do
  body=$(printf '{"sku":"ORDCHAOS-%d-%d","name":"Chaos %d","description":"","price":{"amount":%d,"currency":"EUR"},"stock":%d}' \
    "$seed" "$i" "$i" $((100 * i)) $((orders / 2 + 10)))
  id=$(curl -s --max-time 10 "$url/v1/products" -H "$admin" -H 'Content-Type: application/json' -d "$body" | jq -r .id)
  [ -n "$id" ] && [ "$id" != null ] || die "could not create the chaos products"
  echo "$id" >>"$dir/products"
done
mapfile -t product_ids <"$dir/products"

# --- the customers ------------------------------------------------------------------------------

# order_body: into `body` and `card` (not printed: a command substitution's subshell draws from a
# seed of its own, and the run's orders must follow --seed), 1 or 2 lines of 1-3 units and a card
# token: mostly approved, some pending (settled by the webhook), some declined.
order_body() {
  local lines="" n=$((1 + RANDOM % 2)) i first=$((RANDOM % products))
  for i in $(seq 0 $((n - 1))); do  # distinct products: an order names a product once
    lines+="${lines:+,}{\"product_id\":\"${product_ids[$(( (first + i) % products ))]}\",\"quantity\":$((1 + RANDOM % 3))}"
  done
  case $((RANDOM % 10)) in
    0) card=tok_pending ;;
    1) card=tok_decline ;;
    2) card=tok_insufficient_funds ;;
    *) card=tok_ok ;;
  esac
  body=$(printf '{"lines":[%s],"shipping_address":{"line1":"1 Main Street","city":"Springfield","postal_code":"12345","country":"US"},"payment":{"card_token":"%s"}}' \
    "$lines" "$card")
}

# place TOKEN KEY BODY: one POST; prints the status and the order's id ("000 -": no answer).
place() {
  local answer
  answer=$(curl -s --max-time 10 -w '\n%{http_code}' "$url/v1/orders" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: $2" -d "$3")
  printf '%s %s\n' "$(tail -n 1 <<<"$answer")" "$(head -n -1 <<<"$answer" | jq -r '.id // "-"' 2>/dev/null || echo -)"
}

# customer PHASE N COUNT: COUNT orders, one line each in DIR/PHASE.placed.N:
# "<key> <first attempt ms> <status> <order id> <attempts> <card token>".
customer() {
  local phase=$1 n=$2 count=$3 i key body card first status id attempts delay token
  token=$(cqrs token --sub "chaos-orders-$seed-$phase-$n" --role customer)
  RANDOM=$((seed + n * 7919 + ${#phase}))
  for i in $(seq 1 "$count"); do
    key="chaos-orders-$seed-$phase-$n-$i"
    order_body
    first=$(now_ms)
    attempts=0
    delay=0.5
    while :; do
      attempts=$((attempts + 1))
      read -r status id < <(place "$token" "$key" "$body")
      [ "$status" = 202 ] && break
      case $status in 000|5*) ;; *) break ;; esac
      [ $(( $(now_ms) - first )) -ge 120000 ] && break
      sleep "$delay"
      case $delay in 0.5) delay=1 ;; 1) delay=2 ;; *) delay=4 ;; esac
    done
    echo "$key $first $status $id $attempts $card" >>"$dir/$phase.placed.$n"
    # Every fifth order, a restock of a product (conservation counts what the store took).
    [ $((i % 5)) -eq 0 ] && curl -s -o /dev/null --max-time 10 "$url/v1/products/${product_ids[$((RANDOM % products))]}/restock" \
      -H "$admin" -H 'Content-Type: application/json' -H "Idempotency-Key: $key-restock" -d '{"quantity":5}'
    sleep "0.$((RANDOM % 9))"
  done
}

# --- the faults ---------------------------------------------------------------------------------

provider_faults() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT "$provider/_admin/faults" \
    -H 'Content-Type: application/json' -d "$1"
}

kill_engine() {
  kill -KILL "$(cat "$dir/engine/$1.child" 2>/dev/null)" 2>/dev/null && echo "$1 $(now_ms)" >>"$dir/kills"
}

# killer COUNT: COUNT kills of each of cqrs-processes and the gateway, in a random order, 2-7 s
# apart, while the flag DIR/kills.on is there.
killer() {
  local victims=() i
  for i in $(seq 1 "$1"); do victims+=(processes gateway); done
  RANDOM=$((seed + 17))
  while [ ${#victims[@]} -gt 0 ] && [ -e "$dir/kills.on" ]; do
    sleep "$((2 + RANDOM % 5)).$((RANDOM % 10))"
    [ -e "$dir/kills.on" ] || break
    i=$((RANDOM % ${#victims[@]}))
    say "chaos orders: kill -9 ${victims[$i]}"
    kill_engine "${victims[$i]}"
    victims=("${victims[@]:0:$i}" "${victims[@]:$((i + 1))}")
  done
}

# --- a phase ------------------------------------------------------------------------------------

# phase NAME KILLS: the orders of the phase placed by the customers (and the kills made), then
# audited within the bound; figures printed. Returns 1 on a violation.
phase() {
  local name=$1 with_kills=$2 n pids=() per=$(( (orders + clients - 1) / clients )) left=$orders killer_pid=
  say "chaos orders: phase $name"
  if [ "$with_kills" -gt 0 ]; then
    touch "$dir/kills.on"
    killer "$with_kills" &
    killer_pid=$!
  fi
  for n in $(seq 1 "$clients"); do
    [ "$left" -gt 0 ] || break
    customer "$name" "$n" $((left < per ? left : per)) &
    pids+=($!)
    left=$((left - per))
  done
  wait "${pids[@]}"
  if [ -n "$killer_pid" ]; then
    # Kills not made while orders were placed are made during their settling.
    wait "$killer_pid"
    rm -f "$dir/kills.on"
  fi
  cat "$dir/$name".placed.* >"$dir/$name.placed"
  awk '$3 == 202 { print $4 }' "$dir/$name.placed" >"$dir/$name.orders"
  local unanswered
  unanswered=$(awk '$3 != 202' "$dir/$name.placed" | wc -l)
  [ "$unanswered" -eq 0 ] || say "chaos orders: $unanswered placements never answered 202: $(awk '$3 != 202' "$dir/$name.placed" | head -3)"
  local started_ms
  started_ms=$(awk 'NR == 1 || $2 < m { m = $2 } END { print m }' "$dir/$name.placed")
  # The audit waits until every order settled, at most the bound after the last order's first POST.
  local last_first wait_s
  last_first=$(awk '$2 > m { m = $2 } END { print m }' "$dir/$name.placed")
  wait_s=$(( terminal_bound_s - ($(now_ms) - last_first) / 1000 ))
  [ "$wait_s" -gt 0 ] || wait_s=1
  "$CQRS_ROOT/tests/support/orders_audit.sh" --env "$dir/stack.env" --orders "$dir/$name.orders" --wait "$wait_s" \
    --details "$dir/$name.details" >"$dir/$name.audit" 2>"$dir/$name.violations"
  local audit_status=$?
  curl -s --max-time 10 "$provider/_admin/ledger" >"$dir/$name.ledger"
  [ -s "$dir/$name.violations" ] && cat "$dir/$name.violations" >&2
  figures "$name" "$unanswered"
  [ "$audit_status" -eq 0 ] && [ "$unanswered" -eq 0 ] && [ "$(terminal_max_s "$name")" != over ]
}

audit_figure() { awk -v k="$2" '$2 == k { print $3; found = 1 } END { if (!found) print 0 }' "$dir/$1.audit"; }

# The longest time from an order's first POST to its final status, in seconds ("over" past the
# bound or never settled).
terminal_max_s() {
  awk -v bound="$terminal_bound_s" '
    FNR == NR { first[$4] = $2; next }
    { if ($4 == 0) never = 1; else { d = ($4 - first[$1]) / 1000; if (d > m) m = d } }
    END { if (never || m > bound) print "over"; else printf "%.1f\n", m }' "$dir/$1.placed" "$dir/$1.details"
}

payment_requests() {
  psql "$(settings CQRS_PG_URL)" -X -qAt -F ' ' -c "
    SELECT o.id, coalesce((extract(epoch FROM p.recorded_at - o.recorded_at) * 1000)::bigint, -1)
      FROM (SELECT substr(stream_id, 7) AS id, recorded_at FROM events
             WHERE event_type = 'order.placed'
               AND stream_id = ANY (string_to_array('$(sed 's/^/order-/' "$dir/$1.orders" | paste -sd,)', ','))) o
      LEFT JOIN (SELECT convert_from(payload, 'UTF8')::jsonb->>'order_id' AS id, recorded_at FROM events
                  WHERE event_type = 'payment.requested') p USING (id)"
}

figures() {
  local name=$1 unanswered=$2 ledger
  payment_requests "$name" >"$dir/$name.payment_requests"
  ledger=$(( $(audit_figure "$name" paid_without_capture) + $(audit_figure "$name" refunded_not_refunded) +
             $(audit_figure "$name" captured_not_paid) + $(audit_figure "$name" open_authorizations) ))
  {
    echo "orders $(wc -l <"$dir/$name.placed")"
    for status in paid payment_failed rejected expired; do echo "$status $(audit_figure "$name" "status.$status")"; done
    echo "declined_cards $(awk '$6 == "tok_decline" || $6 == "tok_insufficient_funds"' "$dir/$name.placed" | wc -l)"
    echo "unanswered $unanswered"
    echo "not_settled $(audit_figure "$name" not_settled)"
    echo "captured_per_paid_max $(audit_figure "$name" captured_per_paid_max)"
    echo "ledger_violations $ledger"
    echo "refunded_not_paid $(audit_figure "$name" refunded_not_paid)"
    echo "conservation_violations $(audit_figure "$name" conservation_violations)"
    echo "reservations_left $(audit_figure "$name" reservations_left)"
    echo "commit_mismatches $(audit_figure "$name" commit_mismatches)"
    echo "post_retries $(awk '{ r += $5 - 1 } END { print r + 0 }' "$dir/$name.placed")"
    echo "payment_request_late $(awk '$2 > 2000' "$dir/$name.payment_requests" | wc -l)"
    echo "payment_request_missing $(awk '$2 < 0' "$dir/$name.payment_requests" | wc -l)"
    echo "terminal_max_s $(terminal_max_s "$name")"
    echo "terminal_bound_s $terminal_bound_s"
    if [ -s "$dir/kills" ]; then
      echo "kills_processes $(grep -c '^processes ' "$dir/kills")"
      echo "kills_gateway $(grep -c '^gateway ' "$dir/kills")"
    fi
  } | sed "s/^/CHAOS orders.$name./"
}

# --- the run ------------------------------------------------------------------------------------

faults=$(printf '{"latency_ms":20,"error_rate":0.03,"timeout_rate":0.05,"hang_rate":0.03,"lose_answer_rate":0.1,"seed":%d}' "$seed")
[ "$(provider_faults "$faults")" = 200 ] || die "the card processor refused the faults $faults"
echo "CHAOS orders.seed $seed"
echo "CHAOS orders.provider_faults $faults"
status=0
for name in ${phases//,/ }; do
  if [ "$name" = faults ]; then phase faults 0 || status=1; else phase kills "$kills" || status=1; fi
done
exit "$status"

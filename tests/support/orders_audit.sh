#!/usr/bin/env bash
# The audit of a stack's orders: given a set of orders (and the stack they ran on), checks what the
# store and the card processor say about them once they are finished.
#
#   tests/support/orders_audit.sh --orders FILE [--env FILE | --stack DIR] [--wait S] [--details FILE]
#
#   --orders FILE   the order ids to audit, one a line
#   --env FILE      the stack's settings (`export NAME='value'` lines); default: DIR/stack.env with
#                   --stack DIR, else build/stack.env of this checkout (tools/run's)
#   --wait S        audit again every 2 s until no violation is left or S seconds have passed
#                   (orders still settling are not a violation yet); default 0: audit once
#   --details FILE  one line per order: `<id> <status> <placed_ms> <settled_ms>` (times from the
#                   store's recorded_at, in Unix milliseconds; settled_ms 0 when not settled)
#
# What is read: each order and each of its products as the aggregates fold them (`cqrs state`), the
# products' events in the store (initial stock, restocks, committed reservations), and the card
# processor's ledger (`GET /_admin/ledger` at CQRS_PAYMENT_PROVIDER_URL).
#
# What is checked, as `AUDIT <key> <value>` lines on stdout:
#
#   orders                     orders audited
#   status.<status>            orders in each status
#   not_settled                orders still `placed` or `stock_reserved` (violation)
#   captured_per_paid_max      most captured charges of one paid order (1 when all is well)
#   paid_without_capture       orders paid (shipped, delivered, refunded) without exactly one captured,
#                              partially refunded or refunded ledger entry (violation)
#   refunded_not_refunded      refunded orders whose charge is not `refunded` in the ledger (violation)
#   captured_not_paid          orders not paid whose payment has a `captured` or `partially_refunded`
#                              charge (violation)
#   open_authorizations        orders not paid whose payment still has an `authorized` or `pending`
#                              charge (violation: it must be voided)
#   refunded_not_paid          orders not paid whose charge was captured and refunded in full
#                              (the payment deadline passed after the capture; a figure, no violation)
#   products                   products the orders name
#   conservation_violations    products where initial + restocked != available + reserved + committed
#                              (available and reserved as the product folds them, the others summed
#                              from its events), or reserved != the sum of its open reservations
#   reservations_left          open reservations of a settled order (violation)
#   commit_mismatches          order lines whose committed quantity is not the line's when the order
#                              is paid, or not 0 when it is not (violation)
#   violations                 the sum of the violations
#
# Each violation is also named on stderr (`orders_audit: <what> order <id> status <s> payment <id>`).
# Exit status 0 when `violations` is 0, 1 otherwise, 2 on bad arguments or an unreadable stack.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

orders_file=
env_file=
wait_s=0
details=

usage() { sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
fail_usage() { printf 'orders_audit: %s\n' "$1" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case $1 in
    --orders) orders_file=${2:-}; shift 2 ;;
    --env) env_file=${2:-}; shift 2 ;;
    --stack) env_file=${2:-}/stack.env; shift 2 ;;
    --wait) wait_s=${2:-}; shift 2 ;;
    --details) details=${2:-}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) fail_usage "unknown argument '$1' (try --help)" ;;
  esac
done
[ -n "$orders_file" ] && [ -r "$orders_file" ] || fail_usage "--orders: give a readable file of order ids"
[[ $wait_s =~ ^[0-9]+$ ]] || fail_usage "--wait takes whole seconds, got '$wait_s'"
env_file=${env_file:-$root/build/stack.env}
[ -r "$env_file" ] || fail_usage "--env: cannot read '$env_file'"
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
cqrs=${CQRS_BUILD_DIR:-$root/build}/tools/cli/cqrs
[ -x "$cqrs" ] || fail_usage "no $cqrs: build first"
for setting in CQRS_PG_URL CQRS_PAYMENT_PROVIDER_URL; do
  [ -n "${!setting:-}" ] || fail_usage "$env_file sets no $setting"
done
ca=${CQRS_PAYMENT_PROVIDER_CA_FILE:-${CQRS_TLS_CA_FILE:-}}

work=$(mktemp -d /tmp/orders-audit.XXXXXX)
trap 'rm -rf "$work"' EXIT
grep -E '^[0-9a-f-]{36}$' "$orders_file" | sort -u >"$work/orders"

psql_rows() { psql "$CQRS_PG_URL" -X -v ON_ERROR_STOP=1 -qAt -F ' ' -c "$1"; }

# order_states: one line per order, `<id> <status> <payment_id> <product>:<quantity>,...`.
order_states() {
  local id line
  while read -r id; do
    line=$("$cqrs" state "order-$id" 2>/dev/null |
      jq -r --arg id "$id" '.state | [$id, .status, (.payment_id // "-"),
        ([.lines[] | "\(.product_id):\(.quantity)"] | join(",") | if . == "" then "-" else . end)] | join(" ")' 2>/dev/null)
    echo "${line:-$id unreadable - -}"
  done <"$work/orders"
}

# product_states: `<id> <available> <reserved> <sum of open reservations>` per product.
product_states() {
  local id line
  while read -r id; do
    line=$("$cqrs" state "product-$id" 2>/dev/null |
      jq -r --arg id "$id" '.state | [$id, .available, .reserved, ([.open_reservations[]] | add // 0)] | map(tostring) | join(" ")' 2>/dev/null)
    # Unreadable: a product that cannot add up (available -1), so that it counts as a violation.
    echo "${line:-$id -1 0 0}"
  done <"$work/products"
}

# product_events: `<id> <initial> <restocked> <committed>` summed from each product's events.
product_events() {
  psql_rows "
    SELECT substr(stream_id, 9),
           coalesce(sum((p->>'initial_stock')::bigint) FILTER (WHERE event_type = 'product.created'), 0),
           coalesce(sum((p->>'quantity')::bigint) FILTER (WHERE event_type = 'product.restocked'), 0),
           coalesce(sum((p->>'quantity')::bigint) FILTER (WHERE event_type = 'product.reservation_committed'), 0)
      FROM (SELECT stream_id, event_type, convert_from(payload, 'UTF8')::jsonb AS p FROM events
             WHERE stream_id = ANY (string_to_array('$(sed 's/^/product-/' "$work/products" | paste -sd,)', ','))) e
     GROUP BY stream_id"
}

# open_reservations: `<product> <reservation id>` of every reservation still open on the products.
open_reservations() {
  local id
  while read -r id; do
    "$cqrs" state "product-$id" 2>/dev/null | jq -r --arg id "$id" '.state.open_reservations | keys[] | "\($id) \(.)"'
  done <"$work/products"
}

# committed_lines: `<order id> <product> <quantity>` of every committed reservation of the orders.
committed_lines() {
  psql_rows "
    SELECT p->>'reservation_id', substr(stream_id, 9), sum((p->>'quantity')::bigint)
      FROM (SELECT stream_id, convert_from(payload, 'UTF8')::jsonb AS p FROM events
             WHERE event_type = 'product.reservation_committed'
               AND stream_id = ANY (string_to_array('$(sed 's/^/product-/' "$work/products" | paste -sd,)', ','))) e
     GROUP BY 1, 2"
}

# order_times: `<id> <placed_ms> <settled_ms>` from the orders' events.
order_times() {
  psql_rows "
    SELECT substr(stream_id, 7),
           (extract(epoch FROM min(recorded_at) FILTER (WHERE event_type = 'order.placed')) * 1000)::bigint,
           coalesce((extract(epoch FROM min(recorded_at) FILTER (WHERE event_type IN
             ('order.rejected', 'order.paid', 'order.payment_failed', 'order.expired', 'order.cancelled'))) * 1000)::bigint, 0)
      FROM events
     WHERE stream_id = ANY (string_to_array('$(sed 's/^/order-/' "$work/orders" | paste -sd,)', ','))
     GROUP BY stream_id"
}

ledger() {
  curl -s --max-time 10 ${ca:+--cacert "$ca"} "$CQRS_PAYMENT_PROVIDER_URL/_admin/ledger" |
    jq -r '.charges[] | "\(.payment_id) \(.status)"'
}

# audit_once: the figures into $work/figures; the number of violations on stdout.
audit_once() {
  : >"$work/blames"
  order_states >"$work/order_states"
  awk '{ n = split($4, l, ","); for (i = 1; i <= n; i++) { split(l[i], pq, ":"); if (pq[1] != "") print pq[1] } }' \
    "$work/order_states" | sort -u >"$work/products"
  ledger >"$work/ledger" || { echo "orders_audit: cannot read the ledger" >&2; return 2; }
  product_states >"$work/product_states"
  product_events >"$work/product_events"
  open_reservations >"$work/open_reservations"
  committed_lines >"$work/committed"
  awk -v figures="$work/figures" -v blames="$work/blames" '
    function blame(what) { print what, "order", id, "status", status, "payment", payment >blames }
    FILENAME ~ /ledger$/ { charges[$1 " " $2]++; next }
    FILENAME ~ /product_events$/ { initial[$1] = $2; restocked[$1] = $3; committed[$1] = $4; next }
    FILENAME ~ /product_states$/ { available[$1] = $2; reserved[$1] = $3; open_sum[$1] = $4; products++; next }
    FILENAME ~ /open_reservations$/ { open_of[$2]++; next }
    FILENAME ~ /committed$/ { done_qty[$1 " " $2] = $3; next }
    {  # order_states
      id = $1; status = $2; payment = $3; orders++; statuses[status]++
      paid = (status == "paid" || status == "shipped" || status == "delivered" || status == "refunded" ||
              status == "partially_refunded")
      settled = (status != "placed" && status != "stock_reserved" && status != "none" && status != "unreadable")
      if (!settled) { not_settled++; blame("not_settled") }
      captured = charges[payment " captured"] + charges[payment " partially_refunded"]
      refunded = charges[payment " refunded"]
      if (paid) {
        if (captured + refunded > max_captured) max_captured = captured + refunded
        if (captured + refunded != 1) { paid_without_capture++; blame("paid_without_capture") }
        if (status == "refunded" && refunded != 1) { refunded_not_refunded++; blame("refunded_not_refunded") }
      } else {
        if (captured > 0) { captured_not_paid++; blame("captured_not_paid") }
        if (refunded > 0) refunded_not_paid++
        if (settled && charges[payment " authorized"] + charges[payment " pending"] > 0) {
          open_authorizations++; blame("open_authorization")
        }
      }
      if (settled && open_of[id] > 0) { reservations_left += open_of[id]; blame("reservation_left") }
      n = split($4, lines, ",")
      delete wanted
      for (i = 1; i <= n; i++) { split(lines[i], pq, ":"); if (pq[1] != "") wanted[pq[1]] += pq[2] }
      if (settled) for (p in wanted) if ((done_qty[id " " p] + 0) != (paid ? wanted[p] : 0)) { commit_mismatches++; blame("commit_mismatch") }
      next
    }
    END {
      for (p in available) {
        if (initial[p] + restocked[p] != available[p] + reserved[p] + committed[p] || reserved[p] != open_sum[p]) {
          conservation++; print "conservation product " p >blames
        }
      }
      print "orders", orders + 0 >figures
      for (s in statuses) print "status." s, statuses[s] >figures
      print "not_settled", not_settled + 0 >figures
      print "captured_per_paid_max", max_captured + 0 >figures
      print "paid_without_capture", paid_without_capture + 0 >figures
      print "refunded_not_refunded", refunded_not_refunded + 0 >figures
      print "captured_not_paid", captured_not_paid + 0 >figures
      print "open_authorizations", open_authorizations + 0 >figures
      print "refunded_not_paid", refunded_not_paid + 0 >figures
      print "products", products + 0 >figures
      print "conservation_violations", conservation + 0 >figures
      print "reservations_left", reservations_left + 0 >figures
      print "commit_mismatches", commit_mismatches + 0 >figures
      v = not_settled + paid_without_capture + refunded_not_refunded + captured_not_paid + open_authorizations + \
          conservation + reservations_left + commit_mismatches
      print "violations", v >figures
      print v
    }' "$work/ledger" "$work/product_events" "$work/product_states" "$work/open_reservations" "$work/committed" \
    "$work/order_states"
}

deadline=$((SECONDS + wait_s))
while :; do
  violations=$(audit_once) || exit 2
  [ "$violations" -eq 0 ] || [ $SECONDS -ge $deadline ] && break
  sleep 2
done
if [ -n "$details" ]; then
  order_times >"$work/times"
  awk 'FNR == NR { placed[$1] = $2; settled[$1] = $3; next } { printf "%s %s %.0f %.0f\n", $1, $2, placed[$1], settled[$1] }' \
    "$work/times" "$work/order_states" >"$details"
fi
sed 's/^/AUDIT /' "$work/figures"
# Each violation, named, on stderr.
sed 's/^/orders_audit: /' "$work/blames" >&2
[ "$violations" -eq 0 ]

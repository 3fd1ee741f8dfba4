# The order fault run's short round (tools/chaos orders, docs/robustness.md): 20 orders on a stack
# of its own while the card processor loses answers, answers late and hangs at random, and
# cqrs-processes and the gateway are each killed with SIGKILL once; every order settles within the
# run's bound, one captured charge per paid order and none for the others, the stock conserved
# and no reservation left (tests/support/orders_audit.sh).
. "$(dirname "$0")/lib.sh"
out=$(mktemp /tmp/cqrs-chaos-orders-test.XXXXXX)
trap 'rm -f "$out" "$out.err"' EXIT

"$ROOT/tools/chaos" orders --orders 20 --clients 4 --kills 1 --phases kills --payment-timeout-ms 10000 \
  >"$out" 2>"$out.err" || { cat "$out" "$out.err" >&2; fail "tools/chaos orders found a violation"; }
cat "$out"
figure() { awk -v k="orders.kills.$1" '$1 == "CHAOS" && $2 == k { print $3 }' "$out"; }
[ "$(figure orders)" = 20 ] || fail "not 20 orders: $(figure orders)"
[ "$(figure kills_processes)" = 1 ] && [ "$(figure kills_gateway)" = 1 ] || fail "not one kill of each process"
for key in unanswered not_settled ledger_violations conservation_violations reservations_left commit_mismatches; do
  [ "$(figure "$key")" = 0 ] || fail "$key is $(figure "$key")"
done
[ "$(figure captured_per_paid_max)" -le 1 ] || fail "a paid order has $(figure captured_per_paid_max) captured charges"

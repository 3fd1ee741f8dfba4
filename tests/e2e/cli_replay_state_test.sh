# cqrs replay and cqrs state against a seeded history: filters, formats, and clear failures.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'rm -f /tmp/e2e.$RUN.*' EXIT

stream="product-rs$RUN"
created "$stream" "SKU-$RUN" 1000 5
sleep 0.05
middle=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
sleep 0.05
restocked "$stream" 3
reserved "$stream" r1 2

out=$("$CQRS" replay --stream "$stream")
[ "$(wc -l <<<"$out")" -eq 3 ] || fail "replay --stream printed $(wc -l <<<"$out") lines"
[ "$(jq -r '.data.sku' <<<"$out" | head -1)" = "SKU-$RUN" ] || fail "first event's sku"
[ "$(jq -r '.version' <<<"$out" | tr '\n' ' ')" = "1 2 3 " ] || fail "versions in order"

second=$(jq -r '.position' <<<"$out" | sed -n 2p)
one=$("$CQRS" replay --stream "$stream" --from-position "$second" --to-position "$second")
[ "$(jq -r '.type' <<<"$one")" = "product.restocked" ] || fail "position range"
[ "$("$CQRS" replay --stream "$stream" --until "$middle" | wc -l)" -eq 1 ] || fail "--until"
"$CQRS" replay --stream "$stream" --format table | head -1 | grep -q '^position' || fail "table header"

category="rpl$RUN"
created "$category-a" "SKU-A$RUN" 10 1
created "$category-b" "SKU-B$RUN" 10 1
[ "$("$CQRS" replay --category "$category" | jq -r '.stream' | tr '\n' ' ')" = "$category-a $category-b " ] ||
  fail "replay --category in log order"
"$CQRS" replay --all | grep -q "\"stream\":\"$category-b\"" || fail "replay --all"

expect_status 1 "$CQRS" replay --stream "product-nope$RUN"
grep -q "does not exist" /tmp/e2e.$RUN.err || fail "unknown stream message"
expect_status 2 "$CQRS" replay --stream "$stream" --category x
expect_status 2 "$CQRS" replay --all --from-position zz
expect_status 2 "$CQRS" replay --all --until yesterday
expect_status 0 "$CQRS" replay --help

state=$("$CQRS" state "$stream")
[ "$(jq -r '.state.available' <<<"$state")" = "6" ] || fail "state now: $state"
[ "$(jq -r '.version' <<<"$state")" = "3" ] || fail "state version"
[ "$("$CQRS" state "$stream" --version 1 | jq -r '.state.on_hand')" = "5" ] || fail "state --version 1"
[ "$("$CQRS" state "$stream" --at "$middle" | jq -r '.version')" = "1" ] || fail "state --at"
expect_status 1 "$CQRS" state --stream "product-nope$RUN"
expect_status 1 "$CQRS" state "$stream" --version 9
expect_status 1 "$CQRS" state --stream "$category-a"
expect_status 2 "$CQRS" state "$stream" --version 1 --at "$middle"
expect_status 2 "$CQRS" state

# The operators' projection commands fail clearly too.
expect_status 1 "$CQRS" rebuild nope
grep -q "no projection named 'nope'" /tmp/e2e.$RUN.err || fail "unknown projection message"
expect_status 2 "$CQRS" rebuild
"$CQRS" rebuild product_catalog --dry-run | grep -q '^would rebuild product_catalog' || fail "dry run"
expect_status 0 "$CQRS" dead-letters list
expect_status 2 "$CQRS" dead-letters bogus
expect_status 2 "$CQRS" dead-letters retry
expect_status 1 "$CQRS" dead-letters retry --id 999999999
expect_status 1 "$CQRS" dead-letters discard --id 999999999
[ "$("$CQRS" projections | jq -r 'select(.name == "product_detail") | .target')" = "redis" ] || fail "projections list"
echo "replay, state and CLI failures ok"

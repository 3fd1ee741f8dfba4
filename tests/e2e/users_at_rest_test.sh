# Personal data at rest: a user registered through the gateway, with marker strings in every
# personal field and the password, leaves no trace of them in clear in PostgreSQL (data directory
# with the WAL, a dump of the event store and of the key store), Redis (every value), Kafka (every
# message) or the processes' logs. Forgetting the user drops them from the read models, the
# stored history still replays (its personal fields shown as [erased], as `cqrs state` shows
# them), and a rebuild of every projection succeeds.
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

work=$(mktemp -d)
port=$(free_port)
url="https://127.0.0.1:$port"
gateway=0
projector=0
finish() {
  stop_relay
  [ "$projector" -ne 0 ] && kill -TERM "$projector" 2>/dev/null && wait "$projector" 2>/dev/null
  [ "$gateway" -ne 0 ] && kill -TERM "$gateway" 2>/dev/null && wait "$gateway" 2>/dev/null
  rm -rf "$work"
  return 0
}
trap finish EXIT

# The default projections (the gateway writes user-<id> streams), a consumer group of this run.
export CQRS_PROJECTION_SCOPE= CQRS_PROJECTOR_GROUP="atrest$RUN" CQRS_LOG_LEVEL=info
CQRS_HTTP_PORT=$port "$BUILD/gateway/cqrs-gateway" >"$work/gateway.log" 2>&1 &
gateway=$!
start_relay "$work"
"$CQRS" projector >"$work/projector.log" 2>&1 &
projector=$!
eventually 30 "the gateway answering /readyz" curl -sf -o /dev/null "$url/readyz"

m="zq${RUN}mk"  # lowercase: the email's normal form is folded
json() { jq -cn "$@"; }
post() { curl -s -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
status=$(post "$url/v1/users" -d "$(json --arg m "$m" '{email: ($m + "@example.com"), password: ("pw-" + $m + "-secret"),
  name: ("name-" + $m), phone: ("phone-" + $m), address: ("street-" + $m)}')")
[ "$status" = 201 ] || fail "registration answered $status: $(cat "$work/body")"
id=$(jq -r .id "$work/body")
status=$(post "$url/v1/auth/login" -d "$(json --arg m "$m" '{email: ($m + "@example.com"), password: ("pw-" + $m + "-secret")}')")
[ "$status" = 200 ] || fail "login answered $status"
token=$(jq -r .access_token "$work/body")
curl -sf -H "Authorization: Bearer $token" "$url/v1/users/me" | jq -e --arg m "$m" '.name == "name-" + $m' >/dev/null ||
  fail "the user does not read back decrypted"

user_in_redis() {
  local key
  for key in $(redis-cli -u "$CQRS_REDIS_URL" --scan --pattern "*user:$id"); do return 0; done
  return 1
}
user_in_pg() { [ "$(psql -X -A -t "$CQRS_PG_URL" -c "SELECT count(*) FROM user_admin_list_rows WHERE user_id = '$id'")" -gt 0 ]; }
published() { kcat -C -b "$CQRS_KAFKA_BOOTSTRAP" -t "$CQRS_KAFKA_TOPIC" -e -q -f '%k\n' 2>/dev/null | grep "user-$id" >/dev/null; }
eventually 30 "the registration published to Kafka" published
eventually 30 "the user in the Redis detail model" user_in_redis
eventually 30 "the user in the PostgreSQL admin list" user_in_pg

# Every place the data rests, searched for the markers.
redis_values() {
  local key
  redis-cli -u "$CQRS_REDIS_URL" --scan | while read -r key; do
    case $(redis-cli -u "$CQRS_REDIS_URL" TYPE "$key") in
      string) redis-cli -u "$CQRS_REDIS_URL" GET "$key" ;;
      hash) redis-cli -u "$CQRS_REDIS_URL" HGETALL "$key" ;;
      list) redis-cli -u "$CQRS_REDIS_URL" LRANGE "$key" 0 -1 ;;
      set) redis-cli -u "$CQRS_REDIS_URL" SMEMBERS "$key" ;;
      zset) redis-cli -u "$CQRS_REDIS_URL" ZRANGE "$key" 0 -1 ;;
      stream) redis-cli -u "$CQRS_REDIS_URL" XRANGE "$key" - + ;;
    esac
  done
}
expect_no_marker() {
  psql -X -q "$CQRS_PG_URL" -c CHECKPOINT
  # Controls: each search does find what is stored in clear (the user's id).
  grep -r -a -q -F "$id" "$PG_DATA" || fail "control: the user's id not found in PostgreSQL's data directory"
  kcat -C -b "$CQRS_KAFKA_BOOTSTRAP" -t "$CQRS_KAFKA_TOPIC" -e -q -f '%k %h %s\n' | grep -a -F "$id" >/dev/null ||
    fail "control: the user's id not found on Kafka"
  ! grep -r -a -l -F "$m" "$PG_DATA" || fail "a marker in clear in PostgreSQL's data directory (above)"
  ! pg_dump "$CQRS_PG_URL" | grep -F "$m" || fail "a marker in clear in a dump of the event store"
  ! pg_dump "$CQRS_PII_KEYSTORE_URL" | grep -F "$m" || fail "a marker in clear in a dump of the key store"
  ! redis_values | grep -F "$m" || fail "a marker in clear in Redis"
  ! kcat -C -b "$CQRS_KAFKA_BOOTSTRAP" -t "$CQRS_KAFKA_TOPIC" -e -q -f '%k %h %s\n' | grep -a -F "$m" ||
    fail "a marker in clear on Kafka"
  ! grep -a -F "$m" "$work"/*.log "$work"/relay* 2>/dev/null || fail "a marker in a log"
}
expect_no_marker

# Forget me: the user is gone from the reads and the models; history and rebuild still work.
status=$(curl -s -o "$work/body" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $token" "$url/v1/users/me")
[ "$status" = 200 ] || fail "forget answered $status: $(cat "$work/body")"
admin=$("$CQRS" token --sub "ops$RUN" --role admin)
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin" "$url/v1/users/$id")
[ "$status" = 404 ] || fail "a forgotten user answered $status"
status=$(post "$url/v1/auth/login" -d "$(json --arg m "$m" '{email: ($m + "@example.com"), password: ("pw-" + $m + "-secret")}')")
[ "$status" = 401 ] || fail "a forgotten user signed in: $status"
eventually 30 "the user dropped from Redis" bash -c "! redis-cli -u '$CQRS_REDIS_URL' --scan --pattern '*user:$id' | grep -q ."
eventually 30 "the user dropped from the admin list" bash -c "! [ \$(psql -X -A -t '$CQRS_PG_URL' -c \"SELECT count(*) FROM user_admin_list_rows WHERE user_id = '$id'\") -gt 0 ]"
"$CQRS" replay --stream "user-$id" >"$work/replay" || fail "the forgotten user's history does not replay"
grep -q '"user.forgotten"' "$work/replay" || fail "no user.forgotten event in the replay"
! grep -F "$m" "$work/replay" || fail "a marker in clear in the replay"
# Its personal fields show as the erased marker (its data key is destroyed), never as ciphertext.
grep -q '"\[erased\]"' "$work/replay" || fail "the replay does not show the fields erased"
! grep -q '"pii1\.' "$work/replay" || fail "a forgotten user's ciphertext in the replay"
"$CQRS" replay --stream "user-$id" --format table >"$work/replay.table" || fail "the table replay failed"
grep -q '\[erased\]' "$work/replay.table" || fail "the table replay does not show the fields erased"
"$CQRS" state "user-$id" --version 1 >"$work/state" || fail "the forgotten user's first state does not fold"
grep -q '\[erased\]' "$work/state" || fail "cqrs state does not show the fields erased"
! grep -q '"pii1\.' "$work/state" || fail "a forgotten user's ciphertext in cqrs state"
"$CQRS" rebuild --all >/dev/null 2>"$work/rebuild.err" || { cat "$work/rebuild.err" >&2; fail "rebuild after forgetting failed"; }
user_in_redis && fail "the rebuild brought the forgotten user back to Redis"
user_in_pg && fail "the rebuild brought the forgotten user back to the admin list"
expect_no_marker
exit 0

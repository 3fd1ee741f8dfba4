# The projector passes CQRS_KAFKA_PROPERTIES through to librdkafka (a real cluster is a
# configuration change): an unknown property is refused by librdkafka, naming it. Its own
# settings out of range are refused before it connects, naming the variable.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'rm -f /tmp/e2e.$RUN.*' EXIT

CQRS_KAFKA_PROPERTIES="no.such.property=1" expect_status 1 timeout 30 "$CQRS" projector
grep -q "no.such.property" /tmp/e2e.$RUN.err || fail "the refusal does not name the property"
CQRS_KAFKA_PROPERTIES="client.id" expect_status 2 "$CQRS" projector
grep -q "CQRS_KAFKA_PROPERTIES" /tmp/e2e.$RUN.err || fail "a malformed list does not name the variable"
# The gathering time of the PostgreSQL models is checked the same way (0-10000 ms).
for bad in -1 10001 ten; do
  CQRS_PROJECTOR_PG_GATHER_MS=$bad expect_status 2 "$CQRS" projector
  grep -q "CQRS_PROJECTOR_PG_GATHER_MS" /tmp/e2e.$RUN.err || fail "CQRS_PROJECTOR_PG_GATHER_MS=$bad is not named"
done
echo "projector passes Kafka properties through"

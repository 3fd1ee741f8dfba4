# The projector passes CQRS_KAFKA_PROPERTIES through to librdkafka (a real cluster is a
# configuration change): an unknown property is refused by librdkafka, naming it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'rm -f /tmp/e2e.$RUN.*' EXIT

CQRS_KAFKA_PROPERTIES="no.such.property=1" expect_status 1 timeout 30 "$CQRS" projector
grep -q "no.such.property" /tmp/e2e.$RUN.err || fail "the refusal does not name the property"
CQRS_KAFKA_PROPERTIES="client.id" expect_status 2 "$CQRS" projector
grep -q "CQRS_KAFKA_PROPERTIES" /tmp/e2e.$RUN.err || fail "a malformed list does not name the variable"
echo "projector passes Kafka properties through"

# The operators' command line refuses what it cannot be sure of: an abbreviated flag, a setting any
# engine process would refuse; its errors name what the operator typed; `. stack.env` hands the
# stack's settings to the programs a shell starts.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'rm -f /tmp/e2e.$RUN.*' EXIT
err=/tmp/e2e.$RUN.err
out=/tmp/e2e.$RUN.out

# --- abbreviations are refused, and nothing runs ------------------------------------------------
expect_status 2 "$CQRS" rebuild --al
grep -q -- "--al" "$err" || fail "the refusal of --al does not name it: $(cat "$err")"
[ ! -s "$out" ] || fail "rebuild --al printed a report: $(cat "$out")"
expect_status 2 "$CQRS" replay --str "product-x$RUN"
grep -q -- "--str" "$err" || fail "the refusal of --str does not name it"

# --- errors name the flag typed, or the variable read, never a variable that is not read --------
expect_status 2 "$CQRS" state "not a stream"
grep -q -- "^cqrs state: --stream: " "$err" || fail "a bad stream argument is not named --stream: $(cat "$err")"
! grep -q "CQRS_STREAM" "$err" || fail "the error names CQRS_STREAM, which cqrs never reads"
expect_status 2 "$CQRS" state "product-x$RUN" --version zero
grep -q -- "^cqrs state: --version: " "$err" || fail "a bad --version is not named as the flag: $(cat "$err")"
! grep -q "CQRS_VERSION" "$err" || fail "the error names CQRS_VERSION"
expect_status 2 env CQRS_PG_URL=mysql://nowhere "$CQRS" state "product-x$RUN"
grep -q "^cqrs state: CQRS_PG_URL: " "$err" || fail "a bad variable is not named as the variable: $(cat "$err")"
expect_status 2 "$CQRS" state "product-x$RUN" --pg-url mysql://nowhere
grep -q -- "^cqrs state: --pg-url: " "$err" || fail "a bad --pg-url is not named as the flag: $(cat "$err")"

# --- cqrs config validates what every engine process validates ----------------------------------
: "${CQRS_JWT_SECRET:?run through tools/test}"
expect_status 0 "$CQRS" config
grep -q "settings: valid" "$out" || fail "cqrs config did not say the settings are valid"
! grep -q "$CQRS_JWT_SECRET" "$out" || fail "cqrs config printed the JWT secret"

# The gateway refuses a short key at start-up; so must cqrs config, naming it the same way.
expect_status 2 env CQRS_JWT_SECRET=short "${CQRS_BUILD_DIR:-$ROOT/build}/gateway/cqrs-gateway"
grep -q "CQRS_JWT_SECRET" "$err" || fail "the gateway did not refuse the short key: $(cat "$err")"
expect_status 2 env CQRS_JWT_SECRET=short "$CQRS" config
grep -q "^cqrs config: CQRS_JWT_SECRET: must be at least 32" "$err" || fail "short key: $(cat "$err")"
expect_status 2 "$CQRS" config --jwt-secret short
grep -q -- "^cqrs config: --jwt-secret: " "$err" || fail "short key as a flag: $(cat "$err")"
# One setting of each process's own: the gateway, the relay (and its Kafka safety), the projector.
for setting in CQRS_CORS_ORIGINS=https://a.example/path CQRS_RATE_LIMIT_BURST=0 CQRS_RELAY_BATCH=0 \
  CQRS_RELAY_START_POSITION=zz CQRS_KAFKA_PROPERTIES=acks=1 CQRS_PROJECTOR_BATCH=0 \
  CQRS_PROJECTOR_HALT_ON_POISON=maybe; do
  expect_status 2 env "$setting" "$CQRS" config
  grep -q "^cqrs config: ${setting%%=*}: " "$err" || fail "$setting: $(cat "$err")"
done

# --- stack.env: sourced by a shell, seen by the programs it starts -------------------------------
env_file="${CQRS_STACK_DIR:?run through tools/test}/stack.env"
[ -s "$env_file" ] || fail "no $env_file"
bad=$(grep -Ev '^export CQRS_[A-Z_]+=[^ ]+$' "$env_file" || true)
[ -z "$bad" ] || fail "stack.env lines that are not 'export NAME=value': $bad"
# A clean environment: only what the file exports reaches the child.
seen=$(env -i PATH="$PATH" bash -c '. "$1"; bash -c "echo \$CQRS_PG_URL \$CQRS_JWT_SECRET"' _ "$env_file")
[ "$seen" = "$CQRS_PG_URL $CQRS_JWT_SECRET" ] || fail "a child of a shell that sourced stack.env saw '$seen'"
env -i PATH="$PATH" bash -c '. "$1"; exec "$2" config' _ "$env_file" "$CQRS" >"$out" 2>"$err" ||
  fail "cqrs config, started after sourcing stack.env, failed: $(cat "$err")"
# --- help names every setting a process reads -----------------------------------------------------
for setting in CQRS_KAFKA_BOOTSTRAP_FILE CQRS_SUPERVISOR_RESTARTS; do
  "$CQRS" projector --help | grep -q "$setting" || fail "cqrs projector --help does not name $setting"
  "${CQRS_BUILD_DIR:-$ROOT/build}/commands/relay/cqrs-relay" --help | grep -q "$setting" ||
    fail "cqrs-relay --help does not name $setting"
done

echo "cli papercuts: abbreviations refused, errors named as given, config checks every process, stack.env exports"

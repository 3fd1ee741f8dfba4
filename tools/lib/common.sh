# Shared by tools/run, tools/test and tools/bench: install what is missing, build, and start or
# stop a stack (PostgreSQL 15, Redis 7, the embedded Kafka broker) in a scratch directory on
# loopback. Source it; it defines functions only.

CQRS_ROOT=${CQRS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# The build directory; CQRS_BUILD_DIR lets parallel work use its own (one ninja per directory).
export CQRS_BUILD_DIR=${CQRS_BUILD_DIR:-$CQRS_ROOT/build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Debian 12 packages the engine needs to build, test and run.
CQRS_PACKAGES=(
  meson ninja-build pkg-config cmake ccache g++
  librdkafka-dev libpqxx-dev libhiredis-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libcereal-dev rapidjson-dev libfmt-dev doctest-dev libssl-dev libsodium-dev libyaml-cpp-dev libjemalloc-dev
  libicu-dev  # Unicode normalisation of emails and passwords (core/security)
  postgresql-15 redis-server kcat procps jq curl openssl clang-14 libclang-rt-14-dev
)

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
  local missing=() pkg
  for pkg in "${CQRS_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
    die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

ensure_build() {
  cd "$CQRS_ROOT" || die "cannot enter $CQRS_ROOT"
  if [ ! -f "$CQRS_BUILD_DIR/build.ninja" ]; then
    meson setup "$CQRS_BUILD_DIR" >/dev/null || die "meson setup failed"
  fi
  meson compile -C "$CQRS_BUILD_DIR" -j 2 >"$CQRS_BUILD_DIR/compile.log" 2>&1 || {
    tail -n 60 "$CQRS_BUILD_DIR/compile.log" >&2
    die "build failed (full log: $CQRS_BUILD_DIR/compile.log)"
  }
}

# A port nobody listens on right now (a start that loses the race is retried by the caller).
# A free port below the kernel's ephemeral range: one picked inside it can be taken, between the
# pick and the bind, by any outgoing connection (the engine's own, to PostgreSQL or Kafka).
free_port() {
  local port low=32768 high
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  [ "$low" -gt 12000 ] || low=60000
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % (low - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  die "no free port found"
}

# Runs a PostgreSQL binary as the owner of the cluster: postgres refuses to run as root.
pg_run() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# --- TLS ----------------------------------------------------------------------------------------
# The dev stack's certificate authority: one per checkout, made once with OpenSSL
# (build/dev-ca.pem, its key build/dev-ca.key readable by its owner only). Every stack's
# certificate is signed by it, so this one file is the trust root of the stacks of tools/run,
# tools/test and tools/bench alike (curl --cacert build/dev-ca.pem).
CQRS_DEV_CA=${CQRS_DEV_CA:-$CQRS_ROOT/build/dev-ca.pem}

ensure_dev_ca() {
  local ca=$CQRS_DEV_CA key=${CQRS_DEV_CA%.pem}.key
  mkdir -p "$(dirname "$ca")"
  # Several stacks may start at once from a fresh checkout: one makes the CA, the others wait.
  (
    flock 9
    if [ -s "$ca" ] && [ -s "$key" ]; then exit 0; fi
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=cqrs-engine dev CA ($(hostname))" -keyout "$key.tmp" -out "$ca.tmp" >"$ca.log" 2>&1 ||
      { cat "$ca.log" >&2; exit 1; }
    chmod 644 "$ca.tmp"
    mv "$key.tmp" "$key"
    mv "$ca.tmp" "$ca"
    rm -f "$ca.log"
  ) 9>"$ca.lock" || die "cannot make the dev CA $ca"
}

# make_certificate STEM: STEM.pem (a server certificate for localhost and 127.0.0.1, signed by the
# dev CA, valid 30 days) and STEM.key (its key, mode 0600).
make_certificate() {
  local stem=$1 ca=$CQRS_DEV_CA
  ensure_dev_ca
  (
    umask 077
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
      -keyout "$stem.key" -out "$stem.csr" &&
      openssl x509 -req -in "$stem.csr" -CA "$ca" -CAkey "${ca%.pem}.key" -days 30 \
        -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -out "$stem.pem" \
        -extfile <(printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=critical,CA:FALSE' \
          'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth')
  ) >"$stem.log" 2>&1 || { cat "$stem.log" >&2; die "cannot make the certificate $stem.pem"; }
  chmod 644 "$stem.pem"
  rm -f "$stem.csr" "$stem.log"
}

# start_tls DIR: the stack's certificate (DIR/tls/server.pem and .key) and the settings that use
# it: the gateway serves HTTPS with it, PostgreSQL too; clients verify both against the dev CA.
# curl in the calling shell and its children trusts the dev CA (CURL_CA_BUNDLE), so tests and
# benchmarks reach the gateway over HTTPS like any client that was given the CA.
start_tls() {
  local dir=$1
  mkdir -p "$dir/tls"
  make_certificate "$dir/tls/server"
  write_setting "$dir" CQRS_TLS_CERT_FILE "$dir/tls/server.pem"
  write_setting "$dir" CQRS_TLS_KEY_FILE "$dir/tls/server.key"
  write_setting "$dir" CQRS_TLS_CA_FILE "$CQRS_DEV_CA"
  # The stack's URLs say https: a CQRS_HTTP_PLAIN=true in the caller's environment must not win.
  write_setting "$dir" CQRS_HTTP_PLAIN false
  export CURL_CA_BUNDLE=$CQRS_DEV_CA
}

# start_postgres DIR [durable]: a cluster in DIR/pg, serving TLS only over TCP (hostssl) with the
# stack's certificate. Tests trade durability for speed; benchmarks and tools/run keep
# PostgreSQL's defaults (fsync and synchronous_commit on).
start_postgres() {
  local dir=$1 durability=${2:-durable} port opts
  mkdir -p "$dir/pg"
  # PostgreSQL reads its key only when the server's user owns it, mode 0600.
  cp "$dir/tls/server.pem" "$dir/pg/server.pem"
  cp "$dir/tls/server.key" "$dir/pg/server.key"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$dir/pg"; fi
  pg_run "$PG_BIN/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/pg/initdb.log" 2>&1 || { cat "$dir/pg/initdb.log" >&2; die "initdb failed"; }
  # TCP connections without TLS are refused; the Unix socket (pg_ctl's own checks) stays open.
  pg_run sed -i -E 's/^host( +)/hostssl\1/' "$dir/pg/data/pg_hba.conf"
  opts="-c listen_addresses=127.0.0.1 -k $dir/pg -c max_connections=300 -c shared_buffers=256MB"
  opts="$opts -c ssl=on -c ssl_cert_file=$dir/pg/server.pem -c ssl_key_file=$dir/pg/server.key"
  opts="$opts -c ssl_min_protocol_version=TLSv1.3"
  if [ "$durability" = fast ]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  for _ in 1 2 3 4 5; do
    port=${CQRS_PG_PORT:-$(free_port)}
    if pg_run "$PG_BIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 30 \
      -o "-p $port $opts" start >/dev/null 2>&1; then
      pg_run "$PG_BIN/createdb" -h "$dir/pg" -p "$port" -U postgres cqrs ||
        die "createdb failed"
      # verify-full: the server must show a certificate of the dev CA naming the host connected to.
      write_setting "$dir" CQRS_PG_URL \
        "postgresql://postgres@localhost:$port/cqrs?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=$CQRS_DEV_CA"
      return 0
    fi
  done
  tail -n 20 "$dir/pg/server.log" >&2
  die "PostgreSQL did not start"
}

start_redis() {
  local dir=$1 port
  mkdir -p "$dir/redis"
  for _ in 1 2 3 4 5; do
    port=${CQRS_REDIS_PORT:-$(free_port)}
    # No persistence by default: Redis only holds read models, rebuilt from the event store.
    if redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
      --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" &&
      wait_for 10 redis-cli -h 127.0.0.1 -p "$port" ping; then
      write_setting "$dir" CQRS_REDIS_URL "redis://127.0.0.1:$port/0"
      return 0
    fi
  done
  die "Redis did not start"
}

# wait_for SECONDS CMD...: retries CMD quietly until it succeeds or time runs out.
wait_for() {
  local seconds=$1; shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

start_kafka() {
  local dir=$1 partitions=${CQRS_KAFKA_PARTITIONS:-6} topic=${CQRS_KAFKA_TOPIC:-events}
  local file="$dir/kafka/bootstrap"
  mkdir -p "$dir/kafka"
  rm -f "$file"
  # setsid: the broker must outlive a detached tools/run, and Ctrl-C reaches it only through us.
  setsid "$CQRS_BUILD_DIR/tools/kafka_broker/cqrs-kafka-broker" --bootstrap-file "$file" \
    --partitions "$partitions" --topic "$topic" >"$dir/kafka/broker.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka/broker.pid"
  # The bootstrap file is written atomically (write, rename) once the brokers listen.
  wait_for 20 test -s "$file" || { cat "$dir/kafka/broker.log" >&2; die "Kafka broker did not start"; }
  write_setting "$dir" CQRS_KAFKA_BOOTSTRAP "$(cat "$file")"
  # Relay and projector follow the file: a restarted broker listens on new ports and rewrites it.
  write_setting "$dir" CQRS_KAFKA_BOOTSTRAP_FILE "$file"
  write_setting "$dir" CQRS_KAFKA_TOPIC "$topic"
}

apply_migrations() {
  local dir=$1
  (set -a; . "$dir/stack.env"; "$CQRS_BUILD_DIR/tools/cli/cqrs" migrate) >"$dir/migrate.log" 2>&1 ||
    { cat "$dir/migrate.log" >&2; die "migrations failed"; }
}

# supervise STEM BINARY [ARGS...]: runs the engine process, output appended to STEM.log, and starts
# it again whenever it exits on its own (a process that truly cannot continue exits non-zero and
# counts on this). SIGTERM or SIGINT is the stack's own stop: forwarded to the process, waited
# for, and nothing is restarted. Restarts back off from 1 s, doubling to 30 s (back to 1 s after a
# run of a minute), are counted in STEM.restarts, logged in STEM.log as `restarts=N` and handed to
# the process as CQRS_SUPERVISOR_RESTARTS (the projector's metric cqrs_process_restarts). The
# process's pid is in STEM.child (not *.pid: stop_stack stops supervisors, never their processes
# behind their backs, which would read as an exit to restart).
supervise() {
  local stem=$1; shift
  local child=0 sleeper=0 stopping=0 restarts=0 delay=1 started status
  # Never `kill 0`: that would signal the whole group. Safe under `set -e` (tests source this).
  trap 'stopping=1; for p in $child $sleeper; do if [ "$p" -ne 0 ]; then kill -TERM "$p" 2>/dev/null || true; fi; done' TERM INT
  while [ "$stopping" -eq 0 ]; do
    started=$SECONDS
    CQRS_SUPERVISOR_RESTARTS=$restarts "$@" >>"$stem.log" 2>&1 </dev/null &
    child=$!
    echo "$child" >"$stem.child"
    status=0
    wait "$child" || status=$?
    # A trapped signal ends `wait` early: the process itself may still be draining.
    while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
    if [ "$stopping" -eq 1 ]; then break; fi
    if [ $((SECONDS - started)) -ge 60 ]; then delay=1; fi
    restarts=$((restarts + 1))
    echo "$restarts" >"$stem.restarts"
    printf '%s supervisor: %s exited with status %s; starting it again in %s s (restarts=%s)\n' \
      "$(date -u +%FT%TZ)" "$(basename "$1")" "$status" "$delay" "$restarts" >>"$stem.log"
    sleep "$delay" &
    sleeper=$!
    wait "$sleeper" 2>/dev/null || true
    sleeper=0
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  done
  rm -f "$stem.child"
}

# start_engine_process DIR NAME BINARY [ARGS...]: one of the engine's processes under supervise,
# detached from the terminal (setsid: the supervisor leads its own process group, the process in
# it), the supervisor's pid in DIR/engine/NAME.pid, the log in DIR/engine/NAME.log. The
# supervisor's command line names DIR, so stack_processes finds it.
start_engine_process() {
  local dir=$1 name=$2; shift 2
  local stem="$dir/engine/$name"
  mkdir -p "$dir/engine"
  : >"$stem.log"
  rm -f "$stem.restarts"
  # A process that serves its metrics over HTTP (its --help lists CQRS_METRICS_PORT, see
  # core/metrics_endpoint.hpp) gets a port of its own, kept across restarts, for CQRS_METRICS_URLS.
  if serves_metrics_endpoint "$@"; then
    local metrics_port
    metrics_port=$(free_port)
    set -- "$@" --metrics-port "$metrics_port"
    record_metrics_url "$dir" "$name" "http://127.0.0.1:$metrics_port/metrics"
  fi
  (set -a; . "$dir/stack.env"; exec setsid bash -c '. "$1"; shift; supervise "$@"' supervise \
    "$CQRS_ROOT/tools/lib/common.sh" "$stem" "$@" </dev/null >/dev/null 2>&1) &
  echo $! >"$stem.pid"
  sleep 0.3
  if engine_exited "$dir" "$name"; then
    cat "$stem.log" >&2
    stop_pid_file "$stem.pid"
    die "$name exited at start"
  fi
}

# engine_exited DIR NAME: whether the engine process exited since it was started (its supervisor
# then counts a restart), or its supervisor is gone.
engine_exited() {
  local stem="$1/engine/$2"
  [ -s "$stem.restarts" ] || ! kill -0 "$(cat "$stem.pid" 2>/dev/null)" 2>/dev/null
}

# wait_for_gateway DIR: until the gateway answers /healthz (20 s at most), else its log and die.
wait_for_gateway() {
  local dir=$1 url
  url=$(. "$dir/stack.env"; echo "$CQRS_HTTP_URL")
  local deadline=$((SECONDS + 20))
  until curl -sf -o /dev/null "$url/healthz"; do
    # A gateway that exited (e.g. its port was taken meanwhile) will not answer: say so at once.
    if engine_exited "$dir" gateway || [ $SECONDS -ge $deadline ]; then
      cat "$dir/engine/gateway.log" >&2
      die "the gateway did not answer $url/healthz"
    fi
    sleep 0.1
  done
}

# The engine's processes on a started stack: the relay, a projector and the gateway.
start_engine() {
  local dir=$1
  start_engine_process "$dir" relay "$CQRS_BUILD_DIR/commands/relay/cqrs-relay" \
    --relay-metrics-file "$dir/engine/relay.metrics"
  # The projector's command line names the stack's directory, so a stop finds it like the others.
  start_engine_process "$dir" projector "$CQRS_BUILD_DIR/tools/cli/cqrs" projector \
    --projector-group "cqrs-projections" --projector-metrics-file "$dir/engine/projector.metrics"
  # The stand-in card processor (its port and webhook secret in stack.env) sends its webhooks to the
  # gateway, trusting the stack's CA when the gateway serves HTTPS.
  start_engine_process "$dir" payment-provider "$CQRS_BUILD_DIR/tools/payment_provider/cqrs-payment-provider" \
    --payment-webhook-url "$(. "$dir/stack.env"; echo "$CQRS_HTTP_URL")/v1/payments/provider-events" \
    --payment-webhook-ca-file "$(. "$dir/stack.env"; echo "${CQRS_TLS_CA_FILE:-}")" \
    --payment-provider-tls-cert-file "$(. "$dir/stack.env"; echo "$CQRS_TLS_CERT_FILE")" \
    --payment-provider-tls-key-file "$(. "$dir/stack.env"; echo "$CQRS_TLS_KEY_FILE")"
  # The process managers (order fulfilment): their own consumer group, PostgreSQL state, and the
  # card processor's client (CQRS_PAYMENT_PROVIDER_URL from stack.env).
  start_engine_process "$dir" processes "$CQRS_BUILD_DIR/commands/processes/cqrs-processes" \
    --processes-metrics-file "$dir/engine/processes.metrics"
  # CQRS_HTTP_PORT and CQRS_JWT_SECRET come from stack.env (write_http_settings).
  start_engine_process "$dir" gateway "$CQRS_BUILD_DIR/gateway/cqrs-gateway" \
    --gateway-metrics-file "$dir/engine/gateway.metrics"
  wait_for_gateway "$dir"
}

# write_http_settings DIR PORT: where the gateway listens (HTTPS), and a fresh HS256 key for its tokens.
write_http_settings() {
  local dir=$1 port=$2
  write_setting "$dir" CQRS_HTTP_PORT "$port"
  write_setting "$dir" CQRS_HTTP_URL "https://127.0.0.1:$port"
  write_setting "$dir" CQRS_JWT_SECRET "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

# write_payment_provider_settings DIR PORT: where the stand-in card processor listens (the engine
# calls CQRS_PAYMENT_PROVIDER_URL) and a fresh key for its webhooks' signatures.
write_payment_provider_settings() {
  write_setting "$1" CQRS_PAYMENT_PROVIDER_PORT "$2"
  # HTTPS with the stack's certificate (start_tls); the engine's client trusts the dev CA.
  write_setting "$1" CQRS_PAYMENT_PROVIDER_URL "https://127.0.0.1:$2"
  write_setting "$1" CQRS_PAYMENT_PROVIDER_CA_FILE "$CQRS_DEV_CA"
  write_setting "$1" CQRS_PAYMENT_WEBHOOK_SECRET "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

# write_setting DIR NAME VALUE: one line of DIR/stack.env. `export`, so that `. stack.env` in a
# shell hands the settings to the programs it starts (curl sessions, tools/cqrs, the engine); values
# are URLs, ports, paths and hex keys, in single quotes (a URL's query has `&`), which line readers
# (tools/cqrs) strip.
write_setting() {
  printf "export %s='%s'\n" "$2" "$3" >>"$1/stack.env"
}

# write_pii_settings DIR: the stack's keys of personal data (a master key and a blind-index key,
# files of mode 0600 made by `cqrs keys generate`) and its key store: a PostgreSQL database of its
# own on the stack's server, never the event store's (docs/security.md).
write_pii_settings() {
  local dir=$1 url port cqrs=$CQRS_BUILD_DIR/tools/cli/cqrs
  url=$(. "$dir/stack.env"; echo "$CQRS_PG_URL")
  port=${url##*:}; port=${port%%/*}
  pg_run "$PG_BIN/createdb" -h "$dir/pg" -p "$port" -U postgres cqrs_keys || die "createdb cqrs_keys failed"
  mkdir -p "$dir/keys" && chmod 700 "$dir/keys"
  "$cqrs" keys generate --out "$dir/keys/master.key" >/dev/null || die "cannot write the master key"
  "$cqrs" keys generate --out "$dir/keys/index.key" >/dev/null || die "cannot write the index key"
  write_setting "$dir" CQRS_PII_MASTER_KEY_FILE "$dir/keys/master.key"
  write_setting "$dir" CQRS_PII_INDEX_KEY_FILE "$dir/keys/index.key"
  # The event store's URL with the other database name, its TLS parameters kept.
  local address=${url%%\?*} query=""
  [ "$address" != "$url" ] && query="?${url#*\?}"
  write_setting "$dir" CQRS_PII_KEYSTORE_URL "${address%/*}/cqrs_keys$query"
  # A first admin, to sign in with (docs/http-api.md, "Users and sign-in").
  local email=admin@example.com password
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s\n' "$password" | (set -a; . "$dir/stack.env"; "$cqrs" users add --email "$email" --role admin) \
    >"$dir/admin.log" 2>&1 || { cat "$dir/admin.log" >&2; die "cannot create the first admin"; }
  write_setting "$dir" CQRS_DEV_ADMIN_EMAIL "$email"
  write_setting "$dir" CQRS_DEV_ADMIN_PASSWORD "$password"
}

# start_stack DIR [durable|fast] [HTTP_PORT]: everything the engine needs, settings written to
# DIR/stack.env. The gateway's port is HTTP_PORT, else a free one (private stacks of tools/test and
# tools/bench run beside tools/run's gateway).
start_stack() {
  local dir=$1 durability=${2:-durable} http_port=${3:-}
  : >"$dir/stack.env"
  write_setting "$dir" CQRS_STACK_DIR "$dir"
  start_tls "$dir"
  start_postgres "$dir" "$durability"
  start_redis "$dir"
  start_kafka "$dir"
  # Picked once the other services listen, so that it cannot be one of theirs.
  write_http_settings "$dir" "${http_port:-$(free_port)}"
  write_payment_provider_settings "$dir" "$(free_port)"
  apply_migrations "$dir"
  write_pii_settings "$dir"
}

# stop_pid_file FILE: SIGTERM, then SIGKILL after 10 s. A process leading its own group (a
# supervisor, the broker, a daemon) is killed with its group, so that a supervisor killed before
# it could stop its process leaves nothing behind; a supervisor's process found still running
# (FILE's stem.child) is killed too.
stop_pid_file() {
  local file=$1 pid child
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    kill -KILL "$pid" 2>/dev/null || true
  fi
  child="${file%.pid}.child"
  if [ -f "$child" ]; then
    kill -KILL "$(cat "$child")" 2>/dev/null || true
    rm -f "$child"
  fi
  rm -f "$file"
}

# stop_stack DIR: stops every process started in DIR, engine processes first (they hold
# connections to the services), then the broker, Redis and PostgreSQL. Safe to call twice.
stop_stack() {
  local dir=$1 file
  [ -d "$dir" ] || return 0
  for file in "$dir"/engine/*.pid; do
    if [ -e "$file" ]; then stop_pid_file "$file"; fi
  done
  stop_pid_file "$dir/kafka/broker.pid"
  stop_pid_file "$dir/redis/redis.pid"
  # The read replica of a scaled stack (tools/run --scale ...,replica=on), before its primary.
  if [ -f "$dir/pg-replica/data/postmaster.pid" ]; then
    pg_run "$PG_BIN/pg_ctl" -D "$dir/pg-replica/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      pg_run "$PG_BIN/pg_ctl" -D "$dir/pg-replica/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    pg_run "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      pg_run "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1
  fi
}

# Processes whose command line mentions DIR (what a stop must leave at zero).
stack_processes() {
  pgrep -f -- "$1" || true
}

# --- metrics over HTTP ----------------------------------------------------------------------------
# Every long-running engine process serves Prometheus metrics over HTTP: the gateway at /metrics on
# its own HTTPS port, the others (relay, projector, saga workers) on a plain-HTTP port of their own
# (core/metrics_endpoint.hpp). DIR/engine/NAME.metrics_url holds each one's URL; write_metrics_urls
# lists them all in stack.env as CQRS_METRICS_URLS.

# serves_metrics_endpoint BINARY [ARGS...]: whether one of the engine's programs (cqrs*) serves its
# metrics over HTTP, asked of its own --help (the settings it reads).
serves_metrics_endpoint() {
  case "$(basename "$1")" in cqrs*) ;; *) return 1 ;; esac
  timeout 10 "$@" --help 2>/dev/null | grep -q 'CQRS_METRICS_PORT'
}

# record_metrics_url DIR NAME URL
record_metrics_url() {
  mkdir -p "$1/engine"
  echo "$3" >"$1/engine/$2.metrics_url"
}

# write_metrics_urls DIR: CQRS_METRICS_URLS, the metrics URLs of every engine process, comma-separated.
write_metrics_urls() {
  local dir=$1 urls
  urls=$(cat "$dir"/engine/*.metrics_url 2>/dev/null | paste -sd, -)
  write_setting "$dir" CQRS_METRICS_URLS "$urls"
}

# --- a scaled stack (tools/run --scale) -----------------------------------------------------------
# HAProxy in front of N gateways, N projectors in one consumer group, N saga workers, N relays (one
# leads, the others stand by on the leadership lock) and a PostgreSQL streaming replica for the
# gateways' reads. docs/scaling.md describes it.

# Debian packages only a scaled stack needs: the load balancer, and Prometheus for --with-prometheus.
CQRS_SCALE_PACKAGES=(haproxy)
CQRS_PROMETHEUS_PACKAGES=(prometheus)

# How long a stopping gateway keeps accepting after /readyz turned 503: HAProxy checks every 300 ms
# and takes a gateway out after 2 failed checks, so 2 s leaves it three times the time it needs.
CQRS_SCALE_DRAIN_DELAY_MS=${CQRS_SCALE_DRAIN_DELAY_MS:-2000}

# Where the saga worker is built (commands/processes), when the build has it.
processes_binary() {
  echo "$CQRS_BUILD_DIR/commands/processes/cqrs-processes"
}

# parse_scale SPEC: gateways=N,projectors=N,processes=N,relays=N,replica=on|off into SCALE_GATEWAYS,
# SCALE_PROJECTORS, SCALE_PROCESSES, SCALE_RELAYS and SCALE_REPLICA; unnamed parts keep 1 (0 saga
# workers, replica off). A bad part ends with a message naming it.
parse_scale() {
  local spec=$1 part key value
  SCALE_GATEWAYS=1 SCALE_PROJECTORS=1 SCALE_PROCESSES=0 SCALE_RELAYS=1 SCALE_REPLICA=off
  [ -n "$spec" ] || die "--scale needs a value such as gateways=2,projectors=3,processes=2,relays=2,replica=on"
  IFS=, read -ra parts <<<"$spec"
  for part in "${parts[@]}"; do
    key=${part%%=*}
    value=${part#*=}
    [ "$key" != "$part" ] || die "--scale: '$part' is not name=value"
    case $key in
      gateways|projectors|relays|processes)
        [[ $value =~ ^[0-9]+$ ]] && [ "$value" -le 16 ] || die "--scale: $key takes a whole number from 0 to 16, got '$value'"
        if [ "$key" != processes ] && [ "$value" -lt 1 ]; then die "--scale: $key must be at least 1"; fi ;;
      replica)
        [ "$value" = on ] || [ "$value" = off ] || die "--scale: replica takes on or off, got '$value'" ;;
      *) die "--scale: unknown part '$key' (known: gateways, projectors, processes, relays, replica)" ;;
    esac
    case $key in
      gateways) SCALE_GATEWAYS=$value ;;
      projectors) SCALE_PROJECTORS=$value ;;
      processes) SCALE_PROCESSES=$value ;;
      relays) SCALE_RELAYS=$value ;;
      replica) SCALE_REPLICA=$value ;;
    esac
  done
  if [ "$SCALE_PROCESSES" -gt 0 ] && [ ! -x "$(processes_binary)" ]; then
    die "--scale processes=$SCALE_PROCESSES: this build has no saga worker ($(processes_binary) does not exist)"
  fi
}

# start_replica_server DIR: the replica's server, on the port in DIR/pg-replica/port (its data made
# by start_replica). Hot standby (queries while it replays); TLS like the primary, same certificate.
start_replica_server() {
  local dir=$1 port opts
  port=$(cat "$dir/pg-replica/port")
  opts="-c listen_addresses=127.0.0.1 -k $dir/pg-replica -c max_connections=300 -c hot_standby=on"
  opts="$opts -c ssl=on -c ssl_cert_file=$dir/pg/server.pem -c ssl_key_file=$dir/pg/server.key"
  opts="$opts -c ssl_min_protocol_version=TLSv1.3"
  pg_run "$PG_BIN/pg_ctl" -D "$dir/pg-replica/data" -l "$dir/pg-replica/server.log" -w -t 60 \
    -o "-p $port $opts" start >/dev/null 2>&1
}

# stop_replica_server DIR: stops the replica (tests stop it and start it again with start_replica_server).
stop_replica_server() {
  pg_run "$PG_BIN/pg_ctl" -D "$1/pg-replica/data" -m fast -w -t 30 stop >/dev/null 2>&1
}

# start_replica DIR: a streaming replica of the stack's PostgreSQL (pg_basebackup -R: a standby that
# follows the primary over a replication connection), its URL in stack.env as CQRS_PG_READ_URL.
start_replica() {
  local dir=$1 url primary_port port
  url=$(. "$dir/stack.env"; echo "$CQRS_PG_URL")
  primary_port=${url#*@localhost:}; primary_port=${primary_port%%/*}
  mkdir -p "$dir/pg-replica"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/pg-replica"; fi
  # Over the primary's Unix socket, where initdb's pg_hba allows replication.
  pg_run "$PG_BIN/pg_basebackup" -h "$dir/pg" -p "$primary_port" -U postgres -D "$dir/pg-replica/data" -R \
    -X stream -c fast >"$dir/pg-replica/basebackup.log" 2>&1 ||
    { cat "$dir/pg-replica/basebackup.log" >&2; die "pg_basebackup failed"; }
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    echo "$port" >"$dir/pg-replica/port"
    if start_replica_server "$dir"; then
      write_setting "$dir" CQRS_PG_READ_URL \
        "postgresql://postgres@localhost:$port/cqrs?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=$CQRS_DEV_CA"
      return 0
    fi
  done
  tail -n 20 "$dir/pg-replica/server.log" >&2
  die "the PostgreSQL replica did not start"
}

# write_haproxy_config DIR PORT GATEWAY_PORT...: HAProxy on PORT (HTTPS with the stack's
# certificate) in front of the gateways, speaking TLS to them verified against the dev CA.
write_haproxy_config() {
  local dir=$1 port=$2 i=0 gateway
  shift 2
  mkdir -p "$dir/haproxy"
  cat "$dir/tls/server.pem" "$dir/tls/server.key" >"$dir/haproxy/server.pem"
  chmod 600 "$dir/haproxy/server.pem"
  {
    cat <<CONFIG
# Generated by tools/lib/common.sh (write_haproxy_config); docs/scaling.md explains each choice.
global
  maxconn 8000
  stats socket $dir/haproxy/admin.sock mode 600 level admin
  ssl-default-bind-options ssl-min-ver TLSv1.2
  ssl-default-server-options ssl-min-ver TLSv1.3
  # In haproxy.log beside the gateways' logs: every request that failed (5xx, timeout, a closed
  # connection) or was retried or redispatched (server, status, retries, how the session ended:
  # what a failed request is traced by), and every change of a gateway's state. Normal requests are
  # not logged (dontlog-normal), which keeps the cost off the request path.
  log stdout format raw local0

defaults
  mode http
  log global
  option httplog
  option dontlog-normal
  option log-health-checks
  timeout connect 1s
  timeout client 60s
  timeout server 30s
  timeout http-request 10s
  timeout http-keep-alive 10s
  # A connection that fails, or a gateway that closes without answering (killed, or closing a
  # kept-alive connection just as a request arrives), is retried on another gateway: up to 3 times,
  # each on another server (redispatch).
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response

frontend api
  bind 127.0.0.1:$port ssl crt $dir/haproxy/server.pem alpn http/1.1
  default_backend gateways

backend gateways
  balance roundrobin
  # A request that may have reached a gateway is sent again only when doing so twice is harmless:
  # reads, and commands carrying an Idempotency-Key (the gateway answers the first outcome again).
  http-request disable-l7-retry if !METH_GET !METH_HEAD !{ req.hdr(idempotency-key) -m found }
  # A gateway answers /readyz 503 from the moment it is asked to stop (it drains): 2 failed checks
  # 300 ms apart take it out of rotation, 2 good ones bring it back. A check may take up to 1 s (its
  # own time limit; otherwise the 300 ms interval would be): /readyz waits up to 500 ms for a slow
  # Redis and answers 200 "degraded", and a loaded machine must not take a serving gateway out.
  option httpchk GET /readyz
  http-check expect status 200
  timeout check 1s
  default-server check inter 300ms fall 2 rise 2 ssl verify required ca-file $CQRS_DEV_CA verifyhost localhost sni str(localhost) check-sni localhost alpn http/1.1
CONFIG
    for gateway in "$@"; do
      i=$((i + 1))
      echo "  server gateway-$i 127.0.0.1:$gateway"
    done
  } >"$dir/haproxy/haproxy.cfg"
  haproxy -c -q -f "$dir/haproxy/haproxy.cfg" >"$dir/haproxy/check.log" 2>&1 ||
    { cat "$dir/haproxy/check.log" >&2; die "the generated HAProxy configuration is invalid"; }
}

# wait_for_url SECONDS URL NAME: until URL answers 2xx, else NAME's log and die.
wait_for_url() {
  local seconds=$1 url=$2 name=$3 dir=$4
  local deadline=$((SECONDS + seconds))
  until curl -sf -o /dev/null "$url"; do
    if engine_exited "$dir" "$name" || [ $SECONDS -ge $deadline ]; then
      tail -n 40 "$dir/engine/$name.log" >&2
      die "$name did not answer $url"
    fi
    sleep 0.1
  done
}

# start_scaled_engine DIR: the engine's processes as SCALE_* asks (parse_scale), in DIR/engine under
# the supervisor like start_engine's: relay-N, projector-N, processes-N, payment-provider,
# gateway-N (each on a port of its own, CQRS_GATEWAY_URLS) and haproxy on CQRS_HTTP_PORT, which
# CQRS_HTTP_URL names; the replica first when asked for (the gateways read CQRS_PG_READ_URL).
start_scaled_engine() {
  local dir=$1 i port public_url ports=() urls=()
  public_url=$(. "$dir/stack.env"; echo "$CQRS_HTTP_URL")
  port=$(. "$dir/stack.env"; echo "$CQRS_HTTP_PORT")
  if [ "$SCALE_REPLICA" = on ]; then start_replica "$dir"; fi
  for i in $(seq 1 "$SCALE_RELAYS"); do
    start_engine_process "$dir" "relay-$i" "$CQRS_BUILD_DIR/commands/relay/cqrs-relay" \
      --relay-metrics-file "$dir/engine/relay-$i.metrics"
  done
  for i in $(seq 1 "$SCALE_PROJECTORS"); do
    start_engine_process "$dir" "projector-$i" "$CQRS_BUILD_DIR/tools/cli/cqrs" projector \
      --projector-group "cqrs-projections" --projector-metrics-file "$dir/engine/projector-$i.metrics"
  done
  for i in $(seq 1 "$SCALE_PROCESSES"); do
    start_engine_process "$dir" "processes-$i" "$(processes_binary)"
  done
  # HTTPS with the stack's certificate, as CQRS_PAYMENT_PROVIDER_URL says (the saga workers call it).
  start_engine_process "$dir" payment-provider "$CQRS_BUILD_DIR/tools/payment_provider/cqrs-payment-provider" \
    --payment-webhook-url "$public_url/v1/payments/provider-events" --payment-webhook-ca-file "$CQRS_DEV_CA" \
    --payment-provider-tls-cert-file "$dir/tls/server.pem" --payment-provider-tls-key-file "$dir/tls/server.key"
  for i in $(seq 1 "$SCALE_GATEWAYS"); do
    ports+=("$(free_port)")
    urls+=("https://127.0.0.1:${ports[-1]}")
    echo "${urls[-1]}" >"$dir/engine/gateway-$i.address"
    record_metrics_url "$dir" "gateway-$i" "${urls[-1]}/metrics"
    start_engine_process "$dir" "gateway-$i" "$CQRS_BUILD_DIR/gateway/cqrs-gateway" --http-port "${ports[-1]}" \
      --http-drain-delay-ms "$CQRS_SCALE_DRAIN_DELAY_MS"
  done
  for i in $(seq 1 "$SCALE_GATEWAYS"); do wait_for_url 30 "${urls[$((i - 1))]}/readyz" "gateway-$i" "$dir"; done
  write_setting "$dir" CQRS_GATEWAY_URLS "$(IFS=,; echo "${urls[*]}")"
  write_haproxy_config "$dir" "$port" "${ports[@]}"
  echo "$public_url" >"$dir/engine/haproxy.address"
  start_engine_process "$dir" haproxy "$(command -v haproxy)" -db -f "$dir/haproxy/haproxy.cfg"
  wait_for_url 30 "$public_url/readyz" haproxy "$dir"
  write_setting "$dir" CQRS_SCALE "gateways=$SCALE_GATEWAYS,projectors=$SCALE_PROJECTORS,processes=$SCALE_PROCESSES,relays=$SCALE_RELAYS,replica=$SCALE_REPLICA"
}

# start_prometheus DIR: Debian's Prometheus scraping every metrics URL of the stack with the
# shipped configuration (tools/prometheus/prometheus.yml), its targets written next to it.
start_prometheus() {
  local dir=$1 port urls url kind
  mkdir -p "$dir/prometheus"
  cp "$CQRS_ROOT/tools/prometheus/prometheus.yml" "$dir/prometheus/prometheus.yml"
  urls=$(. "$dir/stack.env"; echo "$CQRS_METRICS_URLS")
  for kind in https http; do
    printf '[' >"$dir/prometheus/targets-$kind.json"
    local first=1
    for url in ${urls//,/ }; do
      case $url in "$kind://"*) ;; *) continue ;; esac
      [ $first -eq 1 ] || printf ',' >>"$dir/prometheus/targets-$kind.json"
      first=0
      url=${url#*://}
      printf '{"targets":["%s"],"labels":{"process":"%s"}}' "${url%%/*}" \
        "$(grep -lx "$kind://$url" "$dir"/engine/*.metrics_url | xargs -n1 basename | sed 's/\.metrics_url$//')" \
        >>"$dir/prometheus/targets-$kind.json"
    done
    printf ']\n' >>"$dir/prometheus/targets-$kind.json"
  done
  # The gateways are scraped over HTTPS: Prometheus trusts the dev CA (a copy next to its config).
  cp "$CQRS_DEV_CA" "$dir/prometheus/ca.pem"
  port=$(free_port)
  echo "http://127.0.0.1:$port" >"$dir/engine/prometheus.address"
  start_engine_process "$dir" prometheus "$(command -v prometheus)" \
    --config.file="$dir/prometheus/prometheus.yml" --storage.tsdb.path="$dir/prometheus/data" \
    --web.listen-address="127.0.0.1:$port"
  wait_for_url 60 "http://127.0.0.1:$port/-/ready" prometheus "$dir"
  write_setting "$dir" CQRS_PROMETHEUS_URL "http://127.0.0.1:$port"
}

# --- status -------------------------------------------------------------------------------------

# status_line NAME PID STATE [ADDRESS]
status_line() {
  printf '%s pid %s %s%s\n' "$1" "$2" "$3" "${4:+ $4}"
}

# relay_role URL: leader or standby, as the relay's own metrics say (cqrs_relay_leader).
relay_role() {
  local value
  value=$(curl -s --max-time 2 "$1" 2>/dev/null | awk '/^cqrs_relay_leader[{ ]/ {print $2; exit}')
  if [ "$value" = 1 ]; then echo leader; elif [ -n "$value" ]; then echo standby; else echo starting; fi
}

# postgres_status NAME DATA_DIR SOCKET_DIR: the server's line (primary, or streaming for a standby
# that receives the primary's WAL).
postgres_status() {
  local name=$1 data=$2 socket=$3 pid port state
  if [ ! -f "$data/postmaster.pid" ]; then
    [ -d "$data" ] && status_line "$name" - stopped
    return 0
  fi
  pid=$(sed -n 1p "$data/postmaster.pid")
  port=$(sed -n 4p "$data/postmaster.pid")
  if ! kill -0 "$pid" 2>/dev/null; then status_line "$name" "$pid" stopped; return 0; fi
  state=$(pg_run "$PG_BIN/psql" -h "$socket" -p "$port" -U postgres -d cqrs -Atc \
    "select case when pg_is_in_recovery() then coalesce((select status from pg_stat_wal_receiver), 'recovering') else 'primary' end" \
    2>/dev/null || echo unreachable)
  status_line "$name" "$pid" "$state" "127.0.0.1:$port"
}

# engine_status DIR NAME: an engine process's line: its pid (the process, else its supervisor),
# running, restarting (between a crash and its restart) or stopped; relays say leader or standby.
engine_status() {
  local dir=$1 name=$2 stem="$1/engine/$2" pid state address=""
  pid=$(cat "$stem.child" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    state=running
    case $name in relay*) [ -f "$stem.metrics_url" ] && state=$(relay_role "$(cat "$stem.metrics_url")") ;; esac
  elif kill -0 "$(cat "$stem.pid" 2>/dev/null)" 2>/dev/null; then
    pid=$(cat "$stem.pid"); state=restarting
  else
    pid=-; state=stopped
  fi
  if [ -f "$stem.address" ]; then address=$(cat "$stem.address")
  elif [ -f "$stem.metrics_url" ]; then address=$(cat "$stem.metrics_url"); fi
  status_line "$name" "$pid" "$state" "$address"
}

# stack_status DIR: every process of the stack started in DIR, one a line:
# `<name> pid <pid> <state> [address]`.
stack_status() {
  local dir=$1 file name port url
  postgres_status postgres "$dir/pg/data" "$dir/pg"
  postgres_status postgres-replica "$dir/pg-replica/data" "$dir/pg-replica"
  url=$(. "$dir/stack.env"; echo "$CQRS_REDIS_URL")
  port=${url##*:}; port=${port%%/*}
  if kill -0 "$(cat "$dir/redis/redis.pid" 2>/dev/null)" 2>/dev/null; then
    status_line redis "$(cat "$dir/redis/redis.pid")" running "127.0.0.1:$port"
  else
    status_line redis - stopped
  fi
  if kill -0 "$(cat "$dir/kafka/broker.pid" 2>/dev/null)" 2>/dev/null; then
    status_line kafka "$(cat "$dir/kafka/broker.pid")" running "$(cat "$dir/kafka/bootstrap" 2>/dev/null)"
  else
    status_line kafka - stopped
  fi
  for file in $(ls "$dir"/engine/*.pid 2>/dev/null | sort -V); do
    name=$(basename "$file" .pid)
    engine_status "$dir" "$name"
  done
}

# The auth benchmark's shell half, sourced by tools/bench (private stack, default durability,
# bench_seconds, bench_rounds and the helpers). It reuses gateway.sh's engine start and wrk
# measurement (gateway_start_engine, gateway_wrk: CPU of the client, of the stack, and of the rest
# of the machine for every measurement).
#
# On that stack it starts the engine, registers one user through POST /v1/users, creates one product,
# then, in each of --rounds rounds (sides alternating, medians):
#   1. libsodium's raw argon2id: `cqrs-bench auth` runs crypto_pwhash at the gateway's parameters
#      (m = 19 MiB, t = 2, p = 1 unless CQRS_ARGON2_MEMORY_KIB / CQRS_ARGON2_PASSES say otherwise) on
#      as many threads as the gateway's password pool (one per core), the gateway idle:
#      auth.argon2id_per_s.
#   2. POST /v1/auth/login through the gateway with the right password, wrk at 8 connections (the
#      password pool's queue absorbs them; none is refused): auth.login_per_s,
#      auth.login_ratio_to_argon2id (target >= 0.8), auth.login_p99_ms.
#   3. GET /v1/users/me with a valid access token (the user's stream read and its fields opened on
#      the PostgreSQL pool), against GET /v1/products/{id} (a Redis read model hit), both wrk at 64
#      connections: auth.me_rps, auth.product_get_rps, auth.me_ratio_to_product_get.
# auth.others_pct: the median share of the machine's CPU that processes outside the stack used
# during the measurements (the machine may be shared): read the figures with it.

. "$CQRS_ROOT/tools/benchmarks/gateway.sh"

auth_login_connections=8
auth_get_connections=64

bench_auth_summary() {
  echo "logins/s through the gateway vs raw argon2id on the same cores; GET /v1/users/me vs the product GET"
}

# Registers the benchmark's user, signs in, creates a product; sets auth_token, auth_product.
auth_prepare() {
  local email="bench-$RANDOM$RANDOM@example.com" password="bench-password-$RANDOM$RANDOM" admin
  jq -cn --arg e "$email" --arg p "$password" '{email: $e, password: $p}' >"$bench_dir/login.json"
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "$(jq -cn --arg e "$email" --arg p "$password" '{email: $e, password: $p, name: "Bench User"}')" \
    "$gateway_url/v1/users" || die "cannot register the benchmark's user"
  curl -fsS -H 'Content-Type: application/json' -d @"$bench_dir/login.json" "$gateway_url/v1/auth/login" |
    jq -r .access_token >"$bench_dir/token" || die "the benchmark's user cannot sign in"
  admin=$("$CQRS_BUILD_DIR/tools/cli/cqrs" token --sub bench-admin --role admin) || die "cannot make an admin token"
  curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $admin" -o "$bench_dir/product.json" \
    -d '{"sku":"BENCH-AUTH-1","name":"bench","description":"bench","price":{"amount":100,"currency":"EUR"},"stock":10}' \
    "$gateway_url/v1/products" || die "cannot create the benchmark's product"
  jq -r .id "$bench_dir/product.json" >"$bench_dir/ids.get"
  gateway_wait_projections
  curl -fsS -o /dev/null -H "Authorization: Bearer $(cat "$bench_dir/token")" "$gateway_url/v1/users/me" ||
    die "GET /v1/users/me failed"
}

auth_password_threads() { echo "${CQRS_PASSWORD_THREADS:-$(nproc)}"; }

# One raw measurement: prints "argon2id_per_s others_pct".
auth_raw() {
  local out="$bench_dir/argon2id.$1" args=(--seconds "$bench_seconds" --threads "$(auth_password_threads)")
  [ -n "${CQRS_ARGON2_MEMORY_KIB:-}" ] && args+=(--memory-kib "$CQRS_ARGON2_MEMORY_KIB")
  [ -n "${CQRS_ARGON2_PASSES:-}" ] && args+=(--passes "$CQRS_ARGON2_PASSES")
  gateway_measure "$out" "$CQRS_BUILD_DIR/tools/benchmarks/cqrs-bench" auth "${args[@]}" ||
    { cat "$out" >&2; die "cqrs-bench auth failed"; }
  echo "$(awk '$1 == "RESULT" && $2 == "argon2id_per_s" { print $3 }' "$out") $measured_others_pct"
}

declare -A auth_fig
auth_others=()

auth_keep() { auth_fig[$1]+=" $2"; }

bench_auth_run() {
  local round f raw
  gateway_start_engine
  auth_prepare
  note "auth: $bench_rounds rounds of ${bench_seconds}s per side, medians; password pool of $(auth_password_threads) threads"
  for round in $(seq 1 "$bench_rounds"); do
    say "round $round: raw argon2id and logins"
    if [ $((round % 2)) -eq 1 ]; then raw=($(auth_raw "$round")); fi
    f=($(gateway_wrk "$bench_dir/login.$round" "$gateway_url" auth.lua "$auth_login_connections" login "$bench_dir/login.json"))
    auth_keep login_rps "${f[0]}"; auth_keep login_p99 "${f[2]}"; auth_others+=("${f[8]}")
    if [ $((round % 2)) -eq 0 ]; then raw=($(auth_raw "$round")); fi
    auth_keep argon2id "${raw[0]}"; auth_others+=("${raw[1]}")
    say "round $round: GET /v1/users/me and the product GET"
    f=($(gateway_wrk "$bench_dir/me.$round" "$gateway_url" auth.lua "$auth_get_connections" me "$bench_dir/token"))
    auth_keep me_rps "${f[0]}"; auth_keep me_p99 "${f[2]}"; auth_others+=("${f[8]}")
    f=($(gateway_wrk "$bench_dir/get.$round" "$gateway_url" get.lua "$auth_get_connections" "$bench_dir/ids.get"))
    auth_keep get_rps "${f[0]}"; auth_others+=("${f[8]}")
  done
  local argon login me get
  argon=$(median ${auth_fig[argon2id]}); login=$(median ${auth_fig[login_rps]})
  me=$(median ${auth_fig[me_rps]}); get=$(median ${auth_fig[get_rps]})
  bench_line auth.argon2id_per_s "$argon"
  bench_line auth.login_per_s "$login"
  bench_line auth.login_ratio_to_argon2id "$(ratio "$login" "$argon")"
  bench_line auth.login_p99_ms "$(median ${auth_fig[login_p99]})"
  bench_line auth.me_rps "$me"
  bench_line auth.product_get_rps "$get"
  bench_line auth.me_ratio_to_product_get "$(ratio "$me" "$get")"
  bench_line auth.me_p99_ms "$(median ${auth_fig[me_p99]})"
  bench_line auth.others_pct "$(median "${auth_others[@]}")"
}

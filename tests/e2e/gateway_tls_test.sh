# The gateway over TLS, as a client sees it: a TLS 1.3 handshake verified against the dev CA
# works (and every answer carries Strict-Transport-Security); TLS 1.2 and older are refused (1.2
# only when CQRS_TLS_MIN_VERSION=1.2); a client expecting another host name refuses the
# certificate; plain HTTP gets no answer; keep-alive and pipelining work inside TLS; SIGHUP serves a new certificate to new connections
# while a keep-alive connection opened before keeps working, and a broken file on SIGHUP keeps
# the certificate being served.
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"
: "${CQRS_TLS_CA_FILE:?run through tools/test}"
# The defaults are under test: a developer's own TLS settings must not change them.
unset CQRS_TLS_MIN_VERSION

work=$(mktemp -d)
gateways=()
finish() {
  local pid
  for pid in "${gateways[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  [ -n "${COPROC_PID:-}" ] && kill "$COPROC_PID" 2>/dev/null
  rm -rf "$work"
  return 0
}
trap finish EXIT
ca=$CQRS_TLS_CA_FILE

# start_gateway NAME [VARIABLE=VALUE...]: a gateway on a free port serving $work/NAME.pem; sets $port.
start_gateway() {
  local name=$1
  shift
  cp "$CQRS_STACK_DIR/tls/server.pem" "$work/$name.pem"
  cp "$CQRS_STACK_DIR/tls/server.key" "$work/$name.key"
  port=$(free_port)
  env CQRS_HTTP_PORT="$port" CQRS_TLS_CERT_FILE="$work/$name.pem" CQRS_TLS_KEY_FILE="$work/$name.key" "$@" \
    CQRS_LOG_LEVEL=info "$BUILD/gateway/cqrs-gateway" >"$work/$name.log" 2>&1 &
  gateways+=($!)
  eventually 30 "gateway $name answering /healthz over HTTPS" \
    curl -sf --cacert "$ca" -o /dev/null "https://127.0.0.1:$port/healthz"
}

# handshake PORT OPTIONS...: openssl s_client's handshake with the dev CA, verification errors fatal.
handshake() {
  local at=$1
  shift
  openssl s_client -connect "127.0.0.1:$at" -CAfile "$ca" -verify_return_error "$@" </dev/null 2>&1
}

# The serial number of the certificate a new connection is shown.
served_serial() { handshake "$1" -verify_hostname localhost | openssl x509 -noout -serial; }

start_gateway main
main_port=$port
main_pid=${gateways[-1]}

# --- TLS 1.3 with the dev CA, by name and by address ---
out=$(handshake "$main_port" -tls1_3 -verify_hostname localhost) || fail "TLS 1.3 handshake failed: $out"
grep -q '^New, TLSv1.3,' <<<"$out" || fail "not TLS 1.3: $out"
grep -q 'Verify return code: 0 (ok)' <<<"$out" || fail "the certificate did not verify: $out"
curl -sf --tlsv1.3 --cacert "$ca" -D "$work/headers" -o /dev/null "https://localhost:$main_port/healthz" ||
  fail "curl over TLS 1.3 to localhost failed"
grep -qi '^strict-transport-security: max-age=[1-9]' "$work/headers" || fail "no HSTS header: $(cat "$work/headers")"
code=$(curl -s --cacert "$ca" -o /dev/null -w '%{http_code}' -D "$work/headers" "https://127.0.0.1:$main_port/v1/nowhere")
[ "$code" = 404 ] || fail "an unknown route answered $code, expected 404"
grep -qi '^strict-transport-security:' "$work/headers" || fail "no HSTS header on a 404"

# --- TLS 1.2 and older refused (OpenSSL's client would not offer 1.0/1.1 at its default level) ---
out=$(handshake "$main_port" -tls1_2) && fail "a TLS 1.2 handshake succeeded: $out"
grep -qi 'alert protocol version\|no protocols available\|wrong version\|unsupported protocol' <<<"$out" ||
  fail "TLS 1.2 failed for another reason than its version: $out"
for old in -tls1_1 -tls1; do
  handshake "$main_port" "$old" -cipher 'DEFAULT:@SECLEVEL=0' >"$work/old.out" && fail "a $old handshake succeeded"
done
curl -s --cacert "$ca" --tls-max 1.2 -o /dev/null "https://127.0.0.1:$main_port/healthz" &&
  fail "curl limited to TLS 1.2 got an answer"

# --- a client expecting another name refuses the certificate ---
out=$(handshake "$main_port" -verify_hostname wrong.example) && fail "wrong.example verified: $out"
grep -q 'hostname mismatch' <<<"$out" || fail "wrong.example failed for another reason: $out"
status=0
curl -s --cacert "$ca" --resolve "wrong.example:$main_port:127.0.0.1" -o /dev/null \
  "https://wrong.example:$main_port/healthz" || status=$?
[ "$status" -eq 60 ] || fail "curl to wrong.example exited $status, expected 60 (peer certificate not accepted)"
# And a client that does not trust the dev CA refuses it too.
status=0
curl -s --cacert /etc/ssl/certs/ca-certificates.crt -o /dev/null "https://127.0.0.1:$main_port/healthz" || status=$?
[ "$status" -eq 60 ] || fail "curl without the dev CA exited $status, expected 60"

# --- plain HTTP on the HTTPS port gets no HTTP answer ---
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$main_port/healthz" || true)
[ "$code" = 000 ] || fail "plain HTTP on the HTTPS port answered $code"

# --- SIGHUP: a new certificate for new connections; a keep-alive connection keeps working ---
# request_on_kept: one GET /healthz on the connection opened before the reload; its status line.
coproc KEPT { openssl s_client -connect "127.0.0.1:$main_port" -CAfile "$ca" -verify_return_error -quiet 2>/dev/null; }
# read_answer: one response from it (status line printed, headers and body consumed).
read_answer() {
  local line status_line length=0
  IFS= read -r -t 10 status_line <&"${KEPT[0]}" || return 1
  while IFS= read -r -t 10 line <&"${KEPT[0]}"; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    if [[ ${line,,} =~ ^content-length:\ *([0-9]+) ]]; then length=${BASH_REMATCH[1]}; fi
  done
  [ "$length" -eq 0 ] || IFS= read -r -t 10 -N "$length" line <&"${KEPT[0]}"
  echo "${status_line%$'\r'}"
}
request_on_kept() {
  printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n' >&"${KEPT[1]}"
  read_answer
}
[[ $(request_on_kept) == "HTTP/1.1 200"* ]] || fail "the keep-alive connection got no 200 before the reload"
# Pipelining inside TLS: three requests in one write, three answers in order on the same connection.
printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /v1/nowhere HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n' >&"${KEPT[1]}"
answers="$(read_answer) | $(read_answer) | $(read_answer)"
[ "$answers" = "HTTP/1.1 200 OK | HTTP/1.1 404 Not Found | HTTP/1.1 200 OK" ] ||
  fail "pipelined requests over TLS answered '$answers'"

before=$(served_serial "$main_port")
make_certificate "$work/next"
mv "$work/next.key" "$work/main.key"
mv "$work/next.pem" "$work/main.pem"
after_expected=$(openssl x509 -noout -serial -in "$work/main.pem")
[ "$before" != "$after_expected" ] || fail "the new certificate has the old serial"
kill -HUP "$main_pid"
new_certificate_served() { [ "$(served_serial "$main_port")" = "$after_expected" ]; }
eventually 10 "the new certificate served after SIGHUP" new_certificate_served
[[ $(request_on_kept) == "HTTP/1.1 200"* ]] || fail "the keep-alive connection opened before SIGHUP stopped working"
grep -q 'certificate reloaded' "$work/main.log" || fail "the reload is not logged: $(tail -5 "$work/main.log")"

# A broken certificate file on SIGHUP: logged, and the last good certificate is still served.
echo "not a certificate" >"$work/main.pem"
kill -HUP "$main_pid"
eventually 10 "the failed reload logged" grep -q 'certificate not reloaded' "$work/main.log"
kill -0 "$main_pid" 2>/dev/null || fail "a broken certificate on SIGHUP stopped the gateway"
[ "$(served_serial "$main_port")" = "$after_expected" ] || fail "a failed reload changed the certificate served"
[[ $(request_on_kept) == "HTTP/1.1 200"* ]] || fail "the keep-alive connection stopped after a failed reload"

# --- TLS 1.2 only when allowed by name ---
start_gateway old CQRS_TLS_MIN_VERSION=1.2
out=$(handshake "$port" -tls1_2 -verify_hostname localhost) || fail "TLS 1.2 refused with CQRS_TLS_MIN_VERSION=1.2: $out"
grep -q '^New, TLSv1.2,' <<<"$out" || fail "not TLS 1.2: $out"
handshake "$port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' >"$work/old.out" && fail "TLS 1.1 accepted with 1.2 allowed"

# --- start-up refuses a missing key, naming the variable ---
status=0
CQRS_TLS_KEY_FILE=$work/missing.key CQRS_HTTP_PORT=$(free_port) "$BUILD/gateway/cqrs-gateway" >"$work/bad.log" 2>&1 ||
  status=$?
[ "$status" -eq 2 ] || fail "a missing key file exited $status, expected 2"
grep -q 'CQRS_TLS_KEY_FILE' "$work/bad.log" || fail "the missing key is not named: $(cat "$work/bad.log")"
# ... and a key that is not the certificate's.
make_certificate "$work/other"
status=0
CQRS_TLS_CERT_FILE=$CQRS_STACK_DIR/tls/server.pem CQRS_TLS_KEY_FILE=$work/other.key CQRS_HTTP_PORT=$(free_port) \
  "$BUILD/gateway/cqrs-gateway" >"$work/bad.log" 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "a key of another certificate exited $status, expected 2"
grep -q 'CQRS_TLS_KEY_FILE.*is not the key of the certificate' "$work/bad.log" ||
  fail "the mismatched key is not named: $(cat "$work/bad.log")"
echo "TLS 1.3 only, verified names, SIGHUP reload without dropping connections"

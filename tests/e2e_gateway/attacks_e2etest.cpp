// What a hostile client tries against a running gateway, and what it gets: the documented 4xx
// (never a 5xx), as problem+json where the server answers with a body, the connection closed where
// the request's framing cannot be trusted, and nothing written to the event store.
// docs/robustness.md ("Hostile requests and the gateway's answers") lists these attacks with the test case that covers each.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/json_body.hpp"
#include "gateway/jwt.hpp"
#include "tests/e2e_gateway/gateway_fixture.hpp"
#include "tests/e2e_gateway/raw_http.hpp"

namespace cqrs::tests {

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// ---- checks ----------------------------------------------------------------------------------------

// The status, the problem+json shape and its code; never a 5xx.
void check_problem(const http_answer& answer, int status, const std::string& code) {
  INFO(describe(answer));
  CHECK(answer.status == status);
  CHECK(answer.status < 500);
  CHECK(answer.is_problem());
  CHECK(problem_code(answer) == code);
}

void check_problem_naming(const http_answer& answer, int status, const std::string& code, const std::string& field) {
  check_problem(answer, status, code);
  INFO(describe(answer));
  CHECK(names_field(answer, field));
}

// One response, the refusal, and then the connection closed: after a framing fault the rest of
// the stream is not read (a smuggled second request never gets an answer).
void check_refused_and_closed(const raw_reply& reply, int status, const std::string& code) {
  INFO("unparsed bytes: " << reply.rest.substr(0, 300));
  REQUIRE(reply.responses.size() == 1);
  check_problem(reply.first(), status, code);
  CHECK(reply.first().header("connection").value_or("") == "close");
  CHECK(reply.closed);
}

// The store's size and one product's version, before and after: "nothing written" is both unchanged.
class nothing_written {
 public:
  nothing_written(const product_api& api, std::string id)
      : api_(api), id_(std::move(id)), events_(events_in_store()), version_(api.strong_version(id_)) {}
  // A destructor must not throw: a failed read is reported as a failed check.
  ~nothing_written() {
    try {
      CHECK(events_in_store() == events_);
      CHECK(api_.strong_version(id_) == version_);
    } catch (const std::exception& e) {
      FAIL_CHECK("could not read the store after the attack: " << e.what());
    }
  }
  nothing_written(const nothing_written&) = delete;
  nothing_written& operator=(const nothing_written&) = delete;

 private:
  const product_api& api_;
  std::string id_;
  std::int64_t events_;
  std::int64_t version_;
};

// ---- raw requests ----------------------------------------------------------------------------------

// A request head as written, CRLF line ends, ending in the blank line.
std::string head(const std::string& request_line, const std::vector<std::string>& fields) {
  std::string out = request_line + "\r\n";
  for (const auto& field : fields) out += field + "\r\n";
  return out + "\r\n";
}

// A whole restock request with Content-Length: what a smuggled request would look like.
std::string restock_request(const std::string& id, const std::string& token) {
  const std::string body = R"({"quantity":1})";
  return head(fmt::format("POST /v1/products/{}/restock HTTP/1.1", id),
              {"Host: gateway", "Authorization: Bearer " + token, "Content-Type: application/json",
               fmt::format("Content-Length: {}", body.size())}) +
         body;
}

std::string chunked(const std::string& data) { return fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", data.size(), data); }

// ---- tokens ----------------------------------------------------------------------------------------

std::string b64(const std::string& text) { return gateway::detail::base64url_encode(text); }

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Claims the gateway would accept (its issuer and audience, role admin, valid now), as an object
// to spoil one member of.
json::object good_claims() {
  const auto now = now_seconds();
  return {{"iss", "cqrs-engine"}, {"aud", "cqrs-api"}, {"sub", "mallory"}, {"roles", json::array{"admin"}},
          {"iat", now},           {"nbf", now},         {"exp", now + 600}};
}

std::string mac(const EVP_MD* digest, const std::string& key, const std::string& input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(digest, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

// A token with this header and these claims, its signature an HMAC with `digest` and `key`.
std::string forge(const json::object& header, const json::object& claims, const std::string& key,
                  const EVP_MD* digest = EVP_sha256()) {
  const auto input = b64(json::serialize(header)) + "." + b64(json::serialize(claims));
  return input + "." + b64(mac(digest, key, input));
}

const json::object hs256{{"alg", "HS256"}, {"typ", "JWT"}};

// ---- the gateway with short timeouts ----------------------------------------------------------------

constexpr auto short_read_timeout = 1000ms;
constexpr auto short_idle_timeout = 1000ms;

// Started once, for the slow-client cases: a second gateway whose read and idle timeouts are a
// second, so that a client that trickles is cut off quickly.
const extra_gateway& impatient_gateway(const engine_processes& engine) {
  static std::unique_ptr<extra_gateway> gateway;
  if (!gateway) {
    gateway = std::make_unique<extra_gateway>(
        engine, "impatient-gateway",
        environment{{"CQRS_HTTP_READ_TIMEOUT_MS", std::to_string(short_read_timeout.count())},
                    {"CQRS_HTTP_IDLE_TIMEOUT_MS", std::to_string(short_idle_timeout.count())}});
  }
  return *gateway;
}

}  // namespace

// ---- request smuggling -------------------------------------------------------------------------------

struct framing_attack {
  const char* name;
  std::vector<std::string> fields;  // the head's fields after Host, Authorization and Content-Type
  std::string body;                 // sent after the head; a second request rides in it
  const char* version = "HTTP/1.1";
  bool host = true;  // whether the head starts with "Host: gateway"
};

TEST_CASE_FIXTURE(gateway_fixture, "request smuggling shapes answer 400, close the connection and write nothing") {
  const auto product = api.created("SMUGGLE");
  const auto token = engine.admin_token();
  const std::string first = R"({"quantity":1})";
  const auto smuggled = restock_request(product.id, token);
  const auto both = first + smuggled;
  const auto length = [](const std::string& text) { return fmt::format("Content-Length: {}", text.size()); };

  const std::vector<framing_attack> attacks = {
      {"two different Content-Length values", {length(first), length(both)}, both},
      {"the same Content-Length twice", {length(first), length(first)}, first},
      {"Content-Length as a list", {fmt::format("Content-Length: {}, {}", first.size(), first.size())}, first},
      {"Content-Length with a sign", {fmt::format("Content-Length: +{}", first.size())}, first},
      {"Content-Length past 64 bits", {"Content-Length: 99999999999999999999999"}, first},
      {"Content-Length negative", {"Content-Length: -1"}, first},
      {"Content-Length and Transfer-Encoding", {length(first), "Transfer-Encoding: chunked"}, chunked(first) + smuggled},
      {"Transfer-Encoding gzip, chunked", {"Transfer-Encoding: gzip, chunked"}, chunked(first) + smuggled},
      {"Transfer-Encoding chunked, identity", {"Transfer-Encoding: chunked, identity"}, chunked(first) + smuggled},
      {"Transfer-Encoding identity", {"Transfer-Encoding: identity", length(first)}, both},
      {"Transfer-Encoding not ending in chunked", {"Transfer-Encoding: xchunked"}, both},
      {"Transfer-Encoding twice", {"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"}, chunked(first) + smuggled},
      {"Transfer-Encoding on HTTP/1.0", {"Transfer-Encoding: chunked"}, chunked(first) + smuggled, "HTTP/1.0"},
      {"whitespace before the colon of Transfer-Encoding", {"Transfer-Encoding : chunked", length(both)}, both},
      {"whitespace before the colon of Content-Length", {"Content-Length : 14", length(both)}, both},
      {"obsolete line folding of Transfer-Encoding", {"Transfer-Encoding: identity", " chunked", length(both)}, both},
      {"obsolete line folding of any field", {length(first), "X-Note: one", "\ttwo"}, first},
      {"a chunk size past 64 bits", {"Transfer-Encoding: chunked"}, "1ffffffffffffffff\r\n" + first + "\r\n0\r\n\r\n"},
      {"a chunk size that is not hexadecimal", {"Transfer-Encoding: chunked"}, "1g\r\n" + first + "\r\n0\r\n\r\n"},
      {"a NUL byte in a field value", {length(first), std::string("X-Note: a\0b", 11)}, first},
      {"a bare CR in a field value", {length(first), "X-Note: a\rb"}, first},
      {"two Host fields", {"Host: evil.example", length(first)}, first},
      {"no Host on HTTP/1.1", {length(first)}, first, "HTTP/1.1", false},
  };

  for (const auto& attack : attacks) {
    INFO("attack.name: " << std::string(attack.name));
    nothing_written guard(api, product.id);
    std::vector<std::string> fields = {"Authorization: Bearer " + token, "Content-Type: application/json"};
    if (attack.host) fields.insert(fields.begin(), "Host: gateway");
    fields.insert(fields.end(), attack.fields.begin(), attack.fields.end());
    const auto request =
        head(fmt::format("POST /v1/products/{}/restock {}", product.id, attack.version), fields) + attack.body;
    check_refused_and_closed(send_raw(http.port(), request), 400, "malformed_request");
  }
}

TEST_CASE_FIXTURE(gateway_fixture, "a request line the server cannot trust answers 400 and closes the connection") {
  const auto product = api.created("REQLINE");
  const auto token = engine.admin_token();
  const auto smuggled = restock_request(product.id, token);
  const std::vector<std::pair<const char*, std::string>> lines = {
      {"absolute-form naming another host", fmt::format("GET http://evil.example/v1/products/{} HTTP/1.1", product.id)},
      {"authority form", "CONNECT evil.example:443 HTTP/1.1"},
      {"asterisk form", "OPTIONS * HTTP/1.1"},
      {"a space inside the target", fmt::format("GET /v1/products/{} x HTTP/1.1", product.id)},
      {"a backslash in the target", "GET /v1/products/..\\..\\etc HTTP/1.1"},
      {"a NUL byte in the target", std::string("GET /v1/products/a\0b HTTP/1.1", 29)},
      {"a fragment in the target", fmt::format("GET /v1/products/{}#x HTTP/1.1", product.id)},
      {"an unknown HTTP version", fmt::format("GET /v1/products/{} HTTP/2.7", product.id)},
      {"a bare LF line end", fmt::format("GET /v1/products/{} HTTP/1.1\nHost: gateway", product.id)},
  };
  for (const auto& [name, line] : lines) {
    INFO("name: " << std::string(name));
    nothing_written guard(api, product.id);
    check_refused_and_closed(send_raw(http.port(), head(line, {"Host: gateway"}) + smuggled), 400, "malformed_request");
  }
}

// ---- oversized requests -------------------------------------------------------------------------------

TEST_CASE_FIXTURE(gateway_fixture, "oversized heads answer 431 and oversized bodies 413, then close") {
  const auto product = api.created("OVERSIZE");
  const auto token = engine.admin_token();
  const auto target = fmt::format("/v1/products/{}/restock", product.id);
  const std::vector<std::string> base = {"Host: gateway", "Authorization: Bearer " + token,
                                         "Content-Type: application/json"};
  nothing_written guard(api, product.id);

  SUBCASE("one field of 20 KiB") {
    auto fields = base;
    fields.push_back("X-Padding: " + std::string(20 * 1024, 'a'));
    fields.push_back("Content-Length: 14");
    check_refused_and_closed(send_raw(http.port(), head("POST " + target + " HTTP/1.1", fields) + R"({"quantity":1})"),
                             431, "headers_too_large");
  }
  SUBCASE("a target of 20 KiB") {
    const auto line = fmt::format("GET /v1/products?q={} HTTP/1.1", std::string(20 * 1024, 'a'));
    check_refused_and_closed(send_raw(http.port(), head(line, {"Host: gateway"})), 431, "headers_too_large");
  }
  SUBCASE("4,000 small fields") {
    auto fields = base;
    for (int i = 0; i < 4000; ++i) fields.push_back(fmt::format("X-F{}: v", i));
    check_refused_and_closed(send_raw(http.port(), head("GET /healthz HTTP/1.1", fields)), 431, "headers_too_large");
  }
  SUBCASE("a declared Content-Length of 2 GiB, answered before the body") {
    auto fields = base;
    fields.push_back("Content-Length: 2147483648");
    const auto reply = send_raw(http.port(), head("POST " + target + " HTTP/1.1", fields));
    check_refused_and_closed(reply, 413, "payload_too_large");
  }
  SUBCASE("a chunked body that grows past 1 MiB") {
    auto fields = base;
    fields.push_back("Transfer-Encoding: chunked");
    std::string body = chunked(R"({"quantity":1,"padding":")");
    body.resize(body.size() - 5);  // the last chunk ("0\r\n\r\n") never comes
    for (int i = 0; i < 40; ++i) body += fmt::format("{:x}\r\n{}\r\n", 32 * 1024, std::string(32 * 1024, 'x'));
    check_refused_and_closed(send_raw(http.port(), head("POST " + target + " HTTP/1.1", fields) + body), 413,
                             "payload_too_large");
  }
}

// ---- slow requests ----------------------------------------------------------------------------------

TEST_CASE_FIXTURE(gateway_fixture, "slow clients are cut off at the read timeout with 408 and write nothing") {
  const auto product = api.created("SLOW");
  const auto& gateway = impatient_gateway(engine);
  const auto token = engine.admin_token();
  nothing_written guard(api, product.id);

  SUBCASE("a head trickled a byte every 100 ms") {
    raw_connection connection("127.0.0.1", gateway.port());
    const auto reply = connection.trickle(restock_request(product.id, token), 100ms, 10s);
    check_refused_and_closed(reply, 408, "request_timeout");
    CHECK(reply.elapsed >= short_read_timeout - 100ms);
    CHECK(reply.elapsed < short_read_timeout + 4s);
  }
  SUBCASE("a whole head, then the body trickled") {
    const std::string body = R"({"quantity":1,"note":"slow"})";
    raw_connection connection("127.0.0.1", gateway.port());
    connection.send(head(fmt::format("POST /v1/products/{}/restock HTTP/1.1", product.id),
                         {"Host: gateway", "Authorization: Bearer " + token, "Content-Type: application/json",
                          fmt::format("Content-Length: {}", body.size())}));
    const auto reply = connection.trickle(body, 100ms, 10s);
    check_refused_and_closed(reply, 408, "request_timeout");
    CHECK(reply.elapsed < short_read_timeout + 4s);
  }
  SUBCASE("a connection that never sends a byte is closed without an answer") {
    raw_connection connection("127.0.0.1", gateway.port());
    const auto reply = connection.read_until_closed(10s);
    CHECK(reply.closed);
    CHECK(reply.responses.empty());
    CHECK(reply.rest.empty());
    CHECK(reply.elapsed >= short_idle_timeout - 100ms);
    CHECK(reply.elapsed < short_idle_timeout + 4s);
  }
}

// ---- JWT forgeries ----------------------------------------------------------------------------------

struct forged_token {
  const char* name;
  std::string token;
  const char* reason;  // a part of the 401's detail
};

TEST_CASE_FIXTURE(gateway_fixture, "forged, expired and misaddressed tokens answer 401 and write nothing") {
  const auto product = api.created("FORGERY");
  const auto& secret = engine.jwt_secret();
  const auto with = [](json::object object, const char* name, json::value value) {
    object[name] = std::move(value);
    return object;
  };
  const auto without = [](json::object object, const char* name) {
    object.erase(name);
    return object;
  };
  const auto claims = good_claims();
  const auto now = now_seconds();
  const auto viewer = engine.token("viewer", {"viewer"});
  const auto viewer_payload = viewer.substr(viewer.find('.') + 1, viewer.rfind('.') - viewer.find('.') - 1);
  const auto admin = engine.admin_token();

  const std::vector<forged_token> tokens = {
      {"alg none, no signature", b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(json::serialize(claims)) + ".",
       "algorithm not allowed"},
      {"alg None, signed", forge({{"alg", "None"}, {"typ", "JWT"}}, claims, secret), "algorithm not allowed"},
      {"alg HS512 with the right secret", forge({{"alg", "HS512"}, {"typ", "JWT"}}, claims, secret, EVP_sha512()),
       "algorithm not allowed"},
      {"alg HS384 with the right secret", forge({{"alg", "HS384"}, {"typ", "JWT"}}, claims, secret, EVP_sha384()),
       "algorithm not allowed"},
      {"alg RS256, HMAC with the secret as the public key", forge({{"alg", "RS256"}, {"typ", "JWT"}}, claims, secret),
       "algorithm not allowed"},
      {"alg ES256", forge({{"alg", "ES256"}, {"typ", "JWT"}}, claims, secret), "algorithm not allowed"},
      {"alg missing", forge({{"typ", "JWT"}}, claims, secret), "algorithm missing"},
      {"kid naming /dev/null, signed with an empty key",
       forge({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "../../../../../../dev/null"}}, claims, ""), "unknown key id"},
      {"kid with SQL injection, signed with the injected key",
       forge({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "x' UNION SELECT 'attacker-key' --"}}, claims, "attacker-key"),
       "unknown key id"},
      {"jwk: the attacker's own key embedded",
       forge({{"alg", "HS256"}, {"typ", "JWT"}, {"jwk", {{"kty", "oct"}, {"k", b64("attacker-key")}}}}, claims,
             "attacker-key"),
       "bad signature"},
      {"jku: a key set on the attacker's host",
       forge({{"alg", "HS256"}, {"typ", "JWT"}, {"jku", "https://evil.example/jwks.json"}}, claims, "attacker-key"),
       "bad signature"},
      {"typ other than JWT", forge({{"alg", "HS256"}, {"typ", "JWE"}}, claims, secret), "token type not allowed"},
      {"crit extension", forge({{"alg", "HS256"}, {"typ", "JWT"}, {"crit", json::array{"exp"}}}, claims, secret),
       "critical header"},
      {"expired an hour ago", forge(hs256, with(claims, "exp", now - 3600), secret), "expired"},
      {"not valid for another hour", forge(hs256, with(claims, "nbf", now + 3600), secret), "not yet valid"},
      {"exp missing", forge(hs256, without(claims, "exp"), secret), "expiry (exp) missing"},
      {"exp a string", forge(hs256, with(claims, "exp", "tomorrow"), secret), "not a valid date"},
      {"exp beyond any date", forge(hs256, with(claims, "exp", 1e300), secret), "not a valid date"},
      {"wrong audience", forge(hs256, with(claims, "aud", "another-api"), secret), "wrong audience"},
      {"audience list without ours", forge(hs256, with(claims, "aud", json::array{"a", "b"}), secret),
       "wrong audience"},
      {"audience missing", forge(hs256, without(claims, "aud"), secret), "audience (aud) missing"},
      {"wrong issuer", forge(hs256, with(claims, "iss", "evil-issuer"), secret), "wrong issuer"},
      {"issuer missing", forge(hs256, without(claims, "iss"), secret), "issuer (iss) missing"},
      {"subject empty", forge(hs256, with(claims, "sub", ""), secret), "subject (sub) missing"},
      {"roles not strings", forge(hs256, with(claims, "roles", json::array{1, 2}), secret), "roles"},
      {"a viewer's payload made admin, signature kept",
       admin.substr(0, admin.find('.') + 1) + viewer_payload + admin.substr(admin.rfind('.')), "bad signature"},
      {"signature stripped", admin.substr(0, admin.rfind('.') + 1), "bad signature"},
      {"signature padded with '='", admin + "=", "bad signature"},
      {"signature's last character changed", admin.substr(0, admin.size() - 1) + (admin.back() == 'A' ? 'B' : 'A'),
       "bad signature"},
      {"four parts", admin + ".AAAA", "malformed token"},
      {"header not JSON", b64("not json") + admin.substr(admin.find('.')), "malformed token"},
      {"9 KiB long", forge(hs256, with(claims, "pad", json::string(std::string(9 * 1024, 'x'))), secret), "too long"},
  };

  const auto body = create_body(unique_sku("FORGED"), 1);
  for (const auto& forged : tokens) {
    INFO("forged.name: " << std::string(forged.name));
    nothing_written guard(api, product.id);
    const auto create = http.post("/v1/products", body, bearer(forged.token));
    check_problem(create, 401, "unauthorized");
    CHECK(create.header("www-authenticate").value_or("").starts_with("Bearer"));
    INFO(create.body);
    CHECK(create.body.find(forged.reason) != std::string::npos);
    check_problem(http.post("/v1/products/" + product.id + "/restock", R"({"quantity":1})", bearer(forged.token)), 401,
                  "unauthorized");
  }
}

TEST_CASE_FIXTURE(gateway_fixture, "a malformed Authorization header answers 401 and writes nothing") {
  const auto product = api.created("AUTHHDR");
  const auto admin = engine.admin_token();
  const std::vector<std::pair<const char*, std::string>> headers = {
      {"Bearer without a token", "Bearer"},
      {"Bearer and spaces only", "Bearer    "},
      {"another scheme", "Basic YWRtaW46YWRtaW4="},
      {"a token without a scheme", admin},
      {"a tab instead of the space", "Bearer\t" + admin},
      {"a second word after the token", "Bearer " + admin + " extra"},
      {"two tokens joined by a comma", "Bearer " + admin + ", Bearer " + admin},
  };
  for (const auto& [name, value] : headers) {
    INFO("name: " << std::string(name));
    nothing_written guard(api, product.id);
    const auto answer = http.post("/v1/products/" + product.id + "/restock", R"({"quantity":1})", {{"Authorization", value}});
    check_problem(answer, 401, "unauthorized");
  }
}

// ---- header parameters -----------------------------------------------------------------------------

TEST_CASE_FIXTURE(gateway_fixture, "bytes that are not text in a header parameter answer 400 naming the header") {
  const auto product = api.created("HEADERBYTES");
  const auto target = "/v1/products/" + product.id + "/restock";
  const std::string body = R"({"quantity":1})";
  nothing_written guard(api, product.id);
  for (const auto* value : {"a\xff", "\xc0\xaf", "\xed\xa0\x80", "caf\xc3\xa9"}) {
    INFO("value: " << std::string(value));
    check_problem_naming(api.command("POST", target, body, {{"Idempotency-Key", value}}), 400, "validation_failed",
                         "Idempotency-Key");
    check_problem_naming(api.command("POST", target, body, {{"X-Correlation-Id", value}}), 400, "validation_failed",
                         "X-Correlation-Id");
    check_problem_naming(api.command("POST", target, body, {{"If-Match", std::string("\"1") + value + "\""}}), 400,
                         "validation_failed", "If-Match");
    // The header is the query parameter's other spelling, and named as the parameter.
    check_problem_naming(http.get("/v1/products/" + product.id, {{"X-Min-Position", value}}), 400, "validation_failed",
                         "min_position");
    check_problem(api.command("POST", target, body, {{"Content-Type", std::string("application/json") + value}}), 415,
                  "unsupported_media_type");
    check_problem(http.post(target, body, {{"Authorization", std::string("Bearer ") + value}}), 401, "unauthorized");
    // A request id that is not one is replaced, never echoed.
    const auto read = http.get("/healthz", {{"X-Request-Id", value}});
    INFO(describe(read));
    CHECK(read.status == 200);
    CHECK(read.header("x-request-id").value_or(value) != value);
  }
}

// ---- invalid UTF-8 and NUL bytes --------------------------------------------------------------------

// Percent-encoded: after decoding, none of these is UTF-8 text a parameter could hold.
const std::vector<std::pair<const char*, const char*>> bad_text = {
    {"a byte that is never UTF-8", "%FF"},
    {"a truncated sequence", "a%C3"},
    {"an overlong '/'", "%C0%AF"},
    {"a surrogate", "%ED%A0%80"},
    {"past U+10FFFF", "%F4%90%80%80"},
    {"a NUL byte", "%00"},
    {"a NUL byte inside", "1%002"},
};

TEST_CASE_FIXTURE(gateway_fixture, "invalid UTF-8 or a NUL byte in any query parameter answers 400 naming it") {
  const auto product = api.created("QUERYBYTES");
  const std::vector<std::pair<std::string, std::vector<const char*>>> routes = {
      {"/v1/products",
       {"q", "min_price", "max_price", "in_stock", "include_discontinued", "limit", "cursor", "min_position"}},
      {"/v1/products/" + product.id, {"consistency", "min_position"}},
      {"/v1/streams/product-" + product.id + "/events", {"from_version", "limit"}},
      {"/healthz", {"verbose"}},
      {"/readyz", {"verbose"}},
      {"/metrics", {"name"}},
  };
  const auto admin = bearer(engine.admin_token());
  nothing_written guard(api, product.id);
  for (const auto& [path, names] : routes) {
    for (const auto* name : names) {
      for (const auto& [what, value] : bad_text) {
        INFO("path: " << std::string(path));
        INFO("name: " << std::string(name));
        INFO("what: " << std::string(what));
        check_problem_naming(http.get(fmt::format("{}?{}={}", path, name, value), admin), 400, "validation_failed", name);
      }
    }
  }
  SUBCASE("in a parameter's name") {
    for (const auto& [what, value] : bad_text) {
      INFO("what: " << std::string(what));
      check_problem(http.get(fmt::format("/v1/products?{}=1", value)), 400, "malformed_request");
    }
  }
}

TEST_CASE_FIXTURE(gateway_fixture, "numbers past 64 bits or in another notation in a query parameter answer 400") {
  const auto product = api.created("QUERYNUMBERS");
  const std::vector<std::pair<std::string, std::vector<const char*>>> routes = {
      {"/v1/products", {"min_price", "max_price", "limit"}},
      {"/v1/streams/product-" + product.id + "/events", {"from_version", "limit"}},
  };
  const auto admin = bearer(engine.admin_token());
  nothing_written guard(api, product.id);
  for (const auto& [path, names] : routes) {
    for (const auto* name : names) {
      for (const auto* value : {"99999999999999999999999", "-9223372036854775809", "-1", "1e3", "0x10", "%201", "1.0",
                                "%EF%BC%91" /* a fullwidth digit one */}) {
        INFO("path: " << path);
        INFO("name: " << std::string(name));
        INFO("value: " << std::string(value));
        check_problem_naming(http.get(fmt::format("{}?{}={}", path, name, value), admin), 400, "validation_failed", name);
      }
    }
  }
}

TEST_CASE_FIXTURE(gateway_fixture, "a query parameter given twice answers 400 naming it") {
  const auto product = api.created("POLLUTION");
  nothing_written guard(api, product.id);
  check_problem_naming(http.get("/v1/products?limit=1&limit=100"), 400, "validation_failed", "limit");
  check_problem_naming(http.get("/v1/products/" + product.id + "?consistency=eventual&consistency=strong"), 400,
                       "validation_failed", "consistency");
  check_problem_naming(http.get("/v1/streams/product-" + product.id + "/events?from_version=1&from_version=2",
                                bearer(engine.admin_token())),
                       400, "validation_failed", "from_version");
  // Repeated thousands of times, the name is listed once: the answer stays small.
  std::string many = "/v1/products?q=a";
  for (int i = 0; i < 3000; ++i) many += "&q=a";
  const auto answer = http.get(many);
  check_problem_naming(answer, 400, "validation_failed", "q");
  CHECK(answer.body.size() < 1024);
}

// Every route with a path id, with a body that would be accepted for a real product.
struct id_route {
  const char* method;
  std::string pattern;  // "{id}" and "{rid}" are replaced
  std::optional<std::string> body;
};

std::vector<id_route> id_routes() {
  return {
      {"GET", "/v1/products/{id}", std::nullopt},
      {"PATCH", "/v1/products/{id}", R"({"name":"Renamed","description":"x"})"},
      {"PUT", "/v1/products/{id}/price", R"({"price":{"amount":100,"currency":"EUR"}})"},
      {"POST", "/v1/products/{id}/restock", R"({"quantity":1})"},
      {"POST", "/v1/products/{id}/reservations", R"({"reservation_id":"r1","quantity":1})"},
      {"DELETE", "/v1/products/{id}/reservations/{rid}", std::nullopt},
      {"POST", "/v1/products/{id}/reservations/{rid}/commit", std::nullopt},
      {"POST", "/v1/products/{id}/discontinue", R"({"reason":"attack"})"},
  };
}

std::string target_of(std::string pattern, const std::string& id, const std::string& rid) {
  pattern.replace(pattern.find("{id}"), 4, id);
  if (const auto at = pattern.find("{rid}"); at != std::string::npos) pattern.replace(at, 5, rid);
  return pattern;
}

TEST_CASE_FIXTURE(gateway_fixture, "invalid UTF-8, a NUL byte or a slash in a path id answers 400 naming it") {
  const auto product = api.created("PATHBYTES");
  const auto reserved = api.reserve(product.id, "r-path", 1);
  REQUIRE(reserved.status == 200);
  nothing_written guard(api, product.id);
  auto values = bad_text;
  values.emplace_back("an encoded slash", "a%2Fb");
  values.emplace_back("an encoded backslash", "a%5Cb");
  values.emplace_back("a traversal with encoded slashes", "..%2F..%2Fetc%2Fpasswd");
  values.emplace_back("a traversal with encoded dots and slashes", "%2e%2e%2f%2e%2e%2f");
  values.emplace_back("a double-encoded traversal", "%252e%252e%252f");
  for (const auto& route : id_routes()) {
    for (const auto& [what, value] : values) {
      INFO("route.method: " << std::string(route.method));
      INFO("route.pattern: " << std::string(route.pattern));
      INFO("what: " << std::string(what));
      check_problem_naming(api.command(route.method, target_of(route.pattern, value, "r-path"), route.body), 400,
                           "validation_failed", "id");
      // The product's own id with the bad bytes after it: never read as the product.
      check_problem_naming(api.command(route.method, target_of(route.pattern, product.id + value, "r-path"), route.body), 400,
                           "validation_failed", "id");
      if (route.pattern.find("{rid}") != std::string::npos) {
        const auto answer = api.command(route.method, target_of(route.pattern, product.id, value), route.body);
        INFO(describe(answer));
        CHECK(answer.status == 400);
        CHECK(names_field(answer, "rid"));
      }
    }
  }
  SUBCASE("the stream of the history route") {
    for (const auto& [what, value] : values) {
      INFO("what: " << std::string(what));
      check_problem_naming(api.command("GET", fmt::format("/v1/streams/product-{}/events", value), std::nullopt), 400,
                           "validation_failed", "stream");
      check_problem_naming(api.command("GET", fmt::format("/v1/streams/{}/events", value), std::nullopt), 400,
                           "validation_failed", "stream");
    }
  }
}

TEST_CASE_FIXTURE(gateway_fixture, "dot segments in a path never reach another resource") {
  const auto product = api.created("DOTS");
  nothing_written guard(api, product.id);
  // Not normalised away: ".." is a segment like any other, so these paths match no route.
  check_problem(http.get("/v1/products/../products/" + product.id), 404, "route_not_found");
  check_problem(http.get("/v1/products/" + product.id + "/../../streams/product-" + product.id + "/events"), 404,
                "route_not_found");
  check_problem(api.command("POST", "/v1/products/" + product.id + "/../restock", std::string(R"({"quantity":1})")), 404,
                "route_not_found");
  // ".." and "." spelled as ids name no product.
  for (const auto* id : {"..", "%2e%2e", ".", "%2E"}) {
    INFO("id: " << std::string(id));
    check_problem(http.get(fmt::format("/v1/products/{}", id)), 404, "resource_not_found");
    check_problem(api.command("POST", fmt::format("/v1/products/{}/restock", id), std::string(R"({"quantity":1})")), 404,
                  "product.not_found");
  }
}

// Every string member of every command body, as a path into the body.
struct string_field {
  const char* method;
  const char* pattern;
  const char* field;  // as the problem names it
  std::string (*body)(const std::string& text);
};

// The text is spliced in as written: it may be bytes no JSON library would serialise.
std::string spliced(const std::string& json_text, const std::string& text) {
  std::string out(json_text);
  const std::string placeholder = "\"@@\"";
  out.replace(out.find(placeholder), placeholder.size(), "\"" + text + "\"");
  return out;
}

std::string create_with(const char* field, const std::string& text) {
  json::object body{{"sku", unique_sku("UTF")}, {"name", "N"}, {"description", "D"},
                    {"price", {{"amount", 1}, {"currency", "EUR"}}}, {"stock", 1}};
  if (std::string_view(field) == "price.currency") {
    body["price"].as_object()["currency"] = "@@";
  } else {
    body[field] = "@@";
  }
  return spliced(json::serialize(body), text);
}

const std::vector<string_field> string_fields = {
    {"POST", "/v1/products", "sku", [](const std::string& t) { return create_with("sku", t); }},
    {"POST", "/v1/products", "name", [](const std::string& t) { return create_with("name", t); }},
    {"POST", "/v1/products", "description", [](const std::string& t) { return create_with("description", t); }},
    {"POST", "/v1/products", "price.currency", [](const std::string& t) { return create_with("price.currency", t); }},
    {"PATCH", "/v1/products/{id}", "name",
     [](const std::string& t) { return spliced(R"({"name":"@@","description":"D"})", t); }},
    {"PATCH", "/v1/products/{id}", "description",
     [](const std::string& t) { return spliced(R"({"name":"N","description":"@@"})", t); }},
    {"PUT", "/v1/products/{id}/price", "price.currency",
     [](const std::string& t) { return spliced(R"({"price":{"amount":1,"currency":"@@"}})", t); }},
    {"POST", "/v1/products/{id}/reservations", "reservation_id",
     [](const std::string& t) { return spliced(R"({"reservation_id":"@@","quantity":1})", t); }},
    {"POST", "/v1/products/{id}/discontinue", "reason", [](const std::string& t) { return spliced(R"({"reason":"@@"})", t); }},
};

TEST_CASE_FIXTURE(gateway_fixture, "invalid UTF-8 or a NUL in any JSON string of any command answers 400") {
  const auto product = api.created("BODYBYTES");
  nothing_written guard(api, product.id);
  // The body is not JSON: RFC 8259 wants UTF-8, no raw control characters in strings, and
  // surrogate escapes in pairs.
  const std::vector<std::pair<const char*, std::string>> malformed = {
      {"a byte that is never UTF-8", "a\xff"},
      {"an overlong '/'", "\xc0\xaf"},
      {"a truncated sequence", "a\xc3"},
      {"a surrogate", "\xed\xa0\x80"},
      {"a raw NUL byte", std::string("a\0b", 3)},
      {"an escaped lone high surrogate", "a\\ud800b"},
      {"an escaped lone low surrogate", "a\\udc00b"},
  };
  // Valid JSON whose text holds a NUL: refused as the field's value.
  const std::vector<std::pair<const char*, std::string>> escaped = {
      {"an escaped NUL", "a\\u0000b"},
      {"an escaped NUL alone", "\\u0000"},
  };
  for (const auto& field : string_fields) {
    auto target = std::string(field.pattern);
    if (const auto at = target.find("{id}"); at != std::string::npos) target.replace(at, 4, product.id);
    for (const auto& [what, text] : malformed) {
      INFO("field.pattern: " << std::string(field.pattern));
      INFO("field.field: " << std::string(field.field));
      INFO("what: " << std::string(what));
      check_problem(api.command(field.method, target, field.body(text)), 400, "malformed_request");
    }
    for (const auto& [what, text] : escaped) {
      INFO("field.pattern: " << std::string(field.pattern));
      INFO("field.field: " << std::string(field.field));
      INFO("what: " << std::string(what));
      check_problem_naming(api.command(field.method, target, field.body(text)), 400, "validation_failed", field.field);
    }
  }
  SUBCASE("in a member's name") {
    const auto target = "/v1/products/" + product.id + "/restock";
    check_problem(api.command("POST", target, std::string("{\"quantity\":1,\"a\xff\":1}")), 400, "malformed_request");
    const auto escaped_nul = api.command("POST", target, std::string(R"({"quantity":1,"a\u0000":1})"));
    check_problem(escaped_nul, 400, "validation_failed");
  }
}

// ---- JSON bombs -------------------------------------------------------------------------------------

TEST_CASE_FIXTURE(gateway_fixture, "JSON bombs answer 400 or 413 at once and write nothing") {
  const auto product = api.created("BOMB");
  const auto target = "/v1/products/" + product.id + "/restock";
  nothing_written guard(api, product.id);
  const auto started = std::chrono::steady_clock::now();

  SUBCASE("100,000 nested arrays") {
    check_problem(api.command("POST", target, std::string(100'000, '[')), 400, "malformed_request");
    check_problem(api.command("POST", target, std::string(100'000, '[') + std::string(100'000, ']')), 400,
                  "malformed_request");
  }
  SUBCASE("100,000 nested objects") {
    std::string bomb;
    for (int i = 0; i < 100'000; ++i) bomb += "{\"a\":";
    check_problem(api.command("POST", target, bomb), 400, "malformed_request");
  }
  SUBCASE("nesting past the depth limit inside a member") {
    const auto nested = "{\"quantity\":" + std::string(40, '[') + "1" + std::string(40, ']') + "}";
    check_problem(api.command("POST", target, nested), 400, "malformed_request");
  }
  SUBCASE("huge numbers") {
    check_problem_naming(api.command("POST", target, std::string(R"({"quantity":123456789012345678901234567890})")),
                         400, "validation_failed", "quantity");
    check_problem_naming(api.command("POST", target, std::string(R"({"quantity":1e308})")), 400, "validation_failed",
                         "quantity");
    check_problem_naming(api.command("POST", target, std::string(R"({"quantity":1e999999})")), 400, "validation_failed",
                         "quantity");
    check_problem_naming(api.command("POST", target, "{\"quantity\":" + std::string(900'000, '9') + "}"), 400,
                         "validation_failed", "quantity");
    check_problem_naming(api.command("POST", target, "{\"quantity\":0." + std::string(900'000, '1') + "}"), 400,
                         "validation_failed", "quantity");
  }
  SUBCASE("a string beyond the body limit") {
    check_problem(api.command("PATCH", "/v1/products/" + product.id,
                              R"({"name":")" + std::string(2 * 1024 * 1024, 'x') + R"(","description":"D"})"),
                  413, "payload_too_large");
  }
  SUBCASE("a string just under the body limit") {
    const auto answer = api.command("PATCH", "/v1/products/" + product.id,
                                    R"({"name":")" + std::string(1000 * 1000, 'x') + R"(","description":"D"})");
    INFO(describe(answer));
    CHECK(answer.status == 400);
    CHECK(names_field(answer, "name"));
  }
  SUBCASE("100,000 distinct members") {
    std::string bomb = R"({"quantity":1)";
    for (int i = 0; i < 100'000; ++i) bomb += fmt::format(",\"{}\":0", i);
    bomb += "}";
    REQUIRE(bomb.size() < 1024 * 1024);
    const auto answer = api.command("POST", target, bomb);
    check_problem(answer, 400, "malformed_request");
    CHECK(answer.body.size() < 1024);  // the answer does not list every member
    // At the limit, every unknown member is named, and the answer stays small.
    std::string most = R"({"quantity":1)";
    for (std::size_t i = 1; i < gateway::max_body_object_members; ++i) most += fmt::format(",\"{}\":0", i);
    const auto named = api.command("POST", target, most + "}");
    check_problem_naming(named, 400, "validation_failed", "999");
    CHECK(named.body.size() < 100 * 1024);
  }
  SUBCASE("duplicate members, at the top and nested") {
    check_problem_naming(api.command("POST", target, std::string(R"({"quantity":1,"quantity":1000})")), 400,
                         "validation_failed", "quantity");
    check_problem_naming(api.command("PUT", "/v1/products/" + product.id + "/price",
                                     std::string(R"({"price":{"amount":1,"currency":"EUR","currency":"USD"}})")),
                         400, "validation_failed", "price.currency");
    std::string many = R"({"quantity":1)";
    for (int i = 0; i < 50'000; ++i) many += R"(,"quantity":1)";
    check_problem_naming(api.command("POST", target, many + "}"), 400, "validation_failed", "quantity");
  }
  SUBCASE("a long array as a member") {
    std::string array = "[0";
    for (int i = 0; i < 200'000; ++i) array += ",0";
    check_problem_naming(api.command("POST", target, R"({"quantity":)" + array + "]}"), 400, "validation_failed",
                         "quantity");
  }
  // Each refusal is quick: none of these costs the gateway seconds of work.
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

}  // namespace cqrs::tests

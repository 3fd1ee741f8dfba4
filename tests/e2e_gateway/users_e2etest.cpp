// The Users domain over real HTTP (gateway, relay and projector as processes): registration,
// sign-in with rotating refresh tokens, what each role may call, prompt revocation, the unique
// email under a race, the last-admin rule, and refused input that writes nothing.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/jwt.hpp"
#include "projections/redis_client.hpp"
#include "tests/e2e_gateway/gateway_fixture.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

namespace {

namespace json = boost::json;

constexpr const char* password = "correct horse battery staple";

std::string unique_email(const std::string& label) {
  static std::atomic<int> counter{0};
  return fmt::format("{}.{}.{}@example.com", label, run_id(), ++counter);
}

struct users {
  const http_client& http;
  engine_processes& engine;

  http_answer register_user(const std::string& email, const std::string& pass = password,
                            const std::string& name = "Ada Lovelace") const {
    const json::object body{{"email", email}, {"password", pass}, {"name", name}, {"phone", "+44 20 7946 0000"}};
    return http.post("/v1/users", json::serialize(body));
  }
  // A registered user's id.
  std::string registered(const std::string& email) const {
    const auto answer = register_user(email);
    INFO(describe(answer));
    REQUIRE(answer.status == 201);
    return std::string(answer.json().at("id").as_string());
  }
  http_answer login(const std::string& email, const std::string& pass = password) const {
    return http.post("/v1/auth/login", json::serialize(json::object{{"email", email}, {"password", pass}}));
  }
  // {access_token, refresh_token} of a successful login.
  std::pair<std::string, std::string> tokens(const std::string& email) const {
    const auto answer = login(email);
    INFO(describe(answer));
    REQUIRE(answer.status == 200);
    const auto body = answer.json();
    return {std::string(body.at("access_token").as_string()), std::string(body.at("refresh_token").as_string())};
  }
  http_answer refresh(const std::string& token) const {
    return http.post("/v1/auth/refresh", json::serialize(json::object{{"refresh_token", token}}));
  }
  http_answer call(const std::string& method, const std::string& target, const std::string& token,
                   std::optional<std::string> body = std::nullopt) const {
    http_call c{method, target, token.empty() ? http_headers{} : bearer(token), std::move(body), std::nullopt};
    return http.send(c);
  }
  http_answer set_roles(const std::string& id, const std::vector<std::string>& roles) const {
    json::array list;
    for (const auto& r : roles) list.emplace_back(r);
    return call("PUT", "/v1/users/" + id + "/roles", engine.admin_token(), json::serialize(json::object{{"roles", list}}));
  }
};

struct users_fixture : gateway_fixture {
  users u{http, engine};
};

// A port nothing listens on now (the kernel's pick for a socket bound to port 0).
std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// What is left of the second after `since` (at least 0).
std::chrono::milliseconds left_of_second(std::chrono::steady_clock::time_point since) {
  const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since);
  return std::max(std::chrono::milliseconds(0), std::chrono::milliseconds(1000) - spent);
}

environment with(environment more, const environment& base) {
  more.insert(more.end(), base.begin(), base.end());
  return more;
}

// Another gateway on the same stack and key: revocations must reach it too.
struct second_gateway {
  explicit second_gateway(const engine_processes& engine, environment settings = {})
      : port(unused_port()),
        process("gateway-2",
                {std::string(std::getenv("CQRS_BUILD_DIR") ? std::getenv("CQRS_BUILD_DIR") : "build") +
                 "/gateway/cqrs-gateway"},
                with(std::move(settings), {{"CQRS_HTTP_HOST", "127.0.0.1"},
                                           {"CQRS_HTTP_PORT", std::to_string(port)},
                                           {"CQRS_JWT_SECRET", engine.jwt_secret()},
                                           {"CQRS_RELAY_NAME", "gw" + run_id()}}),
                stack_env("CQRS_STACK_DIR") + "/second-gateway-" + run_id() + ".log"),
        http("127.0.0.1", port, stack_env("CQRS_TLS_CA_FILE")) {
    const bool up = eventually(
        [&] {
          try {
            return http.get("/readyz").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        std::chrono::seconds(60));
    INFO(process.log_tail());
    REQUIRE(up);
  }
  std::uint16_t port;
  child_process process;
  http_client http;
};

}  // namespace

TEST_CASE_FIXTURE(users_fixture, "register, log in, read me, refresh with rotation, reuse revokes the family, log out") {
  const auto email = unique_email("flow");
  const auto created = u.register_user(email);
  INFO(describe(created));
  REQUIRE(created.status == 201);
  const std::string id(created.json().at("id").as_string());
  CHECK(created.header("Location") == "/v1/users/" + id);

  auto [access, refresh] = u.tokens(email);
  const auto me = u.call("GET", "/v1/users/me", access);
  INFO(describe(me));
  REQUIRE(me.status == 200);
  const auto body = me.json().as_object();
  CHECK(body.at("id").as_string() == id);
  CHECK(body.at("email").as_string() == email);
  CHECK(body.at("name").as_string() == "Ada Lovelace");
  CHECK(body.at("phone").as_string() == "+44 20 7946 0000");
  CHECK(body.at("address").is_null());
  CHECK(body.at("status").as_string() == "active");
  CHECK(body.at("roles").as_array() == json::array{"customer"});
  CHECK(!body.at("created_at").as_string().empty());
  CHECK(body.at("version").to_number<int>() == 1);

  const auto rotated = u.refresh(refresh);
  INFO(describe(rotated));
  REQUIRE(rotated.status == 200);
  const std::string next(rotated.json().at("refresh_token").as_string());
  CHECK(next != refresh);
  CHECK(u.call("GET", "/v1/users/me", std::string(rotated.json().at("access_token").as_string())).status == 200);

  // The first token again: a copy is in use, so the whole family dies, the rotated token too.
  CHECK(u.refresh(refresh).status == 401);
  CHECK(u.refresh(next).status == 401);

  // A fresh sign-in, then logging out ends it.
  auto second = u.tokens(email);
  const auto out = u.http.post("/v1/auth/logout", json::serialize(json::object{{"refresh_token", second.second}}));
  CHECK(out.status == 204);
  CHECK(u.refresh(second.second).status == 401);
}

TEST_CASE_FIXTURE(users_fixture, "a wrong password and an unknown email answer alike") {
  const auto email = unique_email("alike");
  u.registered(email);
  const auto wrong = u.login(email, "not the password at all");
  const auto unknown = u.login(unique_email("nobody"), "not the password at all");
  INFO(describe(wrong));
  INFO(describe(unknown));
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.body == unknown.body);
}

TEST_CASE_FIXTURE(users_fixture, "failed logins are throttled per email, with or without an account") {
  for (const auto& email : {unique_email("throttled"), unique_email("ghost")}) {
    for (int i = 0; i < 5; ++i) CHECK(u.login(email, "wrong password number").status == 401);
    const auto throttled = u.login(email, "wrong password number");
    INFO(describe(throttled));
    CHECK(throttled.status == 429);
    CHECK(throttled.header("Retry-After").has_value());
  }
}

TEST_CASE_FIXTURE(users_fixture, "failed logins are counted across gateways, under the blind index only") {
  second_gateway other(engine);
  const auto email = unique_email("shared-throttle");
  const auto body = json::serialize(json::object{{"email", email}, {"password", "wrong password number"}});
  // Five failures split over two gateways: the sixth try is throttled on either.
  for (int i = 0; i < 3; ++i) CHECK(u.login(email, "wrong password number").status == 401);
  for (int i = 0; i < 2; ++i) CHECK(other.http.post("/v1/auth/login", body).status == 401);
  const auto here = u.login(email, "wrong password number");
  const auto there = other.http.post("/v1/auth/login", body);
  INFO(describe(here));
  INFO(describe(there));
  CHECK(here.status == 429);
  CHECK(there.status == 429);
  CHECK(there.header("Retry-After").has_value());
  // The shared count is kept under the email's blind index, never the address.
  projections::redis_client redis(redis_url());
  const auto keys = redis.command({"KEYS", "cqrs:login-failures:*"});
  bool found = false;
  for (const auto& key : keys.elements) {
    CHECK(key.text.find('@') == std::string::npos);
    found = found || key.text.size() == std::string("cqrs:login-failures:").size() + 64;
  }
  CHECK(found);
}

TEST_CASE_FIXTURE(users_fixture, "sixteen registrations of one address: exactly one is created") {
  const auto email = unique_email("race");
  std::vector<int> statuses(16);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] { statuses[i] = u.register_user(email).status; });
  }
  for (auto& t : threads) t.join();
  CHECK(std::count(statuses.begin(), statuses.end(), 201) == 1);
  CHECK(std::count(statuses.begin(), statuses.end(), 409) == 15);
}

TEST_CASE_FIXTURE(users_fixture, "each route answers each role as docs/http-api.md says") {
  const auto email = unique_email("rbac");
  const auto id = u.registered(email);
  const auto customer = u.tokens(email).first;
  const auto support = engine.token("e2e-support", {"support"});
  const auto admin = engine.admin_token();
  struct row {
    std::string method, target;
    std::optional<std::string> body;
    int anonymous, as_customer, as_support;  // the admin may call every one (never 401/403)
    std::optional<int> as_admin = std::nullopt;  // ...but for the routes of a customer only
  };
  const std::string no_order = "/v1/orders/00000000-0000-4000-8000-" + run_id() + "00";
  const std::string refund = R"({"amount":{"amount":1,"currency":"EUR"}})";
  const std::string lookup = json::serialize(json::object{{"email", email}});
  const std::vector<row> rows{
      {"GET", "/v1/users/me", {}, 401, 200, 404},
      {"GET", "/v1/users/" + id, {}, 401, 403, 200},
      {"POST", "/v1/users/lookup", lookup, 401, 403, 200},
      {"PUT", "/v1/users/" + id + "/roles", R"({"roles":["customer"]})", 401, 403, 403},
      {"POST", "/v1/users/" + id + "/reactivate", {}, 401, 403, 403},
      {"POST", "/v1/products", R"({})", 401, 403, 403},
      {"POST", "/v1/orders", R"({})", 401, 400, 403, 403},
      {"GET", "/v1/orders", {}, 401, 200, 200},
      {"GET", no_order, {}, 401, 404, 404},
      {"POST", no_order + "/cancel", {}, 401, 404, 403},
      {"POST", no_order + "/ship", {}, 401, 403, 403},
      {"POST", no_order + "/deliver", {}, 401, 403, 403},
      {"POST", no_order + "/refunds", refund, 401, 403, 403},
      {"GET", "/v1/payments/00000000-0000-4000-8000-000000000000", {}, 401, 404, 403},
  };
  for (const auto& r : rows) {
    INFO(r.method << " " << r.target);
    CHECK(u.call(r.method, r.target, "", r.body).status == r.anonymous);
    CHECK(u.call(r.method, r.target, customer, r.body).status == r.as_customer);
    CHECK(u.call(r.method, r.target, support, r.body).status == r.as_support);
    const auto as_admin = u.call(r.method, r.target, admin, r.body).status;
    if (r.as_admin) {
      CHECK(as_admin == *r.as_admin);
      continue;
    }
    CHECK(as_admin != 401);
    CHECK(as_admin != 403);
  }
}

TEST_CASE_FIXTURE(users_fixture, "deactivation and a removed role reach the user's tokens within a second") {
  const auto email = unique_email("revoked");
  const auto id = u.registered(email);
  REQUIRE(u.set_roles(id, {"customer", "support"}).status == 200);
  const auto access = u.tokens(email).first;
  second_gateway other(engine);
  const auto status_on = [&](const http_client& gateway, const std::string& target) {
    return gateway.send(http_call{"GET", target, bearer(access), std::nullopt, std::nullopt}).status;
  };
  REQUIRE(status_on(http, "/v1/users/" + id) == 200);
  REQUIRE(status_on(other.http, "/v1/users/" + id) == 200);

  REQUIRE(u.set_roles(id, {"customer"}).status == 200);
  // Measured from the answer to the command: each gateway within a second.
  const auto demoted = std::chrono::steady_clock::now();
  CHECK(eventually([&] { return status_on(http, "/v1/users/" + id) == 403; }, std::chrono::seconds(1)));
  CHECK(eventually([&] { return status_on(other.http, "/v1/users/" + id) == 403; },
                   left_of_second(demoted)));
  CHECK(status_on(http, "/v1/users/me") == 200);

  REQUIRE(u.call("POST", "/v1/users/" + id + "/deactivate", engine.admin_token()).status == 200);
  const auto deactivated = std::chrono::steady_clock::now();
  CHECK(eventually([&] { return status_on(http, "/v1/users/me") == 401; }, std::chrono::seconds(1)));
  CHECK(eventually([&] { return status_on(other.http, "/v1/users/me") == 401; },
                   left_of_second(deactivated)));
  CHECK(u.login(email).status == 401);
  // Operator tokens have no user behind them: untouched.
  CHECK(u.call("GET", "/v1/users/" + id, engine.admin_token()).status == 200);
}

TEST_CASE_FIXTURE(users_fixture, "a full password pool answers 503 with Retry-After, never another 5xx") {
  // One password thread and no queue: concurrent logins beyond the one running are refused.
  second_gateway small(engine, {{"CQRS_PASSWORD_THREADS", "1"}, {"CQRS_PASSWORD_QUEUE", "0"}});
  std::vector<http_answer> answers(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    threads.emplace_back([&, i] {
      const json::object body{{"email", unique_email("busy")}, {"password", "not anybody's password"}};
      answers[i] = small.http.post("/v1/auth/login", json::serialize(body));
    });
  }
  for (auto& t : threads) t.join();
  int refused = 0;
  for (const auto& answer : answers) {
    INFO(describe(answer));
    CHECK((answer.status == 401 || answer.status == 503));
    if (answer.status == 503) {
      ++refused;
      CHECK(answer.header("Retry-After").has_value());
      CHECK(problem_code(answer) == "overloaded");
    }
  }
  CHECK(refused > 0);
}

TEST_CASE_FIXTURE(users_fixture, "a flood of registrations on a full password pool loses nothing: each 201 exists, "
                                  "each 503 retried after its Retry-After is created") {
  second_gateway small(engine, {{"CQRS_PASSWORD_THREADS", "1"}, {"CQRS_PASSWORD_QUEUE", "0"}});
  const auto register_on_small = [&](const std::string& email) {
    const json::object body{{"email", email}, {"password", password}, {"name", "Ada Lovelace"}, {"phone", "+44 20 7946 0000"}};
    return small.http.post("/v1/users", json::serialize(body));
  };
  std::vector<std::string> emails(12);
  std::vector<http_answer> answers(emails.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < emails.size(); ++i) {
    emails[i] = unique_email("flood");
    threads.emplace_back([&, i] { answers[i] = register_on_small(emails[i]); });
  }
  for (auto& t : threads) t.join();
  std::vector<std::string> ids(emails.size());
  int refused = 0;
  for (std::size_t i = 0; i < emails.size(); ++i) {
    auto answer = answers[i];
    INFO(describe(answer));
    REQUIRE((answer.status == 201 || answer.status == 503));
    // A refused registration wrote nothing: its retry, after the advertised wait, creates it (201,
    // not 409 for an address already taken).
    for (int attempt = 0; answer.status == 503 && attempt < 20; ++attempt) {
      ++refused;
      const auto retry_after = answer.header("Retry-After");
      REQUIRE(retry_after.has_value());
      CHECK(problem_code(answer) == "overloaded");
      std::this_thread::sleep_for(std::chrono::seconds(std::clamp(std::stoi(*retry_after), 1, 2)));
      answer = register_on_small(emails[i]);
    }
    INFO(describe(answer));
    REQUIRE(answer.status == 201);
    ids[i] = std::string(answer.json().at("id").as_string());
  }
  CHECK(refused > 0);
  // Every account exists, once, and signs in.
  for (std::size_t i = 0; i < emails.size(); ++i) {
    CHECK(u.call("GET", "/v1/users/" + ids[i], engine.admin_token()).status == 200);
    CHECK(u.register_user(emails[i]).status == 409);
    CHECK(u.login(emails[i]).status == 200);
  }
}

TEST_CASE_FIXTURE(users_fixture, "a login under older argon2 parameters stores a new hash") {
  const auto email = unique_email("rehash");
  const auto id = u.registered(email);  // hashed with 2 passes
  second_gateway stronger(engine, {{"CQRS_ARGON2_PASSES", "3"}});
  const auto login = stronger.http.post("/v1/auth/login", json::serialize(json::object{{"email", email}, {"password", password}}));
  INFO(describe(login));
  CHECK(login.status == 200);
  const auto user = u.call("GET", "/v1/users/" + id, engine.admin_token());
  CHECK(user.json().at("version").to_number<int>() == 2);
  pqxx::connection c(stack_env("CQRS_PG_URL"));
  pqxx::read_transaction tx(c);
  CHECK(tx.exec_params("SELECT event_type FROM events WHERE stream_id = $1 AND stream_version = 2", "user-" + id)[0][0]
            .as<std::string>() == "user.password_changed");
  // The new hash verifies, and needs no second rehash.
  CHECK(stronger.http.post("/v1/auth/login", json::serialize(json::object{{"email", email}, {"password", password}})).status == 200);
  CHECK(u.call("GET", "/v1/users/" + id, engine.admin_token()).json().at("version").to_number<int>() == 2);
}

TEST_CASE_FIXTURE(users_fixture, "the last active admin cannot lose the role") {
  const auto id = u.registered(unique_email("admin"));
  REQUIRE(u.set_roles(id, {"admin"}).status == 200);
  // Every other admin steps down, so this one is the last.
  std::vector<std::string> others;
  {
    pqxx::connection c(stack_env("CQRS_PG_URL"));
    pqxx::read_transaction tx(c);
    for (const auto& row : tx.exec("SELECT stream_id FROM unique_claims WHERE scope = 'user.admin'")) {
      const auto stream = row[0].as<std::string>();
      if (stream != "user-" + id) others.push_back(stream.substr(5));
    }
  }
  for (const auto& other : others) REQUIRE(u.set_roles(other, {"customer"}).status == 200);
  const auto before = events_in_store();
  const auto refused = u.set_roles(id, {"customer"});
  INFO(describe(refused));
  CHECK(refused.status == 409);
  CHECK(problem_code(refused) == "user.last_admin");
  CHECK(u.call("POST", "/v1/users/" + id + "/deactivate", engine.admin_token()).status == 409);
  CHECK(events_in_store() == before);
  for (const auto& other : others) CHECK(u.set_roles(other, {"admin"}).status == 200);
}

TEST_CASE_FIXTURE(users_fixture, "bad input answers 4xx naming the field and writes nothing") {
  const auto email = unique_email("bad");
  const auto id = u.registered(email);
  const auto [access, refresh] = u.tokens(email);
  const auto before = events_in_store();

  const auto malformed = u.register_user("not-an-address");
  CHECK(malformed.status == 400);
  CHECK(names_field(malformed, "email"));
  const auto short_password = u.register_user(unique_email("short"), "short");
  CHECK(short_password.status == 400);
  CHECK(names_field(short_password, "password"));
  const auto role = u.set_roles(id, {"emperor"});
  CHECK(role.status == 400);
  CHECK(names_field(role, "roles"));

  // A token signed with another key, and one that expired.
  gateway::auth_config other;
  other.jwt_secret = std::string(40, 'x');
  const auto forged = gateway::jwt_verifier(other).sign({id, {"admin"}, std::chrono::seconds(600), true});
  CHECK(u.call("GET", "/v1/users/me", forged).status == 401);
  const auto expired = engine.token(id, {"customer"}, std::chrono::seconds(-3600));
  CHECK(u.call("GET", "/v1/users/me", expired).status == 401);

  // Someone else's refresh token: refused, and it still works for its owner.
  const auto stranger_email = unique_email("stranger");
  u.registered(stranger_email);
  const auto stranger = u.tokens(stranger_email).first;
  const auto before_logout = events_in_store();
  const auto logout = u.call("POST", "/v1/auth/logout", stranger, json::serialize(json::object{{"refresh_token", refresh}}));
  CHECK(logout.status == 403);
  CHECK(u.refresh(refresh).status == 200);
  CHECK(events_in_store() == before_logout);
  CHECK(before_logout > before);  // only the stranger's registration was written
}

}  // namespace cqrs::tests

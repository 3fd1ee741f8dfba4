// gateway::redis_async against real Redis: the stack's server for the normal paths, and a private
// redis-server (its own port) for the tests that kill or pause it. The io_context runs on this
// thread, so every callback here runs between run_one_for() calls.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "gateway/redis_async.hpp"
#include "gateway/product/redis_product_reads.hpp"
#include "projections/product/product_projections.hpp"
#include "projections/redis_client.hpp"
#include "projections/redis_target.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

namespace {

using namespace std::chrono_literals;
using gateway::redis_async;
using gateway::redis_result;
using projections::redis_client;
using projections::redis_reply;

// Runs the io_context on this thread until `done` or the time limit.
template <class Done>
bool run_until(boost::asio::io_context& io, Done done, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(20ms);
  }
  return done();
}

redis_result command(boost::asio::io_context& io, redis_async& link, std::vector<std::string> args) {
  std::optional<redis_result> result;
  link.command(std::move(args), [&](redis_result r) { result = std::move(r); });
  REQUIRE(run_until(io, [&] { return result.has_value(); }));
  return std::move(*result);
}

redis_result evaluate(boost::asio::io_context& io, redis_async& link, const gateway::redis_lua_script& script,
                      std::vector<std::string> keys, std::vector<std::string> args) {
  std::optional<redis_result> result;
  link.evaluate(script, std::move(keys), std::move(args), [&](redis_result r) { result = std::move(r); });
  REQUIRE(run_until(io, [&] { return result.has_value(); }));
  return std::move(*result);
}

redis_result pipeline(boost::asio::io_context& io, redis_async& link, std::vector<std::vector<std::string>> commands) {
  std::optional<redis_result> result;
  link.pipeline(std::move(commands), [&](redis_result r) { result = std::move(r); });
  REQUIRE(run_until(io, [&] { return result.has_value(); }));
  return std::move(*result);
}

// PINGs until one is answered, pausing between failed tries, or until `limit` passes; the last
// result.
redis_result ping_until_answered(boost::asio::io_context& io, redis_async& link, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto result = command(io, link, {"PING"});
    if (result.ok() || std::chrono::steady_clock::now() >= deadline) return result;
    std::this_thread::sleep_for(50ms);
  }
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A redis-server of the test's own, which it may kill and start again on the same port.
class private_redis {
 public:
  private_redis() : port_(free_port()), dir_(fmt::format("/tmp/cqrs-redis-async-{}-{}", ::getpid(), port_)) {
    std::filesystem::create_directories(dir_);
    start();
  }
  ~private_redis() {
    (void)stop();
    std::filesystem::remove_all(dir_);
  }
  private_redis(const private_redis&) = delete;
  private_redis& operator=(const private_redis&) = delete;

  std::string url() const { return fmt::format("redis://127.0.0.1:{}/0", port_); }

  void start() {
    const auto line = fmt::format(
        "redis-server --bind 127.0.0.1 --port {} --save '' --appendonly no --daemonize yes --dir {} "
        "--pidfile {}/redis.pid --logfile {}/redis.log >/dev/null 2>&1",
        port_, dir_, dir_, dir_);
    REQUIRE(std::system(line.c_str()) == 0);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!answers() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    REQUIRE(answers());
  }

  // SIGKILL: no goodbye to the clients, as when the process dies. Fails the test unless the
  // server was running and is gone (it no longer answers on its port).
  void kill() {
    const auto outcome = stop();
    CAPTURE(outcome);
    REQUIRE(outcome.empty());
  }

  bool answers() const {
    try {
      redis_client client(url());
      return client.command({"PING"}).text == "PONG";
    } catch (const projections::redis_error&) {
      return false;
    }
  }

 private:
  // Kills the server; empty when it was running and is gone, else what went wrong.
  std::string stop() {
    std::ifstream in(dir_ + "/redis.pid");
    pid_t pid = 0;
    if (!(in >> pid) || pid <= 0) return "no pid file: the server was not running";
    std::filesystem::remove(dir_ + "/redis.pid");
    if (::kill(pid, SIGKILL) != 0) return fmt::format("kill {}: {}", pid, std::strerror(errno));
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (answers() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return answers() ? "still answering 30 s after SIGKILL" : "";
  }

  int port_;
  std::string dir_;
};

}  // namespace

TEST_CASE("redis_async: a command makes the round trip, binary safe, and an error reply is a value") {
  boost::asio::io_context io;
  redis_async link(io, redis_url());
  const std::string key = "test:async:" + run_id();
  const std::string value("a\0b c", 5);
  CHECK(command(io, link, {"SET", key, value}).reply->text == "OK");
  const auto got = command(io, link, {"GET", key});
  REQUIRE(got.ok());
  CHECK(got.reply->type == redis_reply::kind::text);
  CHECK(got.reply->text == value);
  const auto wrong = command(io, link, {"HGET", key, "x"});
  REQUIRE(wrong.ok());
  CHECK(wrong.reply->is_error());
  CHECK(command(io, link, {"DEL", key}).reply->integer == 1);
  CHECK(link.in_flight() == 0);
}

TEST_CASE("redis_async: concurrent commands pipeline on one connection and are answered in order") {
  boost::asio::io_context io;
  redis_async link(io, redis_url());
  const std::string key = "test:async:pipeline:" + run_id();
  constexpr int count = 500;
  std::vector<std::pair<int, std::int64_t>> answers;  // (call index, INCR result) in callback order
  // Issued before any reply could be read: all of them are on the one connection at once.
  const auto before = command(io, link, {"CLIENT", "ID"});
  for (int i = 0; i < count; ++i) {
    link.command({"INCR", key}, [&answers, i](redis_result r) { answers.emplace_back(i, r.ok() ? r.reply->integer : -1); });
  }
  CHECK(run_until(io, [&] { return link.in_flight() == count; }));
  REQUIRE(run_until(io, [&] { return answers.size() == count; }));
  for (int i = 0; i < count; ++i) {
    CHECK(answers[static_cast<std::size_t>(i)].first == i);
    CHECK(answers[static_cast<std::size_t>(i)].second == i + 1);
  }
  CHECK(command(io, link, {"CLIENT", "ID"}).reply->integer == before.reply->integer);
  command(io, link, {"DEL", key});
}

TEST_CASE("redis_async: a pipeline answers its commands' replies in order, error replies as values") {
  boost::asio::io_context io;
  redis_async link(io, redis_url());
  const auto key = "pipeline:" + run_id();
  const auto result = pipeline(io, link, {{"SET", key, "v1"}, {"GET", key}, {"HGETALL", key}, {"DEL", key}});
  REQUIRE(result.ok());
  REQUIRE(result.reply->elements.size() == 4);
  CHECK(result.reply->elements[0].text == "OK");
  CHECK(result.reply->elements[1].text == "v1");
  CHECK(result.reply->elements[2].is_error());  // WRONGTYPE
  CHECK(result.reply->elements[3].integer == 1);
}

TEST_CASE("redis_async: scripts are loaded on connect, and a forgotten script is reloaded and run once more") {
  boost::asio::io_context io;
  // The run id makes the script (and its SHA) new to the server.
  const gateway::redis_lua_script script(fmt::format("-- {}\nreturn ARGV[1] .. KEYS[1]", run_id()));
  gateway::redis_async_options options;
  options.scripts = {&script};
  redis_async link(io, redis_url(), options);
  REQUIRE(command(io, link, {"PING"}).reply->text == "PONG");
  redis_client observer(redis_url());
  CHECK(observer.command({"SCRIPT", "EXISTS", script.sha()}).elements.at(0).integer == 1);

  const auto first = evaluate(io, link, script, {"k"}, {"v-"});
  REQUIRE(first.ok());
  CHECK(first.reply->text == "v-k");

  observer.checked({"SCRIPT", "FLUSH"});
  REQUIRE(observer.command({"SCRIPT", "EXISTS", script.sha()}).elements.at(0).integer == 0);
  const auto after_flush = evaluate(io, link, script, {"k2"}, {"w-"});
  REQUIRE(after_flush.ok());
  CHECK_FALSE(after_flush.reply->is_error());
  CHECK(after_flush.reply->text == "w-k2");
  CHECK(observer.command({"SCRIPT", "EXISTS", script.sha()}).elements.at(0).integer == 1);
}

TEST_CASE("redis_async: a script Redis cannot run answers its error reply, not a retry loop") {
  boost::asio::io_context io;
  const gateway::redis_lua_script broken(fmt::format("-- {}\nreturn redis.call('NO_SUCH_COMMAND')", run_id()));
  redis_async link(io, redis_url());
  const auto result = evaluate(io, link, broken, {}, {});
  REQUIRE(result.ok());
  CHECK(result.reply->is_error());
  CHECK(link.in_flight() == 0);
}

TEST_CASE("redis_async: Redis killed fails the calls as values, and the link reconnects once Redis is back") {
  private_redis server;
  boost::asio::io_context io;
  gateway::redis_async_options options;
  // Long enough that restarting Redis fits inside it, even on a loaded machine.
  options.reconnect_backoff = 8s;
  redis_async link(io, server.url(), options);
  REQUIRE(command(io, link, {"SET", "k", "before"}).ok());

  server.kill();
  // The backoff starts when the link finds the connection dead, during this call at the earliest.
  const auto backoff_from = std::chrono::steady_clock::now();
  const auto lost = command(io, link, {"GET", "k"});
  CHECK_FALSE(lost.ok());
  CHECK_FALSE(lost.failure.empty());

  // Within the backoff the link does not even try: the call fails as soon as its handler runs,
  // with no I/O to wait for, and with the same failure.
  std::optional<redis_result> during_backoff;
  link.command({"PING"}, [&](redis_result r) { during_backoff = std::move(r); });
  io.restart();
  io.poll();
  REQUIRE(during_backoff.has_value());
  CHECK_FALSE(during_backoff->ok());
  CHECK(during_backoff->failure == lost.failure);

  // Not even once Redis answers again, while the backoff lasts.
  server.start();
  // Checked before the call, so that the call certainly falls inside the backoff.
  REQUIRE(std::chrono::steady_clock::now() < backoff_from + options.reconnect_backoff);
  const auto still_backing_off = command(io, link, {"PING"});
  CHECK_FALSE(still_backing_off.ok());
  CHECK(still_backing_off.failure == lost.failure);

  // Once it is over, a call reconnects.
  const auto back = ping_until_answered(io, link, 60s);
  CHECK(std::chrono::steady_clock::now() >= backoff_from + options.reconnect_backoff);
  REQUIRE(back.ok());
  CHECK(back.reply->text == "PONG");
  CHECK(link.in_flight() == 0);
}

TEST_CASE("redis_async: commands in flight when the connection dies all fail, none is lost") {
  private_redis server;
  boost::asio::io_context io;
  redis_async link(io, server.url());
  REQUIRE(command(io, link, {"PING"}).ok());
  redis_client admin(server.url());
  admin.checked({"CLIENT", "PAUSE", "3000", "ALL"});  // the commands below wait on the server
  int failed = 0;
  int answered = 0;
  for (int i = 0; i < 20; ++i) {
    link.command({"INCR", "n"}, [&](redis_result r) { (r.ok() ? answered : failed) += 1; });
  }
  REQUIRE(run_until(io, [&] { return link.in_flight() == 20; }));
  server.kill();
  REQUIRE(run_until(io, [&] { return failed + answered == 20; }));
  CHECK(failed == 20);
  CHECK(link.in_flight() == 0);
}

TEST_CASE("redis_async: a Redis that does not answer in time fails the calls instead of holding them") {
  private_redis server;
  boost::asio::io_context io;
  gateway::redis_async_options options;
  options.command_timeout = 200ms;
  options.reconnect_backoff = 50ms;
  redis_async link(io, server.url(), options);
  REQUIRE(command(io, link, {"PING"}).ok());
  redis_client admin(server.url());
  // Paused far longer than the command timeout: a reply could only come after it.
  admin.checked({"CLIENT", "PAUSE", "4000", "ALL"});
  const auto started = std::chrono::steady_clock::now();
  const auto stalled = command(io, link, {"GET", "x"});
  const auto waited = std::chrono::steady_clock::now() - started;
  // Failed, not answered: the pause was not waited out.
  CHECK_FALSE(stalled.ok());
  CHECK(stalled.failure.find("did not answer within 200 ms") != std::string::npos);
  CHECK(waited >= 200ms);
  CHECK(link.in_flight() == 0);
  // Once the pause is over, the link answers again.
  CHECK(ping_until_answered(io, link, 60s).ok());
}

TEST_CASE("redis_async: an unreachable Redis is a failure value at once") {
  boost::asio::io_context io;
  redis_async link(io, "redis://127.0.0.1:1/0");  // nothing listens on port 1
  const auto result = command(io, link, {"PING"});
  CHECK_FALSE(result.ok());
  CHECK(result.failure.find("redis") != std::string::npos);
}

TEST_CASE("redis_async: destroying the link fails the calls still waiting") {
  private_redis server;
  boost::asio::io_context io;
  std::optional<redis_result> result;
  {
    redis_async link(io, server.url());
    REQUIRE(command(io, link, {"PING"}).ok());
    redis_client admin(server.url());
    admin.checked({"CLIENT", "PAUSE", "2000", "ALL"});
    link.command({"GET", "x"}, [&](redis_result r) { result = std::move(r); });
    REQUIRE(run_until(io, [&] { return link.in_flight() == 1; }));
  }
  REQUIRE(result.has_value());
  CHECK_FALSE(result->ok());
}

TEST_CASE("the gateway's async product read sees what projections::read_product_detail sees") {
  boost::asio::io_context io;
  const std::string projection = "detail_async_" + run_id();
  const gateway::product_detail_reads reads(projection);
  redis_async link(io, redis_url());
  redis_client sync(redis_url());
  const projections::product_detail_projection p("product", projection);
  const auto initial = p.info().initial_model();
  sync.checked({"HSET", initial + ":product:p1", "id", "p1", "name", "Lamp", "version", "3"});

  // As the route reads: in the guessed model, once more in the live one if the pointer moved.
  const auto read_async = [&](const std::string& id) {
    auto model = reads.model_guess();
    for (int attempt = 0; attempt < 2; ++attempt) {
      const auto r = pipeline(io, link, reads.pipelined(model, id));
      REQUIRE(r.ok());
      auto answer = reads.decode_pipelined(model, *r.reply);
      REQUIRE_FALSE(answer.refused);
      if (!answer.live_model) return answer.fields;
      model = *answer.live_model;
    }
    FAIL("the pointer moved twice");
    return std::optional<projections::product_fields>{};
  };
  const auto from_initial = read_async("p1");
  REQUIRE(from_initial.has_value());
  CHECK(from_initial == projections::read_product_detail(sync, "p1", projection));
  CHECK(from_initial->at("name") == "Lamp");
  CHECK_FALSE(read_async("nobody").has_value());
  CHECK_FALSE(projections::read_product_detail(sync, "nobody", projection).has_value());

  // A rebuild switched the live pointer to another model: both readers follow it.
  const auto rebuilt = p.info().model_name("rebuilt");
  sync.checked({"HSET", rebuilt + ":product:p1", "id", "p1", "name", "Lamp II", "version", "4"});
  sync.checked({"SET", projections::redis_live_pointer_key(projection), rebuilt});
  const auto switched = read_async("p1");
  REQUIRE(switched.has_value());
  CHECK(switched->at("name") == "Lamp II");
  CHECK(switched == projections::read_product_detail(sync, "p1", projection));
  CHECK(reads.model_guess() == rebuilt);

  // The pipelined read without a script: an answer counts only from the model the pointer names.
  const gateway::product_detail_reads fresh(projection);  // still guesses the initial model
  CHECK(fresh.model_guess() == initial);
  const auto stale = pipeline(io, link, fresh.pipelined(initial, "p1"));
  REQUIRE(stale.ok());
  const auto moved = fresh.decode_pipelined(initial, *stale.reply);
  CHECK_FALSE(moved.fields.has_value());  // the initial model's hash is not the live one
  REQUIRE(moved.live_model.has_value());
  CHECK(*moved.live_model == rebuilt);
  CHECK(fresh.model_guess() == rebuilt);
  const auto again = pipeline(io, link, fresh.pipelined(rebuilt, "p1"));
  REQUIRE(again.ok());
  const auto live = fresh.decode_pipelined(rebuilt, *again.reply);
  CHECK_FALSE(live.live_model.has_value());
  REQUIRE(live.fields.has_value());
  CHECK(live.fields == projections::read_product_detail(sync, "p1", projection));
  const auto missing = fresh.decode_pipelined(rebuilt, *pipeline(io, link, fresh.pipelined(rebuilt, "nobody")).reply);
  CHECK_FALSE(missing.fields.has_value());
  CHECK_FALSE(missing.live_model.has_value());
  CHECK_FALSE(missing.refused);

  // An error reply (here WRONGTYPE: the product's key is not a hash) is a refusal to read
  // elsewhere, never a 500.
  sync.checked({"SET", rebuilt + ":product:broken", "not a hash"});
  const auto broken = fresh.decode_pipelined(rebuilt, *pipeline(io, link, fresh.pipelined(rebuilt, "broken")).reply);
  CHECK(broken.refused);
  CHECK_FALSE(broken.fields.has_value());
  sync.checked({"DEL", rebuilt + ":product:broken"});
  sync.checked({"DEL", initial + ":product:p1", rebuilt + ":product:p1", projections::redis_live_pointer_key(projection)});
}

}  // namespace cqrs::tests

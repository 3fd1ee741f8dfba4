// The synchronous Redis client never waits for ever: a server that accepts connections and
// answers nothing (a Redis under SIGSTOP, a stuck one) fails the command after its timeout, and
// the client connects again on the next call.

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "projections/redis_client.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

namespace {

using namespace std::chrono_literals;

// A listening socket that never accepts: the kernel completes connections into its backlog, and
// nothing ever reads or answers, as with a stopped Redis.
class silent_server {
 public:
  silent_server() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~silent_server() { ::close(fd_); }
  silent_server(const silent_server&) = delete;
  silent_server& operator=(const silent_server&) = delete;

  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

 private:
  int fd_;
  int port_ = 0;
};

}  // namespace

TEST_CASE("a server that never answers fails a command after the command timeout") {
  silent_server server;
  projections::redis_client client(server.url(), {1000ms, 200ms});
  CHECK_THROWS_AS(client.command({"PING"}), projections::redis_error);
  // The next call opens a new connection (to the same silent server): it fails the same way.
  CHECK_THROWS_AS(client.command({"PING"}), projections::redis_error);
}

TEST_CASE("a tighter command timeout applies to the open connection too") {
  silent_server server;
  projections::redis_client client(server.url());  // the default timeout: seconds
  client.set_command_timeout(100ms);
  const auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(client.command({"PING"}), projections::redis_error);
  // Failed by its own timeout, not the default one (a bound far above 100 ms: a loaded machine).
  CHECK(std::chrono::steady_clock::now() - started < projections::redis_timeouts{}.command);
}

TEST_CASE("a client with timeouts talks to a real Redis as before") {
  projections::redis_client client(redis_url(), {500ms, 500ms});
  CHECK(client.command({"PING"}).text == "PONG");
  client.set_command_timeout(2s);
  CHECK(client.command({"PING"}).text == "PONG");
}

}  // namespace cqrs::tests

#pragma once

// The engine, as processes, on the private test stack that tools/test started (CQRS_PG_URL,
// CQRS_REDIS_URL, CQRS_KAFKA_BOOTSTRAP, CQRS_STACK_DIR in the environment): a relay and a
// projector with names of their own (other tests run relays and projectors on the same stack),
// and the gateway on a free port with a JWT secret of its own. Started once per test binary,
// stopped when it exits; every child also gets SIGKILL if this process dies first
// (PR_SET_PDEATHSIG), so no process outlives the suite even on a crash.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e_gateway/http_client.hpp"

namespace cqrs::tests {

using environment = std::vector<std::pair<std::string, std::string>>;

// A child process; destruction stops it (SIGTERM, SIGKILL after a grace period) and reaps it.
class child_process {
 public:
  child_process(std::string name, std::vector<std::string> argv, const environment& extra_env, std::string log_path);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool running();
  // Sends `signal` (SIGSTOP, SIGCONT...); false when the process is not running.
  bool signal(int signal);
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Starts it again, with the same command line, when it has exited. True when it had.
  bool respawn_if_exited();
  const std::string& name() const { return name_; }
  // The last lines of its stderr/stdout.
  std::string log_tail(std::size_t lines = 30) const;

 private:
  void spawn();

  std::string name_;
  std::vector<std::string> argv_;
  environment extra_env_;
  std::string log_path_;
  pid_t pid_ = -1;
};

// Random per process, `[a-z0-9]{10}`: names products, SKUs, the relay and the consumer group.
const std::string& run_id();

// A setting of the test stack; throws when tools/test did not set it.
std::string stack_env(const char* name);

class engine_processes {
 public:
  // Started on first use; the same processes serve every test case of the binary.
  static engine_processes& shared();
  ~engine_processes();
  engine_processes(const engine_processes&) = delete;
  engine_processes& operator=(const engine_processes&) = delete;

  const http_client& http() const { return http_; }
  // Tokens the gateway accepts: signed with its secret, by its issuer, for its audience.
  std::string token(const std::string& subject, const std::vector<std::string>& roles,
                    std::chrono::seconds ttl = std::chrono::seconds(600)) const;
  std::string admin_token() const { return token("e2e-admin", {"admin"}); }
  const std::string& jwt_secret() const { return secret_; }
  // The last lines of each process's log, for a failing test's report.
  std::string diagnostics() const;
  // Restarts the relay or projector if it exited (a dependency went away under it); returns the
  // names of those restarted.
  std::vector<std::string> revive();
  // Sends `signal` to the projector (SIGSTOP pauses it, SIGCONT resumes it); false when it is not
  // running.
  bool signal_projector(int signal);

 private:
  engine_processes();
  void start_relay();
  void start_projector();
  void start_gateway();
  environment gateway_environment(std::uint16_t port) const;
  void wait_until_ready();
  void warm_up();

  std::string log_dir_;
  std::string secret_;
  std::uint16_t port_ = 0;
  http_client http_;
  std::vector<std::unique_ptr<child_process>> children_;  // stopped in reverse order

  friend class extra_gateway;
};

// A second gateway on the same stack and engine, with `settings` over the shared gateway's (short
// timeouts, say), for tests that need a setting of its own; answers /readyz 200 once constructed,
// stopped when destroyed.
class extra_gateway {
 public:
  extra_gateway(const engine_processes& engine, const std::string& name, const environment& settings);
  ~extra_gateway();
  extra_gateway(const extra_gateway&) = delete;
  extra_gateway& operator=(const extra_gateway&) = delete;

  std::uint16_t port() const { return port_; }
  const http_client& http() const { return http_; }

 private:
  std::uint16_t port_;
  http_client http_;
  std::unique_ptr<child_process> process_;
};

// Events in the whole store: "nothing written" is this count unchanged (no other test writes
// while this binary runs; the relay and projector never append).
std::int64_t events_in_store();

// Stops the stack's Redis (pid file $CQRS_STACK_DIR/redis/redis.pid) and starts it again, with
// the command line tools/lib/common.sh uses, when destroyed; later tests find Redis up.
class redis_outage {
 public:
  redis_outage();
  ~redis_outage();
  redis_outage(const redis_outage&) = delete;
  redis_outage& operator=(const redis_outage&) = delete;
};

}  // namespace cqrs::tests

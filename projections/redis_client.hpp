#pragma once

// A small synchronous Redis client over hiredis: one connection, owned (RAII), for one thread at
// a time. Commands are argument vectors (binary-safe); replies are plain values. A lost or
// refused connection is a redis_error (infrastructure); an error reply is a value the caller
// inspects (e.g. NOSCRIPT).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

namespace cqrs::projections {

class redis_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct redis_endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int database = 0;
};

// redis://host:port/db (port and db optional). Throws std::invalid_argument.
redis_endpoint parse_redis_url(std::string_view url);

struct redis_reply {
  enum class kind { nil, integer, text, status, array, error };

  kind type = kind::nil;
  std::int64_t integer = 0;
  std::string text;  // string, status and error replies
  std::vector<redis_reply> elements;

  bool is_error() const { return type == kind::error; }
};

// hiredis's reply tree as a value (the sync client's and the gateway's async connection's).
redis_reply from_hiredis(const redisReply* raw);

// How long a connect, and each write or read of a command's round trip, may take. A Redis that is
// stopped (SIGSTOP) or stuck still accepts connections (the kernel completes them) but answers
// nothing: without a bound its caller would wait for ever.
struct redis_timeouts {
  std::chrono::milliseconds connect{1000};
  std::chrono::milliseconds command{5000};
};

// After a lost connection (Redis restarted, a network blip, a timeout) the call that met it
// throws, and the next call connects again: the client never retries a command itself (the caller
// knows whether its command is safe to run twice), but it does not stay broken either.
class redis_client {
 public:
  explicit redis_client(std::string_view url, redis_timeouts timeouts = {});
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  // One round trip. Throws redis_error when the connection fails.
  redis_reply command(const std::vector<std::string>& args);
  // Same, but an error reply is thrown too: for commands that must not fail.
  redis_reply checked(const std::vector<std::string>& args);

  // Pipelining: queue commands, then read as many replies, in order.
  void append(const std::vector<std::string>& args);
  redis_reply read_reply();

  // Runs a Lua script by its SHA1 (EVALSHA), loaded on its first use by this client and again
  // after the server forgot it: hot read paths send 40 bytes instead of the script, and Redis
  // skips hashing it. An error reply is thrown as redis_error.
  redis_reply evaluate(const std::string& source, const std::vector<std::string>& keys,
                       const std::vector<std::string>& args);

  // From now on (the open connection included): a caller that must answer quickly (a readiness
  // probe) or that has others waiting behind it (the projector) bounds its commands tighter.
  void set_command_timeout(std::chrono::milliseconds timeout);

 private:
  struct context_deleter {
    void operator()(redisContext* context) const { redisFree(context); }
  };
  void connect();
  [[noreturn]] void fail(std::string_view what);

  redis_endpoint endpoint_;
  redis_timeouts timeouts_;
  std::unique_ptr<redisContext, context_deleter> context_;
  bool broken_ = false;  // the connection failed: the next call opens a new one
  std::map<std::string, std::string, std::less<>> script_shas_;  // source -> SHA1, as loaded
};

// Loads a Lua script once and runs it by its SHA1, loading it again after NOSCRIPT (a restarted
// or flushed server).
class redis_script {
 public:
  explicit redis_script(std::string source) : source_(std::move(source)) {}

  const std::string& sha(redis_client& client);
  // The server lost the script (restarted, flushed): the next sha() loads it again.
  void forget() { sha_.clear(); }
  static bool is_noscript(const redis_reply& reply) { return reply.is_error() && reply.text.starts_with("NOSCRIPT"); }
  redis_reply run(redis_client& client, const std::vector<std::string>& keys, const std::vector<std::string>& args);
  // EVALSHA arguments, for pipelining after sha() has loaded the script.
  std::vector<std::string> evalsha_args(const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args) const;

 private:
  std::string source_;
  std::string sha_;
};

}  // namespace cqrs::projections

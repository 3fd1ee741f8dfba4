// hiredis's async API over Boost.Asio. hiredis does the protocol and asks, through five hooks
// (ev.addRead/delRead/addWrite/delWrite/cleanup), to be told when its socket can be read or
// written; this file answers those hooks with stream_descriptor::async_wait on the connection's
// strand, and calls redisAsyncHandleRead/Write when they complete.
//
// Ownership is hiredis's quirk: a context that fails inside redisAsyncHandleRead/Write is freed
// by hiredis itself (after calling every waiting command's callback with no reply), and the
// cleanup hook is its only notice. So a `session` holds the context as a pointer that the cleanup
// hook clears, the descriptor never closes the fd (hiredis does), and every handler that may
// outlive the context holds the session by shared_ptr and checks it first.

#include "gateway/redis_async.hpp"

#include <array>
#include <deque>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/format.h>
#include <hiredis/async.h>
#include <openssl/evp.h>

namespace cqrs::gateway {

namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using strand_type = net::strand<net::io_context::executor_type>;

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA1 is not available");
  }
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

bool is_noscript(const projections::redis_reply& reply) { return projections::redis_script::is_noscript(reply); }

}  // namespace

redis_lua_script::redis_lua_script(std::string source) : source_(std::move(source)), sha_(sha1_hex(source_)) {}

// --- one hiredis context ------------------------------------------------------------------------

namespace {

// What hiredis carries for one command (its privdata) until the command's callback.
struct pending_command {
  std::vector<std::string> args;
  redis_callback done;                       // empty for the connection's own commands
  const redis_lua_script* script = nullptr;  // EVALSHA of this script: reload on NOSCRIPT
  bool retried = false;
  bool must_succeed = false;  // SELECT: an error reply means the connection is unusable
};

}  // namespace

struct detail::redis_session : std::enable_shared_from_this<redis_session> {
  redis_session(const strand_type& strand, redis_async::impl& owner) : socket(strand), owner(&owner) {}

  redisAsyncContext* context = nullptr;  // null once hiredis freed it
  net::posix::stream_descriptor socket;
  redis_async::impl* owner;  // null once the owner let go of this session
  std::deque<clock::time_point> deadlines;  // of the commands in flight, oldest first
  std::string failure;                      // why we ended it ourselves (timeout), if we did
  bool want_read = false;
  bool want_write = false;
  bool read_waiting = false;
  bool write_waiting = false;
  bool flush_posted = false;
  bool flushing = false;  // inside redisAsyncHandleWrite

  void arm_read();
  void arm_write();
  void handle_write();
  void released();  // hiredis freed the context
};

struct redis_async::impl : std::enable_shared_from_this<impl> {
  impl(net::io_context& io, std::string_view url, redis_async_options o)
      : strand(net::make_strand(io)), endpoint(projections::parse_redis_url(url)), options(std::move(o)),
        watchdog(strand) {}

  strand_type strand;
  projections::redis_endpoint endpoint;
  redis_async_options options;
  net::steady_timer watchdog;
  bool watchdog_armed = false;
  std::shared_ptr<detail::redis_session> session;  // the open connection, if any
  clock::time_point retry_at{};            // no new connection before this
  std::string last_failure = "not connected yet";
  bool closed = false;
  std::atomic<std::size_t> in_flight{0};

  detail::redis_session* open();
  void send(std::unique_ptr<pending_command> command);
  void session_ended(detail::redis_session& s);
  void arm_watchdog();
  void on_watchdog();
  void shutdown();
  static void on_reply(redisAsyncContext* context, void* raw, void* privdata);
  void reply_to(std::unique_ptr<pending_command> command, redisAsyncContext* context, const redisReply* raw);
};

namespace {

detail::redis_session& session_of(void* data) { return *static_cast<detail::redis_session*>(data); }

void hook_add_read(void* data) {
  auto& s = session_of(data);
  s.want_read = true;
  s.arm_read();
}
void hook_del_read(void* data) { session_of(data).want_read = false; }
void hook_add_write(void* data) {
  auto& s = session_of(data);
  s.want_write = true;
  s.arm_write();
}
void hook_del_write(void* data) { session_of(data).want_write = false; }
void hook_cleanup(void* data) { session_of(data).released(); }

}  // namespace

// One wait at a time; each async_wait re-arms epoll, so readiness that predates it is seen.
void detail::redis_session::arm_read() {
  if (read_waiting || context == nullptr) return;
  read_waiting = true;
  socket.async_wait(net::posix::stream_descriptor::wait_read, [self = shared_from_this()](const error_code& ec) {
    self->read_waiting = false;
    if (ec || self->context == nullptr || !self->want_read) return;
    redisAsyncHandleRead(self->context);  // may free the context (then released() ran)
    if (self->context != nullptr && self->want_read) self->arm_read();
  });
}

// A connected socket almost always has room, so commands are flushed by a posted call rather
// than a write wait: no epoll round trip, and every command queued by handlers that run before
// the flush leaves in the same write(). Only a partial write (a full socket buffer) or a connect
// still in progress waits for writability.
void detail::redis_session::arm_write() {
  if (write_waiting || flush_posted || context == nullptr) return;
  const bool connected = (context->c.flags & REDIS_CONNECTED) != 0;
  if (connected && !flushing) {
    flush_posted = true;
    net::post(socket.get_executor(), [self = shared_from_this()] {
      self->flush_posted = false;
      if (self->context != nullptr && self->want_write) self->handle_write();
    });
    return;
  }
  write_waiting = true;
  socket.async_wait(net::posix::stream_descriptor::wait_write, [self = shared_from_this()](const error_code& ec) {
    self->write_waiting = false;
    if (ec || self->context == nullptr || !self->want_write) return;
    self->handle_write();
  });
}

void detail::redis_session::handle_write() {
  flushing = true;
  redisAsyncHandleWrite(context);  // finishes a connect first; may free the context
  flushing = false;
  // A partial write asked for writability while `flushing`; that wait is armed already.
}

void detail::redis_session::released() {
  context = nullptr;
  want_read = want_write = false;
  error_code ec;
  socket.cancel(ec);
  (void)socket.release();  // hiredis closes the fd
  if (owner != nullptr) owner->session_ended(*this);
}

detail::redis_session* redis_async::impl::open() {
  if (session) return session.get();
  if (closed || clock::now() < retry_at) return nullptr;
  redisAsyncContext* context = redisAsyncConnect(endpoint.host.c_str(), endpoint.port);
  if (context == nullptr || context->err != 0) {
    last_failure = fmt::format("redis connect: {}", context != nullptr ? context->errstr : "out of memory");
    if (context != nullptr) redisAsyncFree(context);
    retry_at = clock::now() + options.reconnect_backoff;
    return nullptr;
  }
  auto s = std::make_shared<detail::redis_session>(strand, *this);
  error_code ec;
  s->socket.assign(context->c.fd, ec);
  if (ec) {
    redisAsyncFree(context);
    last_failure = "redis connect: " + ec.message();
    retry_at = clock::now() + options.reconnect_backoff;
    return nullptr;
  }
  s->context = context;
  context->ev.data = s.get();
  context->ev.addRead = hook_add_read;
  context->ev.delRead = hook_del_read;
  context->ev.addWrite = hook_add_write;
  context->ev.delWrite = hook_del_write;
  context->ev.cleanup = hook_cleanup;
  session = std::move(s);
  // Pipelined ahead of the first command, so they are in effect before it runs.
  if (endpoint.database != 0) {
    send(std::make_unique<pending_command>(
        pending_command{{"SELECT", std::to_string(endpoint.database)}, nullptr, nullptr, false, true}));
  }
  for (const auto* script : options.scripts) {
    send(std::make_unique<pending_command>(pending_command{{"SCRIPT", "LOAD", script->source()}, nullptr}));
  }
  return session.get();
}

// hiredis freed the session's context: calls fail until the backoff has passed, then reconnect.
void redis_async::impl::session_ended(detail::redis_session& s) {
  s.owner = nullptr;
  if (session.get() != &s) return;
  session.reset();  // the handler that led here still holds it
  retry_at = clock::now() + options.reconnect_backoff;
}

void redis_async::impl::send(std::unique_ptr<pending_command> command) {
  auto* s = open();
  if (s == nullptr) {
    if (command->done) command->done(redis_result::failed(last_failure));
    return;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(command->args.size());
  lengths.reserve(command->args.size());
  for (const auto& arg : command->args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* raw = command.get();
  if (redisAsyncCommandArgv(s->context, &impl::on_reply, raw, static_cast<int>(argv.size()), argv.data(),
                            lengths.data()) != REDIS_OK) {
    // Only when the context is being torn down: it fails like a lost connection.
    if (command->done) command->done(redis_result::failed("redis connection closing"));
    return;
  }
  (void)command.release();  // on_reply owns it now
  s->deadlines.push_back(clock::now() + options.command_timeout);
  in_flight.fetch_add(1, std::memory_order_relaxed);
  arm_watchdog();
}

void redis_async::impl::on_reply(redisAsyncContext* context, void* raw, void* privdata) {
  std::unique_ptr<pending_command> command(static_cast<pending_command*>(privdata));
  auto& s = session_of(context->ev.data);
  if (!s.deadlines.empty()) s.deadlines.pop_front();
  if (s.owner == nullptr) {
    // The owner is gone (shutdown): fail the command without touching it.
    if (command->done) command->done(redis_result::failed("redis connection closed"));
    return;
  }
  auto& self = *s.owner;
  self.in_flight.fetch_sub(1, std::memory_order_relaxed);
  self.reply_to(std::move(command), context, static_cast<const redisReply*>(raw));
}

void redis_async::impl::reply_to(std::unique_ptr<pending_command> command, redisAsyncContext* context,
                                 const redisReply* raw) {
  auto& s = session_of(context->ev.data);
  if (raw == nullptr) {
    // The connection failed (hiredis is freeing the context): every waiting command gets here.
    last_failure = !s.failure.empty() ? s.failure
                   : context->err != 0 ? fmt::format("redis: {}", context->errstr)
                                       : std::string("redis connection lost");
    if (command->done) command->done(redis_result::failed(last_failure));
    return;
  }
  auto reply = projections::from_hiredis(raw);
  if (command->must_succeed && reply.is_error()) {
    s.failure = fmt::format("redis {}: {}", command->args.front(), reply.text);
    redisAsyncFree(context);  // deferred by hiredis until this callback returns
    return;
  }
  if (command->script != nullptr && !command->retried && is_noscript(reply)) {
    // The server forgot the script (restarted or flushed under us): load it and run it again,
    // once; both pipelined, so the retry costs one more round trip.
    command->retried = true;
    send(std::make_unique<pending_command>(pending_command{{"SCRIPT", "LOAD", command->script->source()}, nullptr}));
    send(std::move(command));
    return;
  }
  if (command->done) command->done(redis_result{std::move(reply), {}});
}

// One timer for all commands: it fires at the oldest command's deadline, and a command still
// unanswered then fails the connection (and with it every command behind it).
void redis_async::impl::arm_watchdog() {
  if (watchdog_armed || !session || session->deadlines.empty()) return;
  watchdog_armed = true;
  watchdog.expires_at(session->deadlines.front());
  watchdog.async_wait([self = shared_from_this()](const error_code& ec) {
    self->watchdog_armed = false;
    if (!ec) self->on_watchdog();
  });
}

void redis_async::impl::on_watchdog() {
  if (closed || !session) return;
  if (!session->deadlines.empty() && session->deadlines.front() <= clock::now()) {
    auto s = session;  // alive through the free
    s->failure = fmt::format("redis did not answer within {} ms", options.command_timeout.count());
    redisAsyncFree(s->context);  // fails every command in flight, then released()
    return;
  }
  arm_watchdog();
}

void redis_async::impl::shutdown() {
  closed = true;
  last_failure = "redis connection closed";
  watchdog.cancel();
  if (auto s = session) redisAsyncFree(s->context);
}

// --- redis_async --------------------------------------------------------------------------------

redis_async::redis_async(net::io_context& io, std::string_view url, redis_async_options options)
    : impl_(std::make_shared<impl>(io, url, std::move(options))) {}

redis_async::~redis_async() { impl_->shutdown(); }

std::size_t redis_async::in_flight() const { return impl_->in_flight.load(std::memory_order_relaxed); }

void redis_async::command(std::vector<std::string> args, redis_callback done) {
  net::post(impl_->strand, [self = impl_, args = std::move(args), done = std::move(done)]() mutable {
    self->send(std::make_unique<pending_command>(pending_command{std::move(args), std::move(done)}));
  });
}

void redis_async::pipeline(std::vector<std::vector<std::string>> commands, redis_callback done) {
  // Every callback runs on the strand, one after the other: the gathering needs no lock.
  struct gathered {
    projections::redis_reply replies;
    std::size_t left = 0;
    std::optional<std::string> failure;
    redis_callback done;
  };
  auto state = std::make_shared<gathered>();
  state->replies.type = projections::redis_reply::kind::array;
  state->replies.elements.resize(commands.size());
  state->left = commands.size();
  state->done = std::move(done);
  net::post(impl_->strand, [self = impl_, commands = std::move(commands), state]() mutable {
    if (commands.empty()) return state->done(redis_result{state->replies, {}});
    for (std::size_t i = 0; i < commands.size(); ++i) {
      auto gather = [state, i](redis_result result) {
        if (result.ok()) {
          state->replies.elements[i] = std::move(*result.reply);
        } else if (!state->failure) {
          state->failure = std::move(result.failure);
        }
        if (--state->left > 0) return;
        state->done(state->failure ? redis_result::failed(std::move(*state->failure))
                                   : redis_result{std::move(state->replies), {}});
      };
      self->send(std::make_unique<pending_command>(pending_command{std::move(commands[i]), std::move(gather)}));
    }
  });
}

void redis_async::evaluate(const redis_lua_script& script, std::vector<std::string> keys,
                           std::vector<std::string> args, redis_callback done) {
  std::vector<std::string> call;
  call.reserve(3 + keys.size() + args.size());
  call.emplace_back("EVALSHA");
  call.push_back(script.sha());
  call.push_back(std::to_string(keys.size()));
  for (auto& key : keys) call.push_back(std::move(key));
  for (auto& arg : args) call.push_back(std::move(arg));
  net::post(impl_->strand, [self = impl_, call = std::move(call), done = std::move(done), &script]() mutable {
    self->send(std::make_unique<pending_command>(pending_command{std::move(call), std::move(done), &script}));
  });
}

}  // namespace cqrs::gateway

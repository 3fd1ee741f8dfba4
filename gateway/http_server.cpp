// The only translation unit that includes Beast (see meson.build; with its request reading,
// detail/request_reading.hpp): the heavy templates compile once, and everything else speaks
// http_types.hpp (Asio is also in redis_async.cpp).
//
// Per connection, on its lane (an io_context run by one I/O thread), three kinds of coroutines
// cooperate:
//   reader     parses requests (Beast's parser fed by our own reads, so that each read has its own
//              deadline) and queues an `exchange` per request, at most max_pipelined ahead;
//   processor  one per request: routes it, runs its offloads on the pools and its Redis calls on
//              the server's async Redis connections, fills its exchange;
//   writer     writes exchanges strictly in arrival order as each becomes ready.
// They share state without locks because the lane's one thread runs one of them at a time; they
// wake each other with `wakeup` (a timer used as a condition variable).

#include "gateway/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/tcp_listen.hpp"
#include "gateway/drain_state.hpp"
#include "gateway/http_metrics.hpp"
#include "gateway/tls_context.hpp"
#include "gateway/worker_pool.hpp"
#include "gateway/detail/request_reading.hpp"
#include "projections/redis_client.hpp"

namespace cqrs::gateway {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Errors are values (std::tuple), never exceptions, on every asynchronous step.
constexpr auto use_op = net::as_tuple(net::use_awaitable);
constexpr std::size_t read_chunk = 16 * 1024;
constexpr std::size_t linger_bytes = 1024 * 1024;

// Every coroutine catches what it can act on; what escapes ends only that coroutine.
void ignore_escaped(std::exception_ptr) noexcept {}

// --- response conversion ------------------------------------------------------------------------

// The server owns a response's framing; a handler's copy of these would contradict it.
bool is_framing_header(std::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection") || beast::iequals(name, "date");
}

// A CR or LF in a value would let it write headers (or a body) of its own.
bool is_safe_value(std::string_view value) { return value.find_first_of("\r\n") == std::string_view::npos; }

// RFC 7230 3.3.2: no Content-Length on 1xx, 204 and 304.
bool carries_length(int status) { return status >= 200 && status != 204 && status != 304; }

std::string http_date(std::chrono::system_clock::time_point now) {
  static constexpr std::array<const char*, 7> days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", days.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                     months.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

// Browsers that once reached the gateway over HTTPS refuse plain HTTP to it for a year (RFC 6797).
// Sent on every answer, also by a plain-HTTP gateway behind a TLS-terminating load balancer, whose
// clients see it over HTTPS; a browser ignores it on a plain-HTTP answer.
constexpr std::string_view strict_transport_security = "max-age=31536000";

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// The whole response, head and body, in one buffer, so that one write sends it over either stream
// (Asio's TLS stream writes only the first buffer of a sequence per record; one buffer keeps a
// small answer in one record and one system call). Connection follows HTTP/1.1 and 1.0's defaults
// as Beast's keep_alive() does.
std::string serialize(http_response&& response, unsigned version, bool keep_alive, bool head) {
  const int status = response.status >= 100 && response.status <= 599 ? response.status : 500;
  std::string out;
  out.reserve(256 + response.body.size());
  out += fmt::format("HTTP/{}.{} {} ", version / 10, version % 10, status);
  out.append(http::obsolete_reason(static_cast<http::status>(status))).append("\r\n");
  for (const auto& [name, value] : response.headers) {
    if (!is_framing_header(name) && !beast::iequals(name, "strict-transport-security") && is_safe_value(name) &&
        is_safe_value(value)) {
      append_field(out, name, value);
    }
  }
  append_field(out, "Date", http_date(std::chrono::system_clock::now()));
  append_field(out, "Strict-Transport-Security", strict_transport_security);
  if (version >= 11 && !keep_alive) append_field(out, "Connection", "close");
  if (version < 11 && keep_alive) append_field(out, "Connection", "keep-alive");
  // A HEAD response announces the length of the body it leaves out.
  if (carries_length(status)) append_field(out, "Content-Length", std::to_string(response.body.size()));
  out += "\r\n";
  if (!head) out += response.body;
  return out;
}

http_response plain_error(int status) {
  http_response response;
  response.status = status;
  return response;
}

// --- offloads -----------------------------------------------------------------------------------

// Offloads submitted and not yet finished. The server's io_context must outlive them (their
// completions are posted to it), so its destructor waits for this to reach zero.
class offload_tracker {
 public:
  void begin() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void end() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) idle_.notify_all();
  }
  void wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t count_ = 0;
};

// Ends its offload when the pool destroys the job: after it ran, or when it was refused.
class offload_ticket {
 public:
  explicit offload_ticket(offload_tracker& tracker) : tracker_(tracker) { tracker_.begin(); }
  ~offload_ticket() { tracker_.end(); }
  offload_ticket(const offload_ticket&) = delete;
  offload_ticket& operator=(const offload_ticket&) = delete;

 private:
  offload_tracker& tracker_;
};

struct offload_outcome {
  enum class kind { done, refused, threw };
  kind result = kind::done;
  std::optional<step> next;
  std::string what;
  bool dependency_down = false;  // when it threw: a broken dependency (503), not a bug (500)
};

// A dependency that is down or lost a connection; a failing statement or a library misuse is a bug.
bool is_dependency_failure(const std::exception& e) {
  if (dynamic_cast<const projections::redis_error*>(&e) != nullptr) return true;
  const auto* store = dynamic_cast<const core::store_error*>(&e);
  if (store == nullptr) return false;
  switch (store->kind()) {
    case core::failure_kind::connection:
    case core::failure_kind::in_doubt:
    case core::failure_kind::transient:
      return true;
    case core::failure_kind::statement:
    case core::failure_kind::unexpected:
      return false;
  }
  return false;
}

// Runs on a pool thread. After an exception the worker's connections are suspect: drop them so
// the next job reconnects.
offload_outcome run_work(worker_context& context, const std::function<step(worker_context&)>& work) {
  try {
    return {offload_outcome::kind::done, work(context), {}, false};
  } catch (const std::exception& e) {
    context.drop_connections();
    return {offload_outcome::kind::threw, std::nullopt, e.what(), is_dependency_failure(e)};
  } catch (...) {
    context.drop_connections();
    return {offload_outcome::kind::threw, std::nullopt, "unknown exception", false};
  }
}

// The suspended coroutine's handler, kept until a pool thread completes it. The work guard keeps
// the io_context running while nothing but a pool holds the request.
template <class Handler>
struct pending_completion {
  using executor_type = net::associated_executor_t<Handler>;

  pending_completion(Handler h, const executor_type& executor)
      : handler(std::move(h)), work(net::make_work_guard(executor)) {}

  // Resumes the coroutine on its own executor (the connection's lane), never on the pool thread
  // (or the Redis connection's strand).
  template <class Outcome>
  static void complete(const std::shared_ptr<pending_completion>& self, Outcome outcome) {
    net::post(self->work.get_executor(), [self, outcome = std::move(outcome)]() mutable {
      auto h = std::move(self->handler);
      self->work.reset();
      std::move(h)(std::move(outcome));
    });
  }

  Handler handler;
  net::executor_work_guard<executor_type> work;
};

// Submits `work` to `pool`; completes with its outcome, or `refused` when the pool is saturated.
template <class Token>
auto async_offload(worker_pool& pool, offload_tracker& tracker, std::function<step(worker_context&)> work,
                   Token&& token) {
  auto initiation = [&pool, &tracker](auto handler, std::function<step(worker_context&)> job_work) {
    using completion = pending_completion<decltype(handler)>;
    const auto executor = net::get_associated_executor(handler);
    auto pending = std::make_shared<completion>(std::move(handler), executor);
    auto ticket = std::make_shared<offload_ticket>(tracker);
    const bool accepted = pool.try_submit([pending, ticket, job_work](worker_context& context) {
      completion::complete(pending, run_work(context, job_work));
    });
    if (!accepted) completion::complete(pending, offload_outcome{offload_outcome::kind::refused, std::nullopt, {}});
  };
  return net::async_initiate<Token, void(offload_outcome)>(initiation, token, std::move(work));
}

// Runs `call` on `link` (nothing: no Redis configured); completes with its result on the caller's
// executor.
template <class Token>
auto async_redis(redis_async* link, redis_call& call, Token&& token) {
  auto initiation = [link](auto handler, const redis_lua_script* script, std::vector<std::string> keys,
                           std::vector<std::string> args, std::vector<std::vector<std::string>> commands) {
    using completion = pending_completion<decltype(handler)>;
    const auto executor = net::get_associated_executor(handler);
    auto pending = std::make_shared<completion>(std::move(handler), executor);
    if (link == nullptr) {
      completion::complete(pending, redis_result::failed("no Redis configured"));
      return;
    }
    auto done = [pending](redis_result result) { completion::complete(pending, std::move(result)); };
    if (script == nullptr) {
      link->pipeline(std::move(commands), std::move(done));
    } else {
      link->evaluate(*script, std::move(keys), std::move(args), std::move(done));
    }
  };
  return net::async_initiate<Token, void(redis_result)>(initiation, token, call.script, std::move(call.keys),
                                                        std::move(call.args), std::move(call.commands));
}

// Hands `request` to `committer` (nothing: no committer); completes with its answer on the
// caller's executor, or `refused` at once when the committer refuses it. The ticket keeps the
// server's io_context alive until the answer has been posted.
template <class Token>
auto async_append(core::append_committer* committer, offload_tracker& tracker, core::append_request request,
                  Token&& token) {
  auto initiation = [committer, &tracker](auto handler, core::append_request append) {
    using completion = pending_completion<decltype(handler)>;
    const auto executor = net::get_associated_executor(handler);
    auto pending = std::make_shared<completion>(std::move(handler), executor);
    auto ticket = std::make_shared<offload_ticket>(tracker);
    const bool accepted = committer != nullptr &&
                          committer->try_submit(std::move(append), [pending, ticket](core::committer_answer answer) {
                            completion::complete(pending, std::move(answer));
                          });
    if (!accepted) completion::complete(pending, core::committer_answer{});
  };
  return net::async_initiate<Token, void(core::committer_answer)>(initiation, token, std::move(request));
}

// Runs `call.start`; completes with the continuation it resumes with, on the caller's executor.
// The ticket keeps the server's io_context alive until the continuation has been posted.
template <class Token>
auto async_external(offload_tracker& tracker, external_call& call, Token&& token) {
  auto initiation = [&tracker](auto handler, std::function<void(std::function<void(external_call::continuation)>)> start) {
    using completion = pending_completion<decltype(handler)>;
    const auto executor = net::get_associated_executor(handler);
    auto pending = std::make_shared<completion>(std::move(handler), executor);
    auto ticket = std::make_shared<offload_ticket>(tracker);
    start([pending, ticket](external_call::continuation next) { completion::complete(pending, std::move(next)); });
  };
  return net::async_initiate<Token, void(external_call::continuation)>(initiation, token, std::move(call.start));
}

// --- connections --------------------------------------------------------------------------------

class connection;

// What the server and its connections share. Lives in http_server::impl, before the io_context,
// so it outlives every connection (they are destroyed with the io_context at the latest).
struct server_state {
  server_state(server_limits l, server_dependencies d) : limits(l), deps(d) {}

  server_limits limits;
  server_dependencies deps;
  offload_tracker offloads;

  // Registers an accepted connection; nothing when over the cap or shutting down. `tls`: the
  // context it handshakes with (kept by the connection for its life), null for plain HTTP.
  std::shared_ptr<connection> admit(tcp::socket socket, std::size_t lane, std::shared_ptr<net::ssl::context> tls);
  void forget(std::uint64_t id);
  std::vector<std::shared_ptr<connection>> live();
  std::vector<std::shared_ptr<connection>> begin_shutdown();
  std::size_t open_count();

  worker_pool& pool(pool_kind kind) { return kind == pool_kind::postgres ? deps.postgres : deps.redis; }
  // The Redis link of an I/O thread's lane: same thread as the connection, so a call and its
  // reply never cross threads.
  redis_async* redis_for(std::size_t lane) {
    if (redis_links == nullptr || redis_links->empty()) return nullptr;
    return (*redis_links)[lane % redis_links->size()].get();
  }

  const std::vector<std::unique_ptr<redis_async>>* redis_links = nullptr;  // set by http_server::impl
  // Set when the stop begins: from then on every response closes its connection.
  std::atomic<bool> draining{false};

 private:
  std::mutex mutex_;
  std::map<std::uint64_t, std::weak_ptr<connection>> open_;
  std::uint64_t next_id_ = 0;
  bool shutting_down_ = false;
};

// One request's place in the connection's pipeline: filled by its processor, written by the
// writer in arrival order.
struct exchange {
  std::optional<http_response> response;
  unsigned version = 11;
  bool keep_alive = true;
  bool head = false;
};

// A timer used as a condition variable between coroutines of one lane: wait() suspends until
// notify(). Waiters re-check their condition in a loop, so a notify with nobody waiting is
// harmless, and nothing can slip between the check and the wait (the lane runs one at a time).
class wakeup {
 public:
  explicit wakeup(const net::any_io_executor& executor) : timer_(executor) {}
  net::awaitable<void> wait() {
    timer_.expires_at(clock::time_point::max());
    co_await timer_.async_wait(use_op);
  }
  void notify() { timer_.cancel(); }

 private:
  net::steady_timer timer_;
};

using detail::request_parser;

struct read_outcome {
  enum class kind { request, refused, closed };
  kind what = kind::closed;
  clock::time_point started{};
  int status = 0;
  std::string detail;
};

enum class read_result { data, timeout, woken, eof, failed };

// The TLS stream over the connection's own socket (which stays the connection's: its options,
// shutdown and close act on the TCP layer below TLS). Asio's stream, which Beast's ssl_stream
// wraps: Beast 1.81's wrapper takes no net::deferred (needed to race a timer), and the flat_stream
// it adds (one record per write of many buffers) is moot, since every write here is one buffer.
using tls_stream = net::ssl::stream<tcp::socket&>;

// `operation` (an Asio operation given net::deferred) against `timer`: whichever finishes first
// cancels the other. Errors are values: (which finished first, the operation's results, the
// timer's error). The same awaitable type for the TLS and the plain stream.
template <class Operation>
auto race(Operation&& operation, net::steady_timer& timer) {
  return net::experimental::make_parallel_group(std::forward<Operation>(operation), timer.async_wait(net::deferred))
      .async_wait(net::experimental::wait_for_one(), use_op);
}

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, server_state& server, std::uint64_t id, std::size_t lane,
             std::shared_ptr<net::ssl::context> tls);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void start();
  // From any thread: stop reading new requests, answer those in flight, then close.
  void begin_shutdown();
  // From any thread: close now.
  void force_close();

 private:
  static net::awaitable<void> run(std::shared_ptr<connection> self);
  static net::awaitable<void> read_loop(std::shared_ptr<connection> self);
  static net::awaitable<void> write_loop(std::shared_ptr<connection> self);
  static net::awaitable<void> process(std::shared_ptr<connection> self, std::shared_ptr<exchange> slot,
                                      http_request request, clock::time_point started);

  net::awaitable<void> wait_for_room();
  net::awaitable<read_outcome> read_request(request_parser& parser);
  bool wants_continue(const request_parser& parser) const;
  net::awaitable<void> send_continue();
  net::awaitable<read_result> read_some(clock::time_point deadline);
  net::awaitable<http_response> respond(http_request& request, std::string& route);
  net::awaitable<bool> handshake();
  net::awaitable<bool> write(const std::string& bytes);
  net::awaitable<void> linger();

  bool dispatch(request_parser& parser, clock::time_point started);
  void refuse(request_parser& parser, const read_outcome& outcome);
  void finish(const http_request& request, const std::string& route, http_response& response,
              clock::time_point started) noexcept;
  bool front_ready() const { return !pipeline_.empty() && pipeline_.front()->response.has_value(); }
  void close() noexcept;

  tcp::socket socket_;
  std::shared_ptr<net::ssl::context> tls_context_;  // the context of its handshake; null: plain HTTP
  std::optional<tls_stream> tls_;                   // over socket_, when tls_context_
  server_state& server_;
  const server_limits& limits_;
  std::uint64_t id_;
  std::size_t lane_;  // the I/O thread (io_context) that runs this connection
  std::string remote_;
  beast::flat_buffer buffer_;
  net::steady_timer read_timer_;
  net::steady_timer write_timer_;
  wakeup room_;   // the reader waits for a free pipeline slot
  wakeup ready_;  // the writer waits for the front exchange
  std::deque<std::shared_ptr<exchange>> pipeline_;
  bool reader_done_ = false;
  bool shutting_down_ = false;
  bool closed_ = false;
  bool writing_ = false;  // a response (or 100 Continue) is on the wire
};

std::string remote_address(const tcp::socket& socket) {
  error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  return ec ? std::string() : endpoint.address().to_string();
}

connection::connection(tcp::socket socket, server_state& server, std::uint64_t id, std::size_t lane,
                       std::shared_ptr<net::ssl::context> tls)
    : socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      server_(server),
      limits_(server.limits),
      id_(id),
      lane_(lane),
      remote_(remote_address(socket_)),
      buffer_(server.limits.max_header_bytes + read_chunk),
      read_timer_(socket_.get_executor()),
      write_timer_(socket_.get_executor()),
      room_(socket_.get_executor()),
      ready_(socket_.get_executor()) {
  if (tls_context_) tls_.emplace(socket_, *tls_context_);
}

connection::~connection() {
  // Closed already unless the io_context was stopped under it (the shutdown deadline passed).
  if (!closed_) server_.forget(id_);
}

void connection::start() {
  error_code ec;
  // Responses are written whole; Nagle would only hold back the last segment of each.
  socket_.set_option(tcp::no_delay(true), ec);
  net::co_spawn(socket_.get_executor(), run(shared_from_this()), ignore_escaped);
}

// The TLS handshake first (within the read timeout), then the reader and the writer.
net::awaitable<void> connection::run(std::shared_ptr<connection> self) {
  // (No co_await inside a condition: GCC 12 miscompiles it.)
  if (self->tls_) {
    const bool secured = co_await self->handshake();
    if (!secured) {
      self->close();
      co_return;
    }
  }
  net::co_spawn(self->socket_.get_executor(), read_loop(self), ignore_escaped);
  net::co_spawn(self->socket_.get_executor(), write_loop(self), ignore_escaped);
}

// A client that offers no TLS 1.3 (unless 1.2 is allowed), or no TLS at all, fails here and is
// closed; so is one that does not finish its handshake in time.
net::awaitable<bool> connection::handshake() {
  read_timer_.expires_after(limits_.read_timeout);
  auto [order, ec, timer_ec] =
      co_await race(tls_->async_handshake(net::ssl::stream_base::server, net::deferred), read_timer_);
  (void)timer_ec;
  co_return order[0] == 0 && !ec && !closed_ && !shutting_down_;
}

void connection::begin_shutdown() {
  net::post(socket_.get_executor(), [self = shared_from_this()] {
    self->shutting_down_ = true;
    self->read_timer_.cancel();  // a reader waiting for a request that has not started gives up
    self->room_.notify();
  });
}

void connection::force_close() {
  net::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
}

void connection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  read_timer_.cancel();
  write_timer_.cancel();
  room_.notify();
  ready_.notify();
  server_.forget(id_);
}

// --- reading ------------------------------------------------------------------------------------

net::awaitable<void> connection::read_loop(std::shared_ptr<connection> self) {
  try {
    while (!self->closed_ && !self->shutting_down_) {
      co_await self->wait_for_room();
      if (self->closed_ || self->shutting_down_) break;
      request_parser parser;
      detail::limit(parser, self->limits_);
      const auto outcome = co_await self->read_request(parser);
      if (outcome.what == read_outcome::kind::closed) break;
      if (outcome.what == read_outcome::kind::refused) {
        self->refuse(parser, outcome);
        break;
      }
      if (!self->dispatch(parser, outcome.started)) break;
    }
  } catch (const std::exception&) {
    self->close();
  }
  self->reader_done_ = true;
  self->ready_.notify();
}

// Bounded memory: at most max_pipelined requests are held between reading and writing.
net::awaitable<void> connection::wait_for_room() {
  while (!closed_ && !shutting_down_ && pipeline_.size() >= limits_.max_pipelined) co_await room_.wait();
}

read_outcome refusal_for(const error_code& ec, clock::time_point started) {
  auto step = detail::refusal_for(ec);
  return {read_outcome::kind::refused, started, step.status, std::move(step.detail)};
}

// Reads one request into `parser`. Before its first byte the idle timeout applies (only while no
// response is owed: a client waiting for answers is not idle); after it, the whole request must
// arrive within the read timeout.
net::awaitable<read_outcome> connection::read_request(request_parser& parser) {
  auto deadline = clock::now() + limits_.idle_timeout;
  std::optional<clock::time_point> started;
  bool continued = false;  // "100 Continue" sent for this request
  detail::fold_scan fold_scanned;  // how far the head has been looked at for obsolete folding
  for (;;) {
    if (buffer_.size() > 0) {
      auto step = detail::offer(parser, buffer_, fold_scanned);
      if (step.what == detail::read_step::kind::refused) {
        co_return read_outcome{read_outcome::kind::refused, started.value_or(clock::now()), step.status,
                               std::move(step.detail)};
      }
      if (step.what == detail::read_step::kind::request) {
        co_return read_outcome{read_outcome::kind::request, started.value_or(clock::now()), 0, {}};
      }
    }
    if (!continued && wants_continue(parser) && pipeline_.empty() && !writing_) {
      continued = true;
      co_await send_continue();
    }
    if (!started && (parser.got_some() || buffer_.size() > 0)) {
      started = clock::now();
      deadline = *started + limits_.read_timeout;
    }
    if (!started && (shutting_down_ || closed_)) co_return read_outcome{};
    if (buffer_.size() >= buffer_.max_size()) co_return refusal_for(http::error::buffer_overflow, *started);
    switch (co_await read_some(deadline)) {
      case read_result::data:
      case read_result::woken: continue;
      case read_result::timeout:
        if (started) co_return read_outcome{read_outcome::kind::refused, *started, 408, "request not received in time"};
        if (pipeline_.empty()) co_return read_outcome{};
        deadline = clock::now() + limits_.idle_timeout;
        continue;
      case read_result::eof:
      case read_result::failed: co_return read_outcome{};
    }
  }
}

// A client that sent "Expect: 100-continue" waits (curl: a second) before sending its body. Only
// answered while nothing else is being written or owed, so that the interim response cannot land
// between or before earlier pipelined responses; otherwise the client sends after its wait.
bool connection::wants_continue(const request_parser& parser) const {
  if (!parser.is_header_done() || parser.is_done()) return false;
  const auto expect = parser.get()[http::field::expect];
  return beast::iequals(expect, "100-continue");
}

net::awaitable<void> connection::send_continue() {
  static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
  writing_ = true;
  write_timer_.expires_after(limits_.read_timeout);
  const auto buffer = net::buffer(interim);
  // The awaitable starts only when awaited (and GCC 12 mishandles co_await on a conditional).
  auto sending = tls_ ? race(net::async_write(*tls_, buffer, net::deferred), write_timer_)
                      : race(net::async_write(socket_, buffer, net::deferred), write_timer_);
  auto outcome = co_await std::move(sending);
  (void)outcome;  // a failed write shows up at the next read or write
  writing_ = false;
}

// One read into buffer_, racing `deadline`; read_timer_.cancel() wakes it early (shutdown).
net::awaitable<read_result> connection::read_some(clock::time_point deadline) {
  const auto room = std::min(read_chunk, buffer_.max_size() - buffer_.size());
  read_timer_.expires_at(deadline);
  const auto space = buffer_.prepare(room);
  auto reading = tls_ ? race(tls_->async_read_some(space, net::deferred), read_timer_)
                      : race(socket_.async_read_some(space, net::deferred), read_timer_);
  auto [order, read_ec, bytes, timer_ec] = co_await std::move(reading);
  // Both may have finished: bytes read are never dropped.
  if (bytes > 0) {
    buffer_.commit(bytes);
    co_return read_result::data;
  }
  if (order[0] == 1) co_return timer_ec ? read_result::woken : read_result::timeout;
  // A TLS client that closes without close_notify shows as stream_truncated: an end all the same.
  co_return read_ec == net::error::eof || read_ec == net::ssl::error::stream_truncated ? read_result::eof
                                                                                    : read_result::failed;
}

// Queues the request's exchange and starts its processor; false when the connection is to close
// after it (the client asked, or the request was refused).
bool connection::dispatch(request_parser& parser, clock::time_point started) {
  auto message = parser.release();
  auto slot = std::make_shared<exchange>();
  slot->version = message.version();
  slot->keep_alive = message.keep_alive();
  slot->head = message.method() == http::verb::head;
  pipeline_.push_back(slot);
  http_request request;
  if (!detail::to_request(std::move(message), remote_, request)) {
    slot->keep_alive = false;
    auto response = server_.deps.handler.refused(request, 400, detail::invalid_target);
    finish(request, "refused", response, started);
    slot->response = std::move(response);
    ready_.notify();
    return false;
  }
  net::co_spawn(socket_.get_executor(), process(shared_from_this(), slot, std::move(request), started), ignore_escaped);
  return slot->keep_alive;
}

// The refusal is answered in its turn after the responses owed, then the connection closes:
// after a framing error the rest of the stream cannot be trusted.
void connection::refuse(request_parser& parser, const read_outcome& outcome) {
  auto slot = std::make_shared<exchange>();
  slot->keep_alive = false;
  const auto request = detail::refused_request(parser, remote_);
  slot->head = request.method == "HEAD";
  http_response response;
  try {
    response = server_.deps.handler.refused(request, outcome.status, outcome.detail);
  } catch (const std::exception&) {
    response = plain_error(outcome.status);
  }
  finish(request, "refused", response, outcome.started);
  slot->response = std::move(response);
  pipeline_.push_back(std::move(slot));
  ready_.notify();
}

// --- processing ---------------------------------------------------------------------------------

net::awaitable<void> connection::process(std::shared_ptr<connection> self, std::shared_ptr<exchange> slot,
                                         http_request request, clock::time_point started) {
  std::string route = "unmatched";
  http_response response;
  try {
    response = co_await self->respond(request, route);
  } catch (const std::exception&) {
    response = plain_error(500);  // the handler's own fallbacks threw: answer without them
  }
  self->finish(request, route, response, started);
  slot->response = std::move(response);
  self->ready_.notify();
}

// route(), then each step in turn until a response: an offload waits its delay on a timer and
// runs its work on its pool; a Redis call runs on this connection's Redis link; each continues
// with the step its work (or continuation) returns.
net::awaitable<http_response> connection::respond(http_request& request, std::string& route) {
  auto& handler = server_.deps.handler;
  step next;
  try {
    auto routed = handler.route(request);
    route = std::move(routed.route);
    next = std::move(routed.first);
  } catch (const std::exception& e) {
    co_return handler.failed(request, e.what(), false);
  }
  for (;;) {
    if (auto* call = std::get_if<redis_call>(&next)) {
      auto then = std::move(call->then);
      if (call->delay > 0ms) {
        net::steady_timer timer(co_await net::this_coro::executor, call->delay);
        co_await timer.async_wait(use_op);
      }
      auto result = co_await async_redis(server_.redis_for(lane_), *call, net::use_awaitable);
      try {
        next = then(std::move(result));
      } catch (const std::exception& e) {
        co_return handler.failed(request, e.what(), is_dependency_failure(e));
      }
      continue;
    }
    if (auto* call = std::get_if<append_call>(&next)) {
      auto then = std::move(call->then);
      auto answer = co_await async_append(server_.deps.committer, server_.offloads, std::move(call->request),
                                          net::use_awaitable);
      try {
        next = then(std::move(answer));
      } catch (const std::exception& e) {
        co_return handler.failed(request, e.what(), is_dependency_failure(e));
      }
      continue;
    }
    if (auto* call = std::get_if<external_call>(&next)) {
      auto then = co_await async_external(server_.offloads, *call, net::use_awaitable);
      try {
        next = then();
      } catch (const std::exception& e) {
        co_return handler.failed(request, e.what(), is_dependency_failure(e));
      }
      continue;
    }
    auto* job = std::get_if<offload>(&next);
    if (job == nullptr) break;
    const auto kind = job->pool;
    if (job->delay > 0ms) {
      net::steady_timer timer(co_await net::this_coro::executor, job->delay);
      co_await timer.async_wait(use_op);
    }
    auto outcome = co_await async_offload(server_.pool(kind), server_.offloads, std::move(job->work), net::use_awaitable);
    switch (outcome.result) {
      case offload_outcome::kind::refused: co_return handler.overloaded(request, kind);
      case offload_outcome::kind::threw: co_return handler.failed(request, outcome.what, outcome.dependency_down);
      case offload_outcome::kind::done: next = std::move(*outcome.next); break;
    }
  }
  co_return std::get<http_response>(std::move(next));
}

void connection::finish(const http_request& request, const std::string& route, http_response& response,
                        clock::time_point started) noexcept {
  try {
    server_.deps.handler.finish(request, route, response, clock::now() - started);
  } catch (const std::exception&) {
    // Metrics and the access log are worth less than the response itself.
  }
}

// --- writing ------------------------------------------------------------------------------------

net::awaitable<void> connection::write_loop(std::shared_ptr<connection> self) {
  try {
    for (;;) {
      while (!self->closed_ && !self->front_ready() && !(self->reader_done_ && self->pipeline_.empty())) {
        co_await self->ready_.wait();
      }
      if (self->closed_ || self->pipeline_.empty()) break;
      auto slot = std::move(self->pipeline_.front());
      self->pipeline_.pop_front();
      self->room_.notify();
      const bool last = !slot->keep_alive || self->server_.draining.load(std::memory_order_relaxed) ||
                        (self->shutting_down_ && self->reader_done_ && self->pipeline_.empty());
      const auto bytes = serialize(std::move(*slot->response), slot->version, !last, slot->head);
      self->writing_ = true;
      const bool written = co_await self->write(bytes);
      self->writing_ = false;
      if (!written) {
        self->close();
        co_return;
      }
      if (last) break;
    }
    if (self->reader_done_ && !self->closed_) co_await self->linger();
  } catch (const std::exception&) {
  }
  self->close();
}

// One response, within the read timeout: a client that does not take its answers loses them.
net::awaitable<bool> connection::write(const std::string& bytes) {
  write_timer_.expires_after(limits_.read_timeout);
  const auto buffer = net::buffer(bytes);
  auto sending = tls_ ? race(net::async_write(*tls_, buffer, net::deferred), write_timer_)
                      : race(net::async_write(socket_, buffer, net::deferred), write_timer_);
  auto [order, write_ec, written, timer_ec] = co_await std::move(sending);
  (void)written;
  (void)timer_ec;
  co_return order[0] == 0 && !write_ec;
}

// Closing a socket with unread input makes the kernel send a reset, which can destroy the last
// response before the client reads it (e.g. a 413 while the body still arrives). So: send our FIN,
// then read and discard until the client closes too, for a bounded time and amount. Over TLS the
// FIN goes without a close_notify: the response carried its length, so the client has all of it,
// and the reads below still decrypt (and drop) what the client sends meanwhile.
net::awaitable<void> connection::linger() {
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  const auto deadline = clock::now() + std::min<clock::duration>(limits_.read_timeout, 1s);
  std::size_t drained = 0;
  while (drained < linger_bytes && !closed_) {
    buffer_.consume(buffer_.size());
    const auto result = co_await read_some(deadline);
    if (result != read_result::data) break;
    drained += buffer_.size();
  }
}

// --- server_state -------------------------------------------------------------------------------

std::shared_ptr<connection> server_state::admit(tcp::socket socket, std::size_t lane,
                                               std::shared_ptr<net::ssl::context> tls) {
  std::lock_guard lock(mutex_);
  if (shutting_down_ || open_.size() >= limits.max_connections) {
    error_code ec;
    socket.close(ec);
    return nullptr;
  }
  const auto id = next_id_++;
  auto c = std::make_shared<connection>(std::move(socket), *this, id, lane, std::move(tls));
  open_.emplace(id, c);
  if (deps.metrics != nullptr) deps.metrics->connection_opened();
  return c;
}

void server_state::forget(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (open_.erase(id) > 0 && deps.metrics != nullptr) deps.metrics->connection_closed();
}

std::vector<std::shared_ptr<connection>> server_state::live() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<connection>> result;
  for (const auto& [id, weak] : open_) {
    if (auto c = weak.lock()) result.push_back(std::move(c));
  }
  return result;
}

std::vector<std::shared_ptr<connection>> server_state::begin_shutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  return live();
}

std::size_t server_state::open_count() {
  std::lock_guard lock(mutex_);
  return open_.size();
}

// --- listening ----------------------------------------------------------------------------------

tcp::endpoint resolve_endpoint(net::io_context& io, const std::string& host, std::uint16_t port) {
  error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) return {address, port};
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) throw std::system_error(static_cast<std::error_code>(ec), "cannot resolve " + host);
  return results.begin()->endpoint();
}

}  // namespace

// --- http_server --------------------------------------------------------------------------------

struct http_server::impl {
  impl(const std::string& host, std::uint16_t port, int thread_count, server_limits limits, server_dependencies deps)
      : state(limits, deps),
        threads(std::max(1, thread_count)),
        lanes(make_lanes(threads)),
        io(*lanes.front()),
        strand(net::make_strand(io)),
        acceptor(strand),
        signals(strand),
        reload_signals(strand) {
    if (deps.tls) tls_context = load_tls_context(*deps.tls);
    core::listen_on(acceptor, resolve_endpoint(io, host, port));
    bound_port = acceptor.local_endpoint().port();
    // One per I/O thread: enough to keep each thread's share of reads pipelined on its own socket.
    if (!deps.redis_url.empty()) {
      for (int i = 0; i < threads; ++i) {
        redis_links.push_back(std::make_unique<redis_async>(*lanes[static_cast<std::size_t>(i)], deps.redis_url,
                                                            deps.redis_options));
      }
    }
    state.redis_links = &redis_links;
  }

  ~impl() {
    // Pool threads may still run offloads whose completions post to the lanes: wait for them first.
    state.offloads.wait_idle();
  }

  // One io_context per I/O thread, each run by its thread alone: a connection, its timers and its
  // Redis link share one thread, so their handlers hand work to each other through that thread's
  // own queue (no wake-up of another thread, no allocation freed on another thread's arena).
  static std::vector<std::unique_ptr<net::io_context>> make_lanes(int count) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < count; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  void start();
  void request_stop();
  void await_reload();
  void reload();
  static std::shared_ptr<net::ssl::context> load_tls_context(const tls_config& config) {
    return std::make_shared<net::ssl::context>(make_tls_context(config).release());
  }
  net::awaitable<void> accept_loop();
  net::awaitable<void> shutdown();
  net::awaitable<void> drain();
  net::awaitable<void> wait_for_connections(clock::time_point deadline);

  server_state state;  // before the lanes: connections destroyed with them still reach the state
  int threads;
  std::vector<std::unique_ptr<net::io_context>> lanes;
  net::io_context& io;  // lane 0, which also runs the acceptor, the signals and the shutdown
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_lanes;  // until shutdown
  std::size_t next_lane = 0;                           // on `strand`
  net::strand<net::io_context::executor_type> strand;  // the acceptor, the signals and shutdown
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::signal_set reload_signals;  // SIGHUP: load the certificate and key files again
  // The context new connections handshake with (on `strand`); each connection keeps its own, so
  // a reload changes nothing for connections already open. Null: plain HTTP.
  std::shared_ptr<net::ssl::context> tls_context;
  // Reads the files of a reload, off the I/O threads; destroyed (joined) before the lanes.
  net::thread_pool reloader{1};
  std::uint16_t bound_port = 0;
  bool stop_started = false;  // on `strand`
  // Last: destroyed first, while the lanes still exist (their sockets and timers belong to them),
  // and after run() returned, so no I/O thread runs their handlers meanwhile.
  std::vector<std::unique_ptr<redis_async>> redis_links;
};

void http_server::impl::start() {
  // A lane without connections yet must not run out of work and return.
  for (auto& lane : lanes) keep_lanes.push_back(net::make_work_guard(*lane));
  net::co_spawn(strand, accept_loop(), ignore_escaped);
  signals.add(SIGTERM);
  signals.add(SIGINT);
  signals.async_wait(net::bind_executor(strand, [this](const error_code& ec, int) {
    if (!ec) request_stop();
  }));
  // Registered in plain mode too: SIGHUP's default action would end the process.
  reload_signals.add(SIGHUP);
  await_reload();
}

void http_server::impl::await_reload() {
  reload_signals.async_wait(net::bind_executor(strand, [this](const error_code& ec, int) {
    if (ec) return;
    reload();
    await_reload();
  }));
}

// On `strand`. A reload that fails (a file half written, a key that does not match) keeps the
// previous certificate and says why: a signal must never take the gateway down.
void http_server::impl::reload() {
  const auto* log = state.deps.log;
  if (!state.deps.tls) {
    if (log != nullptr) log->info("SIGHUP: plain HTTP, no certificate to reload");
    return;
  }
  net::post(reloader, [this, log, config = *state.deps.tls] {
    try {
      auto fresh = load_tls_context(config);
      net::post(strand, [this, log, fresh = std::move(fresh)]() mutable {
        tls_context = std::move(fresh);
        if (log != nullptr) {
          log->info("SIGHUP: certificate reloaded for new connections",
                    {{"certificate", describe_certificate(tls_context->native_handle())}});
        }
      });
    } catch (const std::exception& e) {
      if (log != nullptr) {
        log->error("SIGHUP: certificate not reloaded, still serving the previous one", {{"error", e.what()}});
      }
    }
  });
}

// On `strand`: starts the shutdown once, however many times it is asked for.
void http_server::impl::request_stop() {
  if (stop_started) return;
  stop_started = true;
  net::co_spawn(strand, shutdown(), ignore_escaped);
}

net::awaitable<void> http_server::impl::accept_loop() {
  for (;;) {
    // Round robin over the lanes: each connection lives on one I/O thread from now on.
    const auto lane = next_lane++ % lanes.size();
    // No strand: one thread runs the lane, so the connection's coroutines never run concurrently.
    auto [ec, socket] = co_await acceptor.async_accept(*lanes[lane], use_op);
    if (!acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors, most likely: accepting again at once would spin.
      net::steady_timer pause(strand, 50ms);
      co_await pause.async_wait(use_op);
      continue;
    }
    if (auto c = state.admit(tcp::socket(std::move(socket)), lane, tls_context)) c->start();
  }
}

// Stop accepting; let connections finish what they were asked (idle ones close at once); at the
// deadline close the rest; then stop the lanes so that run() returns.
net::awaitable<void> http_server::impl::shutdown() {
  error_code ec;
  signals.cancel(ec);
  reload_signals.cancel(ec);
  co_await drain();
  acceptor.close(ec);
  for (auto& c : state.begin_shutdown()) c->begin_shutdown();
  co_await wait_for_connections(clock::now() + state.limits.shutdown_deadline);
  for (auto& c : state.live()) c->force_close();
  co_await wait_for_connections(clock::now() + 100ms);
  keep_lanes.clear();
  for (auto& lane : lanes) lane->stop();
}

// Draining: /readyz answers 503 and every response closes its connection at once; new connections
// are still accepted for the drain delay, so that a load balancer that has not yet seen the 503
// loses no request to a closed listener.
net::awaitable<void> http_server::impl::drain() {
  state.draining = true;
  if (state.deps.drain != nullptr) state.deps.drain->begin();
  const auto delay = state.limits.drain_delay;
  if (state.deps.log != nullptr) {
    state.deps.log->info("draining", {{"drain_delay_ms", std::to_string(delay.count())},
                                      {"open_connections", std::to_string(state.open_count())}});
  }
  if (delay <= 0ms) co_return;
  net::steady_timer pause(strand, delay);
  co_await pause.async_wait(use_op);
}

net::awaitable<void> http_server::impl::wait_for_connections(clock::time_point deadline) {
  net::steady_timer tick(strand);
  while (state.open_count() > 0 && clock::now() < deadline) {
    tick.expires_after(std::min<clock::duration>(deadline - clock::now(), 5ms));
    co_await tick.async_wait(use_op);
  }
}

http_server::http_server(const std::string& host, std::uint16_t port, int threads, server_limits limits,
                         server_dependencies deps)
    : impl_(std::make_unique<impl>(host, port, threads, limits, deps)) {}

http_server::~http_server() = default;

std::uint16_t http_server::port() const { return impl_->bound_port; }

void http_server::run() {
  impl_->start();
  std::vector<std::jthread> helpers;
  for (std::size_t i = 1; i < impl_->lanes.size(); ++i) helpers.emplace_back([this, i] { impl_->lanes[i]->run(); });
  impl_->io.run();
}

void http_server::stop() {
  net::post(impl_->strand, [this] { impl_->request_stop(); });
}

}  // namespace cqrs::gateway

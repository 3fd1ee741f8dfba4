// cqrs-visibility-bench: the parts of `tools/bench gateway` (tools/benchmarks/gateway.sh) that wrk
// cannot do. It talks to a running gateway over HTTP/1.1 keep-alive, HTTPS when the URL says so
// (Boost.Beast, C++20 coroutines, one I/O thread), and reads the Redis read model directly.
//
//   token       print an admin token signed with CQRS_JWT_SECRET (gateway/jwt.hpp's signer)
//   seed        create N products through POST /v1/products over C connections (the real write
//               path: pipeline, event store, relay, projector), write their ids one a line, and
//               wait until every one is in the Redis read model
//   visibility  POST /v1/products/{id}/restock at a fixed rate (open loop: command i is due at
//               start + i / rate whatever the answers) over C connections, each to a random seeded
//               product; for each 2xx, the acknowledged version and time go to a poller thread
//               that every ~0.5 ms reads, in one pipelined round trip, the `version` field of the
//               pending products' hashes in the live product_detail model that are due, and
//               records when it reaches the acknowledged version. Latency = first read that saw it
//               - ack. A product is due when its acknowledgement arrives, when Redis notifies a
//               write to its hash (keyspace notifications, switched on for the run and restored
//               after), and, should a notification be lost, after a twentieth of its age (at
//               least 20 ms): about two reads per command where reading the due products every
//               cycle took ten, and no polling granularity grows with a command's age.
//   ryw         the same open loop of restocks, each followed on its connection, as soon as it is
//               acknowledged, by GET /v1/products/{id}?min_position=<the command's position>:
//               the read-your-writes latency is that GET's round trip, and its answer must be 200
//               with the acknowledged version or later (anything else is counted and reported).
//
// Figures go to stdout as `RESULT <key> <value>` lines, progress and errors to stderr.
// Beast and Asio are included in this translation unit only (they are slow to compile).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "gateway/jwt.hpp"
#include "projections/product/product_projections.hpp"
#include "projections/redis_client.hpp"
#include "projections/redis_target.hpp"
#include "tools/benchmarks/gateway_client.hpp"
#include "tools/benchmarks/latency_summary.hpp"
#include "tools/benchmarks/mode_main.hpp"
#include "tools/benchmarks/result_lines.hpp"

namespace cqrs::tools::benchmarks {

namespace {

namespace po = boost::program_options;
using bench_clock = std::chrono::steady_clock;
using std::chrono::microseconds;

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

std::uint32_t micros_between(bench_clock::time_point from, bench_clock::time_point to) {
  const auto us = std::chrono::duration_cast<microseconds>(to - from).count();
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, UINT32_MAX));
}

void print_latencies(const std::string& prefix, std::vector<std::uint32_t>& micros) {
  const auto s = summarize_latencies(micros);
  print_result(prefix + "_mean_ms", s.mean_ms);
  print_result(prefix + "_p50_ms", s.p50_ms);
  print_result(prefix + "_p90_ms", s.p90_ms);
  print_result(prefix + "_p99_ms", s.p99_ms);
  print_result(prefix + "_max_ms", s.max_ms);
}

// --- the gateway over HTTP (tools/benchmarks/gateway_client.hpp) ---------------------------------

gateway_address parse_http_url(const po::variables_map& values) {
  return benchmarks::parse_http_url(values["url"].as<std::string>(), values["ca-file"].as<std::string>());
}

// The command's answer {id, version, position}: the version, a number (or a numeric string).
std::int64_t acknowledged_version(const response& answer) {
  const auto& version = boost::json::parse(answer.body()).as_object().at("version");
  if (version.is_string()) return std::stoll(std::string(version.as_string()));
  return version.to_number<std::int64_t>();
}

std::string answered_position(const response& answer) {
  return std::string(boost::json::parse(answer.body()).as_object().at("position").as_string());
}

std::vector<std::string> read_ids(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file);
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ids.push_back(line);
  if (ids.empty()) throw std::runtime_error(file + " holds no product ids");
  return ids;
}

// --- the Redis read model -----------------------------------------------------------------------

// The key prefix of product hashes in the live product_detail model. read_product_detail()
// resolves the live-model pointer in a Lua script on every read; the poller resolves it once
// (nothing rebuilds during the benchmark; checked again at the end) and then pipelines plain HGETs.
std::string live_product_prefix(projections::redis_client& redis) {
  const projections::product_detail_projection detail;
  const auto pointer = redis.checked({"GET", projections::redis_live_pointer_key(detail.info().name)});
  const auto model = pointer.type == projections::redis_reply::kind::text ? pointer.text : detail.info().initial_model();
  return model + ":product:";
}

// The `version` field of each product's hash, in one pipelined round trip; 0 when absent.
std::vector<std::int64_t> read_versions(projections::redis_client& redis, const std::string& prefix,
                                        const std::vector<const std::string*>& ids) {
  for (const auto* id : ids) redis.append({"HGET", prefix + *id, "version"});
  std::vector<std::int64_t> versions;
  versions.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto reply = redis.read_reply();
    if (reply.is_error()) throw std::runtime_error("HGET failed: " + reply.text);
    versions.push_back(reply.type == projections::redis_reply::kind::text ? std::stoll(reply.text) : 0);
  }
  return versions;
}

// read_product_detail (the gateway's own reader) must agree with the poller's view.
void check_reader_agrees(projections::redis_client& redis, const std::string& prefix, const std::string& id) {
  const auto fields = projections::read_product_detail(redis, id);
  const auto versions = read_versions(redis, prefix, {&id});
  if (!fields || !fields->contains("version") || std::stoll(fields->at("version")) != versions.front())
    throw std::runtime_error("read_product_detail disagrees with " + prefix + id);
}

// --- token --------------------------------------------------------------------------------------

int run_token(const po::variables_map& values) {
  gateway::auth_config auth;
  auth.jwt_secret = env_or("CQRS_JWT_SECRET", "");
  if (auth.jwt_secret.empty()) throw std::invalid_argument("CQRS_JWT_SECRET is required");
  auth.issuer = env_or("CQRS_JWT_ISSUER", auth.issuer);
  auth.audience = env_or("CQRS_JWT_AUDIENCE", auth.audience);
  const gateway::jwt_verifier signer(auth);
  std::cout << signer.sign({.subject = values["subject"].as<std::string>(),
                            .roles = {"admin"},
                            .ttl = std::chrono::seconds(values["ttl"].as<int>())})
            << "\n";
  return 0;
}

// --- seed ---------------------------------------------------------------------------------------

struct seed_state {
  int total = 0;
  int next = 0;
  std::vector<std::string> ids;
};

std::string product_body(int i) {
  return fmt::format(
      R"({{"sku":"BENCH-{:06d}","name":"Bench product {}","description":"A product the gateway benchmark seeded.",)"
      R"("price":{{"amount":{},"currency":"EUR"}},"stock":1000}})",
      i, i, 1000 + i % 9000);
}

void wait_until_all_visible(projections::redis_client& redis, const std::vector<std::string>& ids,
                            std::chrono::seconds limit) {
  const auto deadline = bench_clock::now() + limit;
  std::vector<const std::string*> missing;
  for (const auto& id : ids) missing.push_back(&id);
  while (!missing.empty()) {
    const auto prefix = live_product_prefix(redis);
    const auto versions = read_versions(redis, prefix, missing);
    std::vector<const std::string*> still;
    for (std::size_t i = 0; i < missing.size(); ++i)
      if (versions[i] < 1) still.push_back(missing[i]);
    missing.swap(still);
    if (missing.empty()) break;
    if (bench_clock::now() > deadline)
      throw std::runtime_error(fmt::format("{} seeded products never reached the read model", missing.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int run_seed(const po::variables_map& values) {
  const auto address = parse_http_url(values);
  const auto token = values["token"].as<std::string>();
  seed_state state{.total = values["products"].as<int>(), .next = 0, .ids = {}};
  state.ids.resize(static_cast<std::size_t>(state.total));
  const auto started = bench_clock::now();
  run_connections(address, values["connections"].as<int>(),
                  [&](http_connection& connection) -> asio::awaitable<void> {
                    while (state.next < state.total) {
                      const int i = state.next++;
                      auto request = json_post(address, "/v1/products", token, product_body(i));
                      const auto answer = co_await connection.exchange(request);
                      if (answer.result_int() != 201)
                        throw std::runtime_error(fmt::format("create answered {}: {}", answer.result_int(), answer.body()));
                      state.ids[static_cast<std::size_t>(i)] = created_id(answer);
                    }
                  });
  const auto created = bench_clock::now();
  projections::redis_client redis(values["redis-url"].as<std::string>());
  wait_until_all_visible(redis, state.ids, std::chrono::seconds(120));
  const auto visible = bench_clock::now();
  check_reader_agrees(redis, live_product_prefix(redis), state.ids.front());
  std::ofstream out(values["ids-out"].as<std::string>());
  for (const auto& id : state.ids) out << id << "\n";
  if (!out.flush()) throw std::runtime_error("cannot write the ids file");
  const auto seconds = std::chrono::duration<double>(created - started).count();
  print_result("seeded", static_cast<std::uint64_t>(state.total));
  print_result("seed_creates_per_s", state.total / seconds);
  print_result("seed_all_visible_s", std::chrono::duration<double>(visible - started).count());
  return 0;
}

// --- visibility ---------------------------------------------------------------------------------

struct acknowledged {
  std::string id;
  std::int64_t version = 0;
  bench_clock::time_point at;
  bench_clock::time_point next_poll{};  // the poller's: when to read this product again
};

// Acknowledged commands, handed from the I/O thread to the poller.
class ack_inbox {
 public:
  void push(acknowledged a) {
    const std::lock_guard lock(mutex_);
    items_.push_back(std::move(a));
  }
  void take_into(std::vector<acknowledged>& out) {
    const std::lock_guard lock(mutex_);
    std::move(items_.begin(), items_.end(), std::back_inserter(out));
    items_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<acknowledged> items_;
};

struct poll_outcome {
  std::vector<std::uint32_t> visible_us;  // ack -> first poll that saw the version
  std::uint64_t missing = 0;              // never visible within the grace period
  std::uint64_t cycles = 0;
  std::uint64_t reads = 0;
  double cycle_mean_us = 0;  // wall time between cycle starts
  std::uint64_t notifications = 0;  // writes Redis notified
};

struct poller_settings {
  std::string redis_url;
  microseconds period{500};
  std::chrono::seconds grace{60};  // after the last ack, how long a version may take to appear
  std::size_t max_reads = 256;     // per cycle
  microseconds fallback{20'000};   // the shortest wait for a product no notification named
};

// Without a notification a pending command is read again after a twentieth of its age (at least
// `fallback`): a lost notification then costs at most ~5 % of the latency, and a backlog never
// makes the probe read thousands of keys a millisecond.
bench_clock::time_point next_poll_of(const acknowledged& a, bench_clock::time_point now, microseconds fallback) {
  return now + std::max<bench_clock::duration>(fallback, (now - a.at) / 20);
}

// Redis keyspace notifications of writes to the product hashes, collected by a thread of its own
// (a subscribed connection can do nothing else) as the ids they name. Switches notifications on
// for hash commands and restores the server's setting when destroyed.
class write_notifications {
 public:
  write_notifications(const std::string& redis_url, const std::string& prefix)
      : control_(redis_url), subscriber_(redis_url), prefix_(prefix),
        database_(projections::parse_redis_url(redis_url).database) {
    subscriber_.append({"PSUBSCRIBE", channel_of(prefix_) + "*"});
    subscriber_.append({"SUBSCRIBE", stop_channel()});
    for (int confirmations = 0; confirmations < 2; ++confirmations) {
      if (subscriber_.read_reply().is_error()) throw std::runtime_error("cannot subscribe to keyspace notifications");
    }
    // Last and in this order: a failure before here leaves the server's setting untouched and no
    // thread running (the destructor, which restores and joins, does not run for a throwing one).
    const auto before = control_.checked({"CONFIG", "GET", "notify-keyspace-events"});
    if (before.elements.size() == 2) saved_ = before.elements[1].text;
    control_.checked({"CONFIG", "SET", "notify-keyspace-events", "Kh"});
    thread_ = std::thread([this] { listen(); });
  }
  write_notifications(const write_notifications&) = delete;
  write_notifications& operator=(const write_notifications&) = delete;
  ~write_notifications() {
    try {
      control_.command({"PUBLISH", stop_channel(), "stop"});
      control_.command({"CONFIG", "SET", "notify-keyspace-events", saved_});
    } catch (const std::exception& e) {
      std::cerr << "cqrs-visibility-bench: restoring notify-keyspace-events: " << e.what() << "\n";
    }
    if (thread_.joinable()) thread_.join();
  }

  // The ids written since the last call.
  std::vector<std::string> take() {
    const std::lock_guard lock(mutex_);
    return std::exchange(ids_, {});
  }
  std::uint64_t received() const { return received_.load(); }

 private:
  std::string channel_of(const std::string& key_prefix) const {
    return fmt::format("__keyspace@{}__:{}", database_, key_prefix);
  }
  std::string stop_channel() const { return "cqrs-visibility-bench-stop"; }

  void listen() {
    const auto channel_prefix = channel_of(prefix_);
    try {
      for (;;) {
        const auto reply = subscriber_.read_reply();
        if (reply.elements.size() == 3 && reply.elements[0].text == "message") return;  // the stop
        if (reply.elements.size() != 4 || reply.elements[0].text != "pmessage") continue;
        const auto& channel = reply.elements[2].text;
        if (!channel.starts_with(channel_prefix)) continue;
        ++received_;
        const std::lock_guard lock(mutex_);
        ids_.push_back(channel.substr(channel_prefix.size()));
      }
    } catch (const std::exception& e) {
      std::cerr << "cqrs-visibility-bench: keyspace notifications stopped: " << e.what() << "\n";
    }
  }

  projections::redis_client control_;
  projections::redis_client subscriber_;
  std::string prefix_;
  int database_;
  std::string saved_;
  std::mutex mutex_;
  std::vector<std::string> ids_;
  std::atomic<std::uint64_t> received_{0};
  std::thread thread_;
};

// Polls until the sender is done and everything is visible (or the grace period ran out).
poll_outcome poll_visibility(const poller_settings& settings, ack_inbox& inbox, const std::atomic<bool>& sender_done) {
  projections::redis_client redis(settings.redis_url);
  const auto prefix = live_product_prefix(redis);
  write_notifications written(settings.redis_url, prefix);
  poll_outcome outcome;
  std::vector<acknowledged> pending;
  std::optional<bench_clock::time_point> give_up;
  const auto first = bench_clock::now();
  auto last_cycle = first;
  for (auto cycle = first;; cycle = std::max(cycle + settings.period, bench_clock::now())) {
    std::this_thread::sleep_until(cycle);
    last_cycle = cycle;
    const bool done = sender_done.load();
    inbox.take_into(pending);  // new ones are due at once (next_poll is the epoch)
    ++outcome.cycles;
    const auto now = bench_clock::now();
    const auto notified = written.take();
    if (!notified.empty()) {
      const std::unordered_set<std::string_view> named(notified.begin(), notified.end());
      for (auto& a : pending) {
        if (named.contains(a.id)) a.next_poll = {};
      }
    }
    // Due ones only, at most max_reads a cycle (oldest first: pending is in acknowledgement order).
    std::vector<std::size_t> due;
    for (std::size_t i = 0; i < pending.size() && due.size() < settings.max_reads; ++i) {
      if (pending[i].next_poll <= now) due.push_back(i);
    }
    if (!due.empty()) {
      std::vector<const std::string*> ids;
      for (const auto i : due) ids.push_back(&pending[i].id);
      const auto versions = read_versions(redis, prefix, ids);
      const auto seen = bench_clock::now();
      outcome.reads += ids.size();
      std::vector<bool> done_now(pending.size(), false);
      for (std::size_t k = 0; k < due.size(); ++k) {
        auto& a = pending[due[k]];
        if (versions[k] < a.version) {
          a.next_poll = next_poll_of(a, seen, settings.fallback);
          continue;
        }
        outcome.visible_us.push_back(micros_between(a.at, seen));
        done_now[due[k]] = true;
      }
      std::vector<acknowledged> still;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (!done_now[i]) still.push_back(std::move(pending[i]));
      }
      pending.swap(still);
    }
    if (!done) continue;
    if (!give_up) give_up = bench_clock::now() + settings.grace;
    if (pending.empty() || bench_clock::now() > *give_up) break;
  }
  outcome.missing = pending.size();
  outcome.notifications = written.received();
  outcome.cycle_mean_us =
      std::chrono::duration<double, std::micro>(last_cycle - first).count() / static_cast<double>(std::max<std::uint64_t>(outcome.cycles, 1));
  if (live_product_prefix(redis) != prefix) throw std::runtime_error("the live product_detail model switched during the run");
  return outcome;
}

struct sender_settings {
  gateway_address address;
  std::string token;
  std::vector<std::string> ids;
  double rate = 2000;
  std::chrono::seconds duration{15};
  int connections = 16;
};

struct send_outcome {
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;
  std::uint64_t non_2xx = 0;
  std::uint64_t late = 0;  // started more than 1 ms after its due time (all connections busy)
  std::vector<std::uint32_t> ack_us;
  double seconds = 0;  // from the first due time to the last answer
  std::string first_refusal;
};

// Open loop: command i is due at start + i / rate over a random product; a free connection takes
// the next due command and runs `command(connection, id, due)`. Returns the seconds from the first
// due time to the last answer.
template <typename Command>
double open_loop(const sender_settings& settings, Command command) {
  const auto total = static_cast<std::uint64_t>(settings.rate * static_cast<double>(settings.duration.count()));
  const auto period = std::chrono::duration<double>(1.0 / settings.rate);
  std::uint64_t next = 0;
  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::size_t> pick(0, settings.ids.size() - 1);
  const auto start = bench_clock::now() + std::chrono::milliseconds(200);  // after the connects
  run_connections(settings.address, settings.connections, [&](http_connection& connection) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (next < total) {
      const auto due = start + std::chrono::duration_cast<bench_clock::duration>(period * static_cast<double>(next++));
      timer.expires_at(due);
      co_await timer.async_wait(asio::use_awaitable);
      co_await command(connection, settings.ids[pick(random)], due);
    }
  });
  return std::chrono::duration<double>(bench_clock::now() - start).count();
}

send_outcome send_restocks(const sender_settings& settings, ack_inbox& inbox) {
  send_outcome outcome;
  outcome.seconds = open_loop(settings, [&](http_connection& connection, const std::string& id,
                                            bench_clock::time_point due) -> asio::awaitable<void> {
    const auto sent = bench_clock::now();
    if (sent - due > std::chrono::milliseconds(1)) ++outcome.late;
    auto request = json_post(settings.address, "/v1/products/" + id + "/restock", settings.token, R"({"quantity":1})");
    ++outcome.sent;
    const auto answer = co_await connection.exchange(request);
    const auto at = bench_clock::now();
    if (!is_2xx(answer)) {
      if (outcome.non_2xx++ == 0) outcome.first_refusal = fmt::format("{} {}", answer.result_int(), answer.body());
      co_return;
    }
    ++outcome.acked;
    outcome.ack_us.push_back(micros_between(sent, at));
    inbox.push({id, acknowledged_version(answer), at});
  });
  return outcome;
}

void print_visibility(send_outcome& sent, poll_outcome& polled) {
  print_result("commands_sent", sent.sent);
  print_result("commands_acked", sent.acked);
  print_result("commands_non_2xx", sent.non_2xx);
  print_result("commands_late", sent.late);
  print_result("commands_per_s", static_cast<double>(sent.acked) / sent.seconds);
  print_latencies("ack", sent.ack_us);
  print_result("visible", static_cast<std::uint64_t>(polled.visible_us.size()));
  print_result("visible_missing", polled.missing);
  print_latencies("visible", polled.visible_us);
  print_result("poll_cycles", polled.cycles);
  print_result("poll_cycle_mean_us", polled.cycle_mean_us);
  print_result("poll_reads_per_cycle", static_cast<double>(polled.reads) / static_cast<double>(std::max<std::uint64_t>(polled.cycles, 1)));
  print_result("poll_reads", polled.reads);
  print_result("write_notifications", polled.notifications);
  if (sent.non_2xx > 0) std::cerr << "first refused command: " << sent.first_refusal << "\n";
}

int run_visibility(const po::variables_map& values) {
  const sender_settings sender{
      .address = parse_http_url(values),
      .token = values["token"].as<std::string>(),
      .ids = read_ids(values["ids"].as<std::string>()),
      .rate = values["rate"].as<double>(),
      .duration = std::chrono::seconds(values["seconds"].as<int>()),
      .connections = values["connections"].as<int>(),
  };
  const poller_settings poller{.redis_url = values["redis-url"].as<std::string>(),
                               .period = microseconds(values["poll-us"].as<int>()),
                               .grace = std::chrono::seconds(values["grace-seconds"].as<int>())};
  {
    projections::redis_client redis(poller.redis_url);
    check_reader_agrees(redis, live_product_prefix(redis), sender.ids.front());
  }
  ack_inbox inbox;
  std::atomic<bool> sender_done{false};
  poll_outcome polled;
  std::exception_ptr poll_failure;
  std::thread poll_thread([&] {
    try {
      polled = poll_visibility(poller, inbox, sender_done);
    } catch (...) {
      poll_failure = std::current_exception();
    }
  });
  send_outcome sent;
  try {
    sent = send_restocks(sender, inbox);
  } catch (...) {
    sender_done = true;
    poll_thread.join();
    throw;
  }
  sender_done = true;
  poll_thread.join();
  if (poll_failure) std::rethrow_exception(poll_failure);
  print_visibility(sent, polled);
  print_result("grace_s", static_cast<std::uint64_t>(poller.grace.count()));
  return 0;
}

// --- read your writes ---------------------------------------------------------------------------

struct ryw_outcome {
  send_outcome commands;
  std::vector<std::uint32_t> read_us;  // the min_position GET's round trip
  std::uint64_t reads_non_200 = 0;
  std::uint64_t reads_stale = 0;  // 200 with a version below the acknowledged one
  std::string first_bad_read;
};

// One due restock and its read-back on `connection`; failures are counted, not thrown.
asio::awaitable<void> restock_and_read(http_connection& connection, const sender_settings& settings,
                                       const std::string& id, bench_clock::time_point due, ryw_outcome& out) {
  const auto sent = bench_clock::now();
  if (sent - due > std::chrono::milliseconds(1)) ++out.commands.late;
  auto command = json_post(settings.address, "/v1/products/" + id + "/restock", settings.token, R"({"quantity":1})");
  ++out.commands.sent;
  const auto answer = co_await connection.exchange(command);
  const auto acked = bench_clock::now();
  if (!is_2xx(answer)) {
    if (out.commands.non_2xx++ == 0) out.commands.first_refusal = fmt::format("{} {}", answer.result_int(), answer.body());
    co_return;
  }
  ++out.commands.acked;
  out.commands.ack_us.push_back(micros_between(sent, acked));
  const auto version = acknowledged_version(answer);
  auto read = plain_get(settings.address, "/v1/products/" + id + "?min_position=" + answered_position(answer));
  const auto read_sent = bench_clock::now();
  const auto seen = co_await connection.exchange(read);
  out.read_us.push_back(micros_between(read_sent, bench_clock::now()));
  const bool ok = seen.result_int() == 200;
  if (ok && boost::json::parse(seen.body()).as_object().at("version").to_number<std::int64_t>() >= version) co_return;
  ++(ok ? out.reads_stale : out.reads_non_200);
  if (out.first_bad_read.empty()) out.first_bad_read = fmt::format("{} {}", seen.result_int(), seen.body());
}

// Open loop as send_restocks; a connection reads each command back before it takes another.
ryw_outcome send_and_read(const sender_settings& settings) {
  ryw_outcome out;
  out.commands.seconds = open_loop(settings, [&](http_connection& connection, const std::string& id,
                                                 bench_clock::time_point due) -> asio::awaitable<void> {
    co_await restock_and_read(connection, settings, id, due, out);
  });
  return out;
}

int run_ryw(const po::variables_map& values) {
  const sender_settings sender{
      .address = parse_http_url(values),
      .token = values["token"].as<std::string>(),
      .ids = read_ids(values["ids"].as<std::string>()),
      .rate = values["rate"].as<double>(),
      .duration = std::chrono::seconds(values["seconds"].as<int>()),
      .connections = values["connections"].as<int>(),
  };
  auto out = send_and_read(sender);
  print_result("commands_sent", out.commands.sent);
  print_result("commands_acked", out.commands.acked);
  print_result("commands_non_2xx", out.commands.non_2xx);
  print_result("commands_late", out.commands.late);
  print_result("commands_per_s", static_cast<double>(out.commands.acked) / out.commands.seconds);
  print_latencies("ack", out.commands.ack_us);
  print_result("ryw_reads", static_cast<std::uint64_t>(out.read_us.size()));
  print_result("ryw_non_200", out.reads_non_200);
  print_result("ryw_stale", out.reads_stale);
  print_latencies("ryw", out.read_us);
  if (out.commands.non_2xx > 0) std::cerr << "first refused command: " << out.commands.first_refusal << "\n";
  if (!out.first_bad_read.empty()) std::cerr << "first bad read: " << out.first_bad_read << "\n";
  return 0;
}

// --- command line -------------------------------------------------------------------------------

po::options_description all_flags() {
  po::options_description flags(
      "Usage: cqrs-visibility-bench token|seed|visibility|ryw [--flag value ...]\n"
      "  token       print an admin token signed with CQRS_JWT_SECRET (CQRS_JWT_ISSUER, CQRS_JWT_AUDIENCE)\n"
      "  seed        create --products products through the gateway, write their ids to --ids-out,\n"
      "              wait until all are in the Redis read model\n"
      "  visibility  restocks at --rate per second for --seconds; ack -> visible in Redis latencies\n"
      "  ryw         restocks at --rate per second for --seconds, each read back at once with its\n"
      "              min_position; that read's latencies\n"
      "Flags");
  flags.add_options()
      ("help,h", "this help")
      ("url", po::value<std::string>()->default_value(env_or("CQRS_HTTP_URL", "https://127.0.0.1:8080")), "the gateway")
      ("ca-file", po::value<std::string>()->default_value(env_or("CQRS_TLS_CA_FILE", "")),
       "PEM CA the gateway's certificate is verified against (https)")
      ("redis-url", po::value<std::string>()->default_value(env_or("CQRS_REDIS_URL", "redis://127.0.0.1:6379/0")), "Redis")
      ("token", po::value<std::string>()->default_value(""), "bearer token with role admin")
      ("subject", po::value<std::string>()->default_value("bench"), "token: the subject")
      ("ttl", po::value<int>()->default_value(3600), "token: seconds of validity")
      ("products", po::value<int>()->default_value(10000), "seed: products to create")
      ("ids-out", po::value<std::string>(), "seed: where to write the ids, one a line")
      ("ids", po::value<std::string>(), "visibility, ryw: the seeded ids")
      ("connections", po::value<int>()->default_value(16), "concurrent keep-alive connections")
      ("rate", po::value<double>()->default_value(2000), "visibility: commands per second (open loop)")
      ("seconds", po::value<int>()->default_value(15), "visibility: how long commands are sent")
      ("poll-us", po::value<int>()->default_value(500), "visibility: poll period in microseconds")
      ("grace-seconds", po::value<int>()->default_value(60), "visibility: after the last command, how long to wait for the rest");
  return flags;
}

void require(const po::variables_map& values, std::initializer_list<const char*> names) {
  for (const auto* name : names)
    if (values.count(name) == 0 || (values[name].as<std::string>().empty()))
      throw std::invalid_argument(fmt::format("--{} is required", name));
}

int run(const std::string& mode, const po::variables_map& values) {
  if (values["connections"].as<int>() < 1 || values["connections"].as<int>() > 1000)
    throw std::invalid_argument("--connections must be 1 to 1000");
  if (mode == "token") return run_token(values);
  if (mode == "seed") {
    require(values, {"token", "ids-out"});
    if (values["products"].as<int>() < 1) throw std::invalid_argument("--products must be at least 1");
    return run_seed(values);
  }
  if (mode == "visibility") {
    require(values, {"token", "ids"});
    if (values["rate"].as<double>() <= 0 || values["seconds"].as<int>() < 1 || values["poll-us"].as<int>() < 50)
      throw std::invalid_argument("--rate, --seconds and --poll-us (>= 50) must be positive");
    return run_visibility(values);
  }
  if (mode == "ryw") {
    require(values, {"token", "ids"});
    if (values["rate"].as<double>() <= 0 || values["seconds"].as<int>() < 1)
      throw std::invalid_argument("--rate and --seconds must be positive");
    return run_ryw(values);
  }
  throw std::invalid_argument("unknown mode '" + mode + "' (token, seed, visibility, ryw)");
}

}  // namespace

}  // namespace cqrs::tools::benchmarks

int main(int argc, char** argv) {
  namespace bench = cqrs::tools::benchmarks;
  return bench::mode_main(argc, argv, "cqrs-visibility-bench", bench::all_flags(), bench::run);
}

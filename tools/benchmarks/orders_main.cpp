// cqrs-orders-bench: the load of `tools/bench orders` (tools/benchmarks/orders.sh). It places orders
// through a running gateway (POST /v1/orders as customers, over HTTPS keep-alive:
// tools/benchmarks/gateway_client.hpp) and follows each one, on the connection that placed it,
// with GET /v1/orders/{id} until the read model shows it `paid`. Two loads:
//
//   closed  --connections customers, each placing an order, waiting until it reads `paid`, then
//           placing the next, for --seconds (the first --warmup-seconds not counted): the rate
//           orders go from POST to paid with that many in flight
//   rate    orders due at start + i / --rate (open loop, whatever the answers) for --seconds, each
//           taken by a free connection, which then follows it to `paid`
//
// A connection reads its order again --poll-ms after the acknowledgement, then after a twentieth
// of the order's age (at least --poll-ms): the reads stay few while an order waits long, and the
// read-model figure (`seen`) is late by at most about 5 % or --poll-ms. The time an order became
// paid in the event store is not this program's to know: it writes, per order, its id and the
// Unix times (microseconds, the system clock, which PostgreSQL's now() also reads) when the POST
// was sent, answered and first read `paid` to --out, and orders.sh joins them with the events.
//
// Figures go to stdout as `RESULT <key> <value>` lines, progress and errors to stderr.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "gateway/jwt.hpp"
#include "tools/benchmarks/gateway_client.hpp"
#include "tools/benchmarks/latency_summary.hpp"
#include "tools/benchmarks/mode_main.hpp"
#include "tools/benchmarks/result_lines.hpp"

namespace cqrs::tools::benchmarks {

namespace {

namespace po = boost::program_options;
using bench_clock = std::chrono::steady_clock;
using wall_clock = std::chrono::system_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

std::int64_t unix_us(wall_clock::time_point t) {
  return std::chrono::duration_cast<microseconds>(t.time_since_epoch()).count();
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

std::vector<std::string> read_ids(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file);
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ids.push_back(line);
  if (ids.empty()) throw std::runtime_error(file + " holds no product ids");
  return ids;
}

// One token per connection: a customer of its own, signed with CQRS_JWT_SECRET.
std::vector<std::string> customer_tokens(int count) {
  gateway::auth_config auth;
  auth.jwt_secret = env_or("CQRS_JWT_SECRET", "");
  if (auth.jwt_secret.empty()) throw std::invalid_argument("CQRS_JWT_SECRET is required");
  auth.issuer = env_or("CQRS_JWT_ISSUER", auth.issuer);
  auth.audience = env_or("CQRS_JWT_AUDIENCE", auth.audience);
  const gateway::jwt_verifier signer(auth);
  const auto run = unix_us(wall_clock::now());
  std::vector<std::string> tokens;
  for (int i = 0; i < count; ++i) {
    tokens.push_back(signer.sign(
        {.subject = fmt::format("bench-customer-{}-{}", run, i), .roles = {"customer"}, .ttl = std::chrono::hours(2)}));
  }
  return tokens;
}

// One line of one unit, a valid address, a card the stand-in processor approves at once.
std::string order_body(const std::string& product_id) {
  const boost::json::object body{
      {"lines", boost::json::array{boost::json::object{{"product_id", product_id}, {"quantity", 1}}}},
      {"shipping_address",
       {{"line1", "1 Bench Street"}, {"city", "Springfield"}, {"postal_code", "12345"}, {"country", "US"}}},
      {"payment", {{"card_token", "tok_ok"}}}};
  return boost::json::serialize(body);
}

http::request<http::string_body> authorized_get(const gateway_address& address, const std::string& target,
                                                const std::string& token) {
  auto request = plain_get(address, target);
  request.set(http::field::authorization, "Bearer " + token);
  return request;
}

struct settings {
  gateway_address address;
  std::vector<std::string> products;
  bool closed = true;
  int connections = 32;
  double rate = 10;
  std::chrono::seconds duration{10};
  std::chrono::seconds warmup{3};
  milliseconds poll{5};
  std::chrono::seconds settle{60};  // the longest an order may take to read `paid`
};

// One order as the load saw it.
struct order_record {
  std::string id;
  wall_clock::time_point sent;
  wall_clock::time_point acked;
  std::optional<wall_clock::time_point> seen_paid;
  std::uint32_t ack_us = 0;
  std::uint32_t paid_us = 0;  // POST sent -> first read `paid` (steady clock)
};

struct outcome {
  std::vector<order_record> orders;
  std::uint64_t non_202 = 0;
  std::uint64_t failed = 0;     // read in a final status other than paid
  std::uint64_t unsettled = 0;  // not paid within --settle-seconds
  std::uint64_t late = 0;       // rate: sent more than 1 ms after its due time
  std::uint64_t reads = 0;
  std::string first_refusal;
  std::string first_failure;
  wall_clock::time_point window_start;
  wall_clock::time_point window_end;
};

bool final_but_not_paid(const std::string& status) {
  return status == "rejected" || status == "payment_failed" || status == "expired" || status == "cancelled";
}

// Reads the order until it is paid, final otherwise, or too old; fills `record` and the counts.
asio::awaitable<void> follow(http_connection& connection, const settings& s, const std::string& token,
                             order_record& record, bench_clock::time_point sent, outcome& out) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto target = "/v1/orders/" + record.id;
  auto wait = std::chrono::duration_cast<bench_clock::duration>(s.poll);
  for (;;) {
    timer.expires_after(wait);
    co_await timer.async_wait(asio::use_awaitable);
    auto request = authorized_get(s.address, target, token);
    const auto answer = co_await connection.exchange(request);
    const auto now = bench_clock::now();
    ++out.reads;
    if (answer.result_int() == 200) {
      const auto status = std::string(boost::json::parse(answer.body()).as_object().at("status").as_string());
      if (status == "paid") {
        record.seen_paid = wall_clock::now();
        record.paid_us = micros_between(sent, now);
        co_return;
      }
      if (final_but_not_paid(status)) {
        if (out.failed++ == 0) out.first_failure = record.id + " " + answer.body();
        co_return;
      }
    } else if (answer.result_int() != 404) {  // 404: not in the read model yet
      throw std::runtime_error(fmt::format("GET {} answered {}: {}", target, answer.result_int(), answer.body()));
    }
    if (now - sent > s.settle) {
      ++out.unsettled;
      co_return;
    }
    wait = std::max<bench_clock::duration>(s.poll, (now - sent) / 20);
  }
}

// Places one order of a random product and follows it to `paid`.
asio::awaitable<void> place_and_follow(http_connection& connection, const settings& s, const std::string& token,
                                       const std::string& product, outcome& out) {
  auto request = json_post(s.address, "/v1/orders", token, order_body(product));
  order_record record;
  record.sent = wall_clock::now();
  const auto sent = bench_clock::now();
  const auto answer = co_await connection.exchange(request);
  record.acked = wall_clock::now();
  record.ack_us = micros_between(sent, bench_clock::now());
  if (answer.result_int() != 202) {
    if (out.non_202++ == 0) out.first_refusal = fmt::format("{} {}", answer.result_int(), answer.body());
    co_return;
  }
  record.id = created_id(answer);
  co_await follow(connection, s, token, record, sent, out);
  out.orders.push_back(std::move(record));
}

outcome run_closed(const settings& s, const std::vector<std::string>& tokens) {
  outcome out;
  std::mt19937_64 random(7);
  std::uniform_int_distribution<std::size_t> pick(0, s.products.size() - 1);
  const auto start = wall_clock::now();
  out.window_start = start + s.warmup;
  out.window_end = start + s.warmup + s.duration;
  int next_token = 0;
  run_connections(s.address, s.connections, [&](http_connection& connection) -> asio::awaitable<void> {
    const auto& token = tokens[static_cast<std::size_t>(next_token++)];
    while (wall_clock::now() < out.window_end) co_await place_and_follow(connection, s, token, s.products[pick(random)], out);
  });
  return out;
}

outcome run_rate(const settings& s, const std::vector<std::string>& tokens) {
  outcome out;
  std::mt19937_64 random(7);
  std::uniform_int_distribution<std::size_t> pick(0, s.products.size() - 1);
  const auto total = static_cast<std::uint64_t>(s.rate * static_cast<double>((s.warmup + s.duration).count()));
  const auto period = std::chrono::duration<double>(1.0 / s.rate);
  const auto start = bench_clock::now() + milliseconds(200);  // after the connects
  out.window_start = wall_clock::now() + milliseconds(200) + s.warmup;
  out.window_end = out.window_start + s.duration;
  std::uint64_t next = 0;
  int next_token = 0;
  run_connections(s.address, s.connections, [&](http_connection& connection) -> asio::awaitable<void> {
    const auto& token = tokens[static_cast<std::size_t>(next_token++)];
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (next < total) {
      const auto due = start + std::chrono::duration_cast<bench_clock::duration>(period * static_cast<double>(next++));
      timer.expires_at(due);
      co_await timer.async_wait(asio::use_awaitable);
      if (bench_clock::now() - due > milliseconds(1)) ++out.late;
      co_await place_and_follow(connection, s, token, s.products[pick(random)], out);
    }
  });
  return out;
}

void write_orders(const std::string& file, const outcome& out) {
  std::ofstream o(file);
  for (const auto& r : out.orders) {
    o << r.id << '\t' << unix_us(r.sent) << '\t' << unix_us(r.acked) << '\t'
      << (r.seen_paid ? std::to_string(unix_us(*r.seen_paid)) : std::string("\\N")) << '\n';
  }
  if (!o.flush()) throw std::runtime_error("cannot write " + file);
}

void print_outcome(outcome& out) {
  std::uint64_t paid_in_window = 0;
  std::vector<std::uint32_t> ack_us;
  std::vector<std::uint32_t> paid_us;
  for (const auto& r : out.orders) {
    if (r.sent >= out.window_start) ack_us.push_back(r.ack_us);
    if (!r.seen_paid) continue;
    if (r.sent >= out.window_start) paid_us.push_back(r.paid_us);
    if (*r.seen_paid >= out.window_start && *r.seen_paid < out.window_end) ++paid_in_window;
  }
  const auto window_s = std::chrono::duration<double>(out.window_end - out.window_start).count();
  print_result("orders_placed", static_cast<std::uint64_t>(out.orders.size()));
  print_result("orders_non_202", out.non_202);
  print_result("orders_failed", out.failed);
  print_result("orders_unsettled", out.unsettled);
  print_result("orders_late", out.late);
  print_result("reads", out.reads);
  print_result("window_start_us", static_cast<std::uint64_t>(unix_us(out.window_start)));
  print_result("window_end_us", static_cast<std::uint64_t>(unix_us(out.window_end)));
  print_result("seen_paid_per_s", static_cast<double>(paid_in_window) / window_s);
  print_latencies("ack", ack_us);
  print_latencies("seen", paid_us);
  if (!out.first_refusal.empty()) std::cerr << "first refused order: " << out.first_refusal << "\n";
  if (!out.first_failure.empty()) std::cerr << "first failed order: " << out.first_failure << "\n";
}

po::options_description all_flags() {
  po::options_description flags(
      "Usage: cqrs-orders-bench closed|rate [--flag value ...]\n"
      "  closed  --connections customers, each placing an order and following it to `paid` before the next\n"
      "  rate    orders at --rate per second (open loop), each followed to `paid` by the connection that placed it\n"
      "Flags");
  flags.add_options()
      ("help,h", "this help")
      ("url", po::value<std::string>()->default_value(env_or("CQRS_HTTP_URL", "https://127.0.0.1:8080")), "the gateway")
      ("ca-file", po::value<std::string>()->default_value(env_or("CQRS_TLS_CA_FILE", "")),
       "PEM CA the gateway's certificate is verified against (https)")
      ("products", po::value<std::string>()->default_value(""), "file of product ids, one a line (stock to sell)")
      ("out", po::value<std::string>()->default_value(""), "where to write each order's id and times")
      ("connections", po::value<int>()->default_value(32), "keep-alive connections (customers)")
      ("rate", po::value<double>()->default_value(10), "rate: orders per second")
      ("seconds", po::value<int>()->default_value(10), "how long orders are counted")
      ("warmup-seconds", po::value<int>()->default_value(3), "orders placed before the counted seconds")
      ("poll-ms", po::value<int>()->default_value(5), "the shortest wait between two reads of an order")
      ("settle-seconds", po::value<int>()->default_value(60), "how long an order may take to read `paid`");
  return flags;
}

int run(const std::string& mode, const po::variables_map& values) {
  if (mode != "closed" && mode != "rate") throw std::invalid_argument("unknown mode '" + mode + "' (closed, rate)");
  const auto connections = values["connections"].as<int>();
  if (connections < 1 || connections > 1000) throw std::invalid_argument("--connections must be 1 to 1000");
  if (values["rate"].as<double>() <= 0 || values["seconds"].as<int>() < 1 || values["warmup-seconds"].as<int>() < 0 ||
      values["poll-ms"].as<int>() < 1 || values["settle-seconds"].as<int>() < 1)
    throw std::invalid_argument("--rate, --seconds, --poll-ms and --settle-seconds must be positive");
  if (values["products"].as<std::string>().empty() || values["out"].as<std::string>().empty())
    throw std::invalid_argument("--products and --out are required");
  const settings s{.address = parse_http_url(values["url"].as<std::string>(), values["ca-file"].as<std::string>()),
                   .products = read_ids(values["products"].as<std::string>()),
                   .closed = mode == "closed",
                   .connections = connections,
                   .rate = values["rate"].as<double>(),
                   .duration = std::chrono::seconds(values["seconds"].as<int>()),
                   .warmup = std::chrono::seconds(values["warmup-seconds"].as<int>()),
                   .poll = milliseconds(values["poll-ms"].as<int>()),
                   .settle = std::chrono::seconds(values["settle-seconds"].as<int>())};
  const auto tokens = customer_tokens(connections);
  auto out = s.closed ? run_closed(s, tokens) : run_rate(s, tokens);
  write_orders(values["out"].as<std::string>(), out);
  print_outcome(out);
  return 0;
}

}  // namespace

}  // namespace cqrs::tools::benchmarks

int main(int argc, char** argv) {
  namespace bench = cqrs::tools::benchmarks;
  return bench::mode_main(argc, argv, "cqrs-orders-bench", bench::all_flags(), bench::run);
}
